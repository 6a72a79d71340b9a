"""The memory a class needs, and whether it fits: in the running micro-VM, in one `class up`
boots, or on this host (routers as namespaces or containers here).

A router costs about ``ROUTER_MIB`` of the guest's memory: four copies of option3 (48
routers) used 1.6 GiB of a 2 GiB guest, whole guest included, i.e. 34 MiB a router, rounded
up. A VM that `class up` boots gets ``GUEST_BASE_MIB`` (its kernel, init, sshd, the page
cache of FRR's binaries, the verifier's readers) plus the copies, in steps of ``STEP_MIB``,
and never less than the VM's usual memory (``MPLSLAB_VM_MEMORY``, 2G); a running VM must
have the copies' memory free with ``SPARE_MIB`` to spare. Nothing is ever overfilled: a
class that does not fit is refused before anything starts, saying how many trainees would.
``bench/class_capacity.py`` measures the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import LabError

ROUTER_MIB = 40
GUEST_BASE_MIB = 512
SPARE_MIB = 256
STEP_MIB = 256
WHERE = "docs/training.md, \"A class\""


@dataclass(frozen=True)
class Size:
    """A class: ``trainees`` copies of a lab of ``routers`` routers."""

    lab: str
    routers: int
    trainees: int

    @property
    def copy_mib(self) -> int:
        return self.routers * ROUTER_MIB

    @property
    def copies_mib(self) -> int:
        return self.trainees * self.copy_mib

    @property
    def vm_mib(self) -> int:
        """The guest a VM booted for the class needs (before the usual minimum)."""
        return math.ceil((GUEST_BASE_MIB + self.copies_mib) / STEP_MIB) * STEP_MIB

    def fitting(self, free_mib: float) -> int:
        """How many copies fit in ``free_mib``."""
        return max(0, int(free_mib // self.copy_mib))

    def describe(self) -> str:
        return (f"{self.trainees} {'copy' if self.trainees == 1 else 'copies'} of "
                f"{self.lab} ({self.routers} routers each, ~{ROUTER_MIB} MiB a router): "
                f"~{self.copies_mib} MiB")


@dataclass(frozen=True)
class Plan:
    """Where the class goes: ``memory`` is the guest's memory to boot the micro-VM with
    (QEMU's words), None when the copies need no VM booted (one runs, or they run here)."""

    told: str
    memory: str | None = None


def at_most(fit: int) -> str:
    return f"at most {fit} {'copy fits' if fit == 1 else 'copies fit'}"


def in_running_vm(size: Size, total_mib: float, available_mib: float,
                  users: list[str]) -> Plan:
    """The running micro-VM must have the copies' memory free, and some to spare."""
    if available_mib >= size.copies_mib + SPARE_MIB:
        return Plan(f"{size.describe()}; the running micro-VM has {available_mib:.0f} MiB "
                    f"free of {total_mib:.0f} MiB")
    fit = size.fitting(available_mib - SPARE_MIB)
    others = ", ".join(users) or "nothing"
    raise LabError(
        f"the running micro-VM has {available_mib:.0f} MiB free of {total_mib:.0f} MiB: too "
        f"little for {size.describe()} and {SPARE_MIB} MiB to spare ({at_most(fit)} now)",
        hint=f"restart it bigger: take down what uses it ({others}; `mplslab vm status`) and "
             f"`mplslab vm stop`, then `mplslab class up` boots one of {size.vm_mib} MiB "
             f"(or `MPLSLAB_VM_MEMORY={size.vm_mib}M mplslab vm start` first); or fewer "
             "--trainees")


def in_new_vm(size: Size, usual_mib: int, host_available_mib: float) -> Plan:
    """A micro-VM booted for the class: as big as the copies need, at least the usual size,
    and no bigger than this host has memory available."""
    if size.vm_mib > host_available_mib:
        fit = size.fitting(host_available_mib - GUEST_BASE_MIB)
        raise LabError(
            f"{size.describe()} need a micro-VM of {size.vm_mib} MiB; this host has "
            f"{host_available_mib:.0f} MiB available ({at_most(fit)})",
            hint=f"fewer --trainees, or free memory here; a bigger class runs on several "
                 f"machines ({WHERE})")
    memory = max(size.vm_mib, usual_mib)
    return Plan(f"{size.describe()}; booting the micro-VM with {memory} MiB (this host has "
                f"{host_available_mib:.0f} MiB available)", memory=f"{memory}M")


def on_this_host(size: Size, host_available_mib: float) -> Plan:
    """Routers on this host (namespaces, containers): the host must have the memory."""
    if host_available_mib >= size.copies_mib + SPARE_MIB:
        return Plan(f"{size.describe()}; this host has {host_available_mib:.0f} MiB available")
    fit = size.fitting(host_available_mib - SPARE_MIB)
    raise LabError(
        f"this host has {host_available_mib:.0f} MiB available: too little for "
        f"{size.describe()} and {SPARE_MIB} MiB to spare ({at_most(fit)})",
        hint=f"fewer --trainees, or free memory here; a bigger class runs on several machines "
             f"({WHERE})")


def meminfo_mib(text: str, key: str = "MemAvailable") -> float:
    """A field of /proc/meminfo (kB) in MiB."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) / 1024
    raise LabError(f"/proc/meminfo has no {key}", hint="a Linux kernel of 3.14 or later has it")


def host_available_mib() -> float:
    return meminfo_mib(Path("/proc/meminfo").read_text())


def plan(runtime: str, size: Size) -> Plan:
    """Where ``size`` goes with the runtime chosen: the running micro-VM (asked over SSH),
    one booted for it, or this host; a LabError saying why it does not fit."""
    from emulator.runtime.registry import runtime_class
    from emulator.runtime.vm import VmRuntime

    if not issubclass(runtime_class(runtime), VmRuntime):
        return on_this_host(size, host_available_mib())
    from emulator.runtime import vm_boot, vm_pin, vm_shared

    record = vm_shared.shared_vm()
    users = vm_shared.described([u for u in vm_shared.vm_users()
                                 if u != vm_shared.class_user(size.lab)])
    if vm_shared.vm_alive(record):
        if VmRuntime.answers(record):
            readings = vm_pin.guest_readings(record)
            return in_running_vm(size, readings.total_mib, readings.available_mib, users)
        if users:
            raise LabError(f"the running micro-VM (used by {', '.join(users)}) does not "
                           "answer SSH",
                           hint=f"console log: {record.get('console')}; `mplslab status` "
                                "tells whether its labs still run")
    return in_new_vm(size, vm_boot.memory_mib(vm_boot.vm_memory()), host_available_mib())
