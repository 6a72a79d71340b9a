"""Soak: do the labs' timers hold on a starved machine? Every lab named (default: every
shipped lab, its default variant) comes up in the one micro-VM while every core of this host
is kept busy, is verified, and ten minutes later is verified again (every check kind,
label-steady among them). Between the two, no BGP session, OSPF adjacency or LDP session may
have gone down, even for a moment: each router is asked, by the verifier's own probes, how
long each has been up (the records' history: FRR's uptimes, the number of times a BGP
session was established; BIRD's time of a protocol's last change), once after the first
verify and once after the second.

    python bench/soak.py [LAB ...] [--minutes 10] [--busy N] [--deadline 300] [--memory 6G]

The labs stay up together (the harshest case: every lab's hellos share the guest), each
soaking from its own first verify. With no micro-VM running it starts one sized for all of
them (emulator/classroom/sizing.py's figures) and stops it at the end; every lab goes down
at the end, whatever happened. Prints what it saw; exits 1 if a lab failed a verify or
anything went down.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from class_capacity import mplslab  # this folder's: `mplslab ...` as a subprocess

from emulator import lifecycle
from emulator.classroom import sizing
from emulator.model.build import load_lab
from emulator.model.topology import Lab, Node
from emulator.paths import labs_dir
from emulator.runtime.base import Runtime
from emulator.runtime.registry import choose, make_runtime
from emulator.runtime.state import LabState
from emulator.suites.records import ProbeError
from emulator.verify.probes import suite
from emulator.verify.runner import run_checks

# A session read twice, ``elapsed`` seconds apart, has been up at least that long less this
# (the two readings are not taken at the very same instant).
SLACK = 5.0

T = TypeVar("T")


@dataclass
class Seen:
    """One session or adjacency as a router told it: up or not, for how long (seconds, when
    the router says), and a mark that changes whenever it comes up again."""

    up: bool
    age: float | None = None
    mark: int | None = None  # how many times it was established (FRR's BGP)
    since: float | None = None  # seconds into the day of its last change (BIRD)


def spin() -> None:
    while True:
        pass


def answered(probe: Callable[..., T], *args: object, empty: T) -> T:
    """A probe's answer; ``empty`` when the router gave none (a daemon down): what was up at
    the first reading is then missing at the second, and so down."""
    try:
        return probe(*args)
    except ProbeError:
        return empty


def router_sessions(runtime: Runtime, lab: Lab, node: Node) -> dict[str, Seen]:
    """A router's BGP sessions, OSPF adjacencies and LDP sessions with their history, read
    by the verifier's probes: each from the suite that speaks the protocol on that node."""
    seen: dict[str, Seen] = {}
    if "bgp" in node.protocols:
        asks = suite(lab, node.name, "bgp")
        for session in answered(asks.bgp_sessions, runtime, node.name, empty=[]):
            # A record per family: the session's families share its history, and it is up
            # while every one of them is.
            key = f"bgp {session.vrf} {session.peer}"
            earlier = seen.get(key)
            seen[key] = Seen(session.established and (earlier is None or earlier.up),
                             session.uptime, session.times_established, session.last_change)
    if "ospf" in node.protocols:
        asks = suite(lab, node.name, "igp")
        for instance in node.ospf:
            vrf = f" vrf {instance.vrf}" if instance.vrf else ""
            for neighbor in answered(asks.ospf_neighbors, runtime, node.name, instance.vrf,
                                     empty={}).values():
                seen[f"ospf{vrf} {neighbor.id}"] = Seen(neighbor.state == "Full",
                                                        neighbor.uptime)
    if "ldp" in node.protocols:
        asks = suite(lab, node.name, "ldp")
        for neighbor in answered(asks.ldp_neighbors, runtime, node.name, empty={}).values():
            seen[f"ldp {neighbor.id}"] = Seen(neighbor.state == "OPERATIONAL", neighbor.uptime)
    return seen


def sessions(lab: Lab) -> tuple[dict[str, Seen], float]:
    """Every router's sessions and adjacencies, keyed by router, and when they were read."""
    runtime = make_runtime(LabState.load(lab.name))
    try:
        seen = {f"{node.name} {name}": state for node in lab.nodes
                for name, state in router_sessions(runtime, lab, node).items()}
        return seen, time.monotonic()
    finally:
        close = getattr(runtime, "close", None)
        if close:
            close()


def went_down(before: dict[str, Seen], after: dict[str, Seen], elapsed: float) -> list[str]:
    """What was up at the first reading and is not now, or came up again in between."""
    problems = []
    for key, first in before.items():
        if not first.up:
            continue
        now = after.get(key)
        if now is None or not now.up:
            problems.append(f"{key}: down now")
        elif now.age is not None and now.age < elapsed - SLACK:
            problems.append(f"{key}: up {now.age:.0f} s only ({elapsed:.0f} s since the "
                            f"first reading)")
        elif now.mark is not None and now.mark != first.mark:
            problems.append(f"{key}: came up again ({first.mark} -> {now.mark})")
        elif now.since is not None and first.since is not None and abs(
                now.since - first.since) > 1.0:
            # BIRD derives the time of a change anew at each `show` (a few ms either way).
            problems.append(f"{key}: came up again (last change at {first.since:.0f} s into "
                            f"the day, now {now.since:.0f} s)")
    problems += [f"{key}: was not up at the first reading" for key, first in before.items()
                 if not first.up]
    return problems


