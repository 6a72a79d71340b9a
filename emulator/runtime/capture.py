"""Packet captures on routers that a shell reaches (namespaces on this host or in the micro-VM,
containers), with tcpdump inside the router (``tcpdump_argv``):

- for the checks (``capture``): one script starts a tcpdump on every tap, runs a command
  once all of them listen, and prints what each saw;
- for a user (``record``, `mplslab capture`): one tcpdump writing pcap, its bytes passed on
  as they come (a file, or standard output for Wireshark) until it has its packets or is
  stopped (Ctrl-C), and then no tcpdump is left in the router.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import selectors
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from emulator.runtime.base import CaptureFailed, ExecResult, Tap
from emulator.runtime.netns import RUN_ROOT

# Seconds a capture waits for every tcpdump to listen (starting one under software emulation
# takes seconds, more while other checks run), and for the whole script.
LISTEN_SECONDS = 60
SCRIPT_SECONDS = 150
# After the command, the taps' output is read once it stayed the same for SETTLE_SECONDS,
# at most SETTLE_POLLS polls after the command.
SETTLE_SECONDS = 0.5
SETTLE_POLLS = 8
# Captures at once in this process: each starts a tcpdump per link of a path, and a dozen
# starting together on two emulated cores could outlast the ping they are waiting for.
CAPTURE_SLOTS = threading.BoundedSemaphore(2)

TAP_MARK = "@@tap"
COMMAND_MARK = "@@command"
NOT_LISTENING = "@@not-listening"

Inside = Callable[[str, str, list[str]], list[str]]


def tcpdump_argv(interface: str, *, count: int | None = None, bpf: str | None = None,
                 outgoing: bool = False, pcap: bool = False) -> list[str]:
    """tcpdump on one of a router's interfaces: its decoded lines as it sees them, or
    (``pcap``) the packets as pcap on standard output, each written as it comes (-U), for a
    pipe to Wireshark or a file that is whole when tcpdump is stopped; ``outgoing``: only
    what the router sends."""
    argv = ["tcpdump", *(["-U", "-w", "-"] if pcap else ["-l", "-nn"])]
    argv += [*(["-Q", "out"] if outgoing else []), "-i", interface]
    return [*argv, *(["-c", str(count)] if count else []), *([bpf] if bpf else [])]


def capture_script(lab: str, taps: list[Tap], node: str, argv: list[str], packets: int,
                   bpf: str, inside: Inside) -> str:
    """The script: a tcpdump on every tap (packets the router sends on the interface),
    ``argv`` on ``node`` once every tcpdump listens (not at all if one never does), then the
    command's last lines and each tap's packets, each after a marker line. ``inside`` runs a
    program in a router (a namespace, a container)."""
    if not taps:
        raise ValueError("a capture needs at least one tap")
    scratch = "/run/mplslab-capture.$$"
    lines = ["pids=''"]
    for index, tap in enumerate(taps):
        out = f"{scratch}.{index}"
        # `timeout` outside the router: the `kill` below reaches it, and it ends its whole
        # process group, the tcpdump in the router included (entering a container forks
        # into its PID namespace: a kill of the entering process alone leaves tcpdump).
        tcpdump = ["timeout", str(SCRIPT_SECONDS - 30), *inside(
            lab, tap.node, tcpdump_argv(tap.interface, count=packets, bpf=bpf, outgoing=True))]
        lines.append(f"{shlex.join(tcpdump)} > {out} 2> {out}.err &")
        lines.append('pids="$pids $!"')
    ready = " && ".join(f"grep -q listening {scratch}.{i}.err" for i in range(len(taps)))
    outputs = " ".join(f"{scratch}.{i}" for i in range(len(taps)))
    lines += [
        "listening=no",
        f"for i in $(seq 1 {LISTEN_SECONDS * 4}); do "
        f"if {ready}; then listening=yes; break; fi; sleep 0.25; done",
        f": > {scratch}.command",
        # tcpdump says "listening" once its filter is on the interface: from then on it
        # sees every packet. Once the command ended (a ping: its packets crossed every
        # link), the taps' output stops growing when each tcpdump has written them all.
        'if [ "$listening" = yes ]; then',
        f"  {shlex.join(inside(lab, node, argv))} > {scratch}.command 2>&1",
        f"  last=-1; for i in $(seq 1 {SETTLE_POLLS}); do sleep {SETTLE_SECONDS}; "
        f"now=$(cat {outputs} | wc -c); [ \"$now\" = \"$last\" ] && break; last=$now; done",
        "fi",
        "kill $pids 2>/dev/null; wait",
        f"echo '{COMMAND_MARK}'; tail -n 3 {scratch}.command; rm -f {scratch}.command",
    ]
    for index in range(len(taps)):
        out = f"{scratch}.{index}"
        lines.append(f"echo '{TAP_MARK} {index}'; "
                     f"grep -q listening {out}.err && cat {out} || echo '{NOT_LISTENING}'; "
                     f"rm -f {out} {out}.err")
    return "\n".join(lines)


def read_capture(result: ExecResult, taps: list[Tap], argv: list[str]) -> list[str]:
    """Each tap's packets from the script's output; ``CaptureFailed`` when the capture says
    nothing about the network: a tap that never listened, or no packet on any tap (the
    command did not send: its own words say why)."""
    head, _, rest = result.stdout.partition(f"{COMMAND_MARK}\n")
    said, *sections = rest.split(f"{TAP_MARK} ")
    if len(sections) != len(taps):
        detail = (result.stderr or head).strip()[-200:]
        raise CaptureFailed(f"the capture returned {len(sections)} of {len(taps)} taps"
                            f"{': ' + detail if detail else ''}")
    said = said.strip()
    packets = [section.split("\n", 1)[1] if "\n" in section else "" for section in sections]
    deaf = [f"{tap.node} {tap.interface}" for tap, text in zip(taps, packets, strict=True)
            if NOT_LISTENING in text]
    if deaf:
        raise CaptureFailed(f"tcpdump did not listen within {LISTEN_SECONDS} s on "
                            f"{', '.join(deaf)}")
    if not any(text.strip() for text in packets):
        raise CaptureFailed(f"no tap saw a packet; {argv[0]} said: "
                            f"{' / '.join(said.splitlines()) or 'nothing'}")
    return packets


# A recording's tcpdump runs in the background of a shell inside the router that notes its
# pid (as the router's processes see it: a container has its own) in the router's run
# folder: a stop from another process (Ctrl-C here: the micro-VM's SSH channel carries no
# signal) ends it there, and so no tcpdump outlives its capture. `STOP` is that stop; it
# gives a capture stopped as it starts a few seconds to note its pid.
RECORD = 'tcpdump "$@" & echo $! > "$0"; wait $!; status=$?; rm -f "$0"; exit $status'
STOP = ('for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$0" ] && break; sleep 0.5; done; '
        '[ -s "$0" ] && kill -TERM "$(cat "$0")" 2>/dev/null; rm -f "$0"; true')
# Seconds a stopped tcpdump has to write its last packets and end, and a program whose
# output has ended to exit.
STOP_SECONDS = 20
EXIT_SECONDS = 5


class Stream(Protocol):
    """A program whose standard output and error arrive as they come (bytes)."""

    def read(self, seconds: float) -> tuple[bytes, bytes] | None:
        """What arrived on standard output and error within ``seconds`` (empty when nothing
        did); None once the program has ended and all it wrote has been read."""

    def close(self) -> int | None:
        """The program's exit status; one that has not ended is abandoned (None)."""


