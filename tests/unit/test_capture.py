"""The capture script (emulator/runtime/capture.py) run by this shell, with a stand-in tcpdump:
the command runs only once every tap listens, and a capture that shows nothing about the
network fails with the reason instead of passing for an empty link."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from emulator.runtime import capture
from emulator.runtime.base import CaptureFailed, ExecResult, Tap

# A tcpdump that listens (unless its router is "deaf"), sees one echo request (unless its
# router is "quiet") and waits to be stopped, as the real one does.
FAKE_TCPDUMP = """#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -i) iface=$2; shift;; esac; shift; done
[ "$NODE" = deaf ] && exec sleep 30
echo "listening on $iface, link-type EN10MB" >&2
if [ "$NODE" = slow ]; then
  for n in 1 2 3 4 5 6; do sleep 0.3; echo "IP 10.0.0.1 > 10.0.0.2: ICMP echo request $n"; done
fi
[ "$NODE" = quiet ] || echo "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, seen on $iface"
exec sleep 30
"""


class ShellHere(capture.ShellCaptures):
    """Routers are environment variables of this shell."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.state = type("State", (), {"lab": "lab"})()

    @staticmethod
    def inside(lab: str, node: str, argv: list[str]) -> list[str]:
        return ["env", f"NODE={node}", *argv]

    def run_script(self, script: str, timeout: float) -> ExecResult:
        env = {**os.environ, "PATH": f"{self.bin_dir}:{os.environ['PATH']}"}
        result = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                                timeout=timeout, env=env, check=False)
        return ExecResult(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def here(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tcpdump = bin_dir / "tcpdump"
    tcpdump.write_text(FAKE_TCPDUMP)
    tcpdump.chmod(0o755)
    monkeypatch.setattr(capture, "LISTEN_SECONDS", 2)
    return ShellHere(bin_dir)


def test_every_tap_listening_gives_each_taps_packets_in_order(here, tmp_path):
    marker = tmp_path / "ran"
    sections = here.capture([Tap("P-1", "eth1"), Tap("PE-2", "eth2")], "CE-1",
                            ["sh", "-c", f"touch {marker}; echo 4 packets transmitted"])
    assert marker.exists()
    assert ["seen on eth1" in sections[0], "seen on eth2" in sections[1]] == [True, True]


def test_packets_still_being_written_after_the_command_are_all_read(here):
    """A tcpdump behind on its writes (a starved one under emulation) is read once its
    output stops growing, not after a fixed pause."""
    [section] = here.capture([Tap("slow", "eth1")], "CE-1", ["true"])
    assert [f"request {n}" in section for n in range(1, 7)] == [True] * 6


def test_a_tap_that_never_listens_fails_the_capture_and_nothing_is_sent(here, tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(CaptureFailed, match="did not listen within 2 s on deaf eth3"):
        here.capture([Tap("P-1", "eth1"), Tap("deaf", "eth3")], "CE-1",
                     ["touch", str(marker)])
    assert not marker.exists()


def test_no_packet_on_any_tap_fails_with_what_the_command_said(here):
    with pytest.raises(CaptureFailed,
                       match="no tap saw a packet; sh said: connect: Network is unreachable"):
        here.capture([Tap("quiet", "eth1")], "CE-1",
                     ["sh", "-c", "echo 'connect: Network is unreachable'; exit 2"])


def test_an_empty_tap_beside_one_with_packets_is_an_observation():
    output = f"{capture.COMMAND_MARK}\n3 packets transmitted\n{capture.TAP_MARK} 0\n" \
             f"MPLS (label 16) IP a > b: ICMP echo request\n{capture.TAP_MARK} 1\n"
    sections = capture.read_capture(ExecResult(0, output, ""),
                                    [Tap("CE-1", "eth0"), Tap("PE-2", "eth3")], ["ping"])
    assert sections == ["MPLS (label 16) IP a > b: ICMP echo request\n", ""]


def test_a_cut_short_capture_says_how_many_taps_came_back():
    with pytest.raises(CaptureFailed, match="returned 0 of 1 taps: timed out after 150s"):
        capture.read_capture(ExecResult(124, "", "timed out after 150s"),
                             [Tap("CE-1", "eth0")], ["ping"])
