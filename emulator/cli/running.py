"""Commands on a running lab: up, down, status, exec, verify, reset. `emulator.lifecycle`
does the work; these print it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emulator import lifecycle
from emulator.cli import complete
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import (
    DeadlineOpt,
    JsonOpt,
    JsonReportOpt,
    JunitOpt,
    KindsOpt,
    LabArg,
    RunningLabArg,
    VariantOpt,
    refuse_bad_verify_options,
)
from emulator.cli.watch import Shown

if TYPE_CHECKING:  # imported where used: `mplslab --help` stays fast
    from emulator.model.topology import Lab
    from emulator.runtime.base import Runtime

commands = typer.Typer()


@commands.command()
@handle_errors
def up(lab: LabArg, variant: VariantOpt = None,
       runtime: Annotated[str, typer.Option(
           help="auto, netns, vm, clab (containerlab: on this host, else in the micro-VM) "
                "or clab-vm")] = "auto",
       verify_after: Annotated[bool, typer.Option("--verify", help="verify once up")] = False,
       image: Annotated[str | None, typer.Option(
           help="--runtime clab on this host: the router image to use instead of the one "
                "made from the appliance (it must have FRR 10.3, and BIRD 2 for the CsC "
                "labs)")] = None,
       strict: Annotated[bool, typer.Option(
           "--strict", help="refuse an Option B lab (ASBRs binding labels per next hop) when "
                            "the routers' bgpd lacks the fix for FRR's label-bind defect "
                            "(docs/labs/option2.md, trap 3) instead of warning")] = False,
       ) -> None:
    """Deploy a lab: render, start routers (in the micro-VM when needed), configure them."""
    try:
        deployed = lifecycle.up(lab, variant, runtime=runtime, image=image, strict=strict,
                                watch=Shown())
    except lifecycle.Interrupted:
        err.print("interrupted: nothing is left behind")
        raise typer.Exit(130) from None
    model = deployed.model
    out.print(f"[green]{model.name} is up[/] ({len(model.nodes)} routers, "
              f"{deployed.seconds:.1f}s, runtime {deployed.runtime})")
    if model.deviations:
        for deviation in model.deviations:
            out.print(f"[yellow]note:[/] {escape(deviation)}")
    if verify_after:
        verify(model.name)


@commands.command()
@handle_errors
def down(lab: RunningLabArg,
         force: Annotated[bool, typer.Option(
             "--force", help="clean up by name, whatever state is left")] = False) -> None:
    """Tear a lab down completely: routers, namespaces, links, VM."""
    name = lifecycle.lab_name(lab)
    with out.status(f"tearing {name} down"):
        removed = lifecycle.down(name, force=force, watch=Shown())
    for line in removed:
        out.print(f"  removed {line}")
    out.print(f"{name} is down")


@commands.command()
@handle_errors
def status(lab: Annotated[str | None, typer.Argument(help="a running lab")] = None,
           as_json: JsonOpt = False) -> None:
    """Which labs are up, on which runtime, and which daemons run on each router."""
    report = lifecycle.lab_status(lab)
    if as_json:
        print(json.dumps({"labs": report}, indent=2))
        return
    if not report:
        out.print("no lab is up")
        return
    for entry in report:
        if "problem" in entry:
            out.print(f"[red]{escape(entry['lab'])}: {escape(entry['problem'])}[/]")
            continue
        table = Table(title=f"{entry['lab']} ({entry['runtime']})", title_justify="left")
        table.add_column("router")
        table.add_column("daemons")
        # Container runtimes also say each container's state (containerlab inspect).
        states = entry.get("containers")
        if states is not None:
            table.add_column("container")
        for router, daemons in entry["routers"].items():
            table.add_row(router, ", ".join(daemons) or "[red]none[/]",
                          *([states.get(router, "?")] if states is not None else []))
        out.print(table)
    if any("problem" in entry for entry in report):
        raise typer.Exit(2)


@commands.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def exec(ctx: typer.Context, lab: RunningLabArg,
         node: Annotated[str, typer.Argument(
             metavar="NODE", autocompletion=complete.routers,
             help="a router of that lab, or one of its links by its ends (PE-2:P-2: the "
                  "command runs on PE-2, its interface to P-2 in $MPLSLAB_INTERFACE)")]
         ) -> None:
    """Run a command on a router (after --); with none, an interactive vtysh. vtysh and
    birdc reach that router's daemons wherever they are typed: in the command, in a shell
    (`-- bash`, `-- sh -c ...`) or in a script it runs. A word of the command that names
    one of the router's links by its ends (PE-2:P-2) becomes that interface's name. On a
    terminal the command is attached to it (a shell, a live tcpdump); otherwise its output
    is passed on at its end."""
    name, _, peer = node.partition(":")
    state, runtime = lifecycle.live_router(lab, name)
    argv = list(ctx.args)
    if peer or any(word.startswith(f"{name}:") for word in argv):
        model = lifecycle.deployed_model(state)
        argv, ends = lifecycle.named_links(model, name, argv)
        if peer:
            end = model.link_end(node)
            ends.insert(0, end)
            argv = ["env", f"MPLSLAB_INTERFACE={end.interface}", f"MPLSLAB_PEER={end.peer}",
                    *(argv or ["vtysh"])]
        for end in dict.fromkeys(ends):
            err.print(f"{end.node}:{end.peer} is {escape(str(end))}", highlight=False,
                      soft_wrap=True)
    argv = runtime.with_tools(name, argv or ["vtysh"])
    if not ctx.args or (sys.stdin.isatty() and sys.stdout.isatty()):
        raise typer.Exit(runtime.interactive(name, argv))
    result = runtime.exec(name, argv, timeout=600)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    raise typer.Exit(result.returncode)


@commands.command()
@handle_errors
def verify(lab: RunningLabArg, json_path: JsonReportOpt = None, junit_path: JunitOpt = None,
           deadline: DeadlineOpt = 120, kinds: KindsOpt = None) -> None:
    """Check the live routers against what the lab's option requires."""
    refuse_bad_verify_options(kinds, json_path, junit_path)
    state, runtime = lifecycle.live_runtime(lab)
    model = lifecycle.deployed_model(state)
    verify_running(model, runtime, json_path=json_path, junit_path=junit_path,
                   deadline=deadline, kinds=kinds)


