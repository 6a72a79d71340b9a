"""What network engineers reach for on a running lab's routers: capture (a live link into a
pcap, or into Wireshark), save (every router's running configuration as files) and diff
(what changed on the routers since deploy). `emulator.lifecycle` finds the lab and its
routers, `emulator.router_configs` reads their configurations; the runtime runs tcpdump
inside the router."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext, suppress
from functools import partial
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.markup import escape

from emulator import lifecycle, router_configs
from emulator.cli import complete
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import RunningLabArg
from emulator.errors import LabError, RuntimeFailure
from emulator.paths import check_output_file, check_output_folder

commands = typer.Typer()

WhereArg = Annotated[str, typer.Argument(
    metavar="NODE", autocompletion=complete.routers,
    help="a router, or a link by its ends: PE-2:P-2 is PE-2's interface to P-2")]
InterfaceArg = Annotated[str | None, typer.Argument(
    autocompletion=complete.interfaces,
    help="the router's interface: the lab's name for it (eth1, eth2.101) or the router at "
         "its other end (none with NODE:PEER)")]
NodesArg = Annotated[list[str] | None, typer.Argument(
    metavar="[NODE]...", autocompletion=complete.router_names,
    help="only these routers (default: every router of the lab)")]


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
    lifecycle.stop_on_interrupt()  # Ctrl-C or a `kill` stops it
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


@commands.command()
@handle_errors
def save(lab: RunningLabArg, nodes: NodesArg = None,
         folder: Annotated[Path | None, typer.Option(
             "--out", help="the folder (default: a new one beside the lab's state folder, "
                           "kept when the lab goes down)")] = None) -> None:
    """Every router's running configuration as files, FOLDER/<router>/frr.conf (FRR's `show
    running-config`) and bird.conf (the configuration BIRD runs)."""
    if folder is not None:
        check_output_folder(folder, "--out")
    state, runtime = lifecycle.live_runtime(lab)
    with out.status(f"reading the running configurations of {state.lab}"):
        readings = router_configs.running_configs(state, runtime, nodes)
    folder = folder or router_configs.saved_folder(state.lab)
    written = router_configs.write_saved(readings, folder)
    out.print(f"saved {len(written)} running configurations of {state.lab} in "
              f"{escape(str(folder))}", highlight=False, soft_wrap=True)
    refuse_unread(readings)


@commands.command()
@handle_errors
def diff(lab: RunningLabArg, nodes: NodesArg = None) -> None:
    """What changed on the routers since deploy (a trainee's work, or a drift): each
    router's running configuration against the one it was deployed with, as a unified diff
    (FRR's own comparison, as `mplslab reset` uses it). Exit 0 when nothing changed, 1 when
    something did, as diff(1)."""
    state, runtime = lifecycle.live_runtime(lab)
    with out.status(f"comparing the routers of {state.lab} with their deployed "
                    "configurations"):
        readings = router_configs.drifts(state, runtime, nodes)
    for reading in readings:
        for line in router_configs.unified(reading):
            print(line)
    apart: dict[str, list[str]] = {}
    for reading in readings:
        if reading.not_compared:
            apart.setdefault(reading.not_compared, []).append(reading.files.node)
    for why, routers in apart.items():
        err.print(f"{escape(', '.join(routers))}: {escape(why)}", highlight=False,
                  soft_wrap=True)
    refuse_unread(readings)
    changed = any(reading.changes for reading in readings)
    if not changed:
        err.print(f"no router of {state.lab} changed since deploy", highlight=False)
    raise typer.Exit(1 if changed else 0)


def refuse_unread(readings: list[router_configs.Reading]) -> None:
    """Routers that did not answer, named together (after what the others answered)."""
    failed = [f"{r.files.node} ({r.files.suite}): {r.failed}" for r in readings if r.failed]
    if failed:
        raise LabError(f"could not read {'; '.join(failed)}",
                       hint="`mplslab status` tells which daemons run")


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