class ProcessStream:
    """A program run here, its output read as it comes (its own session: the terminal's
    Ctrl-C is this process's to act on)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None):
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env,
                                        start_new_session=True)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ, "out")
        self.selector.register(self.process.stderr, selectors.EVENT_READ, "err")

    def read(self, seconds: float) -> tuple[bytes, bytes] | None:
        if not self.selector.get_map():
            return None
        pieces = {"out": b"", "err": b""}
        for key, _ in self.selector.select(seconds):
            data = os.read(key.fd, 65536)
            if data:
                pieces[key.data] += data
            else:
                self.selector.unregister(key.fileobj)
        return pieces["out"], pieces["err"]

    def close(self) -> int | None:
        self.selector.close()
        try:
            return self.process.wait(timeout=EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            # Its whole session: a tcpdump the router's shell started too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            return None
        finally:
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()


def relay(stream: Stream, write: Callable[[bytes], None], said: Callable[[str], None],
          seconds: float | None = None) -> bool:
    """Pass ``stream``'s output to ``write`` and its error output to ``said`` a line at a
    time, until it ends (True) or ``seconds`` have passed (False)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    line = b""
    while deadline is None or time.monotonic() < deadline:
        got = stream.read(0.5)
        if got is None:
            if line:
                said(line.decode(errors="replace"))
            return True
        out, err = got
        if out:
            write(out)
        *lines, line = (line + err).split(b"\n")
        for whole in lines:
            said(whole.decode(errors="replace"))
    return False


