"""What every runtime offers, the per-lab state file, and choosing a runtime."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import state_dir

Progress = Callable[[str], None]


@dataclass
class ExecResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class LabState:
    """What a later process needs to reach a running lab."""

    lab: str
    variant: str | None
    runtime: str
    rendered: str
    source: str
    vm: dict = field(default_factory=dict)

    @staticmethod
    def folder(lab: str) -> Path:
        return state_dir() / lab

    @classmethod
    def path(cls, lab: str) -> Path:
        return cls.folder(lab) / "state.json"

    def save(self) -> None:
        self.path(self.lab).parent.mkdir(parents=True, exist_ok=True)
        self.path(self.lab).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, lab: str) -> LabState:
        path = cls.path(lab)
        if not path.is_file():
            raise LabError(f"lab {lab} is not up", hint=f"start it: mplslab up {lab}")
        return cls(**json.loads(path.read_text()))

    @classmethod
    def running(cls) -> list[LabState]:
        if not state_dir().is_dir():
            return []
        return [cls.load(p.parent.name) for p in sorted(state_dir().glob("*/state.json"))]


class Runtime(ABC):
    name: str

    def __init__(self, state: LabState):
        self.state = state

    @abstractmethod
    def up(self, progress: Progress) -> None: ...

    @abstractmethod
    def down(self) -> None: ...

    @abstractmethod
    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult: ...

    @abstractmethod
    def status(self) -> dict: ...

    def vtysh(self, node: str, command: str, daemon: str | None = None,
              timeout: float = 60.0) -> ExecResult:
        """A vtysh command on one router; naming the daemon skips connecting to the rest."""
        argv = ["vtysh", "-N", f"{self.state.lab}_{node}"]
        if daemon:
            argv += ["-d", daemon]
        return self.exec(node, [*argv, "-c", command], timeout=timeout)

    def interactive(self, node: str, argv: list[str]) -> int:
        """An interactive command (vtysh) on a router, attached to this terminal."""
        raise NotImplementedError


def host_can_run_netns() -> tuple[bool, str]:
    """Whether routers can run here without the VM, and why (not)."""
    if os.geteuid() != 0:
        return False, "not root"
    if not Path("/usr/lib/frr/zebra").exists() or shutil.which("vtysh") is None:
        return False, "FRR is not installed on this host"
    version = subprocess.run(["vtysh", "--version"], capture_output=True, text=True,
                             check=False).stdout.split()
    number = next((v for v in version if v[:1].isdigit()), "0")
    if tuple(int(p) for p in number.split(".")[:2] if p.isdigit()) < (10, 3):
        return False, f"this host's FRR is {number}, older than 10.3"
    from emulator.runtime.netns import kernel_support
    missing = kernel_support()
    if missing:
        return False, f"this kernel has no {' and no '.join(missing)}"
    return True, "this kernel has MPLS and VRF, FRR >= 10.3 is installed and we are root"


def choose(requested: str) -> tuple[str, str]:
    if requested in ("netns", "vm"):
        return requested, "asked for"
    ok, why = host_can_run_netns()
    return ("netns", why) if ok else ("vm", f"{why}: routers run in the micro-VM")


def make_runtime(state: LabState) -> Runtime:
    if state.runtime == "netns":
        from emulator.runtime.local import LocalNetnsRuntime
        return LocalNetnsRuntime(state)
    if state.runtime == "vm":
        from emulator.runtime.vm import VmRuntime
        return VmRuntime(state)
    raise LabError(f"unknown runtime {state.runtime!r} in {LabState.path(state.lab)}")


def quote(argv: list[str]) -> str:
    return shlex.join(argv)
