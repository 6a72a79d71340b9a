"""The runtimes, by name. Adding one: a module with a ``Runtime`` subclass, listed here.

Modules are imported only when asked for, so that choosing a runtime never loads the
others' dependencies (paramiko for the VM, a Docker client for containerlab).
"""

from __future__ import annotations

import importlib

from emulator.errors import LabError
from emulator.runtime.base import Runtime
from emulator.runtime.state import LabState

RUNTIMES = {
    "netns": "emulator.runtime.local:LocalNetnsRuntime",
    "vm": "emulator.runtime.vm:VmRuntime",
    "clab": "emulator.runtime.clab:ClabRuntime",
    "clab-vm": "emulator.runtime.clab:ClabVmRuntime",
}


def runtime_class(name: str) -> type[Runtime]:
    if name not in RUNTIMES:
        raise LabError(f"unknown runtime {name!r}", hint=f"one of: auto, {', '.join(RUNTIMES)}")
    module, _, attribute = RUNTIMES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def choose(requested: str) -> tuple[str, str]:
    """The runtime to use and why: the one asked for, or the first available by preference."""
    if requested != "auto":
        return runtime_class(requested).resolve_request()
    refusals = []
    for cls in sorted((runtime_class(n) for n in RUNTIMES), key=lambda c: c.preference):
        ok, why = cls.available()
        if ok:
            return cls.name, "; ".join([*refusals, why])
        refusals.append(f"not {cls.name}: {why}")
    raise LabError("no runtime can run routers on this host", hint="; ".join(refusals))


def make_runtime(state: LabState) -> Runtime:
    if state.runtime not in RUNTIMES:
        raise LabError(f"unknown runtime {state.runtime!r} in {LabState.path(state.lab)}",
                       hint=f"clean up by name: mplslab down --force {state.lab}")
    return runtime_class(state.runtime)(state)
