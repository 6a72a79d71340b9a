"""Soak a lab: bring it up (optionally while busy loops load every core), verify it, wait,
verify it again, and print what each round saw. Labels that drift after convergence (the
Option B bind-cache defect, docs/labs/option2.md) fail the later rounds' `label-steady`.

    python scripts/soak.py LAB [--variant V] [--rounds 2] [--gap 600] [--load 2]

LAB is a shipped lab's name or a lab file (e.g. one from tests/labgen.py). Prints figures and
a verdict; the lab is always taken down at the end. Exit status 0 only if every round passed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MPLSLAB = [sys.executable, "-m", "emulator"]


def spin() -> None:
    while True:
        pass


def mplslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MPLSLAB, *args], capture_output=True, text=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lab")
    parser.add_argument("--variant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gap", type=float, default=600, help="seconds between rounds")
    parser.add_argument("--load", type=int, default=0,
                        help="busy loops running during the bring-up and the first round")
    parser.add_argument("--deadline", type=float, default=180)
    args = parser.parse_args()

    load = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.load)]
    for process in load:
        process.start()
    up = ["up", args.lab] + (["--variant", args.variant] if args.variant else [])
    started = time.monotonic()
    result = mplslab(*up)
    print(result.stdout.strip())
    if result.returncode != 0:
        print(result.stderr.strip())
        for process in load:
            process.kill()
        return 1
    name = next(line.split()[0] for line in result.stdout.splitlines() if " is up (" in line)
    print(f"up in {time.monotonic() - started:.0f}s (load: {args.load} busy loops)")
    rows = []
    try:
        for round_ in range(1, args.rounds + 1):
            if round_ > 1:
                for process in load:
                    process.kill()
                print(f"waiting {args.gap:.0f}s before round {round_}", flush=True)
                time.sleep(args.gap)
            with tempfile.TemporaryDirectory() as folder:
                report_path = Path(folder) / "report.json"
                began = time.monotonic()
                mplslab("verify", name, "--json", str(report_path),
                        "--deadline", str(args.deadline))
                report = json.loads(report_path.read_text()) if report_path.exists() else {}
            failed = [f"{c['kind']}: {c['name']}" for c in report.get("checks", [])
                      if not c["passed"]]
            rows.append((round_, bool(report.get("passed")), len(report.get("checks", [])),
                         failed, time.monotonic() - began))
            print(f"round {round_}: {'PASS' if rows[-1][1] else 'FAIL'}, "
                  f"{rows[-1][2]} checks, {len(failed)} failed, {rows[-1][4]:.0f}s", flush=True)
            for line in failed:
                print(f"  {line}")
    finally:
        for process in load:
            process.kill()
        print(mplslab("down", name).stdout.strip())
    passed = bool(rows) and all(row[1] for row in rows)
    print(f"soak {name}: {'PASS' if passed else 'FAIL'} ({len(rows)} rounds, "
          f"{args.gap:.0f}s apart)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
