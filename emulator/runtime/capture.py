"""Packet captures on routers that a shell reaches (namespaces on this host or in the micro-VM,
containers): one script starts a tcpdump on every tap, runs a command once all of them
listen, and prints what each saw."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from typing import Any

from emulator.runtime.base import CaptureFailed, ExecResult, Tap

# Seconds a capture waits for every tcpdump to listen (starting one under software emulation
# takes seconds, more while other checks run), and for the whole script.
LISTEN_SECONDS = 60
SCRIPT_SECONDS = 150
# Captures at once in this process: each starts a tcpdump per link of a path, and a dozen
# starting together on two emulated cores could outlast the ping they are waiting for.
CAPTURE_SLOTS = threading.BoundedSemaphore(2)

TAP_MARK = "@@tap"
COMMAND_MARK = "@@command"
NOT_LISTENING = "@@not-listening"

Inside = Callable[[str, str, list[str]], list[str]]


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
        tcpdump = inside(lab, tap.node, ["timeout", str(SCRIPT_SECONDS - 30), "tcpdump"])
        lines.append(f"{shlex.join(tcpdump)} -l -nn -Q out -i {shlex.quote(tap.interface)} "
                     f"-c {int(packets)} {shlex.quote(bpf)} > {out} 2> {out}.err &")
        lines.append('pids="$pids $!"')
    ready = " && ".join(f"grep -q listening {scratch}.{i}.err" for i in range(len(taps)))
    lines += [
        "listening=no",
        f"for i in $(seq 1 {LISTEN_SECONDS * 2}); do "
        f"if {ready}; then listening=yes; break; fi; sleep 0.5; done",
        f": > {scratch}.command",
        'if [ "$listening" = yes ]; then',
        f"  sleep 1; {shlex.join(inside(lab, node, argv))} > {scratch}.command 2>&1; sleep 2",
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


class ShellCaptures:
    """``Runtime.capture`` for runtimes that run shell scripts where the routers are
    (``run_script``) and reach a router with ``inside``."""

    state: Any  # the lab's state: its name
    inside: Inside

    def run_script(self, script: str, timeout: float) -> ExecResult:
        raise NotImplementedError

    def capture(self, taps: list[Tap], node: str, argv: list[str], *, packets: int = 40,
                bpf: str = "icmp or mpls") -> list[str]:
        script = capture_script(self.state.lab, taps, node, argv, packets, bpf, self.inside)
        with CAPTURE_SLOTS:
            result = self.run_script(script, SCRIPT_SECONDS)
        return read_capture(result, taps, argv)
