"""`mplslab class up|check|down`: a class on one machine, N trainee copies of one lab side by
side (``<lab>-t1`` .. ``<lab>-tN``). `emulator.classroom` does the work; these print it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from emulator import lifecycle
from emulator.classroom import course, grading
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import LabArg, VariantOpt, refuse_unknown_kinds
from emulator.cli.watch import Shown
from emulator.paths import check_output_file
from emulator.runtime.state import lab_name_of

class_app = typer.Typer(no_args_is_help=True,
                        help="A class on one machine: N trainee copies of one lab side by side "
                             "(<lab>-t1 .. <lab>-tN), each driven with the usual commands.")

ClassArg = Annotated[str, typer.Argument(help="the lab the class copies (its name, or its "
                                              "file)")]
SHOWN_FAILURES = 5  # failed checks listed per trainee under the table


class ClassShown(Shown, course.ClassWatch):
    """The class's steps, and each copy's as `mplslab up` and `down` print them."""

    def __init__(self) -> None:
        super().__init__()
        self.runtime_told = False
        self.warned: set[str] = set()

    def runtime_chosen(self, runtime: str, why: str) -> None:
        if not self.runtime_told:  # once for the class, not again per copy
            super().runtime_chosen(runtime, why)
            self.runtime_told = True

    def warning(self, text: str) -> None:
        if text not in self.warned:
            self.warned.add(text)
            super().warning(text)

    def sized(self, text: str) -> None:
        out.print(f"memory: {escape(text)}", highlight=False)

    def copy_starting(self, index: int, total: int, lab: str) -> None:
        out.print(f"[bold]trainee {index}/{total}: {lab}[/]")

    def copy_up(self, lab: str, seconds: float) -> None:
        out.print(f"[green]{lab} is up[/] ({seconds:.1f}s)")

    def undoing(self, failed: str, copies: list[str]) -> None:
        err.print(f"[yellow]{escape(failed)} failed: taking down "
                  f"{', '.join(copies) or 'no copy (none was up)'} and the class[/]")

    def copy_down(self, lab: str, problem: str | None) -> None:
        if problem:
            err.print(f"[red]{lab} could not be taken down: {escape(problem)}[/]")
        else:
            out.print(f"  {lab} is down")


@class_app.command("up")
@handle_errors
def class_up(lab: LabArg,
             trainees: Annotated[int, typer.Option(
                 "--trainees", "-n", min=1, help="how many trainees: one copy of the lab each")],
             variant: VariantOpt = None,
             runtime: Annotated[str, typer.Option(
                 help="auto, netns, vm, clab or clab-vm, as for `mplslab up`")] = "auto",
             strict: Annotated[bool, typer.Option(
                 "--strict", help="as for `mplslab up`: refuse an Option B lab on a bgpd "
                                  "without FRR's label-bind fix")] = False,
             ) -> None:
    """Bring up one copy of LAB per trainee, one after another (LAB-t1 .. LAB-tN), in a
    micro-VM sized for them; if one fails, those already up go down again."""
    try:
        done = course.up(lab, trainees, variant, runtime=runtime, strict=strict,
                         watch=ClassShown())
    except lifecycle.Interrupted:
        err.print("interrupted: nothing is left behind")
        raise typer.Exit(130) from None
    record = done.record
    first = record.trainees[0]
    out.print(f"[green]class {record.lab} is up[/]: {len(record.trainees)} trainees "
              f"({', '.join(record.trainees)}) in {done.seconds:.1f}s, runtime "
              f"{record.runtime}")
    out.print(f"each trainee works on their own copy, e.g. mplslab exec {first} ROUTER, "
              f"mplslab exercise start {first} NAME, mplslab verify {first}\n"
              f"the class: mplslab class check {record.lab}; mplslab class down {record.lab}",
              highlight=False, soft_wrap=True)


@class_app.command("check")
@handle_errors
def class_check(lab: ClassArg,
                json_path: Annotated[Path | None, typer.Option(
                    "--json", help="JSON report: a section per trainee")] = None,
                junit_path: Annotated[Path | None, typer.Option(
                    "--junit", help="JUnit XML: a test suite per trainee")] = None,
                deadline: Annotated[float, typer.Option(
                    help="seconds each check may retry")] = 120,
                kinds: Annotated[list[str] | None, typer.Option(
                    "--kind", help="only checks of this kind (repeatable; default: every "
                                   "kind)")] = None,
                ) -> None:
    """Verify every trainee's copy: one row per trainee (verdict, checks passed and failed,
    the exercise running). Exit 0 when every copy passes, 1 otherwise, 2 when the class is
    not up."""
    refuse_unknown_kinds(kinds)
    for option, path in (("--json", json_path), ("--junit", junit_path)):
        if path is not None:
            check_output_file(path, option)
    name = lab_name_of(lab)
    with out.status(f"verifying class {name}") as status:
        def progress(position: int, total: int, copy: str) -> None:
            status.update(f"verifying {copy} ({position}/{total})")
            out.print(f"[dim]verifying {copy} ({position}/{total})[/]")
        report = grading.check(name, deadline=deadline, kinds=set(kinds) if kinds else None,
                               progress=progress)
    print_class(report)
    if json_path:
        grading.write_json(report, json_path)
    if junit_path:
        grading.write_junit(report, junit_path)
    raise typer.Exit(0 if report.passed else 1)


def print_class(report: grading.ClassReport) -> None:
    table = Table(title=f"class {report.lab}" + (f" ({report.variant})" if report.variant
                                                  else ""), title_justify="left")
    for column in ("trainee", "lab copy", "verdict", "passed", "failed", "exercise", "s"):
        table.add_column(column, justify="right" if column in ("passed", "failed", "s")
                         else "left")
    for trainee in report.trainees:
        colour = {grading.PASSED: "green", grading.FAILED: "bold red"}.get(trainee.verdict,
                                                                            "yellow")
        table.add_row(str(trainee.trainee), trainee.lab,
                      Text(trainee.verdict, style=colour),
                      str(trainee.checks_passed) if trainee.report else "-",
                      str(trainee.checks_failed) if trainee.report else "-",
                      Text(trainee.exercise or "-"),
                      f"{trainee.report.seconds:.0f}" if trainee.report else "-")
    out.print(table)
    for trainee in report.trainees:
        if trainee.report is None:
            out.print(f"[yellow]{trainee.lab}:[/] {escape(trainee.problem or '')}",
                      highlight=False, soft_wrap=True)
            continue
        failed = [r for r in trainee.report.results if not r.passed]
        for result in failed[:SHOWN_FAILURES]:
            out.print(f"[red]{trainee.lab}: FAIL[/] {escape(f'[{result.kind}]')} "
                      f"{escape(result.name)}", highlight=False)
        if failed:
            more = f"{len(failed) - SHOWN_FAILURES} more; " if len(failed) > SHOWN_FAILURES \
                else ""
            out.print(f"  [dim]({more}expected and observed: mplslab verify {trainee.lab})[/]")
    passed = sum(t.passed for t in report.trainees)
    verdict = "[bold green]PASSED[/]" if report.passed else "[bold red]FAILED[/]"
    out.print(f"{verdict}: {passed} of {len(report.trainees)} trainees' copies pass, in "
              f"{report.seconds:.1f}s")


@class_app.command("down")
@handle_errors
def class_down(lab: ClassArg) -> None:
    """Take every copy of the class down, broken ones too (by name), then the class: nothing
    survives (and the micro-VM powers off unless something else uses it)."""
    name = lab_name_of(lab)
    with out.status(f"taking class {name} down"):
        result = course.down(name, watch=ClassShown())
    out.print(f"class {name} is down ({len(result.copies)} copies)")
