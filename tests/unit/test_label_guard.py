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
    router = type("Router", (), {"ask": lambda self, node, question: answer})()
    assert guard_drops(router, "PE-1", "label_guard", "eth1") == 2  # 50004 and 16
    assert guard_drops(router, "PE-1", "label_guard", "eth3") == 0


def test_the_drop_counters_are_read_per_interface():
    answer = ExecResult(0, FIXTURE.read_text(), "")
    router = type("Router", (), {"ask": lambda self, node, question: answer})()
    assert guard_drops(router, "PE-1", "label_guard", "eth1") == 2
    assert guard_drops(router, "PE-1", "label_guard", "eth3") == 0
    # An interface the guard does not watch, and a guard that is off (no table).
    assert guard_drops(router, "PE-1", "label_guard", "eth2") is None
    off = ExecResult(1, "", "Error: No such file or directory; did you mean table ...")
    gone = type("Router", (), {"ask": lambda self, node, question: off})()
    assert guard_drops(gone, "PE-1", "label_guard", "eth1") is None
    assert json.loads(FIXTURE.read_text())["nftables"][0]["metainfo"]["version"] == "1.1.3"


# BIRD's answer for a VRF: a route with a label of its own (50003, twice: two routes), one
# learnt with the CE's label only (its next-hop line, tab-indented, is not the PE's binding).
BIRD_TABLE = """Table vrf_ISP-1:
10.1.0.1/32          unicast [ce1 12:00:00.000] * (100) [AS65001i] mpls 50003 via 10.9.0.2
\tvia 10.9.0.2 on eth1 mpls 17 weight 1
10.1.0.2/32          unicast [ce1 12:00:00.000] * (100) [AS65001i] mpls 50003 via 10.9.0.2
10.1.0.3/32          unicast [ce1 12:00:00.000] * (100) [AS65001i] mpls 50007 via 10.9.0.2
"""


def test_the_guard_writes_the_sets_once_per_change_of_bindings(tmp_path):
    """The rendered label-guard.sh with stand-ins for birdc, nft and sleep: the sets hold
    each advertised label's 24-bit range once, are written only when BIRD's bindings change,
    and the trainer's switch removes the filter and, turned back on, loads it again."""
    lab = load_lab("csc-mpls")
    files, _ = node_plan(lab, lab.node("PE-1"))
    script = tmp_path / "label-guard.sh"
    script.write_text(files["label-guard.sh"])
    run, stand_ins, calls = tmp_path / "run", tmp_path / "bin", tmp_path / "nft.calls"
    run.mkdir()
    stand_ins.mkdir()
    table = tmp_path / "table"
    table.write_text(BIRD_TABLE)
    for name, body in {
        # Only ISP-1's VRF has routes; ISP-2's table is empty.
        "birdc": f'case "$*" in *ISP-1*) cat {table};; esac',
        "nft": f'{{ echo "nft $*"; [ "$2" = - ] && cat; echo; }} >> {calls}',
        "sleep": "exec /bin/sleep 0.05",
    }.items():
        (stand_ins / name).write_text(f"#!/bin/sh\n{body}\n")
        (stand_ins / name).chmod(0o755)

    def writes() -> list[str]:
        return [c for c in calls.read_text().split("\n\n") if "labels_0" in c] \
            if calls.exists() else []

    def settle(count: int) -> list[str]:
        import time

        deadline = time.monotonic() + 10
        while len(writes()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # ten more rounds of the loop: nothing else may be written
        return writes()

    guard = subprocess.Popen(["sh", str(script), str(run)],
                             env={"PATH": f"{stand_ins}:/usr/bin:/bin"})
    try:
        first = settle(1)
        assert calls.read_text().startswith(f"nft -f {tmp_path / 'label-guard.nft'}")
        assert (run / "label-guard.ready").exists()
        assert first == ["nft -f -\nflush set netdev label_guard labels_0\n"
                         "add element netdev label_guard labels_0 { 800048-800063, "
                         "800112-800127 }\nflush set netdev label_guard labels_1"]
        table.write_text(BIRD_TABLE.replace("50007", "50009"))
        second = settle(2)
        assert len(second) == 2 and "800144-800159" in second[1]
        (run / "label-guard.off").touch()
        settle(2)
        assert "nft delete table netdev label_guard" in calls.read_text()
        (run / "label-guard.off").unlink()
        assert len(settle(3)) == 3  # the same bindings, written again into a new table
    finally:
        guard.kill()
        guard.wait()
