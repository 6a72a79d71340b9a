"""How many trainee copies of a lab one machine holds: copies of option3 (by default) come up
one by one in the one micro-VM, each verified once up, until one fails to come up or to
verify, or ``--max`` copies (12) are up; then every copy is verified twice, ``--interval``
seconds apart (600: ten minutes), to see the class hold. After each copy and each round it
prints what the guest says of itself (tests/e2e/guestmon.sh reads the same): memory in use
(MemTotal - MemAvailable) and the load averages. Prints figures; asserts nothing.

    python bench/class_capacity.py [--lab option3] [--max 12] [--interval 600]
                                   [--deadline 180] [--memory 8G] [--runtime auto]

The copies are those of `mplslab class up` (emulator/classroom: <lab>-t1, <lab>-t2, ...,
the lab renamed), brought up with `mplslab up` one at a time so that each count is
measured. With no micro-VM running it starts one (`mplslab vm start`) with ``--memory``
(default: what `class up` would give ``--max`` copies, capped by this host's available
memory) and stops it at the end; a running one is used as it is (its size is printed).
Every copy goes down at the end, whatever happened. emulator/classroom/sizing.py holds
the per-router figure these runs check.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator import lifecycle
from emulator.classroom import sizing
from emulator.classroom.copies import copy_names
from emulator.model.build import load_lab
from emulator.model.loader import read_text, renamed
from emulator.runtime.registry import choose, make_runtime
from emulator.runtime.state import LabState
from emulator.verify.runner import run_checks

MPLSLAB = [sys.executable, "-m", "emulator"]


def mplslab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*MPLSLAB, *args], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, env=env)


def readings(in_vm: bool) -> str:
    """Memory in use and load averages, of the guest (or of this host, routers here)."""
    if in_vm:
        from emulator.runtime.vm_pin import guest_readings

        try:
            seen = guest_readings()
        except Exception as exc:  # a guest that no longer answers is a figure too
            return f"guest unreadable: {exc}"
        used, total, load = seen.used_mib, seen.total_mib, seen.load
    else:
        meminfo = Path("/proc/meminfo").read_text()
        total = sizing.meminfo_mib(meminfo, "MemTotal")
        used = total - sizing.meminfo_mib(meminfo)
        load = tuple(float(v) for v in Path("/proc/loadavg").read_text().split()[:3])
    return (f"{used:7.0f} MiB of {total:6.0f} used, load {load[0]:5.2f} {load[1]:5.2f} "
            f"{load[2]:5.2f}")


def verify(name: str, deadline: float) -> tuple[bool, float, int]:
    """One copy verified as `mplslab verify` does: passed, seconds, failed checks."""
    state = LabState.load(name)
    model = lifecycle.deployed_model(state)
    runtime = make_runtime(state)
    started = time.monotonic()
    try:
        report = run_checks(model, runtime, deadline=deadline)
    except Exception as exc:
        print(f"  {name}: verify failed to run: {exc}")
        return False, time.monotonic() - started, -1
    finally:
        close = getattr(runtime, "close", None)
        if close:
            close()
    return report.passed, time.monotonic() - started, sum(not r.passed for r in report.results)


def every_copy(copies: list[str], deadline: float, in_vm: bool, title: str) -> None:
    print(f"{title}:")
    for name in copies:
        passed, seconds, failed = verify(name, deadline)
        print(f"  {name:12s} passed={passed!s:5s} {seconds:6.1f} s  failed checks: {failed}")
    print(f"  {len(copies):2d} copies: {readings(in_vm)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", default="option3")
    parser.add_argument("--max", type=int, default=12, help="copies at most (12)")
    parser.add_argument("--interval", type=float, default=600.0,
                        help="seconds between the two verifies of every copy (600)")
    parser.add_argument("--deadline", type=float, default=180.0,
                        help="seconds each check may retry (180)")
    parser.add_argument("--memory", help="the micro-VM's memory if this starts it (QEMU's "
                                         "words); default: what `class up` would give")
    parser.add_argument("--runtime", default="auto")
    args = parser.parse_args()

    model = load_lab(args.lab)
    names = copy_names(model.name, args.max)
    runtime, why = choose(args.runtime)
    print(f"lab {model.name}: {len(model.nodes)} routers a copy, up to {args.max} copies; "
          f"runtime {runtime} ({why})")
    in_vm = runtime in ("vm", "clab-vm")
    started_vm = False
    if in_vm:
        from emulator.runtime.vm_shared import shared_vm, vm_alive

        if not vm_alive(shared_vm()):
            size = sizing.Size(model.name, len(model.nodes), args.max)
            memory = args.memory or f"{min(size.vm_mib, int(sizing.host_available_mib()))}M"
            print(f"starting the micro-VM with {memory}")
            result = mplslab("vm", "start", env={**os.environ, "MPLSLAB_VM_MEMORY": memory})
            if result.returncode != 0:
                sys.exit(f"mplslab vm start failed: {result.stderr.strip()[-500:]}")
            started_vm = True
    print(f"before any copy: {readings(in_vm)}", flush=True)

    up: list[str] = []
    text = read_text(Path(model.source))
    with tempfile.TemporaryDirectory(prefix="class-capacity-") as folder:
        try:
            print(f"{'copies':>6s} {'up s':>6s} {'verify s':>8s} passed  guest")
            for count, name in enumerate(names, 1):
                path = Path(folder) / f"{name}.yml"
                path.write_text(renamed(text, name))
                started = time.monotonic()
                result = mplslab("up", str(path), "--runtime", runtime)
                up_seconds = time.monotonic() - started
                if result.returncode != 0:
                    print(f"{count:6d} {up_seconds:6.1f}  up failed: "
                          f"{result.stderr.strip()[-300:]}")
                    break
                up.append(name)
                passed, seconds, failed = verify(name, args.deadline)
                print(f"{count:6d} {up_seconds:6.1f} {seconds:8.1f} {passed!s:6s}  "
                      f"{readings(in_vm)}", flush=True)
                if not passed:
                    print(f"       {name} failed {failed} checks: no more copies")
                    break
            if up:
                every_copy(up, args.deadline, in_vm, f"every copy, round 1 ({len(up)})")
                print(f"waiting {args.interval:.0f} s", flush=True)
                time.sleep(args.interval)
                every_copy(up, args.deadline, in_vm, f"every copy, round 2 ({len(up)})")
        finally:
            for name in reversed(up):
                mplslab("down", name)
            if started_vm:
                mplslab("vm", "stop")


if __name__ == "__main__":
    main()
