"""Bring-up figures for a lab: VM boot, deploy, convergence (first full verify), and the
resident memory of each router's daemons. Prints figures; asserts nothing.

    python bench/bringup.py [LAB] [--variant V]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from emulator.model.build import load_lab
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
from emulator.verify.runner import run_checks

STEP = re.compile(r"^\s+(\d+\.\d)s (.*)$")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lab", nargs="?", default="option1")
    parser.add_argument("--variant")
    args = parser.parse_args()
    model = load_lab(args.lab, args.variant)
    command = [sys.executable, "-m", "emulator", "up", args.lab]
    if args.variant:
        command += ["--variant", args.variant]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    up_seconds = time.monotonic() - started
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        sys.exit(1)
    steps = [(float(m.group(1)), m.group(2)) for line in result.stdout.splitlines()
             if (m := STEP.match(line))]
    boot = next((t for t, text in steps if text.startswith("deploying routers")), None)
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
        if boot is not None and booting is not None:
            print(f"VM boot (start to SSH answer): {boot - booting:6.1f} s")
        print(f"mplslab up, total:             {up_seconds:6.1f} s")
        if boot is not None:
            print(f"deploy inside the VM:          {up_seconds - boot:6.1f} s")
        print(f"first verify (convergence):    {converge:6.1f} s  passed={report.passed}")
        print(f"verify of a converged lab:     {verify:6.1f} s  passed={again.passed} "
              f"({len(again.results)} checks)")
        slowest = sorted(again.results, key=lambda r: r.seconds, reverse=True)[:3]
        print("slowest checks: " + ", ".join(f"{r.kind} {r.name} {r.seconds:.1f}s"
                                             for r in slowest))
        print("resident memory per router (sum of its FRR daemons):")
        for node in model.nodes:
            # Inside the router, `ip netns identify` names its own namespace.
            out = runtime.exec(node.name, ["sh", "-c", "ps -o rss= -p $(ip netns pids "
                                                       "$(ip netns identify) | paste -sd, -)"]
                               ).stdout
            rss = sum(int(v) for v in out.split() if v.isdigit())
            print(f"  {node.name:10s} {rss / 1024:6.1f} MiB  ({', '.join(node.daemons)})")
    finally:
        subprocess.run([sys.executable, "-m", "emulator", "down", model.name],
                       capture_output=True, check=False)


if __name__ == "__main__":
    main()
