"""The namespace runtime on this host's own kernel (MPLS and VRF modules present)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from emulator.errors import RuntimeFailure
from emulator.runtime import frr_check
from emulator.runtime.base import ExecResult, Progress, Runtime
from emulator.runtime.capture import ProcessStream, ShellCaptures
from emulator.runtime.netns import (
    NamespaceRouters,
    NetnsLab,
    StepFailed,
    kernel_support,
    router_argv,
)

MIN_FRR = (10, 3)
ZEBRA = Path("/usr/lib/frr/zebra")
BGPD = Path("/usr/lib/frr/bgpd")


def frr_version() -> tuple[int, ...] | None:
    """This host's FRR release, from ``zebra --version`` ("zebra version 10.3"; FRR 10.3's
    vtysh has no --version option)."""
    if not ZEBRA.exists() or shutil.which("vtysh") is None:
        return None
    words = subprocess.run([str(ZEBRA), "--version"], capture_output=True, text=True,
                           check=False).stdout.split()
    number = next((w for w in words if w[:1].isdigit()), "0")
    return tuple(int(p) for p in number.split(".")[:2] if p.isdigit())


def finished(argv: list[str], timeout: float) -> ExecResult:
    """``argv`` run to its end, or 124 (as timeout(1) says) once ``timeout`` has passed."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired:
        return ExecResult(124, "", f"timed out after {timeout:.0f}s")
    return ExecResult(result.returncode, result.stdout, result.stderr)


class LocalNetnsRuntime(NamespaceRouters, ShellCaptures, Runtime):
    name = "netns"
    preference = 10
    inside = staticmethod(router_argv)  # how a program runs in a router (containers: clab.py)

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if os.geteuid() != 0:
            return False, "not root"
        version = frr_version()
        if version is None:
            return False, "FRR is not installed on this host"
        if version < MIN_FRR:
            return False, f"this host's FRR is {'.'.join(map(str, version))}, older than 10.3"
        missing = kernel_support()
        if missing:
            return False, f"this kernel has no {' and no '.join(missing)}"
        return True, "this kernel has MPLS and VRF, FRR >= 10.3 is installed and we are root"

    @classmethod
    def bgpd_verdict(cls, image: str | None) -> tuple[str, frr_check.Verdict]:
        """This host's own bgpd, judged from its bytes (and its FRR version)."""
        path = BGPD
        version = frr_version()
        shown = ".".join(map(str, version)) if version and any(version) else None
        where = f"this host's bgpd ({path}{f', FRR {shown}' if shown else ''})"
        try:
            code = path.read_bytes()
        except OSError as exc:
            return where, frr_check.unreadable(f"it cannot be read ({exc.strerror})")
        return where, frr_check.judge(code, shown)

    @classmethod
    def force_down(cls, lab: str) -> list[str]:
        lab_here = NetnsLab(lab, Path("."))
        found = lab_here.namespaces()
        lab_here.down()
        return [f"namespace {name}" for name in found]

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

    def reset(self, progress: Progress) -> None:
        try:
            self.lab.reset(log=progress)
        except StepFailed as exc:
            raise RuntimeFailure(str(exc)) from None

    def gone(self) -> str | None:
        return None if self.lab.namespaces() else "its namespaces no longer exist"

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        return finished(self.inside(self.state.lab, node, argv), timeout)

    def run_reader(self, script: Path, request: str) -> ExecResult:
        result = subprocess.run([sys.executable, "-S", str(script)], input=request,
                                capture_output=True, text=True, timeout=120, check=False)
        return ExecResult(result.returncode, result.stdout, result.stderr)

    def run_script(self, script: str, timeout: float) -> ExecResult:
        return finished(["sh", "-c", script], timeout)

    def open_stream(self, argv: list[str]) -> ProcessStream:
        return ProcessStream(argv)

    def status(self) -> dict:
        return self.lab.status()

    def interactive(self, node: str, argv: list[str]) -> int:
        return subprocess.call(self.inside(self.state.lab, node, argv))
