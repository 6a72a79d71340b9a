"""The two consoles every command prints on, and the error handling they share: a LabError
is one message and its exit code, anything else one line naming a bug."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from emulator.errors import LabError

# No emoji codes: an RD such as 1:100 before a prefix would print as one (":100:").
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)


def fail(exc: LabError) -> None:
    # User text (names, paths, YAML values) is never read as rich markup or :emoji: codes.
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True,
              emoji=False)
    raise typer.Exit(exc.exit_code)


def handle_errors(func):
    """Every LabError becomes one message and its exit code; never a traceback. Anything
    else is a bug: one line saying so (MPLSLAB_DEBUG=1 shows the traceback), exit 70."""
    import functools
    import os

    import click

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            fail(exc)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("MPLSLAB_DEBUG"):
                raise
            err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: "
                      f"{escape(str(exc)[:300])} (a bug in mplslab: please report it with "
                      "the lab file; MPLSLAB_DEBUG=1 shows the traceback)",
                      highlight=False, soft_wrap=True, emoji=False)
            raise typer.Exit(70) from None
    return wrapper
