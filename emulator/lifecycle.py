"""Bringing a lab up and down, and finding one that is up: the layer between the command line
(``emulator/cli/``) and the runtimes (``emulator/runtime/``).

It chooses the runtime, renders the lab, writes its state, deploys it, and tears down what a
failed or interrupted ``up`` created; ``down`` cleans up by name when the state is damaged or
``--force`` says so. Nothing here prints: an operation tells what it does to a ``Watch`` (the
command line's renders it) and fails with a ``LabError`` (``RuntimeFailure`` from a runtime),
or with ``Interrupted`` once Ctrl-C or SIGTERM stopped it and its cleanup ran.
"""

from __future__ import annotations

import json
import signal
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.model.topology import Lab, LinkEnd
from emulator.render import render_lab
from emulator.runtime import appliance, frr_check
from emulator.runtime.base import Runtime
from emulator.runtime.registry import RUNTIMES, choose, make_runtime, runtime_class
from emulator.runtime.state import DamagedState, LabState, lab_name_of


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped an operation after it undid what it had started."""


class Watch:
    """What the lifecycle operations tell as they go. This one says nothing; the command line
    subclasses it to print (``emulator/cli/``)."""

    def runtime_chosen(self, runtime: str, why: str) -> None:
        """``up`` chose the runtime (before it claims the lab)."""

    def deploying(self, lab: str) -> AbstractContextManager:
        """Around the start of the routers; ``step`` tells its steps."""
        return nullcontext()

    def resetting(self, lab: str) -> AbstractContextManager:
        """Around the reset of a running lab's routers; ``step`` tells its steps."""
        return nullcontext()

    def starting_vm(self) -> AbstractContextManager:
        """Around the start of the shared micro-VM; ``step`` tells its steps."""
        return nullcontext()

    def step(self, seconds: float, text: str) -> None:
        """A step of a deploy or of the micro-VM's start, ``seconds`` after it began."""

    def warning(self, text: str) -> None:
        """``up`` goes on, but the user should know (a bgpd without FRR's label-bind fix)."""

    def failed(self, lab: str) -> None:
        """The bring-up failed or was interrupted: what it created is torn down next."""

    def cleaning_up_by_name(self, why: str) -> None:
        """``down`` cannot read the lab's state (``why``): it cleans up by name instead."""

    def no_state_folder(self, lab: str) -> None:
        """``down --force`` found no state folder: it looks for what the lab left."""


SILENT = Watch()


@dataclass
class Deployed:
    """A lab that ``up`` brought up."""

    model: Lab
    runtime: str
    seconds: float


