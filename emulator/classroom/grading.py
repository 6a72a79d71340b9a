"""`mplslab class check`: every trainee's copy verified, one after another (under software
emulation two verifies at once only share the same two cores), each as `mplslab verify`
would; a copy that is not running is a row that says why, never the end of the check.
The reports: one JSON document with a section per trainee (each its `verify --json`
report), and one JUnit file with a test suite per trainee (each its `verify --junit` suite).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulator import lifecycle
from emulator.classroom.copies import ClassRecord, index_of
from emulator.errors import LabError
from emulator.runtime.state import LabState, lab_name_of
from emulator.training.exercises import EXERCISE_FILE
from emulator.verify.checks import Report
from emulator.verify.report import junit_suite

PASSED, FAILED, NOT_RUNNING = "passed", "FAILED", "not running"


@dataclass
class TraineeResult:
    """One trainee's copy: its verify report, or why it could not be verified."""

    trainee: int
    lab: str
    report: Report | None
    problem: str | None = None
    exercise: str | None = None

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed

    @property
    def verdict(self) -> str:
        return NOT_RUNNING if self.report is None else PASSED if self.passed else FAILED

    @property
    def checks_passed(self) -> int:
        return sum(r.passed for r in self.report.results) if self.report else 0

    @property
    def checks_failed(self) -> int:
        return sum(not r.passed for r in self.report.results) if self.report else 0

    def as_dict(self) -> dict:
        return {"trainee": self.trainee, "lab": self.lab, "verdict": self.verdict,
                "passed": self.passed, "checks_passed": self.checks_passed,
                "checks_failed": self.checks_failed, "exercise": self.exercise,
                "problem": self.problem,
                "report": self.report.as_dict() if self.report else None}


@dataclass
class ClassReport:
    lab: str
    variant: str | None
    runtime: str
    trainees: list[TraineeResult]
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.trainees) and all(t.passed for t in self.trainees)

    def as_dict(self) -> dict:
        return {"class": self.lab, "variant": self.variant, "runtime": self.runtime,
                "passed": self.passed, "seconds": round(self.seconds, 2),
                "trainees": [t.as_dict() for t in self.trainees]}


def running_exercise(lab: str) -> str | None:
    """The exercise running on a copy (`mplslab exercise start`), if any."""
    try:
        data = json.loads((LabState.folder(lab) / EXERCISE_FILE).read_text())
        return str(data["name"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return "? (its record cannot be read)"


Progress = Callable[[int, int, str], None]


def check(lab: str, *, deadline: float = 120.0, kinds: set[str] | None = None,
          progress: Progress | None = None) -> ClassReport:
    """Verify every copy of the class, in trainee order."""
    from emulator.verify.runner import run_checks

    record = ClassRecord.load(lab_name_of(lab))
    started = time.monotonic()
    results = []
    for position, name in enumerate(record.trainees, 1):
        if progress:
            progress(position, len(record.trainees), name)
        trainee = index_of(record.lab, name) or position
        exercise = running_exercise(name)
        try:
            state, runtime = lifecycle.live_runtime(name)
            try:
                model = lifecycle.deployed_model(state)
                report = run_checks(model, runtime, deadline=deadline, kinds=kinds)
            finally:
                close = getattr(runtime, "close", None)  # the VM runtime's SSH connection
                if close:
                    close()
        except LabError as exc:
            problem = str(exc)
            if not LabState.folder(name).exists():  # taken down by hand
                problem = (f"lab {name} is not up (bring it back: mplslab up "
                           f"{record.files.get(name, name)})")
            results.append(TraineeResult(trainee, name, None, problem=problem,
                                         exercise=exercise))
            continue
        results.append(TraineeResult(trainee, name, report, exercise=exercise))
    return ClassReport(record.lab, record.variant, record.runtime, results,
                       time.monotonic() - started)


def write_json(report: ClassReport, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")


def write_junit(report: ClassReport, path: Path) -> None:
    """One test suite per trainee: its verify's, or one test case that says why its copy
    could not be verified."""
    suites = ElementTree.Element(
        "testsuites", name=f"mplslab.class.{report.lab}",
        tests=str(sum(len(t.report.results) if t.report else 1 for t in report.trainees)),
        failures=str(sum(t.checks_failed for t in report.trainees)),
        errors=str(sum(t.report is None for t in report.trainees)),
        time=f"{report.seconds:.2f}")
    for trainee in report.trainees:
        if trainee.report is not None:
            suites.append(junit_suite(trainee.report))
            continue
        suite = ElementTree.SubElement(suites, "testsuite", name=f"mplslab.{trainee.lab}",
                                       tests="1", failures="0", errors="1", time="0.00")
        case = ElementTree.SubElement(suite, "testcase", classname=f"{trainee.lab}.running",
                                      name=f"{trainee.lab} is running", time="0.00")
        error = ElementTree.SubElement(case, "error", message=NOT_RUNNING)
        error.text = trainee.problem or ""
    ElementTree.ElementTree(suites).write(path, encoding="unicode", xml_declaration=True)
