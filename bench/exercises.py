"""Every exercise of every lab, as a trainee meets it: `exercise start`, `exercise check`
(must say "not yet", exit 1), `exercise solution --apply`, `exercise check` (must say
"solved", exit 0). Prints, per exercise, the seconds to "not yet" and to "solved" with both
verdicts, which of the exercise's kinds (`fails`) did fail at the first check, and, per lab,
the seconds of a full verify of the healthy, converged lab: issue 29 wants a check within
1.5 times that, whichever the verdict ("x verify" columns).

    python bench/exercises.py [LAB ...] [--variant V] [--all-variants] [--only NAME ...]
                              [--settle S] [--json FILE]

No LAB: every shipped lab (its default variant; --all-variants: each variant it declares).
Run it with no other lab up; `mplslab vm start` first leaves the VM boot out of `up`.

Each check runs as a trainee would run it, after ``--settle`` seconds (5, as the e2e tests
wait: the routers act on the change, a withdrawal, an OSPF flush). Some symptoms come later
on purpose (a BGP hold time of 30 s: see each exercise's symptom); their first check still
says "not yet" on the kinds that fail at once, and the "kinds failed" column shows which
did. An exercise that is not solved after its solution leaves the lab broken: the lab is
brought down and up again before the next one, and the row says so. Exit status 1 when any
exercise did not go "not yet" then "solved".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emulator.model.loader import read_raw
from emulator.paths import labs_dir

MPLSLAB = [sys.executable, "-m", "emulator"]
CONVERGE = 300  # seconds the first verify of a fresh lab may take (software emulation)


@dataclass
class Row:
    lab: str
    variant: str | None
    exercise: str
    fails: list[str]
    not_yet_s: float | None = None
    not_yet: str = "-"  # what the first check said: "not yet", "solved (wrong)", ...
    kinds_failed: list[str] = field(default_factory=list)
    solved_s: float | None = None
    solved: str = "-"
    recovered: bool = False  # the lab was brought down and up again after it

    @property
    def ok(self) -> bool:
        return self.not_yet == "not yet" and self.solved == "solved"


@dataclass
class Lab:
    lab: str
    variant: str | None
    up_s: float
    verify_s: float | None  # a full verify of the healthy, converged lab
    rows: list[Row] = field(default_factory=list)


def mplslab(*args: str, timeout: float = 1800) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([*MPLSLAB, *args], capture_output=True, text=True, check=False,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    return result, time.monotonic() - started


def verdict(result: subprocess.CompletedProcess) -> str:
    """What `exercise check` said."""
    text = result.stdout
    if result.returncode == 0 and "solved" in text:
        return "solved"
    if result.returncode == 1 and "cannot grade yet" in text:
        return "cannot grade"
    if result.returncode == 1 and "not yet" in text:
        return "not yet"
    return f"exit {result.returncode}"


def failed_kinds(report: Path) -> list[str]:
    try:
        checks = json.loads(report.read_text())["checks"]
    except (OSError, ValueError, KeyError):
        return []
    return sorted({c["kind"] for c in checks if not c["passed"]})


def bring_up(lab: str, variant: str | None) -> float:
    result, seconds = mplslab("up", lab, *(["--variant", variant] if variant else []))
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        raise SystemExit(f"mplslab up {lab} failed")
    return seconds


def healthy_verify(lab: str) -> float | None:
    """The seconds of a full verify of the converged lab (the first one waits for it)."""
    first, _ = mplslab("verify", lab, "--deadline", str(CONVERGE))
    if first.returncode != 0:
        print(first.stdout[-3000:])
        return None
    again, seconds = mplslab("verify", lab)
    return seconds if again.returncode == 0 else None


def run(lab: str, variant: str | None, exercise: dict, settle: float, folder: Path) -> Row:
    row = Row(lab, variant, exercise["name"], exercise["fails"])
    started, _ = mplslab("exercise", "start", lab, row.exercise)
    if started.returncode != 0:
        row.not_yet = f"start: exit {started.returncode}"
        print(started.stdout[-2000:], started.stderr[-2000:], sep="\n")
        return row
    time.sleep(settle)
    report = folder / f"{lab}-{row.exercise}.json"
    check, row.not_yet_s = mplslab("exercise", "check", lab, "--json", str(report))
    row.not_yet = verdict(check)
    row.kinds_failed = failed_kinds(report)
    if row.not_yet == "solved":
        row.not_yet = "solved (wrong)"  # the break did not show: the exercise is over
        return row
    applied, _ = mplslab("exercise", "solution", lab, "--apply")
    if applied.returncode != 0:
        row.solved = f"solution: exit {applied.returncode}"
        print(applied.stdout[-2000:], applied.stderr[-2000:], sep="\n")
        return row
    check, row.solved_s = mplslab("exercise", "check", lab)
    row.solved = verdict(check)
    if row.solved != "solved":
        print(check.stdout[-3000:])
    return row


def variants_of(lab: str) -> list[str | None]:
    raw, _ = read_raw(labs_dir() / f"{lab}.yml")
    return list(raw.get("variants") or {}) or [None]


def bench(lab: str, variant: str | None, only: list[str] | None, settle: float,
          folder: Path) -> Lab:
    print(f"== {lab} ({variant or 'default'})", flush=True)
    figures = Lab(lab, variant, bring_up(lab, variant), None)
    try:
        figures.verify_s = healthy_verify(lab)
        listed, _ = mplslab("exercise", "list", lab, "--json")  # the deployed model's
        for exercise in json.loads(listed.stdout):
            if only and exercise["name"] not in only:
                continue
            row = run(lab, variant, exercise, settle, folder)
            if not row.ok:
                # Whatever state it left, the next exercise starts from a deployed lab.
                mplslab("down", lab)
                bring_up(lab, variant)
                healthy_verify(lab)
                row.recovered = True
            figures.rows.append(row)
            print(line(row, figures.verify_s), flush=True)
    finally:
        mplslab("down", lab)
    return figures


def line(row: Row, verify_s: float | None) -> str:
    show = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    times = lambda v: "-" if v is None or not verify_s else f"{v / verify_s:.1f}"  # noqa: E731
    predicted = ", ".join(k if k in row.kinds_failed else f"{k}(held)" for k in row.fails)
    return (f"  {row.exercise:22s} {show(row.not_yet_s):>5s} {times(row.not_yet_s):>4s} "
            f"{row.not_yet:14s} {show(row.solved_s):>5s} {times(row.solved_s):>4s} "
            f"{row.solved:12s} {'recovered ' if row.recovered else ''}kinds failed: "
            f"{predicted}")


def worst(seconds: list[float | None], verify_s: float | None) -> str:
    """The slowest check, in full verifies of the healthy lab."""
    measured = [s for s in seconds if s is not None]
    return f"{max(measured) / verify_s:.1f}" if measured and verify_s else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*")
    parser.add_argument("--variant")
    parser.add_argument("--all-variants", action="store_true")
    parser.add_argument("--only", nargs="*", help="these exercises only")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="every figure, as JSON")
    args = parser.parse_args()
    labs = args.labs or sorted(p.stem for p in labs_dir().glob("*.yml"))
    folder = Path(tempfile.mkdtemp(prefix="mplslab-exercises-"))
    results = []
    print(f"  {'exercise':22s} {'s':>5s} {'x':>4s} {'first check':14s} {'s':>5s} {'x':>4s} "
          "after fix     (x: times a full verify of the healthy lab)")
    for lab in labs:
        for variant in variants_of(lab) if args.all_variants else [args.variant]:
            results.append(bench(lab, variant, args.only, args.settle, folder))
    print()
    print(f"{'lab':10s} {'variant':16s} {'verify s':>8s} {'exercises':>9s} {'ok':>3s} "
          f"{'max not-yet x':>13s} {'max solved x':>12s}")
    for figures in results:
        print(f"{figures.lab:10s} {figures.variant or 'default':16s} "
              f"{'-' if figures.verify_s is None else round(figures.verify_s):>8} "
              f"{len(figures.rows):9d} {sum(r.ok for r in figures.rows):3d} "
              f"{worst([r.not_yet_s for r in figures.rows], figures.verify_s):>13s} "
              f"{worst([r.solved_s for r in figures.rows], figures.verify_s):>12s}")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(f), "rows": [asdict(r) for r in f.rows]}
                                         for f in results], indent=2) + "\n")
    if not all(r.ok for f in results for r in f.rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
