"""Record what a live lab's routers answer to every question `mplslab verify` asks, as the
fixtures of the probe unit tests (tests/unit/fixtures/<lab>.json).

    mplslab up option3 && python scripts/record_fixtures.py option3 && mplslab down option3

The lab must be up and converged (the recording is taken from a passing verify run: the
script refuses to write fixtures from a failing one). Each answer is stored under the router
and the exact command; tests/unit/test_probes.py replays them through a stand-in runtime,
and alters them to show that each check fails when the router says something else.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from emulator.runtime.base import ExecResult, Runtime, Tap
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
from emulator.suites import question_argv
from emulator.suites.contract import Question
from emulator.verify import runner
from emulator.verify.runner import run_checks

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "unit" / "fixtures"


def exec_key(node: str, argv: list[str]) -> str:
    return json.dumps([node, *argv])


def capture_key(taps: list[Tap], node: str, argv: list[str]) -> str:
    return json.dumps([node, *argv, "taps", *[f"{t.node}:{t.interface}" for t in taps]])


class Recorder:
    """Passes every call on to the real runtime and keeps the last answer to each; a
    volatile question's answers (a counter read before and after an act) are kept in
    order, as a series."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.answers: dict[str, dict] = {}
        self.series: dict[str, list[dict]] = {}
        self.captures: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        result = self.runtime.exec(node, argv, timeout=timeout)
        with self.lock:
            self.answers[exec_key(node, argv)] = {"returncode": result.returncode,
                                                  "stdout": result.stdout,
                                                  "stderr": result.stderr}
        return result

    def ask(self, node: str, question: Question) -> ExecResult:
        if not question.volatile:
            return self.read_many({node: [question]})[node][0]
        result = self.runtime.ask(node, question)
        with self.lock:
            self.series.setdefault(exec_key(node, question_argv(question)), []).append(
                {"returncode": result.returncode, "stdout": result.stdout,
                 "stderr": result.stderr})
        return result

    def read_many(self, questions: dict[str, list[Question]]) -> dict[str, list[ExecResult]]:
        answers = self.runtime.read_many(questions)
        with self.lock:
            for node, asked in questions.items():
                for question, result in zip(asked, answers[node], strict=True):
                    # Kept under the command a router would run: the fixtures stay readable.
                    self.answers[exec_key(node, question_argv(question))] = {
                        "returncode": result.returncode, "stdout": result.stdout,
                        "stderr": result.stderr}
        return answers

    def capture(self, taps, node, argv, **kwargs):
        sections = self.runtime.capture(taps, node, argv, **kwargs)
        with self.lock:
            self.captures[capture_key(taps, node, argv)] = sections
        return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lab")
    args = parser.parse_args()
    from emulator.lifecycle import deployed_model

    state = LabState.load(args.lab)
    model = deployed_model(state)
    recorder = Recorder(make_runtime(state))
    # Checks that act run one at a time: a volatile series is then replayed in the order
    # it was recorded (tests/unit/test_probes.py replays with one worker too).
    runner.WORKERS = 1
    report = run_checks(model, recorder, deadline=180)
    if not report.passed:
        failed = [r.name for r in report.results if not r.passed]
        sys.exit(f"verify failed ({len(failed)} checks, e.g. {failed[:3]}): no fixtures written")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    path = FIXTURES / f"{model.name}.json"
    path.write_text(json.dumps({"lab": model.name, "variant": model.variant,
                                "model": json.loads(model.model_dump_json()),
                                "exec": recorder.answers, "series": recorder.series,
                                "capture": recorder.captures},
                               indent=1, sort_keys=True) + "\n")
    print(f"{path}: {len(recorder.answers)} answers, {len(recorder.captures)} captures "
          f"from {len(report.results)} passing checks")


if __name__ == "__main__":
    main()
