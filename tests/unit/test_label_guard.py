"""The label guard of a carrier's PE (templates/bird/label-guard.*), without routers: the
rendered ruleset loaded into this host's kernel, in a scratch network namespace, admits
exactly the labels its set holds; and BIRD's driver reads its drop counters."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from emulator.model.build import load_lab
from emulator.render import node_plan
from emulator.runtime.base import ExecResult
from emulator.suites.bird_probes import guard_drops

FIXTURE = Path(__file__).parent / "fixtures" / "nft-label-guard.json"

# Three labelled frames into eth1 (the interface towards CSC-CE-1): one with a label the
# set holds, two with a label it does not (traffic class and bottom bit set: any value).
SEND = """
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("peer0", 0))
for label in map(int, sys.argv[1:]):
    entry = struct.pack("!I", (label << 12) | (5 << 9) | (1 << 8) | 64)
    s.send(b"\\xff" * 6 + b"\\x02\\x00\\x00\\x00\\x00\\x01" + b"\\x88\\x47" + entry
           + b"\\x45" + bytes(39))
"""


@pytest.mark.frr_parser
def test_the_rendered_filter_drops_every_label_but_the_advertised_ones(appliance_image,
                                                                       tmp_path):
    lab = load_lab("csc-mpls")
    files, _ = node_plan(lab, lab.node("PE-1"))
    rootfs = appliance_image.rootfs
    ruleset = rootfs / "tmp" / f"{tmp_path.name}.nft"
    ruleset.write_text(files["label-guard.nft"])
    (tmp_path / "send.py").write_text(SEND)
    nft = shlex.join(["chroot", str(rootfs), "nft"])
    try:
        script = (
            "ip link add eth1 type veth peer name peer0 && ip link set eth1 up && "
            "ip link set peer0 up && ip link add eth3 type veth peer name peer1 && "
            f"{nft} -f /tmp/{ruleset.name} && "
            # What the guard writes for BIRD's label 50003: its 24-bit range.
            f"{nft} add element netdev label_guard labels_0 '{{ 800048-800063 }}' && "
            f"python3 {tmp_path / 'send.py'} 50003 50004 16 && sleep 0.5 && "
            f"{nft} -j list table netdev label_guard")
        result = subprocess.run(["unshare", "--net", "sh", "-c", script],
                                capture_output=True, text=True, check=False)
    finally:
        ruleset.unlink()
    assert result.returncode == 0, result.stderr
    answer = ExecResult(0, result.stdout, "")
    router = type("Router", (), {"exec": lambda self, node, argv: answer})()
    assert guard_drops(router, "PE-1", "label_guard", "eth1") == 2  # 50004 and 16
    assert guard_drops(router, "PE-1", "label_guard", "eth3") == 0


def test_the_drop_counters_are_read_per_interface():
    answer = ExecResult(0, FIXTURE.read_text(), "")
    router = type("Router", (), {"exec": lambda self, node, argv: answer})()
    assert guard_drops(router, "PE-1", "label_guard", "eth1") == 2
    assert guard_drops(router, "PE-1", "label_guard", "eth3") == 0
    # An interface the guard does not watch, and a guard that is off (no table).
    assert guard_drops(router, "PE-1", "label_guard", "eth2") is None
    off = ExecResult(1, "", "Error: No such file or directory; did you mean table ...")
    gone = type("Router", (), {"exec": lambda self, node, argv: off})()
    assert guard_drops(gone, "PE-1", "label_guard", "eth1") is None
    assert json.loads(FIXTURE.read_text())["nftables"][0]["metainfo"]["version"] == "1.1.3"
