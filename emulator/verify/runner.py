"""Running checks: phase by phase, in parallel within a phase, each retried until it holds
or its deadline passes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from emulator.model.topology import Lab
from emulator.runtime.base import Runtime
from emulator.verify.checks import PHASES, Check, ProbeError, Report, Result
from emulator.verify.expectations import derive

RETRY_PAUSE = 2.0
WORKERS = 4


def run_check(check: Check, runtime: Runtime, deadline: float) -> Result:
    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            passed, observed = check.probe(runtime)
        except ProbeError as exc:
            passed, observed = False, {"error": str(exc)}
        elapsed = time.monotonic() - started
        if passed or not check.retry or elapsed + RETRY_PAUSE > deadline:
            return Result(check.name, check.kind, check.node, passed, check.expected, observed,
                          elapsed, attempts)
        time.sleep(RETRY_PAUSE)


def run_checks(lab: Lab, runtime: Runtime, *, deadline: float = 120.0,
               console: Console | None = None, kinds: set[str] | None = None) -> Report:
    started = time.monotonic()
    checks = [c for c in derive(lab) if kinds is None or c.kind in kinds]
    report = Report(lab=lab.name, variant=lab.variant, passed=False, seconds=0.0,
                    notes=list(lab.deviations))
    runtime.status()  # fails fast, with the runtime's own message, when the lab is not up
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for phase in PHASES:
            batch = [c for c in checks if c.kind in phase]
            if not batch:
                continue
            if console:
                console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] checking "
                              f"{', '.join(k for k in phase if any(c.kind == k for c in batch))}"
                              f" ({len(batch)} checks)")
            report.results += list(pool.map(lambda c: run_check(c, runtime, deadline), batch))
    report.seconds = time.monotonic() - started
    report.passed = bool(report.results) and all(r.passed for r in report.results)
    return report
