"""`mplslab vm start` and `vm stop`: the shared micro-VM kept up while no lab uses it.

The pin is one more user of the shared VM (vm_shared.PINNED in its users folder), so the
last lab's ``down`` leaves the VM running and the next ``up`` needs no boot.
"""

from __future__ import annotations

from emulator.runtime.base import Progress
from emulator.runtime.state import LabState
from emulator.runtime.vm import VmRuntime
from emulator.runtime.vm_processes import owned_pids, owner_tag
from emulator.runtime.vm_shared import (
    PINNED,
    SHARED,
    register,
    shared_lock,
    shared_vm,
    stop_shared_vm,
    unregister,
    vm_alive,
    vm_users,
)


def pinned_runtime(record: dict | None = None) -> VmRuntime:
    """A runtime for the VM itself (`mplslab vm ...`), not for a lab."""
    return VmRuntime(LabState(lab=PINNED, variant=None, runtime=VmRuntime.name, rendered="",
                              source="", vm=record or {}))


def pinned() -> bool:
    return PINNED in vm_users()


def pin(progress: Progress) -> dict:
    """`mplslab vm start`: boot the shared VM (or keep the running one) and keep it up when
    the last lab goes down, so that the next `up` needs no boot."""
    runtime = pinned_runtime()
    with shared_lock():
        record = shared_vm()
        if not (vm_alive(record) and runtime.answers(record)):
            if record or owned_pids(owner_tag(SHARED)):
                stop_shared_vm()
            register(PINNED)
            runtime.start_vm(progress)
            record = shared_vm()
        register(PINNED)
    return record


def unpin() -> tuple[list[str], list[int]]:
    """`mplslab vm stop`: drop the pin; power the VM off unless labs still use it. Returns
    the labs still using it and the processes stopped."""
    with shared_lock():
        unregister(PINNED)
        labs = vm_users()
        if labs:
            return labs, []
        return [], stop_shared_vm()
