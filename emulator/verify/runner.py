"""Running checks: phase by phase. A phase runs in rounds: every check still open is probed
once (in parallel, from shared readings), those that hold are done, the rest are probed again
in the next round, until all hold or the deadline passes. A phase that does not converge
therefore costs one deadline, however many of its checks fail."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from emulator.model.topology import Lab
from emulator.runtime.base import ExecResult, Runtime
from emulator.verify.checks import PHASES, Check, ProbeError, Report, Result
from emulator.verify.expectations import derive

RETRY_PAUSE = 2.0
WORKERS = 4


class SharedReadings:
    """Checks ask the same routers the same questions (`show mpls table`, the VPNv4 table):
    within one round of a phase each question is put to a router once, and its answer serves
    every check of that round. The runner starts every round with a clean slate
    (``new_round``), so a retried check always reads afresh. Under software emulation every
    vtysh call costs about half a second; the answers are the same as asking each time."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.answers: dict[tuple, ExecResult] = {}
        self.locks: dict[tuple, threading.Lock] = {}
        self.guard = threading.Lock()

    def new_round(self) -> None:
        with self.guard:
            self.answers.clear()

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    @staticmethod
    def is_reading(argv: list[str]) -> bool:
        if argv[:1] == ["vtysh"]:
            commands = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-c"]
            return bool(commands) and all(c.startswith("show ") for c in commands)
        return argv[:2] == ["ip", "-j"] and "show" in argv

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        if not self.is_reading(argv):
            return self.runtime.exec(node, argv, timeout=timeout)
        key = (node, tuple(argv))
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key in self.answers:
                return self.answers[key]
            result = self.runtime.exec(node, argv, timeout=timeout)
            self.answers[key] = result
            return result


def probe_once(check: Check, runtime: Runtime) -> tuple[bool, dict]:
    try:
        return check.probe(runtime)
    except ProbeError as exc:
        return False, {"error": str(exc)}


def run_phase(batch: list[Check], runtime: SharedReadings, deadline: float,
              pool: ThreadPoolExecutor) -> list[Result]:
    started = time.monotonic()
    results: dict[int, Result] = {}
    attempts = [0] * len(batch)
    open_checks = list(range(len(batch)))
    while open_checks:
        runtime.new_round()
        outcomes = list(pool.map(lambda i: probe_once(batch[i], runtime), open_checks))
        elapsed = time.monotonic() - started
        still_open = []
        for i, (passed, observed) in zip(open_checks, outcomes, strict=True):
            check = batch[i]
            attempts[i] += 1
            if passed or not check.retry or elapsed + RETRY_PAUSE > deadline:
                results[i] = Result(check.name, check.kind, check.node, passed, check.expected,
                                    observed, elapsed, attempts[i])
            else:
                still_open.append(i)
        open_checks = still_open
        if open_checks:
            time.sleep(RETRY_PAUSE)
    return [results[i] for i in range(len(batch))]


def run_checks(lab: Lab, runtime: Runtime, *, deadline: float = 120.0,
               console: Console | None = None, kinds: set[str] | None = None,
               names: set[str] | None = None) -> Report:
    """Every check of the lab, or those of ``kinds``, or those named in ``names``."""
    started = time.monotonic()
    checks = [c for c in derive(lab) if (kinds is None or c.kind in kinds)
              and (names is None or c.name in names)]
    report = Report(lab=lab.name, variant=lab.variant, passed=False, seconds=0.0,
                    notes=list(lab.deviations))
    runtime.status()  # fails fast, with the runtime's own message, when the lab is not up
    runtime = SharedReadings(runtime)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for phase in PHASES:
            batch = [c for c in checks if c.kind in phase]
            if not batch:
                continue
            if console:
                console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] checking "
                              f"{', '.join(k for k in phase if any(c.kind == k for c in batch))}"
                              f" ({len(batch)} checks)")
            report.results += run_phase(batch, runtime, deadline, pool)
    report.seconds = time.monotonic() - started
    report.passed = bool(report.results) and all(r.passed for r in report.results)
    return report