def verify_running(model: Lab, runtime: Runtime, *, json_path: Path | None,
                   junit_path: Path | None, deadline: float, kinds: list[str] | None) -> None:
    """verify's checks, report and exit status (0 all pass, 1 one fails)."""
    from emulator.verify.report import print_report, write_json, write_junit
    from emulator.verify.runner import run_checks

    report = run_checks(model, runtime, deadline=deadline, console=out,
                        kinds=set(kinds) if kinds else None)
    print_report(report, out)
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    raise typer.Exit(0 if report.passed else 1)


@commands.command()
@handle_errors
def reset(lab: RunningLabArg, json_path: JsonReportOpt = None, junit_path: JunitOpt = None,
          deadline: DeadlineOpt = 120, kinds: KindsOpt = None) -> None:
    """Put every router back to the configuration it was deployed with (a trainer's "start
    again": nothing is redeployed), end the running exercise, then verify as `verify` does."""
    reset_and_verify(lab, json_path=json_path, junit_path=junit_path, deadline=deadline,
                     kinds=kinds)


def reset_and_verify(lab: str, *, json_path: Path | None, junit_path: Path | None,
                     deadline: float, kinds: list[str] | None) -> None:
    """`mplslab reset` (and `mplslab exercise reset`): the routers' kernel set-up and each
    suite's deployed configuration put back (lifecycle.reset), the running exercise
    forgotten (its break is gone with the rest), then verify's checks and exit status."""
    from emulator.training.exercises import forget

    refuse_bad_verify_options(kinds, json_path, junit_path)
    state, runtime, model, folder = lifecycle.running_lab(lab)
    try:
        seconds = lifecycle.reset(state, runtime, watch=Shown())
    except KeyboardInterrupt:
        err.print(f"interrupted: some routers of {state.lab} may not be reset yet "
                  f"(mplslab reset {state.lab} again finishes it)")
        raise typer.Exit(130) from None
    out.print(f"[green]{state.lab} is reset[/] ({len(model.nodes)} routers back to their "
              f"deployed configuration, {seconds:.1f}s)")
    ended = forget(folder)
    if ended:
        out.print(f"exercise [bold]{escape(ended)}[/] ended")
    verify_running(model, runtime, json_path=json_path, junit_path=junit_path,
                   deadline=deadline, kinds=kinds)
