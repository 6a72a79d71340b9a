"""The arguments and options several commands share, so that each reads and helps the same."""

from __future__ import annotations

from typing import Annotated

import typer

from emulator.errors import LabError

LabArg = Annotated[str, typer.Argument(help="a lab name from `mplslab list`, or a YAML path")]
RunningLabArg = Annotated[str, typer.Argument(help="a running lab")]
VariantOpt = Annotated[str | None, typer.Option("--variant", "-V",
                                                help="lab variant (default: the lab's first)")]
JsonOpt = Annotated[bool, typer.Option("--json")]


def refuse_unknown_kinds(kinds: list[str] | None) -> None:
    """A `--kind` that names no check kind is refused before anything runs."""
    from emulator.verify.checks import KINDS

    unknown = [k for k in kinds or [] if k not in KINDS]
    if unknown:
        raise LabError(f"unknown check kind '{unknown[0]}'", hint=f"one of: {', '.join(KINDS)}")
