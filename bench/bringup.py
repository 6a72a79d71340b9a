"""Bring-up figures per lab: VM boot, deploy, convergence (first full verify), the verify of a
converged lab, memory (each router's daemons, the whole guest), and the protocol floor the
convergence compares with. Prints figures; asserts nothing.

The protocol floor is what the lab's timers alone can cost after every daemon has started
(the lab's `timers:`, docs/lab-format.md; worst case, the best is ~0): an OSPF adjacency forms
on the first hello that lists the other router, at worst one hello interval after the later
one started (RIP: one update); an LDP session runs between loopbacks, so it follows the IGP,
then at worst one hello; a BGP session on a shared link comes up at once (the later speaker
connects to the one already listening), one between loopbacks retries every connect-retry
until a route to its peer exists: the IGP's for unicast and labelled sessions, and those
sessions' too for VPN sessions. The lab's floor is the longest of these chains. "converge"
is the first verify's time less the converged verify's (the checks' own work): what is left
above the floor is emulation.

    python bench/bringup.py [LAB ...] [--variant V] [--all] [--runtime R ...]

With several labs (or --all: every shipped lab, default variant) or several runtimes
(`--runtime vm --runtime clab`: the same lab as namespaces and as containerlab containers,
side by side) it ends with one table. Run it with no other lab up; with `mplslab vm start`
first the VM boot is left out of `up`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass

from emulator.model.build import load_lab
from emulator.paths import labs_dir
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
from emulator.verify.runner import run_checks

STEP = re.compile(r"^\s+(\d+\.\d)s (.*)$")


TRANSPORT_FAMILIES = {"ipv4-unicast", "ipv4-labeled-unicast"}


def protocol_floor(model) -> tuple[float, list[str]]:
    """The lab's protocol floor in seconds (see the module's text) and how it adds up."""
    timers = model.timers
    igp = max([timers.ospf_hello for node in model.nodes if node.ospf]
              + [timers.rip_update for node in model.nodes if node.rip] + [0.0])
    chains = {"IGP (hello / update)": igp}
    if any(node.ldp for node in model.nodes):
        chains["LDP (IGP, then a hello)"] = igp + timers.ldp_hello
    # Sessions between loopbacks: do they carry the routes other sessions ride on?
    carries = {bool(set(neighbor.families) & TRANSPORT_FAMILIES) for node in model.nodes
               for instance in node.bgp for neighbor in instance.neighbors
               if neighbor.update_source or neighbor.ebgp_multihop}
    below = igp
    if True in carries:
        below = chains["BGP between loopbacks, unicast/labelled (IGP, then a connect-retry)"] = (
            igp + timers.bgp_connect_retry)
    if False in carries:
        chains["BGP between loopbacks, VPN (the routes below, then a connect-retry)"] = (
            below + timers.bgp_connect_retry)
    floor = max(chains.values())
    return floor, [f"{seconds:4.0f} s  {name}" for name, seconds in chains.items()]


@dataclass
class Figures:
    lab: str
    runtime: str
    routers: int
    boot: float | None
    up: float
    deploy: float | None
    converge: float
    verify: float
    floor: float
    checks: int
    passed: bool
    routers_mib: float
    guest_used_mib: float | None


def guest_used_mib(runtime) -> float | None:
    """Memory in use in the whole guest (the VM runtime), from /proc/meminfo."""
    run = getattr(runtime, "run", None)
    if run is None:
        return None
    fields = dict(line.split(":", 1) for line in run("cat /proc/meminfo").stdout.splitlines()
                  if ":" in line)
    kib = lambda key: int(fields[key].split()[0])  # noqa: E731
    return (kib("MemTotal") - kib("MemAvailable")) / 1024


def router_rss_mib(runtime, node: str) -> float:
    """Resident memory of every process in a router (its daemons), in MiB."""
    # Inside a namespace router, `ip netns identify` names its own namespace; a container
    # has its own PID namespace, so `ps -e` there lists its processes only.
    out = runtime.exec(node, ["sh", "-c", 'ns=$(ip netns identify); if [ -n "$ns" ]; then '
                                          'ps -o rss= -p $(ip netns pids "$ns" | paste -sd, -);'
                                          ' else ps -e -o rss=; fi']).stdout
    return sum(int(v) for v in out.split() if v.isdigit()) / 1024


def measure(lab: str, variant: str | None, runtime_name: str = "auto") -> Figures:
    model = load_lab(lab, variant)
    command = [sys.executable, "-m", "emulator", "up", lab, "--runtime", runtime_name]
    if variant:
        command += ["--variant", variant]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    up_seconds = time.monotonic() - started
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        sys.exit(1)
    steps = [(float(m.group(1)), m.group(2)) for line in result.stdout.splitlines()
             if (m := STEP.match(line))]
    deploying = next((t for t, text in steps if text.startswith("deploying routers")), None)
    booting = next((t for t, text in steps if text.startswith("booting")), None)
    try:
        runtime = make_runtime(LabState.load(model.name))
        converge_started = time.monotonic()
        report = run_checks(model, runtime, deadline=300)
        converge = time.monotonic() - converge_started
        verify_started = time.monotonic()
        again = run_checks(model, runtime, deadline=30)
        verify = time.monotonic() - verify_started
        print(f"lab {model.name} ({model.variant or 'default'}), runtime {runtime.name}, "
              f"{len(model.nodes)} routers")
        if deploying is not None and booting is not None:
            print(f"VM boot (start to SSH answer): {deploying - booting:6.1f} s")
        print(f"mplslab up, total:             {up_seconds:6.1f} s")
        if deploying is not None:
            print(f"deploy inside the VM:          {up_seconds - deploying:6.1f} s")
        print(f"first verify (convergence):    {converge:6.1f} s  passed={report.passed}")
        print(f"verify of a converged lab:     {verify:6.1f} s  passed={again.passed} "
              f"({len(again.results)} checks)")
        floor, chains = protocol_floor(model)
        print(f"convergence less the checks:   {converge - verify:6.1f} s  against a protocol "
              f"floor of {floor:.0f} s (worst case):")
        for line in chains:
            print(f"  {line}")
        print("resident memory per router (sum of its routing daemons):")
        total = 0.0
        for node in model.nodes:
            rss = router_rss_mib(runtime, node.name)
            total += rss
            print(f"  {node.name:14s} {rss:6.1f} MiB  ({', '.join(node.protocols)})")
        guest = guest_used_mib(runtime)
        if guest is not None:
            print(f"memory in use in the guest:    {guest:6.0f} MiB")
        return Figures(model.name, runtime.name, len(model.nodes),
                       deploying - booting if deploying is not None and booting is not None
                       else None, up_seconds,
                       up_seconds - deploying if deploying is not None else None, converge,
                       verify, floor, len(again.results), report.passed and again.passed,
                       total, guest)
    finally:
        subprocess.run([sys.executable, "-m", "emulator", "down", model.name],
                       capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("labs", nargs="*")
    parser.add_argument("--variant")
    parser.add_argument("--all", action="store_true", help="every shipped lab")
    parser.add_argument("--runtime", action="append",
                        help="auto (default), vm, clab, ...; repeat to compare runtimes")
    args = parser.parse_args()
    labs = sorted(p.stem for p in labs_dir().glob("*.yml")) if args.all else (
        args.labs or ["option1"])
    rows = []
    for lab in labs:
        for runtime_name in args.runtime or ["auto"]:
            rows.append(measure(lab, args.variant, runtime_name))
            print(flush=True)
    if len(rows) > 1:
        show = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"{'lab':10s} {'runtime':8s} {'routers':>7s} {'boot s':>6s} {'up s':>5s} "
              f"{'deploy s':>8s} {'1st verify s':>12s} {'verify s':>8s} {'checks':>6s} "
              f"{'converge s':>10s} {'floor s':>7s} {'ratio':>5s} "
              f"{'routers MiB':>11s} {'guest MiB':>9s} passed")
        for r in rows:
            settled = r.converge - r.verify
            ratio = f"{settled / r.floor:.1f}" if r.floor else "-"
            print(f"{r.lab:10s} {r.runtime:8s} {r.routers:7d} {show(r.boot):>6s} {show(r.up):>5s} "
                  f"{show(r.deploy):>8s} {show(r.converge):>12s} {show(r.verify):>8s} "
                  f"{r.checks:6d} {show(settled):>10s} {show(r.floor):>7s} {ratio:>5s} "
                  f"{show(r.routers_mib):>11s} {show(r.guest_used_mib):>9s} {r.passed}")
        compare_runtimes(rows)


def compare_runtimes(rows: list[Figures]) -> None:
    """For a lab measured on several runtimes: `up` + the first verify on each, as a ratio of
    the slowest (issue 33: namespaces against containerlab containers in the same VM)."""
    for lab in dict.fromkeys(r.lab for r in rows):
        runs = [r for r in rows if r.lab == lab]
        if len(runs) < 2:
            continue
        slowest = max(runs, key=lambda r: r.up + r.converge)
        for r in runs:
            if r is not slowest:
                print(f"{lab}: `up` + first verify, {r.runtime} {r.up + r.converge:.0f} s against "
                      f"{slowest.runtime} {slowest.up + slowest.converge:.0f} s: ratio "
                      f"{(r.up + r.converge) / (slowest.up + slowest.converge):.2f}")


if __name__ == "__main__":
    main()