def terminate_on_sigterm() -> None:
    """SIGTERM (a CI job cancelled, `timeout`) interrupts like Ctrl-C, so that the cleanup of
    an interrupted operation runs."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, raise_interrupt)


def stop_on_interrupt() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop what runs until stopped (a capture), whatever this
    process was started with: a background job of a non-interactive shell (`cmd &` in a
    script, a CI job) inherits SIGINT ignored, and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminate_on_sigterm()


def already_up(lab: str) -> LabError:
    return LabError(f"lab {lab} is already up (or was not taken down)",
                    hint=f"mplslab down {lab} first")


def check_bgpd(model: Lab, runtime: str, image: str | None, *, strict: bool,
               watch: Watch) -> None:
    """A lab whose ASBRs bind labels per next hop (Option B) on a bgpd without the fix for
    FRR's label-bind defect (docs/labs/option2.md, trap 3): a warning, or with ``strict`` a
    refusal. Other labs: nothing is read."""
    nodes = frr_check.binding_nodes(model)
    if not nodes:
        return
    where, verdict = runtime_class(runtime).bgpd_verdict(image)
    if not verdict.lacks_fix:
        return
    text = frr_check.advice(verdict, where, nodes)
    if strict:
        raise LabError(f"refusing to bring {model.name} up (--strict): {text}",
                       hint="leave --strict out to bring it up anyway")
    watch.warning(text)


def up(lab: str, variant: str | None = None, *, runtime: str = "auto", image: str | None = None,
       strict: bool = False, watch: Watch = SILENT) -> Deployed:
    """Deploy a lab: choose the runtime, claim the lab's state folder, render, start and
    configure the routers. A failed or interrupted bring-up tears down what it created.
    ``strict``: refuse an Option B lab on a bgpd without FRR's label-bind fix (check_bgpd)."""
    if runtime != "auto":
        runtime_class(runtime)
    model = load_lab(lab, variant)
    if LabState.folder(model.name).exists():
        raise already_up(model.name)
    appliance.require_root(f"mplslab up {model.name}")
    chosen, why = choose(runtime)
    watch.runtime_chosen(chosen, why)
    if image is not None and chosen != "clab":
        raise LabError(f"--image is for containerlab on this host (--runtime clab); this lab "
                       f"would run on {chosen}",
                       hint="leave --image out (inside the micro-VM the routers use the "
                            "appliance's own FRR and BIRD)")
    # Before the lab is claimed: a refusal leaves nothing behind.
    check_bgpd(model, chosen, image, strict=strict, watch=watch)
    folder = LabState.folder(model.name)
    try:
        # Claims the lab: of two `up` at once, the second stops here and tears nothing down.
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except FileExistsError:
        raise already_up(model.name) from None
    rendered = folder / "rendered"
    state = LabState(lab=model.name, variant=model.variant, runtime=chosen,
                     rendered=str(rendered), source=model.source, image=image)
    started = time.monotonic()
    terminate_on_sigterm()
    instance = make_runtime(state)
    try:
        render_lab(model, rendered)
        state.save()
        with watch.deploying(model.name):
            instance.up(lambda text: watch.step(time.monotonic() - started, text))
    except BaseException as exc:
        watch.failed(model.name)
        try:
            instance.down()
        except LabError as leftover:  # the first failure is the one to report
            watch.warning(f"{model.name} is not torn down whole ({leftover}): "
                          f"`mplslab down {model.name}` again, or with --force")
        else:
            LabState.remove(model.name)
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted from None
        raise
    return Deployed(model, chosen, time.monotonic() - started)


def lab_name(argument: str) -> str:
    """The lab a command-line argument names: a lab name, or a lab file's stem."""
    return lab_name_of(argument)


def down(name: str, *, force: bool = False, watch: Watch = SILENT) -> list[str]:
    """Tear lab ``name`` down completely: routers, namespaces, links, VM, state folder. With
    ``force``, or when its state cannot be read, every runtime cleans up by name; what that
    removed is returned."""
    removed: list[str] = []
    if not force:
        try:
            make_runtime(LabState.load(name)).down()
        except DamagedState as exc:
            watch.cleaning_up_by_name(exc.message)
            force = True
    if force:
        if not LabState.folder(name).exists():
            watch.no_state_folder(name)
        for runtime_name in RUNTIMES:
            removed += runtime_class(runtime_name).force_down(name)
    LabState.remove(name)
    LabState.console(name).unlink(missing_ok=True)
    return removed


def keep_vm_running(*, watch: Watch = SILENT) -> dict:
    """Boot the shared micro-VM (or keep the running one) and keep it up after the last lab
    goes down; its record. A failed or interrupted start undoes what this call pinned."""
    from emulator.runtime import vm_pin

    appliance.require_root("mplslab vm start")
    started = time.monotonic()
    already = True
    terminate_on_sigterm()
    try:
        with watch.starting_vm():
            already = vm_pin.pinned()
            return vm_pin.pin(lambda text: watch.step(time.monotonic() - started, text))
    except BaseException as exc:
        if not already:  # an earlier `vm start` stands
            vm_pin.unpin()
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted from None
        raise


def live_runtime(lab: str) -> tuple[LabState, Runtime]:
    """The runtime of a lab that is up, or a clear error (exit 2) when its routers are gone."""
    name = lab_name_of(lab)
    state = LabState.load(name)
    runtime = make_runtime(state)
    reason = runtime.gone()
    if reason:
        raise LabError(f"lab {name} is not running: {reason}",
                       hint=f"clean up with: mplslab down {name}")
    return state, runtime


