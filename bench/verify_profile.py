"""Where a verify's time goes, on a lab that is up (`mplslab up LAB` first): each phase's
seconds, and within it the time spent in each way the checks reach the routers (bulk
readings, commands, captures), with how many calls. Run it twice: the first one after `up`
includes the convergence.

    .venv/bin/python bench/verify_profile.py option3 [--variant V] [--runs 2]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import defaultdict

from emulator.model.build import load_lab
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
from emulator.verify import runner
from emulator.verify.checks import PHASES

TIMED = ("read_many", "exec", "exec_many", "capture", "ask")


class Timed:
    """The runtime, with the time of each call of ``TIMED`` summed per method (calls run
    in parallel: the sums can exceed the wall clock)."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.guard = threading.Lock()

    def __getattr__(self, name):
        attribute = getattr(self.runtime, name)
        if name not in TIMED:
            return attribute

        def timed(*args, **kwargs):
            started = time.monotonic()
            try:
                return attribute(*args, **kwargs)
            finally:
                with self.guard:
                    self.seconds[name] += time.monotonic() - started
                    self.calls[name] += 1
        return timed

    def take(self) -> str:
        with self.guard:
            said = ", ".join(f"{name} {self.calls[name]}x {self.seconds[name]:.1f}s"
                             for name in TIMED if self.calls[name])
            self.seconds.clear()
            self.calls.clear()
        return said or "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lab")
    parser.add_argument("--variant")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    model = load_lab(args.lab, args.variant)
    timed = Timed(make_runtime(LabState.load(model.name)))
    run_phase = runner.run_phase

    def phase_timed(batch, readings, deadline, pool):
        started = time.monotonic()
        results = run_phase(batch, readings, deadline, pool)
        kinds = sorted({c.kind for c in batch}, key=lambda k: [k in p for p in PHASES])
        rounds = max(r.attempts for r in results)
        print(f"  {time.monotonic() - started:5.1f} s  {', '.join(kinds)} ({len(batch)} checks, "
              f"{rounds} round{'s' * (rounds > 1)}): {timed.take()}")
        return results

    runner.run_phase = phase_timed
    for run in range(1, args.runs + 1):
        print(f"verify {run} of {model.name}:")
        report = runner.run_checks(model, timed, deadline=300)
        print(f"  {report.seconds:5.1f} s  in all, passed={report.passed}")


if __name__ == "__main__":
    main()
