"""A user's capture (`mplslab capture`, ShellCaptures.record) run by this shell with a
stand-in tcpdump: pcap bytes pass through unchanged as they come, Ctrl-C or a reader that
went away stops the tcpdump inside the router (none is left), a tcpdump that cannot start
says why. The micro-VM's SSH stream is read the same way."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from emulator.runtime import capture
from emulator.runtime.base import ExecResult
from emulator.runtime.local import finished
from emulator.runtime.vm_ssh import SshStream

# A tcpdump writing pcap: a header with bytes a terminal or a text decoding would mangle,
# then a packet every 0.1 s until it has -c of them or is stopped (SIGTERM: its last bytes
# and its count, as the real one says them). "bad" as the filter: what a syntax error does.
FAKE_TCPDUMP = r"""#!/bin/sh
count=; iface=; filter=
while [ $# -gt 0 ]; do
  case $1 in -i) iface=$2; shift;; -c) count=$2; shift;; -U|-w|-) ;; *) filter=$1;; esac
  shift
done
if [ "$filter" = bad ]; then echo "tcpdump: syntax error in filter expression" >&2; exit 1; fi
trap 'printf "END"; echo "$n packets captured" >&2; exit 0' TERM
echo "tcpdump: listening on $iface, link-type EN10MB (Ethernet), snapshot length 262144 bytes" >&2
printf 'HDR\000\r\n\377'
n=0
while [ -z "$count" ] || [ "$n" -lt "$count" ]; do printf "P$n\n"; n=$((n+1)); sleep 0.1; done
echo "$n packets captured" >&2
"""

HEADER = b"HDR\x00\r\n\xff"


class ShellHere(capture.ShellCaptures):
    """Routers are this shell, with the stand-in tcpdump first on PATH."""

    def __init__(self, bin_dir: Path):
        self.env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        self.state = type("State", (), {"lab": "lab"})()
        self.stops: list[str] = []

    @staticmethod
    def inside(lab: str, node: str, argv: list[str]) -> list[str]:
        return ["env", f"NODE={node}", *argv]

    def run_script(self, script: str, timeout: float) -> ExecResult:
        self.stops.append(script)
        return finished(["sh", "-c", script], timeout)

    def open_stream(self, argv: list[str]) -> capture.ProcessStream:
        return capture.ProcessStream(argv, env=self.env)


@pytest.fixture
def here(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tcpdump").write_text(FAKE_TCPDUMP)
    (bin_dir / "tcpdump").chmod(0o755)
    monkeypatch.setattr(capture, "RUN_ROOT", tmp_path / "run")
    (tmp_path / "run" / "lab" / "PE-2").mkdir(parents=True)
    return ShellHere(bin_dir)


def pidfiles(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "run" / "lab" / "PE-2").glob("capture-*.pid"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_the_pcap_passes_through_byte_for_byte_until_count(here, tmp_path):
    written, said = [], []
    status = here.record("PE-2", "eth1", written.append, count=3, bpf="mpls", said=said.append)
    assert status == 0
    assert b"".join(written) == HEADER + b"P0\nP1\nP2\n"
    assert said == ["tcpdump: listening on eth1, link-type EN10MB (Ethernet), snapshot "
                    "length 262144 bytes", "3 packets captured"]
    assert not pidfiles(tmp_path) and not here.stops


def test_ctrl_c_stops_the_tcpdump_inside_the_router_and_keeps_its_last_packets(here,
                                                                               tmp_path):
    written: list[bytes] = []
    pids: list[int] = []

    def write(data: bytes) -> None:
        written.append(data)
        if b"P2" in b"".join(written) and not pids:
            [pidfile] = pidfiles(tmp_path)
            pids.append(int(pidfile.read_text()))
            raise KeyboardInterrupt

    said: list[str] = []
    status = here.record("PE-2", "eth1", write, said=said.append)
    assert status == 0
    assert b"".join(written).startswith(HEADER + b"P0\nP1\nP2\n")
    assert b"".join(written).endswith(b"END")
    assert said[-1].endswith("packets captured")
    [stop] = here.stops
    assert shlex.split(stop)[:2] == ["env", "NODE=PE-2"]
    assert not alive(pids[0]) and not pidfiles(tmp_path)


def test_a_reader_that_went_away_stops_the_capture(here, tmp_path):
    """Wireshark closed: the next write fails; the tcpdump is stopped, nothing more is
    written."""
    written: list[bytes] = []
    pids: list[int] = []

    def write(data: bytes) -> None:
        if written:
            [pidfile] = pidfiles(tmp_path)
            pids.append(int(pidfile.read_text()))
            raise BrokenPipeError
        written.append(data)

    assert here.record("PE-2", "eth1", write) == 0
    assert len(written) == 1 and len(here.stops) == 1
    assert not alive(pids[0]) and not pidfiles(tmp_path)


def test_a_tcpdump_that_cannot_start_says_why(here, tmp_path):
    written, said = [], []
    status = here.record("PE-2", "eth1", written.append, bpf="bad", said=said.append)
    assert status == 1 and not written
    assert said == ["tcpdump: syntax error in filter expression"]
    assert not pidfiles(tmp_path)


def test_the_recording_tcpdump_writes_pcap_on_every_packet():
    assert capture.tcpdump_argv("eth1", count=5, bpf="mpls or icmp", pcap=True) == \
        ["tcpdump", "-U", "-w", "-", "-i", "eth1", "-c", "5", "mpls or icmp"]
    assert capture.tcpdump_argv("eth2.101", count=40, bpf="icmp", outgoing=True) == \
        ["tcpdump", "-l", "-nn", "-Q", "out", "-i", "eth2.101", "-c", "40", "icmp"]


def test_a_program_that_does_not_end_is_abandoned_with_its_session(monkeypatch, tmp_path):
    monkeypatch.setattr(capture, "EXIT_SECONDS", 0.5)
    marker = tmp_path / "child"
    # Its output ends at once; it waits on a child that holds none of it.
    script = f"sleep 60 > /dev/null 2>&1 & echo $! > {marker}; exec >&- 2>&-; wait"
    stream = capture.ProcessStream(["sh", "-c", script])
    while stream.read(0.5) is not None:
        pass
    assert stream.close() is None
    assert not alive(int(marker.read_text()))


class Channel:
    """An SSH channel: what arrives, then the exit status."""

    def __init__(self, arrivals: list[tuple[bytes, bytes]], status: int):
        self.arrivals = arrivals
        self.status = status
        self.closed = False
        self.out = self.err = b""

    def _arrive(self) -> None:
        if not self.out and not self.err and self.arrivals:
            self.out, self.err = self.arrivals.pop(0)

    def recv_ready(self) -> bool:
        self._arrive()
        return bool(self.out)

    def recv_stderr_ready(self) -> bool:
        self._arrive()
        return bool(self.err)

    def recv(self, size: int) -> bytes:
        data, self.out = self.out, b""
        return data

    def recv_stderr(self, size: int) -> bytes:
        data, self.err = self.err, b""
        return data

    def exit_status_ready(self) -> bool:
        return not self.arrivals and not self.out and not self.err

    def recv_exit_status(self) -> int:
        return self.status

    def fileno(self) -> int:
        raise AssertionError("nothing to wait for: data is there")

    def close(self) -> None:
        self.closed = True


def test_the_guests_stream_gives_every_byte_then_its_exit_status():
    channel = Channel([(HEADER, b"tcpdump: listening on eth1\n"), (b"P0\n", b""),
                       (b"", b"1 packet captured\n")], 0)
    stream = SshStream(channel)  # type: ignore[arg-type]
    written, said = [], []
    assert capture.relay(stream, written.append, said.append)
    assert b"".join(written) == HEADER + b"P0\n"
    assert said == ["tcpdump: listening on eth1", "1 packet captured"]
    assert stream.close() == 0 and channel.closed


def test_a_stop_waits_for_the_pid_a_starting_capture_has_not_noted_yet(tmp_path):
    """Ctrl-C as the capture starts: the stop finds the tcpdump's pid once it is noted."""
    pidfile = tmp_path / "capture-x.pid"
    sleeper = subprocess.Popen(["sleep", "60"])
    noting = subprocess.Popen(["sh", "-c", f"sleep 1; echo {sleeper.pid} > {pidfile}"])
    stopped = finished(["sh", "-c", capture.STOP, str(pidfile)], 30)
    assert stopped.returncode == 0
    assert sleeper.wait(10) == -15 and not pidfile.exists()
    noting.wait()
