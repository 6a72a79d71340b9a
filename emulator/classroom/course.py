"""A class up and down: its copies one after another through ``emulator.lifecycle``.

``up`` refuses, before anything starts, a lab that is not there, copies whose names are
taken and a class that would not fit (``sizing``); then it claims the class's folder, writes
the copies' lab files and the record, keeps the micro-VM up for the class (booting it as big
as the class needs: ``vm_pin.pin`` under the class's own user) and brings the copies up in
order. A copy that fails (or Ctrl-C, SIGTERM) takes down the copies brought up before it,
and the class's folder and VM user: nothing is left, and the error names the copy.
``down`` takes every copy down, a broken one by name (``lifecycle.down`` with ``force``),
then the class; a copy that cannot be cleaned up keeps the record, so that `class down`
can be run again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from emulator import lifecycle
from emulator.classroom import sizing
from emulator.classroom.copies import ClassRecord, DamagedClass, copy_names, index_of
from emulator.errors import LabError, RuntimeFailure
from emulator.model.build import load_lab
from emulator.runtime import appliance
from emulator.runtime.registry import choose, runtime_class
from emulator.runtime.state import LabState, lab_name_of


class ClassWatch(lifecycle.Watch):
    """What `class up` and `class down` tell as they go, besides each copy's own steps (the
    lifecycle's). This one says nothing; the command line subclasses it."""

    def sized(self, text: str) -> None:
        """The class fits: where, and how much memory it needs."""

    def copy_starting(self, index: int, total: int, lab: str) -> None:
        """Copy ``index`` of ``total`` starts coming up."""

    def copy_up(self, lab: str, seconds: float) -> None:
        """A copy is up."""

    def undoing(self, failed: str, copies: list[str]) -> None:
        """``failed`` (a copy, or the step) failed: ``copies`` go down next."""

    def copy_down(self, lab: str, problem: str | None) -> None:
        """A copy is down (or ``problem`` kept it from going down)."""


SILENT = ClassWatch()


@dataclass
class ClassUp:
    record: ClassRecord
    seconds: float


def already_up(lab: str) -> LabError:
    return LabError(f"class {lab} is already up (or was not taken down)",
                    hint=f"mplslab class down {lab} first")


def up(lab: str, trainees: int, variant: str | None = None, *, runtime: str = "auto",
       strict: bool = False, watch: ClassWatch = SILENT) -> ClassUp:
    """Bring up ``trainees`` copies of ``lab``, one after another; all of them or none."""
    if runtime != "auto":
        runtime_class(runtime)
    model = load_lab(lab, variant)
    names = copy_names(model.name, trainees)
    if ClassRecord.exists(model.name):
        raise already_up(model.name)
    taken = [name for name in names if LabState.folder(name).exists()]
    if taken:
        raise LabError(f"lab {taken[0]} is already up, and it is the name of trainee "
                       f"{names.index(taken[0]) + 1}'s copy",
                       hint=f"take it down first: mplslab down {taken[0]}")
    appliance.require_root(f"mplslab class up {model.name}")
    chosen, why = choose(runtime)
    watch.runtime_chosen(chosen, why)
    plan = sizing.plan(chosen, sizing.Size(model.name, len(model.nodes), trainees))
    watch.sized(plan.told)
    from emulator.runtime.vm import VmRuntime
    from emulator.runtime.vm_shared import class_user

    in_vm = issubclass(runtime_class(chosen), VmRuntime)
    record = ClassRecord(lab=model.name, trainees=names, runtime=chosen, source=model.source,
                         variant=model.variant, vm_user=class_user(model.name) if in_vm else None,
                         memory=plan.memory)
    try:
        # Claims the class: of two `class up` at once, the second stops here.
        ClassRecord.folder(model.name).parent.mkdir(parents=True, exist_ok=True)
        ClassRecord.folder(model.name).mkdir()
    except FileExistsError:
        raise already_up(model.name) from None
    started = time.monotonic()
    lifecycle.terminate_on_sigterm()
    brought: list[str] = []
    step = "writing the copies' lab files"
    try:
        record.write_copies()
        record.save()
        check_copies(record)
        if record.vm_user:
            step = "starting the micro-VM"
            start_vm(record, watch, started)
        for index, name in enumerate(names, 1):
            step = f"{name} (trainee {index} of {trainees})"
            watch.copy_starting(index, trainees, name)
            deployed = lifecycle.up(record.files[name], variant, runtime=chosen, strict=strict,
                                    watch=watch)
            brought.append(name)
            watch.copy_up(name, deployed.seconds)
    except BaseException as exc:
        watch.undoing(step, brought)
        undo(record, brought, watch)
        if isinstance(exc, KeyboardInterrupt):
            raise lifecycle.Interrupted from None
        if isinstance(exc, LabError):
            done = ("no copy was up" if not brought
                    else f"{brought[0]}, up before it, was taken down" if len(brought) == 1
                    else f"the {len(brought)} copies up before it were taken down")
            failure = LabError(f"class {model.name}: {step} failed: {exc.message}; {done}, "
                               "nothing is left", hint=exc.hint, where=exc.where)
            failure.exit_code = exc.exit_code  # 1 for a deploy that failed, 2 for bad input
            raise failure from None
        raise
    return ClassUp(record, time.monotonic() - started)


