"""Reports: a terminal table grouped by kind, JSON, and JUnit XML for CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emulator.verify.checks import KINDS, Report


def short(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(short(v) for v in value) + "]"
    return str(value)


def print_report(report: Report, console: Console, failures_only: bool = False) -> None:
    """The table of every check (unless ``failures_only``), each failure's expected and
    observed values, and the verdict."""
    if not failures_only:
        print_table(report, console)
    for result in report.results:
        if not result.passed:
            console.print(f"[bold red]FAIL[/] {escape(f'[{result.kind}]')} {escape(result.name)}")
            console.print(f"    expected: {escape(short(result.expected))}", highlight=False)
            console.print(f"    observed: {escape(short(result.observed))}", highlight=False)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    failed = sum(not r.passed for r in report.results)
    verdict = "[bold green]PASSED[/]" if report.passed else f"[bold red]FAILED[/] ({failed} failed)"
    console.print(f"{verdict}: {len(report.results)} checks in {report.seconds:.1f}s")


def print_table(report: Report, console: Console) -> None:
    table = Table(title=f"{report.lab}" + (f" ({report.variant})" if report.variant else ""),
                  title_justify="left")
    table.add_column("kind")
    table.add_column("check")
    table.add_column("result")
    table.add_column("s", justify="right")
    for kind in KINDS:
        results = [r for r in report.results if r.kind == kind]
        for index, result in enumerate(results):
            table.add_row(kind if index == 0 else "", result.name,
                          "[green]PASS[/]" if result.passed else "[bold red]FAIL[/]",
                          f"{result.seconds:.1f}", end_section=index == len(results) - 1)
    console.print(table)


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")


def write_junit(report: Report, path: Path) -> None:
    ElementTree.ElementTree(junit_suite(report)).write(path, encoding="unicode",
                                                       xml_declaration=True)


def junit_suite(report: Report) -> ElementTree.Element:
    """The report as one JUnit test suite (`mplslab.<lab>`), a test case per check."""
    suite = ElementTree.Element(
        "testsuite", name=f"mplslab.{report.lab}", tests=str(len(report.results)),
        failures=str(sum(not r.passed for r in report.results)), time=f"{report.seconds:.2f}")
    for result in report.results:
        case = ElementTree.SubElement(suite, "testcase", classname=f"{report.lab}.{result.kind}",
                                      name=result.name, time=f"{result.seconds:.2f}")
        if not result.passed:
            failure = ElementTree.SubElement(case, "failure", message="expected != observed")
            failure.text = (f"expected: {json.dumps(result.expected, default=str)}\n"
                            f"observed: {json.dumps(result.observed, default=str)}")
    return suite
