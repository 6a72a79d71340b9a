"""Running checks: phase by phase. A phase runs in rounds: every check still open is probed
once (in parallel, from shared readings), those that hold are done, the rest are probed again
in the next round, until all hold or the deadline passes. A phase that does not converge
therefore costs one deadline, however many of its checks fail."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from emulator.errors import RuntimeFailure
from emulator.model.topology import Lab
from emulator.runtime.base import ExecResult, Runtime
from emulator.suites.contract import Question
from emulator.verify.checks import PHASES, Check, ProbeError, Report, Result
from emulator.verify.families import derive

RETRY_PAUSE = 2.0
# Probes that act (pings, captures) mostly wait on the network: more of them at once than
# there are cores (each is one SSH channel), but not all of a lab's at once: 16 side by side
# were followed by a guest that stopped answering (issue 13) in a CI run. The longest acts,
# captures, start first (``probe_round``).
WORKERS = 8


class NeedReading(Exception):
    """A probe asked questions whose answers have not been fetched yet."""

    def __init__(self, node: str, *questions: Question):
        self.node, self.questions = node, questions


class Unbatchable(Exception):
    """A probe wants to act on the routers (a ping, a capture): it runs on its own."""

    def __init__(self, act: str = ""):
        super().__init__(act)
        self.act = act  # the runtime's method it called ("exec", "capture", ...)


class SharedReadings:
    """Checks ask the same routers the same questions (`show mpls table`, the VPNv4 table):
    within one round of a phase each question is put to a router once, and its answer serves
    every check of that round. The runner starts every round with a clean slate
    (``new_round``), so a retried check always reads afresh.

    Answers are fetched in bulk: the runner first lets every probe of the round run against
    ``Collecting`` (which answers from what was fetched and otherwise records the question),
    then ``fetch`` puts all the recorded questions at once (FRR's straight to the daemons'
    sockets, in one process for every router); probes that needed an answer to know their
    next question go round again. Under software emulation a vtysh call costs about a
    second, a question on a socket milliseconds; the answers are the same. A ``Question`` is
    a reading by definition; anything else a probe does (``exec``, ``capture``) acts on the
    routers and is never shared."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.answers: dict[tuple[str, Question], ExecResult] = {}
        self.locks: dict[tuple[str, Question], threading.Lock] = {}
        self.guard = threading.Lock()
        # What each check (by ``Check.asks_like``) asked the last time it was probed: asked
        # again all at once before its next probe (``remembered``).
        self.asked: dict[str, set[tuple[str, Question]]] = {}

    def new_round(self) -> None:
        with self.guard:
            self.answers.clear()

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def ask(self, node: str, question: Question) -> ExecResult:
        if question.volatile:
            return self.runtime.ask(node, question)
        key = (node, question)
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key in self.answers:
                return self.answers[key]
            result = self.runtime.ask(node, question)
            self.answers[key] = result
            return result

    def ask_together(self, node: str, questions: list[Question]) -> list[ExecResult]:
        return [self.ask(node, question) for question in questions]

    def remember(self, check: Check, asked: set[tuple[str, Question]]) -> None:
        self.asked[check.asks_like or check.name] = asked

    def remembered(self, checks: list[Check]) -> dict[str, set[Question]]:
        """The questions ``checks`` asked when last probed (a round starts with no answers):
        a probe that reads router after router (a label chain) asks them one pass at a time
        the first time, and all in the first pass after that."""
        questions: dict[str, set[Question]] = {}
        for check in checks:
            for node, question in self.asked.get(check.asks_like or check.name, ()):
                questions.setdefault(node, set()).add(question)
        return questions

    def fetch(self, questions: dict[str, set[Question]]) -> None:
        """Every router's open questions, asked together (``Runtime.read_many``)."""
        asked = {node: sorted(pending, key=str) for node, pending in questions.items()}
        answers = self.runtime.read_many(asked)
        with self.guard:
            for node, pending in asked.items():
                for question, answer in zip(pending, answers[node], strict=True):
                    self.answers[(node, question)] = answer


class Collecting:
    """The runtime a probe sees while the runner collects its questions: answers already
    fetched, ``NeedReading`` for the others, ``Unbatchable`` for anything else (an act)."""

    def __init__(self, readings: SharedReadings):
        self.readings = readings
        self.asked: set[tuple[str, Question]] = set()  # every reading this probe asked for

    def ask(self, node: str, question: Question) -> ExecResult:
        return self.ask_together(node, [question])[0]

    def ask_together(self, node: str, questions: list[Question]) -> list[ExecResult]:
        """Independent questions: every one not fetched yet is collected in this pass."""
        if any(question.volatile for question in questions):
            raise Unbatchable()
        self.asked.update((node, question) for question in questions)
        missing = [q for q in questions if (node, q) not in self.readings.answers]
        if missing:
            raise NeedReading(node, *missing)
        return [self.readings.answers[(node, q)] for q in questions]

    def __getattr__(self, name):
        raise Unbatchable(name)


