"""mplslab: render, deploy and verify MPLS inter-provider VPN labs on real FRR routers."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.model.loader import read_raw
from emulator.paths import labs_dir
from emulator.render import render_lab

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Render, deploy and verify MPLS inter-provider VPN labs on FRR.")
appliance_app = typer.Typer(no_args_is_help=True,
                            help="The Debian 13 + FRR 10.3 root filesystem (and VM image).")
app.add_typer(appliance_app, name="appliance")
out = Console()
err = Console(stderr=True)

LabArg = Annotated[str, typer.Argument(help="a lab name from `mplslab list`, or a YAML path")]
VariantOpt = Annotated[str | None, typer.Option("--variant", "-V",
                                                help="lab variant (default: the lab's first)")]


def fail(exc: LabError) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def handle_errors(func):
    """Every LabError becomes one message and its exit code; never a traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            fail(exc)
    return wrapper


@app.command("list")
@handle_errors
def list_labs(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The labs in labs/ with their description."""
    labs = []
    for path in sorted(labs_dir().glob("*.yml")):
        raw, _ = read_raw(path)
        labs.append({"name": raw.get("name", path.stem), "title": raw.get("title", ""),
                     "description": " ".join(str(raw.get("description", "")).split()),
                     "variants": list((raw.get("variants") or {}).keys())})
    if as_json:
        print(json.dumps({"labs": [{"name": lab["name"], "description": lab["description"]}
                                   for lab in labs]}, indent=2))
        return
    table = Table("lab", "title", "variants", show_lines=False)
    for lab in labs:
        table.add_row(lab["name"], lab["title"], ", ".join(lab["variants"]) or "-")
    out.print(table)


@app.command()
@handle_errors
def validate(lab: LabArg, variant: VariantOpt = None) -> None:
    """Check a lab file; exit 2 with the field and what to do when it is wrong."""
    model = load_lab(lab, variant)
    out.print(f"[green]ok[/] {model.name}"
              + (f" (variant {model.variant})" if model.variant else "")
              + f": {len(model.nodes)} routers, {len(model.links)} links, "
              f"{len(model.sessions)} BGP sessions")


@app.command()
@handle_errors
def render(lab: LabArg,
           out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")],
           variant: VariantOpt = None) -> None:
    """Write <out>/<node>/frr.conf, daemons and setup.json for every router."""
    model = load_lab(lab, variant)
    written = render_lab(model, out_dir)
    out.print(f"rendered {len(written)} routers of {model.name} into {out_dir}")


@appliance_app.command("build")
@handle_errors
def appliance_build(force: Annotated[bool, typer.Option("--force")] = False) -> None:
    """Build the root filesystem (mmdebstrap, ~40 s) unless its recipe is unchanged."""
    from emulator.runtime import appliance

    if appliance.is_built() and not force:
        out.print(f"up to date: {appliance.rootfs_path()}")
        return
    with out.status("building the appliance with mmdebstrap") as status:
        image = appliance.build(force=force,
                                progress=lambda line: status.update(f"appliance: {line}"))
    out.print(f"built {image.rootfs} ({image.frr_version()})")


@appliance_app.command("path")
@handle_errors
def appliance_path() -> None:
    """Where the root filesystem is (built or not)."""
    from emulator.runtime import appliance

    print(appliance.rootfs_path())
    if not appliance.is_built():
        err.print("(not built yet: mplslab appliance build)")
        raise typer.Exit(1)


def _terminate_on_sigterm() -> None:
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, raise_interrupt)


@app.command()
@handle_errors
def up(lab: LabArg, variant: VariantOpt = None,
       runtime: Annotated[str, typer.Option(help="auto, netns or vm")] = "auto",
       verify_after: Annotated[bool, typer.Option("--verify", help="verify once up")] = False,
       ) -> None:
    """Deploy a lab: render, start routers (in the micro-VM when needed), configure them."""
    from emulator.runtime import appliance
    from emulator.runtime.base import LabState, choose, make_runtime

    if runtime not in ("auto", "netns", "vm"):
        raise LabError(f"unknown runtime {runtime!r}", hint="auto, netns or vm")
    model = load_lab(lab, variant)
    if LabState.path(model.name).exists():
        raise LabError(f"lab {model.name} is already up",
                       hint=f"mplslab down {model.name} first")
    appliance.require_root(f"mplslab up {model.name}")
    chosen, why = choose(runtime)
    out.print(f"runtime: [bold]{chosen}[/] ({why})")
    folder = LabState.folder(model.name)
    rendered = folder / "rendered"
    render_lab(model, rendered)
    state = LabState(lab=model.name, variant=model.variant, runtime=chosen,
                     rendered=str(rendered), source=model.source)
    state.save()
    started = time.monotonic()
    _terminate_on_sigterm()
    instance = make_runtime(state)
    try:
        with out.status(f"bringing {model.name} up") as status:
            def progress(text: str) -> None:
                status.update(f"{model.name}: {text}")
                out.print(f"  [dim]{time.monotonic() - started:6.1f}s[/] {text}")
            instance.up(progress)
    except BaseException as exc:
        err.print(f"[yellow]{model.name}: bring-up failed, tearing down what was created[/]")
        instance.down()
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            err.print("interrupted: nothing is left behind")
            raise typer.Exit(130) from None
        raise
    out.print(f"[green]{model.name} is up[/] ({len(model.nodes)} routers, "
              f"{time.monotonic() - started:.1f}s, runtime {chosen})")
    if model.deviations:
        for deviation in model.deviations:
            out.print(f"[yellow]note:[/] {deviation}")
    if verify_after:
        verify(model.name)


@app.command()
@handle_errors
def down(lab: Annotated[str, typer.Argument(help="a running lab")]) -> None:
    """Tear a lab down completely: routers, namespaces, links, VM."""
    from emulator.runtime.base import LabState, make_runtime

    name = Path(lab).stem if lab.endswith((".yml", ".yaml")) else lab
    state = LabState.load(name)
    with out.status(f"tearing {name} down"):
        make_runtime(state).down()
    shutil.rmtree(LabState.folder(name), ignore_errors=True)
    out.print(f"{name} is down")


@app.command()
@handle_errors
def status(lab: Annotated[str | None, typer.Argument(help="a running lab")] = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which labs are up, on which runtime, and which daemons run on each router."""
    from emulator.runtime.base import LabState, make_runtime

    states = [LabState.load(lab)] if lab else LabState.running()
    report = []
    for state in states:
        report.append({"lab": state.lab, "variant": state.variant, "runtime": state.runtime,
                       **make_runtime(state).status()})
    if as_json:
        print(json.dumps({"labs": report}, indent=2))
        return
    if not report:
        out.print("no lab is up")
        return
    for entry in report:
        table = Table(title=f"{entry['lab']} ({entry['runtime']})", title_justify="left")
        table.add_column("router")
        table.add_column("daemons")
        for router, daemons in entry["routers"].items():
            table.add_row(router, ", ".join(daemons) or "[red]none[/]")
        out.print(table)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def exec(ctx: typer.Context, lab: Annotated[str, typer.Argument(help="a running lab")],
         node: Annotated[str, typer.Argument(help="a router of that lab")]) -> None:
    """Run a command on a router (after --); with none, an interactive vtysh."""
    from emulator.runtime.base import LabState, make_runtime

    state = LabState.load(lab)
    nodes = json.loads((Path(state.rendered) / "lab.json").read_text())["nodes"]
    if node not in nodes:
        raise LabError(f"lab {lab} has no router {node!r}", hint=f"routers: {', '.join(nodes)}")
    runtime = make_runtime(state)
    argv = list(ctx.args)
    if not argv:
        raise typer.Exit(runtime.interactive(node, ["vtysh", "-N", f"{lab}_{node}"]))
    if argv[0] == "vtysh" and "-N" not in argv:
        argv = ["vtysh", "-N", f"{lab}_{node}", *argv[1:]]
    result = runtime.exec(node, argv, timeout=600)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    raise typer.Exit(result.returncode)


@app.command()
@handle_errors
def verify(lab: Annotated[str, typer.Argument(help="a running lab")],
           json_path: Annotated[Path | None, typer.Option("--json", help="JSON report")] = None,
           junit_path: Annotated[Path | None, typer.Option("--junit", help="JUnit XML")] = None,
           deadline: Annotated[float, typer.Option(help="seconds each check may retry")] = 120,
           ) -> None:
    """Check the live routers against what the lab's option requires."""
    from emulator.runtime.base import LabState, make_runtime
    from emulator.verify.report import print_report, write_json, write_junit
    from emulator.verify.runner import run_checks

    state = LabState.load(lab)
    model = load_lab(state.source, state.variant)
    runtime = make_runtime(state)
    report = run_checks(model, runtime, deadline=deadline, console=out)
    print_report(report, out)
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    raise typer.Exit(0 if report.passed else 1)


def main() -> None:
    app()