def check_copies(record: ClassRecord) -> None:
    """Each copy's lab file names its copy (a variant that renames the lab would not)."""
    for name in record.trainees:
        model = load_lab(record.files[name], record.variant)
        if model.name != name:
            raise LabError(f"the copy {name} of {record.lab} is named {model.name} once "
                           f"loaded (variant {record.variant})",
                           hint="a class copies a lab whose variants keep its name")


def start_vm(record: ClassRecord, watch: ClassWatch, started: float) -> None:
    """Keep the shared micro-VM up for the class, booting it (with the class's memory) if
    none runs."""
    from emulator.runtime import vm_pin

    assert record.vm_user is not None
    with watch.starting_vm():
        vm_pin.pin(lambda text: watch.step(time.monotonic() - started, text),
                   user=record.vm_user, memory=record.memory)


def undo(record: ClassRecord, brought: list[str], watch: ClassWatch) -> None:
    """A failed `class up`: the copies it brought up go down, then the class."""
    for name in reversed(brought):
        watch.copy_down(name, take_down(name, watch))
    release_vm(record)
    record.remove()


def take_down(name: str, watch: lifecycle.Watch) -> str | None:
    """One copy down, whatever state it is in; what kept it from going down, or None."""
    try:
        lifecycle.down(name, force=not LabState.folder(name).exists(), watch=watch)
        return None
    except LabError as exc:
        first = exc.message
    try:  # as `mplslab down --force`: by name, every runtime
        lifecycle.down(name, force=True, watch=watch)
        return None
    except LabError as exc:
        return f"{first}; by name: {exc.message}"


def release_vm(record: ClassRecord) -> None:
    """The class no longer keeps the micro-VM up: it powers off unless others use it."""
    if record.vm_user:
        from emulator.runtime import vm_pin

        vm_pin.unpin(record.vm_user)


@dataclass
class ClassDown:
    lab: str
    copies: list[str]
    problems: dict[str, str] = field(default_factory=dict)


def down(lab: str, *, watch: ClassWatch = SILENT) -> ClassDown:
    """Take every copy of the class down, even broken ones, then the class itself. A copy
    that cannot be cleaned up is a RuntimeFailure naming it, and keeps the class's record."""
    name = lab_name_of(lab)
    try:
        record = ClassRecord.load(name)
    except DamagedClass:
        record = found_by_name(name)
    result = ClassDown(name, list(record.trainees))
    for copy in record.trainees:
        problem = take_down(copy, watch)
        if problem:
            result.problems[copy] = problem
        watch.copy_down(copy, problem)
    if result.problems:
        failed = ", ".join(f"{copy}: {text}" for copy, text in result.problems.items())
        raise RuntimeFailure(f"class {name}: {len(result.problems)} copies could not be taken "
                             f"down ({failed})",
                             hint=f"mplslab class down {name} again, or mplslab down --force "
                                  "COPY")
    release_vm(record)
    record.remove()
    return result


def found_by_name(lab: str) -> ClassRecord:
    """A class whose record cannot be read: its copies are the labs up under its copies'
    names, and it may keep the micro-VM up."""
    from emulator.runtime.vm_shared import class_user

    copies = sorted((name for name in LabState.names() if index_of(lab, name)),
                    key=lambda name: index_of(lab, name) or 0)
    return ClassRecord(lab=lab, trainees=copies, runtime="?", source="",
                       vm_user=class_user(lab))