def verify(lab, deadline: float) -> tuple[bool, float, list[str]]:
    state = LabState.load(lab.name)
    model = lifecycle.deployed_model(state)
    runtime = make_runtime(state)
    started = time.monotonic()
    try:
        report = run_checks(model, runtime, deadline=deadline)
    finally:
        close = getattr(runtime, "close", None)
        if close:
            close()
    failed = [f"{r.name}: expected {r.expected}, observed {r.observed}"
              for r in report.results if not r.passed]
    return report.passed, time.monotonic() - started, failed


@dataclass
class Soak:
    lab: object
    up_seconds: float = 0.0
    first: tuple[bool, float, list[str]] | None = None
    second: tuple[bool, float, list[str]] | None = None
    before: dict[str, Seen] = field(default_factory=dict)
    read_at: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.first and self.first[0] and self.second and self.second[0]
                    and not self.problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2,
                        help="host processes kept busy (default: one per core)")
    parser.add_argument("--deadline", type=float, default=300.0,
                        help="seconds each check may retry (300)")
    parser.add_argument("--memory", help="the micro-VM's memory if this starts it")
    args = parser.parse_args()
    names = args.labs or sorted(p.stem for p in labs_dir().glob("*.yml"))
    soaks = [Soak(load_lab(name)) for name in names]
    runtime, why = choose("auto")
    routers = sum(len(s.lab.nodes) for s in soaks)
    print(f"{len(soaks)} labs, {routers} routers, runtime {runtime} ({why}); "
          f"{args.busy} busy host processes; {args.minutes:g} min between verifies")
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    started_vm, up = False, []
    try:
        if runtime in ("vm", "clab-vm"):
            from emulator.runtime.vm_shared import shared_vm, vm_alive

            if not vm_alive(shared_vm()):
                size = sizing.Size("soak", routers, 1)
                memory = args.memory or f"{size.vm_mib}M"
                print(f"starting the micro-VM with {memory}", flush=True)
                result = mplslab("vm", "start", env={**os.environ, "MPLSLAB_VM_MEMORY": memory})
                if result.returncode != 0:
                    sys.exit(f"mplslab vm start failed: {result.stderr.strip()[-500:]}")
                started_vm = True
        for soak in soaks:
            name = soak.lab.name
            started = time.monotonic()
            result = mplslab("up", name)
            soak.up_seconds = time.monotonic() - started
            if result.returncode != 0:
                soak.problems.append(f"up failed: {result.stderr.strip()[-300:]}")
                print(f"{name}: up failed after {soak.up_seconds:.0f} s", flush=True)
                continue
            up.append(name)
            soak.first = verify(soak.lab, args.deadline)
            soak.before, soak.read_at = sessions(soak.lab)
            print(f"{name}: up {soak.up_seconds:.0f} s, first verify {soak.first[1]:.0f} s "
                  f"passed={soak.first[0]}, {len(soak.before)} sessions and adjacencies",
                  flush=True)
        for soak in soaks:
            if soak.lab.name not in up:
                continue
            wait = soak.read_at + args.minutes * 60 - time.monotonic()
            if wait > 0:
                print(f"{soak.lab.name}: waiting {wait:.0f} s", flush=True)
                time.sleep(wait)
            soak.second = verify(soak.lab, args.deadline)
            after, read_at = sessions(soak.lab)
            soak.problems += went_down(soak.before, after, read_at - soak.read_at)
            print(f"{soak.lab.name}: second verify {soak.second[1]:.0f} s "
                  f"passed={soak.second[0]}, {len(soak.problems)} went down", flush=True)
    finally:
        for name in reversed(up):
            mplslab("down", name)
        if started_vm:
            mplslab("vm", "stop")
        for spinner in spinners:
            spinner.terminate()
    print(f"\n{'lab':10s} {'routers':>7s} {'up s':>5s} {'1st verify':>10s} "
          f"{'2nd verify':>10s} {'watched':>7s} {'went down':>9s} passed")
    show = lambda v: "-" if v is None else f"{v[1]:.0f}s {'ok' if v[0] else 'FAIL'}"  # noqa: E731
    for soak in soaks:
        print(f"{soak.lab.name:10s} {len(soak.lab.nodes):7d} {soak.up_seconds:5.0f} "
              f"{show(soak.first):>10s} {show(soak.second):>10s} {len(soak.before):7d} "
              f"{len(soak.problems):9d} {soak.passed}")
        for line in soak.problems + (soak.first[2] if soak.first else []) + (
                soak.second[2] if soak.second else []):
            print(f"    {line}")
    sys.exit(0 if all(soak.passed for soak in soaks) else 1)


if __name__ == "__main__":
    main()
