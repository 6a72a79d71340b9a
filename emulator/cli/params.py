"""The arguments and options several commands share, so that each reads and helps the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emulator.cli import complete
from emulator.errors import LabError

LabArg = Annotated[str, typer.Argument(help="a lab name from `mplslab list`, or a YAML path",
                                        autocompletion=complete.labs)]
RunningLabArg = Annotated[str, typer.Argument(help="a running lab",
                                               autocompletion=complete.running_labs)]
VariantOpt = Annotated[str | None, typer.Option("--variant", "-V",
                                                help="lab variant (default: the lab's first)")]
JsonOpt = Annotated[bool, typer.Option("--json")]
# verify's options (and reset's, which verifies).
JsonReportOpt = Annotated[Path | None, typer.Option("--json", help="JSON report")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="JUnit XML")]
DeadlineOpt = Annotated[float, typer.Option(help="seconds each check may retry")]
KindsOpt = Annotated[list[str] | None, typer.Option(
    "--kind", help="only checks of this kind (repeatable; default: every kind)")]


def refuse_bad_verify_options(kinds: list[str] | None, json_path: Path | None,
                              junit_path: Path | None) -> None:
    """Before anything runs: an unknown check kind, a report that cannot be written."""
    from emulator.paths import check_output_file

    refuse_unknown_kinds(kinds)
    for option, path in (("--json", json_path), ("--junit", junit_path)):
        if path is not None:
            check_output_file(path, option)


def refuse_unknown_kinds(kinds: list[str] | None) -> None:
    """A `--kind` that names no check kind is refused before anything runs."""
    from emulator.verify.checks import KINDS

    unknown = [k for k in kinds or [] if k not in KINDS]
    if unknown:
        raise LabError(f"unknown check kind '{unknown[0]}'", hint=f"one of: {', '.join(KINDS)}")
