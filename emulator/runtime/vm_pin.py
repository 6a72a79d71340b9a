"""`mplslab vm start` and `vm stop`: the shared micro-VM kept up while no lab uses it.

The pin is one more user of the shared VM (vm_shared.PINNED in its users folder), so the
last lab's ``down`` leaves the VM running and the next ``up`` needs no boot. A class
(`mplslab class up`, emulator/classroom/) pins it the same way under a user of its own
(vm_shared.class_user), with the memory its copies need; what the guest has is
``guest_readings``.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.errors import RuntimeFailure
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


def pin(progress: Progress, user: str = PINNED, memory: str | None = None) -> dict:
    """`mplslab vm start`: boot the shared VM (or keep the running one) and keep it up when
    the last lab goes down, so that the next `up` needs no boot. ``user``: who keeps it up
    (`vm start`, or a class); ``memory``: the guest's memory if this boots it (QEMU's words;
    default: vm_boot.vm_memory())."""
    runtime = pinned_runtime()
    runtime.memory = memory
    with shared_lock():
        record = shared_vm()
        if not (vm_alive(record) and runtime.answers(record)):
            if record or owned_pids(owner_tag(SHARED)):
                stop_shared_vm()
            register(user)
            runtime.start_vm(progress)
            record = shared_vm()
        register(user)
    return record


def unpin(user: str = PINNED) -> tuple[list[str], list[int]]:
    """`mplslab vm stop` (or a class going down): drop ``user``'s pin; power the VM off
    unless others still use it. Returns the users left and the processes stopped."""
    with shared_lock():
        unregister(user)
        labs = vm_users()
        if labs:
            return labs, []
        return [], stop_shared_vm()


@dataclass
class GuestReadings:
    """What the running guest says of itself (/proc/meminfo, /proc/loadavg), as
    tests/e2e/guestmon.sh reads them."""

    total_mib: float
    available_mib: float
    load: tuple[float, float, float]

    @property
    def used_mib(self) -> float:
        return self.total_mib - self.available_mib


def parse_readings(meminfo: str, loadavg: str) -> GuestReadings:
    fields = dict(line.split(":", 1) for line in meminfo.splitlines() if ":" in line)
    try:
        kib = {key: int(fields[key].split()[0]) for key in ("MemTotal", "MemAvailable")}
        one, five, fifteen = (float(value) for value in loadavg.split()[:3])
    except (KeyError, IndexError, ValueError):
        raise RuntimeFailure("the micro-VM's /proc/meminfo or /proc/loadavg cannot be read: "
                             f"{(meminfo + loadavg)[:200]!r}") from None
    return GuestReadings(kib["MemTotal"] / 1024, kib["MemAvailable"] / 1024,
                         (one, five, fifteen))


MARK = "--loadavg--"


def guest_readings(record: dict | None = None) -> GuestReadings:
    """The running shared VM's memory and load, read over SSH."""
    runtime = pinned_runtime(record or shared_vm())
    try:
        result = runtime.run(f"cat /proc/meminfo; echo {MARK}; cat /proc/loadavg", timeout=30)
    finally:
        runtime.close()
    if result.returncode != 0 or MARK not in result.stdout:
        raise RuntimeFailure(f"the micro-VM did not tell its memory: {result.stderr.strip()}")
    meminfo, _, loadavg = result.stdout.partition(MARK)
    return parse_readings(meminfo, loadavg)