# Rounds of collecting and fetching before the probes still asking run one by one (a label
# chain asks router after router: each answer names the next one to ask).
FETCH_PASSES = 8


def probe_once(check: Check, runtime: Runtime) -> tuple[bool, dict]:
    try:
        return check.probe(runtime)
    except ProbeError as exc:
        return False, {"error": str(exc)}


def probe_round(batch: list[Check], indices: list[int], readings: SharedReadings,
                pool: ThreadPoolExecutor) -> list[tuple[bool, dict]]:
    """One probe of each check of ``indices``: readings first, fetched in bulk, then the
    checks that act on the routers, in parallel."""
    outcomes: dict[int, tuple[bool, dict]] = {}
    collecting = {i: Collecting(readings) for i in indices}
    pending, acting = list(indices), []
    acts: dict[int, str] = {}
    # Fetched with the first pass's questions: what the checks asked when last probed.
    remembered = readings.remembered([batch[i] for i in indices])
    for _ in range(FETCH_PASSES):
        questions, remembered = remembered, {}
        asking = []
        for i in pending:
            try:
                outcomes[i] = probe_once(batch[i], collecting[i])
            except NeedReading as need:
                questions.setdefault(need.node, set()).update(need.questions)
                asking.append(i)
                continue
            except Unbatchable as act:
                acting.append(i)
                acts[i] = act.act
            readings.remember(batch[i], collecting[i].asked)
        pending = asking
        if not questions:
            break
        readings.fetch(questions)
    acting += pending
    # A capture (tcpdumps starting on every link of a path, then a ping) outlasts a ping:
    # started first, it does not wait for a worker behind the pings.
    acting.sort(key=lambda i: acts.get(i) != "capture")
    for i, outcome in zip(acting, pool.map(lambda i: probe_once(batch[i], readings), acting),
                          strict=True):
        outcomes[i] = outcome
    return [outcomes[i] for i in indices]


# A probe that gave no verdict (a ping that did not run, a router that did not answer) says
# nothing about the lab: even a check that may not retry a verdict (an isolation ping) asks
# again, up to this many attempts in all, past the deadline if need be.
INCONCLUSIVE_ATTEMPTS = 3


def may_retry(check: Check, observed, attempts: int, elapsed: float, deadline: float) -> bool:
    if isinstance(observed, dict) and "error" in observed and not check.retry:
        return attempts < INCONCLUSIVE_ATTEMPTS
    return check.retry and elapsed + RETRY_PAUSE <= deadline


def run_phase(batch: list[Check], runtime: SharedReadings, deadline: float,
              pool: ThreadPoolExecutor) -> list[Result]:
    started = time.monotonic()
    results: dict[int, Result] = {}
    attempts = [0] * len(batch)
    open_checks = list(range(len(batch)))
    while open_checks:
        runtime.new_round()
        outcomes = probe_round(batch, open_checks, runtime, pool)
        elapsed = time.monotonic() - started
        still_open = []
        for i, (passed, observed) in zip(open_checks, outcomes, strict=True):
            check = batch[i]
            attempts[i] += 1
            if passed or not may_retry(check, observed, attempts[i], elapsed, deadline):
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
               names: set[str] | None = None, budget: float | None = None) -> Report:
    """Every check of the lab, or those of ``kinds``, or those named in ``names``. Each
    phase's checks may retry for ``deadline`` seconds; with ``budget``, all the phases
    together retry for that long at most (a later phase still probes once)."""
    started = time.monotonic()
    if kinds is not None and "label-steady" in kinds:
        kinds = kinds | {"label-chain"}  # its baseline: the labels the chain saw
    if names is not None:
        names = names | {name.removeprefix("still: ") for name in names}
    checks = [c for c in derive(lab) if (kinds is None or c.kind in kinds)
              and (names is None or c.name in names)]
    report = Report(lab=lab.name, variant=lab.variant, passed=False, seconds=0.0,
                    notes=list(lab.deviations))
    reason = runtime.gone()  # fails fast, with the runtime's own message, when it is not up
    if reason:
        raise RuntimeFailure(f"lab {lab.name} is not running: {reason}",
                             hint=f"clean up with: mplslab down {lab.name}")
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
            left = deadline if budget is None else min(
                deadline, max(0.0, budget - (time.monotonic() - started)))
            report.results += run_phase(batch, runtime, left, pool)
    report.seconds = time.monotonic() - started
    report.passed = bool(report.results) and all(r.passed for r in report.results)
    return report
