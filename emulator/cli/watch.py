"""The lifecycle's steps (`emulator.lifecycle.Watch`) as `up`, `reset`, `down` and `vm
start` print them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.markup import escape

from emulator import lifecycle
from emulator.cli.console import err, out

if TYPE_CHECKING:
    from rich.status import Status


class Shown(lifecycle.Watch):
    """The lifecycle's steps on the terminal: a spinner with the step under way, and each
    step on a line of its own with the seconds since the start."""

    def __init__(self) -> None:
        self.status: Status | None = None
        self.prefix = ""

    def runtime_chosen(self, runtime: str, why: str) -> None:
        out.print(f"runtime: [bold]{runtime}[/] ({escape(why)})")

    @contextmanager
    def deploying(self, lab: str) -> Iterator[None]:
        with out.status(f"bringing {lab} up") as self.status:
            self.prefix = f"{lab}: "
            yield

    @contextmanager
    def resetting(self, lab: str) -> Iterator[None]:
        with out.status(f"resetting {lab}") as self.status:
            self.prefix = f"{lab}: "
            yield

    @contextmanager
    def starting_vm(self) -> Iterator[None]:
        with out.status("starting the micro-VM") as self.status:
            yield

    def step(self, seconds: float, text: str) -> None:
        if self.status is not None:
            self.status.update(self.prefix + escape(text))
        out.print(f"  [dim]{seconds:6.1f}s[/] {escape(text)}")

    def warning(self, text: str) -> None:
        err.print(f"[bold yellow]warning:[/] {escape(text)}", soft_wrap=True)

    def failed(self, lab: str) -> None:
        err.print(f"[yellow]{lab}: bring-up failed, tearing down what was created[/]")

    def cleaning_up_by_name(self, why: str) -> None:
        err.print(f"[yellow]{escape(why)}: cleaning up by name[/]")

    def no_state_folder(self, lab: str) -> None:
        err.print(f"no state folder for lab {lab}; looking for what it left")