def live_router(lab: str, node: str) -> tuple[LabState, Runtime]:
    """The runtime of a lab that is up and has router ``node``, or a clear error."""
    state, runtime = live_runtime(lab)
    description = Path(state.rendered) / "lab.json"
    try:
        nodes = json.loads(description.read_text())["nodes"]
    except (OSError, ValueError, KeyError):
        raise LabError(f"lab {state.lab}'s rendered files are missing ({description})",
                       hint=f"take it down and up again: mplslab down {state.lab}") from None
    if node not in nodes:
        raise LabError(f"lab {state.lab} has no router {node!r}",
                       hint=f"routers: {', '.join(nodes)}")
    return state, runtime


def named_links(model: Lab, node: str, argv: list[str]) -> tuple[list[str], list[LinkEnd]]:
    """A command for ``node`` with each word that names one of its links by its ends
    (``NODE:PEER``, PEER a router of the lab) replaced by the interface's name; and those
    links. Other words stay as they are."""
    routers = {n.name for n in model.nodes}
    words, ends = [], []
    for word in argv:
        mine, _, peer = word.partition(":")
        if mine == node and peer in routers:
            ends.append(model.link_end(word))
            word = ends[-1].interface
        words.append(word)
    return words, ends


def lab_status(lab: str | None) -> list[dict]:
    """Per lab (``lab``, or every lab with a state folder): its variant, runtime and routers'
    daemons (``Runtime.status``), or the problem that keeps it from running. A ``lab`` that
    is not running is an error."""
    if lab:
        return [{"lab": state.lab, "variant": state.variant, "runtime": state.runtime,
                 **runtime.status()} for state, runtime in [live_runtime(lab)]]
    report = []
    for name in LabState.names():
        try:
            state, runtime = live_runtime(name)
            report.append({"lab": name, "variant": state.variant,
                           "runtime": state.runtime, **runtime.status()})
        except LabError as exc:
            report.append({"lab": name, "problem": str(exc), "routers": {}})
    return report


def deployed_model(state: LabState) -> Lab:
    """The model the lab was deployed from (its rendered model.json), not the lab file as
    it reads now: an edit after `up` must not change what `verify` expects."""
    path = Path(state.rendered) / "model.json"
    try:
        return Lab.model_validate_json(path.read_text())
    except (OSError, ValueError):
        raise LabError(f"the deployed model of lab {state.lab} cannot be read ({path})",
                       hint=f"take it down and up again: mplslab down {state.lab}") from None


def model_of(lab: str, variant: str | None) -> tuple[Lab, bool]:
    """(model, deployed): the model of a lab that is up, as deployed (the lab file may have
    changed since), else the lab file's."""
    name = lab_name_of(lab)
    if LabState.path(name).is_file():
        state = LabState.load(name)
        if variant in (None, state.variant):
            return deployed_model(state), True
    return load_lab(lab, variant), False


def running_lab(lab: str) -> tuple[LabState, Runtime, Lab, Path]:
    """(state, runtime, model, folder) of a running lab, for the exercise commands."""
    state, runtime = live_runtime(lab)
    return state, runtime, deployed_model(state), LabState.folder(state.lab)


def reset(state: LabState, runtime: Runtime, *, watch: Watch = SILENT) -> float:
    """Put every router of a running lab (``running_lab``) back to the configuration its
    deploy left, without redeploying (``Runtime.reset``); the seconds it took. Interrupted,
    the routers are left as far as it got: a reset again finishes it."""
    started = time.monotonic()
    with watch.resetting(state.lab):
        runtime.reset(lambda text: watch.step(time.monotonic() - started, text))
    return time.monotonic() - started


def apply_changes(runtime, changes) -> None:
    """Type each router's configuration commands into its vtysh (or run its command); a
    refused one stops."""
    from emulator.suites import frr

    for change in changes:
        result = runtime.exec(change.router, change.command or frr.configure_argv(change.lines))
        refused = [line for line in (result.stdout + result.stderr).splitlines()
                   if line.startswith("%")]
        if result.returncode != 0 or refused:
            raise LabError(f"{change.router} refused the exercise's configuration: "
                           f"{(refused or [result.stderr.strip()])[0]}",
                           hint="report it with the lab file; `mplslab reset` restores "
                                "the lab")
