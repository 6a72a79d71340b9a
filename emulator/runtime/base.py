"""What every runtime offers: where routers live, how a command or a capture runs in them.

A runtime module subclasses ``Runtime`` and is listed in ``registry.py``; nothing outside
``emulator/runtime`` knows how a runtime names or reaches its routers.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from emulator.runtime.state import LabState

Progress = Callable[[str], None]


@dataclass
class ExecResult:
    returncode: int
    stdout: str
    stderr: str


class CaptureFailed(Exception):
    """A capture returned less than asked for (a tcpdump that never started, say)."""


@dataclass(frozen=True)
class Tap:
    """A packet capture on one router's interface, packets it sends."""

    node: str
    interface: str


class Runtime(ABC):
    name: ClassVar[str]
    # What `mplslab up --runtime auto` prefers first (lower first).
    preference: ClassVar[int] = 100

    def __init__(self, state: LabState):
        self.state = state

    @classmethod
    @abstractmethod
    def available(cls) -> tuple[bool, str]:
        """Whether routers can run this way on this host, and why (not)."""

    @classmethod
    @abstractmethod
    def force_down(cls, lab: str) -> list[str]:
        """Remove whatever this runtime holds of ``lab``, found by name alone (the state file
        may be gone or damaged); return what was removed."""

    @abstractmethod
    def up(self, progress: Progress) -> None: ...

    @abstractmethod
    def down(self) -> None: ...

    @abstractmethod
    def gone(self) -> str | None:
        """None while the lab's routers exist; otherwise why they do not (quickly)."""

    @abstractmethod
    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        """Run a program inside a router. ``vtysh`` reaches that router's FRR."""

    @abstractmethod
    def capture(self, taps: list[Tap], node: str, argv: list[str], *, packets: int = 40,
                bpf: str = "icmp or mpls") -> list[str]:
        """Start a capture on every tap, run ``argv`` on ``node`` once all listen, and return
        each tap's decoded packets (tcpdump -nn lines), in the order of ``taps``."""

    @abstractmethod
    def status(self) -> dict: ...

    def interactive(self, node: str, argv: list[str]) -> int:
        """An interactive command (vtysh) on a router, attached to this terminal."""
        raise NotImplementedError


def quote(argv: list[str]) -> str:
    return shlex.join(argv)
