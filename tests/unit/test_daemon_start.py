"""A router's daemons start wave by wave (each suite's ``start_waves``): a wave side by side,
the next once each of the wave is ready. Stand-in daemons (shell one-liners that note when
they started and then open their "socket") run as plain processes, no namespace."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest

from emulator.runtime.netns import NetnsLab, StepFailed
from emulator.suites import bird, frr


def test_frr_starts_mgmtd_then_zebra_then_every_protocol_daemon_together():
    assert frr.start_waves(frr.daemons(["bgp", "ospf", "ldp", "static"])) == [
        ["mgmtd"], ["zebra"], ["staticd", "ospfd", "ldpd", "bgpd"]]
    assert frr.start_waves(frr.daemons([])) == [["mgmtd"], ["zebra"]]


def test_bird_starts_its_guard_after_bird():
    assert bird.start_waves(bird.daemons(["bgp"], guarded=True)) == [["bird"], ["label-guard"]]


class StandInSuite:
    """Each daemon: note its start time, take ``delay`` seconds to be ready, then create its
    socket and exit 0 (as a daemon's launcher does once it detached); ``fail`` exits 1."""

    USER = "root"

    def __init__(self, folder: Path, waves: list[list[str]], delay: float = 0.5,
                 fail: str | None = None):
        self.folder, self.waves, self.delay, self.fail = folder, waves, delay, fail

    def prepare(self, pathspace: str) -> None:
        pass

    def start_waves(self, daemons: list[str]) -> list[list[str]]:
        return self.waves

    def vty_socket(self, pathspace: str, daemon: str) -> Path:
        return self.folder / f"{daemon}.sock"

    def start_argv(self, daemon: str, pathspace: str, log_file: Path,
                   config: Path) -> list[str]:
        if daemon == self.fail:
            return ["sh", "-c", "echo 'cannot bind its port'; exit 1"]
        stamp, sock = self.folder / f"{daemon}.started", self.vty_socket(pathspace, daemon)
        return ["sh", "-c", f"date +%s.%N > {shlex.quote(str(stamp))}; sleep {self.delay}; "
                            f"touch {shlex.quote(str(sock))}"]


@pytest.fixture
def lab(tmp_path):
    runtime = NetnsLab("unit", tmp_path)
    runtime.run_dir = tmp_path / "run"  # never the host's /run/mplslab
    runtime.enter = lambda node: []
    return runtime


def started(folder: Path, daemon: str) -> float:
    return float((folder / f"{daemon}.started").read_text())


def test_a_wave_starts_together_and_the_next_waits_for_its_sockets(lab, tmp_path):
    suite = StandInSuite(tmp_path, [["first"], ["a", "b", "c"]], delay=0.5)
    began = time.monotonic()
    lab.start_daemons("PE-1", suite, ["first", "a", "b", "c"], tmp_path / "frr.conf")
    took = time.monotonic() - began
    first = started(tmp_path, "first")
    together = [started(tmp_path, d) for d in "abc"]
    assert all(t >= first + 0.5 for t in together)  # after the first one was ready
    assert max(together) - min(together) < 0.4  # side by side, not one after another
    print(f"two waves of 0.5 s daemons: {took:.2f} s")


def test_a_daemon_that_fails_to_start_is_named_with_its_last_words(lab, tmp_path):
    suite = StandInSuite(tmp_path, [["zebra"], ["ospfd", "bgpd"]], delay=0.1, fail="bgpd")
    with pytest.raises(StepFailed, match=r"PE-1: starting bgpd failed: cannot bind its port"):
        lab.start_daemons("PE-1", suite, ["zebra", "ospfd", "bgpd"], tmp_path / "frr.conf")