def last_packets(write: Callable[[bytes], None], stopped: BaseException, data: bytes) -> None:
    """What a stopped tcpdump still writes, to ``write`` unless its reader is gone."""
    if not isinstance(stopped, BrokenPipeError):
        with contextlib.suppress(BrokenPipeError):
            write(data)


class ShellCaptures:
    """``Runtime.capture`` and ``Runtime.record`` for runtimes that run shell scripts where
    the routers are (``run_script``), a program there as a stream (``open_stream``), and
    reach a router with ``inside``."""

    # What the runtime provides. Declared, not defined: a stub here would come before the
    # runtime's own method in a class that takes it from another base (VmRuntime, GuestSsh).
    state: Any  # the lab's state: its name
    inside: Inside
    run_script: Callable[[str, float], ExecResult]
    open_stream: Callable[[list[str]], Stream]

    def record(self, node: str, interface: str, write: Callable[[bytes], None], *,
               count: int | None = None, bpf: str | None = None,
               said: Callable[[str], None] = lambda line: None) -> int | None:
        """tcpdump on ``node``'s ``interface`` as pcap, its bytes to ``write`` as they come
        and its words to ``said``, until it has ``count`` packets, or Ctrl-C (SIGTERM: the
        CLI makes it one) or a ``write`` to a closed pipe (Wireshark quit) stops it; then
        the tcpdump is ended inside the router. Its exit status (None: it did not end)."""
        lab = self.state.lab
        pidfile = str(RUN_ROOT / lab / node / f"capture-{secrets.token_hex(4)}.pid")
        tcpdump = tcpdump_argv(interface, count=count, bpf=bpf, pcap=True)[1:]
        stream = self.open_stream(self.inside(lab, node, ["sh", "-c", RECORD, pidfile,
                                                          *tcpdump]))
        try:
            try:
                relay(stream, write, said)
            except (KeyboardInterrupt, BrokenPipeError) as stopped:
                stop = shlex.join(self.inside(lab, node, ["sh", "-c", STOP, pidfile]))
                self.run_script(stop, STOP_SECONDS)
                relay(stream, partial(last_packets, write, stopped), said, STOP_SECONDS)
        finally:
            status = stream.close()
        return status

    def capture(self, taps: list[Tap], node: str, argv: list[str], *, packets: int = 40,
                bpf: str = "icmp or mpls") -> list[str]:
        script = capture_script(self.state.lab, taps, node, argv, packets, bpf, self.inside)
        with CAPTURE_SLOTS:
            result = self.run_script(script, SCRIPT_SECONDS)
        return read_capture(result, taps, argv)
