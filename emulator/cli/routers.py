"""What network engineers reach for on a running lab's routers: capture (a live link into a
pcap, or into Wireshark). `emulator.lifecycle` finds the lab and its routers; the runtime
runs tcpdump inside the router."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext, suppress
from functools import partial
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.markup import escape

from emulator import lifecycle
from emulator.cli.console import err, handle_errors
from emulator.cli.params import RunningLabArg
from emulator.errors import LabError, RuntimeFailure
from emulator.paths import check_output_file

commands = typer.Typer()

WhereArg = Annotated[str, typer.Argument(
    metavar="NODE", help="a router, or a link by its ends: PE-2:P-2 is PE-2's interface to "
                         "P-2")]
InterfaceArg = Annotated[str | None, typer.Argument(
    help="the router's interface: the lab's name for it (eth1, eth2.101) or the router at "
         "its other end (none with NODE:PEER)")]


class Said:
    """tcpdump's messages on standard error: held back until it listens (what it says when
    it cannot, a bad filter, becomes the error), then passed on as they come."""

    def __init__(self) -> None:
        self.listening = False
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        if not line.strip():
            return
        self.listening = self.listening or "listening on" in line
        if not self.listening:
            self.lines.append(line)
            return
        for held in [*self.lines, line]:
            err.print(escape(held), highlight=False, soft_wrap=True)
        self.lines.clear()


@commands.command()
@handle_errors
def capture(lab: RunningLabArg, where: WhereArg, interface: InterfaceArg = None,
            write: Annotated[str | None, typer.Option(
                "-w", "--write", metavar="FILE.pcap",
                help="the pcap file; '-' (or none, when standard output is no terminal): "
                     "standard output, as for `| wireshark -k -i -`")] = None,
            count: Annotated[int | None, typer.Option(
                "--count", "-c", min=1, help="stop after this many packets")] = None,
            bpf: Annotated[str | None, typer.Option(
                "--filter", metavar="EXPR",
                help="a tcpdump filter, e.g. 'mpls or icmp' (default: every packet)")] = None,
            ) -> None:
    """A live link's packets as pcap, from tcpdump inside the router: into a file, or to
    Wireshark (`mplslab capture option3 PE-2:P-2 | wireshark -k -i -`). Ctrl-C stops it and
    leaves no tcpdump behind."""
    to_stdout = write in (None, "-")
    if to_stdout and terminal():
        raise LabError("a capture is binary pcap, not for a terminal",
                       hint=f"write a file with -w FILE.pcap, or pipe it: mplslab capture "
                            f"{lab} {where} | wireshark -k -i -")
    if not to_stdout:
        check_output_file(Path(write), "-w")
    state, runtime = lifecycle.live_runtime(lab)
    end = lifecycle.deployed_model(state).link_end(where, interface)
    lifecycle.terminate_on_sigterm()  # a `kill` stops it as Ctrl-C does
    into = "standard output" if to_stdout else write
    err.print(f"capturing on {escape(str(end))} of {state.lab} into {escape(into)} "
              f"({f'{count} packets, ' if count else ''}Ctrl-C stops)", highlight=False,
              soft_wrap=True)
    said = Said()
    with (open(write, "wb") if not to_stdout else nullcontext(sys.stdout.buffer)) as sink:
        status = runtime.record(end.node, end.interface, partial(write_through, sink),
                                count=count, bpf=bpf, said=said)
    if to_stdout:
        quiet_stdout()
    if status is None:
        raise RuntimeFailure(f"the tcpdump on {end} did not end when stopped")
    if status != 0 and not said.listening:
        raise RuntimeFailure(f"tcpdump on {end} failed: "
                             f"{said.lines[-1] if said.lines else f'exit {status}'}")
    if status != 0:
        raise RuntimeFailure(f"tcpdump on {end} ended with exit {status}")
    if not to_stdout:
        err.print(f"wrote {escape(write)}", highlight=False, soft_wrap=True)


def terminal() -> bool:
    """Standard output is a terminal (the pcap needs a file or a pipe)."""
    return sys.stdout.isatty()


def write_through(sink: BinaryIO, data: bytes) -> None:
    """Every piece as it comes: Wireshark shows packets live, a file is whole when stopped."""
    sink.write(data)
    sink.flush()


def quiet_stdout() -> None:
    """Standard output may be a pipe whose reader is gone (Wireshark closed): Python's
    flush at exit would complain; nothing more is written there."""
    with suppress(OSError, ValueError):  # no file descriptor: nothing to quieten
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
