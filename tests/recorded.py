"""Routers that only record what they are asked to run and answer as they are told: the
unit tests deploy a lab on them (tests/unit/conftest.py, `deploy`) to run the commands on a
running lab (exec, capture, save, diff) and their completions without a router."""

from __future__ import annotations

from typing import ClassVar

from emulator.runtime.base import ExecResult, Runtime
from emulator.runtime.netns import NamespaceRouters


class Recorded(NamespaceRouters, Runtime):
    """Routers that answer ``answers[(node, argv[0])]`` (else exit 0, no output) and record
    every program run inside them, as the namespace runtime would run it."""

    name = "netns"
    ran: ClassVar[list[tuple[str, list[str]]]] = []
    answers: ClassVar[dict] = {}

    @classmethod
    def available(cls):
        return True, "a fake"

    @classmethod
    def force_down(cls, lab):
        return []

    def up(self, progress):
        pass

    def down(self):
        pass

    def reset(self, progress):
        pass

    def gone(self):
        return None

    def exec(self, node, argv, timeout=60.0):
        self.ran.append((node, argv))
        return self.answers.get((node, argv[0]), ExecResult(0, "", ""))

    def interactive(self, node, argv):
        raise AssertionError("no terminal here")

    def capture(self, taps, node, argv, **kwargs):
        raise AssertionError("no capture here")

    # What a recording writes and says, and its exit status.
    recording: ClassVar[tuple[list[bytes], list[str], int | None]] = ([], [], 0)
    recorded: ClassVar[list[tuple]] = []

    def record(self, node, interface, write, *, count=None, bpf=None, said=print):
        self.recorded.append((node, interface, count, bpf))
        pieces, lines, status = self.recording
        for line in lines:
            said(line)
        for piece in pieces:
            write(piece)
        return status

    def status(self):
        return {"routers": {}}
