"""The namespace runtime on this host's own kernel (MPLS and VRF modules present)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from emulator.errors import RuntimeFailure
from emulator.runtime.base import ExecResult, Progress, Runtime
from emulator.runtime.netns import NetnsLab, StepFailed, namespace


class LocalNetnsRuntime(Runtime):
    name = "netns"

    @property
    def lab(self) -> NetnsLab:
        return NetnsLab(self.state.lab, Path(self.state.rendered))

    def up(self, progress: Progress) -> None:
        try:
            self.lab.up(log=progress)
        except StepFailed as exc:
            raise RuntimeFailure(str(exc)) from None

    def down(self) -> None:
        self.lab.down()

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        try:
            result = subprocess.run(["ip", "netns", "exec", namespace(self.state.lab, node),
                                     *argv], capture_output=True, text=True, timeout=timeout,
                                    check=False)
        except subprocess.TimeoutExpired:
            return ExecResult(124, "", f"timed out after {timeout:.0f}s")
        return ExecResult(result.returncode, result.stdout, result.stderr)

    def status(self) -> dict:
        return self.lab.status()

    def interactive(self, node: str, argv: list[str]) -> int:
        return subprocess.call(["ip", "netns", "exec", namespace(self.state.lab, node), *argv])
