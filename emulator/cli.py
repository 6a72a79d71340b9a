"""mplslab: render, deploy and verify MPLS inter-provider VPN labs on real FRR routers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from emulator import lifecycle
from emulator.errors import LabError
from emulator.model.build import load_all_variants, load_lab
from emulator.model.loader import SHIPPED, lab_files
from emulator.paths import check_output_file, check_output_folder, user_labs_dir
from emulator.render import render_lab

if TYPE_CHECKING:  # imported where used: `mplslab --help` stays fast
    from rich.status import Status

    from emulator.training.explain import Walkthrough
    from emulator.training.report import LiveWalk

# add_completion: typer's --install-completion and --show-completion (bash, zsh, fish, pwsh).
app = typer.Typer(add_completion=True, no_args_is_help=True,
                  help="Render, deploy and verify MPLS inter-provider VPN labs on FRR.")
appliance_app = typer.Typer(no_args_is_help=True,
                            help="The Debian 13 + FRR 10.3 root filesystem (and VM image).")
app.add_typer(appliance_app, name="appliance")
vm_app = typer.Typer(no_args_is_help=True,
                     help="The shared micro-VM: keep it running between labs, or stop it.")
app.add_typer(vm_app, name="vm")
image_app = typer.Typer(no_args_is_help=True,
                        help="The router image for the containerlab runtime on a Docker host.")
app.add_typer(image_app, name="image")
exercise_app = typer.Typer(no_args_is_help=True,
                           help="Break/fix exercises on a running lab, graded by verify.")
app.add_typer(exercise_app, name="exercise")
# No emoji codes: an RD such as 1:100 before a prefix would print as one (":100:").
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

LabArg = Annotated[str, typer.Argument(help="a lab name from `mplslab list`, or a YAML path")]
VariantOpt = Annotated[str | None, typer.Option("--variant", "-V",
                                                help="lab variant (default: the lab's first)")]


def fail(exc: LabError) -> None:
    # User text (names, paths, YAML values) is never read as rich markup or :emoji: codes.
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True,
              emoji=False)
    raise typer.Exit(exc.exit_code)


def handle_errors(func):
    """Every LabError becomes one message and its exit code; never a traceback. Anything
    else is a bug: one line saying so (MPLSLAB_DEBUG=1 shows the traceback), exit 70."""
    import functools
    import os

    import click

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            fail(exc)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("MPLSLAB_DEBUG"):
                raise
            err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: "
                      f"{escape(str(exc)[:300])} (a bug in mplslab: please report it with "
                      "the lab file; MPLSLAB_DEBUG=1 shows the traceback)",
                      highlight=False, soft_wrap=True, emoji=False)
            raise typer.Exit(70) from None
    return wrapper


def version_text() -> str:
    """mplslab's version, and the FRR and kernel versions the appliance carries."""
    from importlib.metadata import PackageNotFoundError, version

    from emulator.runtime import appliance

    try:
        own = version("mplslab")
    except PackageNotFoundError:  # run from a checkout that was never installed
        own = "unknown (not installed)"
    lines = [f"mplslab {own}"]
    if not appliance.is_built():
        lines.append(f"appliance: not built ({appliance.rootfs_path().parent}; "
                     "mplslab appliance build)")
        return "\n".join(lines)
    image = appliance.Appliance(appliance.rootfs_path())
    try:
        kernel = image.kernel_version
    except LabError:
        kernel = "none (rebuild it: mplslab appliance build --force)"
    frr = image.package_version("frr") or "not installed"
    lines.append(f"appliance: FRR {frr}, kernel {kernel} (Debian {appliance.SUITE}, "
                 f"{image.rootfs})")
    lines.append("FRR fixes applied: " + (", ".join(image.fixes()) or "none")
                 + " (docs/labs/option2.md)")
    return "\n".join(lines)


def show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True,
        help="mplslab's version and the FRR and kernel versions of the appliance")] = False,
         ) -> None:
    """Render, deploy and verify MPLS inter-provider VPN labs on FRR."""


@app.command("list")
@handle_errors
def list_labs(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The shipped labs and your own (in the user labs folder), with their description."""
    labs = []
    shipped_names = set()
    for origin, path in lab_files():
        entry: dict = {"name": path.stem, "origin": origin, "path": str(path)}
        if origin == SHIPPED:
            shipped_names.add(path.stem)
        elif path.stem in shipped_names:
            entry["note"] = (f"the shipped lab {path.stem} has this file's name: give its "
                             f"path ({path}) or rename the file")
        # One broken file is listed as broken, with its error; it hides no other lab.
        try:
            model = load_lab(str(path))
        except Exception as exc:  # a LabError, or a bug: either way, list the others
            error = str(exc) if isinstance(exc, LabError) else (
                f"internal error (a bug in mplslab): {type(exc).__name__}: {exc}")
            labs.append(entry | {"title": "", "description": "", "variants": [],
                                 "error": error})
            continue
        entry |= {"name": model.name, "title": model.title,
                  "description": " ".join(model.description.split()),
                  "variants": list(model.variants)}
        labs.append(entry)
    if as_json:
        print(json.dumps({"labs": [
            {"name": lab["name"], "description": lab["description"],
             "origin": lab["origin"], "path": lab["path"]}
            | {key: lab[key] for key in ("error", "note") if key in lab}
            for lab in labs]}, indent=2))
        return
    table = Table("lab", "origin", "title", "variants", show_lines=False)
    for lab in labs:
        # Text cells: user text is never read as markup or :emoji: codes.
        if "error" in lab:
            table.add_row(Text(lab["name"]), lab["origin"],
                          Text.assemble(("broken: ", "red"), lab["error"]), "-")
            continue
        title = Text(lab["title"])
        if "note" in lab:
            title = Text.assemble(title, ("\nnote: ", "yellow"), lab["note"])
        table.add_row(Text(lab["name"]), lab["origin"], title,
                      Text(", ".join(lab["variants"]) or "-"))
    out.print(table)
    if not any(lab["origin"] != SHIPPED for lab in labs):
        out.print(f"[dim]your own lab: `mplslab new NAME --from LAB` writes NAME.yml; give "
                  f"its path, or keep it in {escape(str(user_labs_dir()))} to name it[/]",
                  highlight=False, emoji=False)


@app.command()
@handle_errors
def new(name: Annotated[str, typer.Argument(help="the new lab's name (its file: NAME.yml)")],
        source: Annotated[str, typer.Option("--from", help="a shipped lab to start from")],
        folder: Annotated[Path, typer.Option("--dir", help="where to write NAME.yml")] = Path(),
        ) -> None:
    """Start your own lab: a copy of a shipped lab as NAME.yml, renamed to NAME."""
    import re

    from emulator.model.schema import LAB_NAME, PATTERN_HELP

    if not re.match(LAB_NAME, name):
        raise LabError(f"{name!r} is not a lab name", hint=PATTERN_HELP[LAB_NAME])
    shipped = {path.stem: path for origin, path in lab_files() if origin == SHIPPED}
    if source not in shipped:
        raise LabError(f"no shipped lab named {source!r}",
                       hint=f"shipped labs: {', '.join(shipped) or 'none'}")
    if name in shipped:
        raise LabError(f"{name} is a shipped lab's name",
                       hint="choose another name: `mplslab up NAME` would find the shipped lab")
    text, count = re.subn(r"^name:[^\n#]*", f"name: {name}", shipped[source].read_text(),
                          count=1, flags=re.MULTILINE)
    if not count:
        raise LabError(f"the shipped lab {source} has no top-level `name:` line")
    check_output_folder(folder, "--dir")
    target = folder / f"{name}.yml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with target.open("x") as stream:
            stream.write(text)
    except FileExistsError:
        raise LabError(f"{target} already exists; not overwriting it",
                       hint="choose another NAME or --dir") from None
    except OSError as exc:
        raise LabError(f"cannot write {target}: {exc.strerror or exc}",
                       hint="give a folder you can write to (--dir)") from None
    model = load_lab(str(target))
    out.print(f"wrote {escape(str(target))}: lab {model.name}, a copy of {source} "
              f"({len(model.nodes)} routers)", highlight=False, emoji=False, soft_wrap=True)
    # soft_wrap: the commands stay whole lines, to copy and paste, however long the path.
    out.print("next: edit its title, description, routers, addresses and VPNs "
              "(docs/lab-format.md describes every field), then check it with\n"
              f"  mplslab validate {escape(str(target))}\n"
              "which names the file, line and field of anything wrong; bring it up (as root) with\n"
              f"  mplslab up {escape(str(target))}", highlight=False, emoji=False,
              soft_wrap=True)


@app.command()
@handle_errors
def validate(lab: LabArg, variant: VariantOpt = None) -> None:
    """Check a lab file, every variant unless --variant; exit 2 with the field and what to
    do when it is wrong."""
    models = [load_lab(lab, variant)] if variant is not None else load_all_variants(lab)
    for model in models:
        out.print(f"[green]ok[/] {model.name}"
                  + (f" (variant {escape(model.variant)})" if model.variant else "")
                  + f": {len(model.nodes)} routers, {len(model.links)} links, "
                  f"{len(model.sessions)} BGP sessions", emoji=False)


@app.command()
@handle_errors
def render(lab: LabArg,
           out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")],
           variant: VariantOpt = None,
           clab: Annotated[bool, typer.Option(
               "--clab", help="also write <out>/<lab>.clab.yml, containerlab's topology")]
           = False) -> None:
    """Write <out>/<node>/frr.conf, daemons and setup.json for every router."""
    check_output_folder(out_dir, "--out")
    model = load_lab(lab, variant)
    try:
        written = render_lab(model, out_dir)
        if clab:
            import yaml

            from emulator.runtime import containers
            from emulator.runtime.clab import image_tag

            topology = containers.by_hand_topology(model.name, out_dir, image=image_tag())
            containers.topology_path(out_dir, model.name).write_text(
                yaml.safe_dump(topology, sort_keys=False))
    except OSError as exc:
        raise LabError(f"cannot write into {out_dir}: {exc.strerror or exc}",
                       hint="give a folder you can write to (--out)") from None
    out.print(f"rendered {len(written)} routers of {model.name} into {escape(str(out_dir))}"
              + (f" with {model.name}.clab.yml" if clab else ""), emoji=False)
    if clab:
        from emulator.runtime.containers import BY_HAND_LOG, container

        topology_file = escape(str(out_dir.absolute() / f"{model.name}.clab.yml"))
        first = container(model.name, model.nodes[0].name)
        out.print(f"deploy it: sudo modprobe -a mpls_router mpls_iptunnel vrf; mplslab image "
                  f"build; sudo containerlab deploy -t {topology_file}\n"
                  f"each router then starts itself (its log: {BY_HAND_LOG}); a router's "
                  f"CLI: docker exec -it {first} vtysh", emoji=False, soft_wrap=True)


@app.command()
@handle_errors
def graph(lab: LabArg,
          out_path: Annotated[Path | None, typer.Option(
              "--out", "-o", help="file to write (default: <lab>.<format> here)")] = None,
          fmt: Annotated[str, typer.Option("--format", "-f", help="svg, png or dot")] = "svg",
          variant: VariantOpt = None) -> None:
    """Draw the lab: ASes as clusters, routers by role, inter-AS links, BGP sessions by family."""
    from emulator.training.graph import write

    model, _ = lifecycle.model_of(lab, variant)
    target = out_path or Path(f"{model.name}.{fmt}")
    try:
        written = write(model, target, fmt)
    except OSError as exc:
        raise LabError(f"cannot write {target}: {exc.strerror or exc}",
                       hint="give a path you can write to (--out)") from None
    out.print(f"drew {model.name} ({len(model.nodes)} routers, {len(model.sessions)} BGP "
              f"sessions) into {escape(str(written))}", emoji=False)


@app.command()
@handle_errors
def report(lab: LabArg,
           html_dir: Annotated[Path, typer.Option(
               "--html", help="folder to write index.html into (created when missing)")],
           results_path: Annotated[Path | None, typer.Option(
               "--results", help="a `verify --json` report (default: verify the lab if up)")
           ] = None,
           variant: VariantOpt = None,
           deadline: Annotated[float, typer.Option(
               help="seconds each check may retry, when the lab is verified now")] = 120,
           ) -> None:
    """One HTML page: the topology, the verify results, and per site prefix the walkthrough
    with the live labels drawn over the packet's path."""
    from emulator.training.report import load_results, write

    check_output_folder(html_dir, "--html")
    model, deployed = lifecycle.model_of(lab, variant)
    results = None
    if results_path is not None:
        results = load_results(results_path, model)
    elif deployed:
        from emulator.verify.runner import run_checks

        _, runtime = lifecycle.live_runtime(lab)
        results = run_checks(model, runtime, deadline=deadline, console=out).as_dict()
    else:
        out.print(f"{model.name} is not up: the page has the topology and the walkthroughs, "
                  "without verify results (--results FILE adds a saved report)")
    try:
        page = write(model, results, html_dir)
    except OSError as exc:
        raise LabError(f"cannot write into {html_dir}: {exc.strerror or exc}",
                       hint="give a folder you can write to (--html)") from None
    out.print(f"wrote {escape(str(page))}", emoji=False)


@app.command()
@handle_errors
def explain(lab: LabArg,
            prefix: Annotated[str | None, typer.Argument(
                help="a site prefix, an address in one, or a CE; none: the lab's story")] = None,
            source: Annotated[str | None, typer.Option(
                "--from", help="the site a packet starts from (default: one on another PE)")
            ] = None,
            variant: VariantOpt = None,
            as_json: Annotated[bool, typer.Option("--json")] = False,
            deadline: Annotated[float, typer.Option(
                help="seconds to wait for the live labels, when the lab is up")] = 60,
            ) -> None:
    """The slide's walkthrough: who holds a prefix's VPNv4 route with which next hop and
    label, where they are rewritten, and the label stack on every link of the packet's path;
    with the lab up, the labels its routers hold and the stacks captured on the wire."""
    from emulator.training.explain import find_site, story, walkthrough

    model, deployed = lifecycle.model_of(lab, variant)
    if prefix is None:
        told = story(model)
        if as_json:
            print(json.dumps(told, indent=2))
            return
        print_story(told)
        return
    walk = walkthrough(model, prefix, source)
    live = None
    if deployed:
        # The lab is up: the labels its routers hold along this walk, and a capture of the
        # packet's path, from the checks that observe them.
        from emulator.training.report import live_walk, walk_checks
        from emulator.verify.runner import run_checks

        destination = str(find_site(model, prefix).site.address.ip)
        routes, wire = walk_checks(walk, destination)
        _, runtime = lifecycle.live_runtime(lab)
        results = run_checks(model, runtime, deadline=deadline,
                             names={*routes, *([wire] if wire else [])}).as_dict()
        live = live_walk(walk, destination, results)
    if as_json:
        told = walk.as_dict()
        if live is not None:
            told["live"] = {"labels": live.labels, "stacks": live.stacks}
        print(json.dumps(told, indent=2))
        return
    print_walkthrough(walk, live)


def print_story(told: dict) -> None:
    out.print(f"[bold]{escape(told['title'])}[/] ({escape(told['lab'])}"
              f"{', ' + escape(told['variant']) if told['variant'] else ''})")
    out.print(escape(told["description"]))
    for note in told["deviations"]:
        out.print(f"[yellow]deviation:[/] {escape(note)}")
    for vpn in told["vpns"]:
        out.print(f"\n[bold]{escape(vpn['vpn'])}[/]  RD {vpn['rd']}  import "
                  f"{', '.join(vpn['import'])}  export {', '.join(vpn['export'])}")
        for site in vpn["sites"]:
            out.print(f"  {escape(site['prefix'])} behind {escape(site['ce'])} on "
                      f"{escape(site['pe'])}")
        for path in vpn["paths"]:
            out.print(f"  {escape(path['from'])} → {escape(path['to'])}: "
                      f"{' → '.join(map(escape, path['routers']))}, up to "
                      f"{path['deepest_stack']} labels")
    out.print("\n[dim]mplslab explain LAB PREFIX walks one prefix hop by hop[/]")


def print_walkthrough(walk: Walkthrough, live: LiveWalk | None = None) -> None:
    """The walk as tables; with ``live``, the labels the routers held and the stacks seen."""
    out.print(f"[bold]{walk.prefix}[/] in {escape(walk.vpn)} (RD {walk.rd}, RT "
              f"{', '.join(walk.route_targets)}), behind {escape(walk.site)}, exported by "
              f"{escape(walk.origin)}  [dim]({escape(walk.lab)}"
              f"{', ' + escape(walk.variant) if walk.variant else ''})[/]")
    columns = ["router", "next hop", "label from", "AS path"] + (["live label"] if live else [])
    table = Table(*columns, title="control plane: "
                  f"who holds {walk.rd}:{walk.prefix}", title_justify="left")
    for holder in walk.holders:
        row = [holder.router, holder.next_hop, holder.label_from, holder.as_path or ""]
        if live:
            row.append(str(live.labels.get(holder.router, "?")))
        table.add_row(*row)
    out.print(table)
    for reason in dict.fromkeys(h.rewrites for h in walk.holders if h.rewrites):
        out.print(f"  rewritten: {escape(reason)}")
    if walk.absent_on:
        out.print(f"  must hold no route to it: {', '.join(walk.absent_on)}")
    if walk.links:
        seen = bool(live and live.stacks)
        table = Table("link", "interface", "labels", "what", *(["seen"] if seen else []),
                      title=f"data plane: {walk.packet_from} → {walk.prefix}",
                      title_justify="left")
        for link in walk.links:
            row = [link["link"], link["interface"], str(link["labels"]), link["what"]]
            if seen:
                row.append(live.stacks.get(link["link"].replace(" → ", "→"), "?"))
            table.add_row(*row)
        out.print(table)
    for router, reasons in walk.settings.items():
        for reason in reasons:
            out.print(f"  {escape(router)}: [cyan]{escape(reason['setting'])}[/] — "
                      f"{escape(reason['why'])}")
    if live is None:
        out.print("[dim]with the lab up, explain shows the labels its routers hold; mplslab "
                  "verify checks them all[/]")


@exercise_app.command("list")
@handle_errors
def exercise_list(lab: LabArg, variant: VariantOpt = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The exercises of a lab (derived from its model, like its checks)."""
    from emulator.training.exercises import exercises

    model, _ = lifecycle.model_of(lab, variant)
    found = exercises(model)
    if as_json:
        print(json.dumps([{"name": e.name, "title": e.title, "symptom": e.symptom,
                           "fails": e.fails} for e in found], indent=2))
        return
    table = Table("exercise", "what breaks", "symptom", title=f"exercises of {model.name}",
                  title_justify="left")
    for exercise in found:
        table.add_row(exercise.name, exercise.title, exercise.symptom)
    out.print(table)
    out.print(f"[dim]mplslab exercise start {model.name} NAME, on the running lab[/]")


def refuse_unknown_kinds(kinds: list[str] | None) -> None:
    """A `--kind` that names no check kind is refused before anything runs."""
    from emulator.verify.checks import KINDS

    unknown = [k for k in kinds or [] if k not in KINDS]
    if unknown:
        raise LabError(f"unknown check kind '{unknown[0]}'", hint=f"one of: {', '.join(KINDS)}")


@exercise_app.command("start")
@handle_errors
def exercise_start(lab: LabArg,
                   name: Annotated[str, typer.Argument(help="from `mplslab exercise list`")],
                   ) -> None:
    """Break the running lab as the exercise says, and tell the symptom."""
    from emulator.training.exercises import EXERCISE_FILE, find, save

    state, runtime, model, folder = lifecycle.running_lab(lab)
    exercise = find(model, name)
    if (folder / EXERCISE_FILE).exists():
        raise LabError(f"an exercise is already running on lab {state.lab}",
                       hint=f"finish it first: mplslab exercise solution {state.lab} --apply")
    lifecycle.apply_changes(runtime, exercise.breaks)
    save(folder, exercise)
    out.print(f"[bold]{escape(exercise.name)}[/] started on {state.lab}.")
    out.print(f"symptom: {escape(exercise.symptom)}")
    out.print(f"[dim]find and fix it on the routers (mplslab exec {state.lab} ROUTER), then: "
              f"mplslab exercise check {state.lab}[/]")


@exercise_app.command("check")
@handle_errors
def exercise_check(lab: LabArg,
                   deadline: Annotated[float, typer.Option(
                       help="seconds each check may retry (the lab reconverges after a fix)")
                   ] = 90,
                   json_path: Annotated[Path | None, typer.Option(
                       "--json", help="the verify report as JSON")] = None,
                   kinds: Annotated[list[str] | None, typer.Option(
                       "--kind", help="grade on checks of this kind only (repeatable; "
                                      "default: every check)")] = None) -> None:
    """Grade the running exercise with verify: solved when every check holds."""
    from emulator.training.exercises import current, finish
    from emulator.verify.report import print_report, write_json
    from emulator.verify.runner import run_checks

    refuse_unknown_kinds(kinds)
    if json_path is not None:
        check_output_file(json_path, "--json")
    state, runtime, model, folder = lifecycle.running_lab(lab)
    exercise = current(folder, state.lab)
    report = run_checks(model, runtime, deadline=deadline, console=out,
                        kinds=set(kinds) if kinds else None)
    if json_path is not None:
        write_json(report, json_path)
    if report.passed:
        finish(folder)
        scope = f" of kind {', '.join(kinds)}" if kinds else ""
        out.print(f"[bold green]solved[/]: {exercise.name} — all {len(report.results)} checks"
                  f"{scope} hold again.")
        out.print(f"why: {escape(exercise.why)}")
        return
    print_report(report, out, failures_only=True)
    out.print(f"[bold]not yet[/]: {escape(exercise.symptom)}")
    out.print(f"hint: {escape(exercise.hint)}")
    raise typer.Exit(1)


@exercise_app.command("solution")
@handle_errors
def exercise_solution(lab: LabArg,
                      apply: Annotated[bool, typer.Option(
                          "--apply", help="configure the fix on the routers")] = False,
                      ) -> None:
    """The running exercise's fix, explained; --apply configures it."""
    from emulator.training.exercises import current

    state, runtime, _, folder = lifecycle.running_lab(lab)
    exercise = current(folder, state.lab)
    out.print(f"[bold]{escape(exercise.name)}[/]: {escape(exercise.why)}")
    for change in exercise.fixes:
        out.print(f"on {escape(change.router)} (vtysh, configure terminal):")
        for line in change.lines:
            out.print(f"  {escape(line)}", highlight=False)
    if apply:
        lifecycle.apply_changes(runtime, exercise.fixes)
        out.print(f"applied; grade it: mplslab exercise check {state.lab}")


@appliance_app.command("build")
@handle_errors
def appliance_build(force: Annotated[bool, typer.Option("--force")] = False) -> None:
    """Build the root filesystem (mmdebstrap, ~40 s) unless its recipe is unchanged."""
    from emulator.runtime import appliance

    if appliance.is_built() and not force:
        out.print(f"up to date: {appliance.rootfs_path()}")
        return
    from emulator.runtime import vm

    if vm.vm_alive(vm.shared_vm()):
        raise LabError("the micro-VM runs on the appliance being rebuilt",
                       hint="take its labs down (mplslab status) and `mplslab vm stop` first")
    with out.status("building the appliance with mmdebstrap") as status:
        image = appliance.build(force=force,
                                progress=lambda line: status.update(f"appliance: {line}"))
    out.print(f"built {image.rootfs} (FRR {image.package_version('frr')}, fixes: "
              f"{', '.join(image.fixes()) or 'none'})")


@image_app.command("build")
@handle_errors
def image_build(tar: Annotated[Path | None, typer.Option(
        "--tar", help="write the image as a tarball for `docker import` instead")] = None,
                ) -> None:
    """The appliance (FRR and BIRD as the micro-VM runs them) as the Docker image
    mplslab-router:<recipe>, imported into this host's engine (or written with --tar)."""
    from emulator.runtime import appliance, clab, containers

    appliance.require_root("mplslab image build")
    with out.status("building the router image") as status:
        def progress(line: str) -> None:
            status.update(escape(line))
        if tar is not None:
            check_output_file(tar, "--tar")
            clab.write_image_tarball(tar.absolute(), progress)
            changes = " ".join(f"-c '{change}'" for change in containers.IMAGE_CHANGES)
            out.print(f"wrote {escape(str(tar))}; on a Docker host: docker import {changes} "
                      f"{escape(str(tar))} {clab.image_tag()}", emoji=False)
            return
        if not clab.engine_answers():
            raise LabError("no Docker engine answers here",
                           hint="start Docker, or write the image with --tar PATH (inside "
                                "the micro-VM, --runtime clab-vm makes its routers' image "
                                "there)")
        tag = clab.build_image(progress)
    out.print(f"router image: {tag}")


@appliance_app.command("path")
@handle_errors
def appliance_path() -> None:
    """Where the root filesystem is (built or not)."""
    from emulator.runtime import appliance

    print(appliance.rootfs_path())
    if not appliance.is_built():
        err.print("(not built yet: mplslab appliance build)")
        raise typer.Exit(1)


@vm_app.command("start")
@handle_errors
def vm_start() -> None:
    """Boot the micro-VM (or keep the running one) and keep it up after the last lab goes
    down, so that the next `mplslab up` needs no boot. `mplslab vm stop` ends that."""
    try:
        record = lifecycle.keep_vm_running(Shown())
    except lifecycle.Interrupted:
        err.print("interrupted: the micro-VM is stopped unless a lab uses it")
        raise typer.Exit(130) from None
    out.print(f"the micro-VM runs (SSH on 127.0.0.1:{record.get('ssh_port')}); it stays up "
              "until `mplslab vm stop`")


@vm_app.command("stop")
@handle_errors
def vm_stop() -> None:
    """Stop keeping the micro-VM up; it powers off now unless labs still use it."""
    from emulator.runtime import vm

    labs, stopped = vm.unpin()
    if labs:
        out.print(f"the micro-VM stays up for: {', '.join(labs)} (it powers off with the last "
                  "`mplslab down`)")
    else:
        out.print("the micro-VM is stopped" + (f" ({len(stopped)} processes)" if stopped
                                                else " (none was running)"))


@vm_app.command("status")
@handle_errors
def vm_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Whether the shared micro-VM runs, and which labs use it."""
    from emulator.runtime import vm

    record = vm.shared_vm()
    report = {"running": vm.vm_alive(record), "ssh_port": record.get("ssh_port"),
              "console": record.get("console"), "users": vm.vm_users()}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    if not report["running"]:
        out.print("no micro-VM is running")
        return
    users = ["`mplslab vm start`" if u == vm.PINNED else u for u in report["users"]]
    out.print(f"the micro-VM runs (SSH on 127.0.0.1:{report['ssh_port']}), used by: "
              f"{', '.join(users) or 'nobody'}; console: {report['console']}")


class Shown(lifecycle.Watch):
    """The lifecycle's steps on the terminal: a spinner with the step under way, and each
    step on a line of its own with the seconds since the start."""

    def __init__(self) -> None:
        self.status: Status | None = None
        self.prefix = ""

    def runtime_chosen(self, runtime: str, why: str) -> None:
        out.print(f"runtime: [bold]{runtime}[/] ({escape(why)})")

    @contextmanager
    def deploying(self, lab: str) -> Iterator[None]:
        with out.status(f"bringing {lab} up") as self.status:
            self.prefix = f"{lab}: "
            yield

    @contextmanager
    def starting_vm(self) -> Iterator[None]:
        with out.status("starting the micro-VM") as self.status:
            yield

    def step(self, seconds: float, text: str) -> None:
        if self.status is not None:
            self.status.update(self.prefix + escape(text))
        out.print(f"  [dim]{seconds:6.1f}s[/] {escape(text)}")

    def failed(self, lab: str) -> None:
        err.print(f"[yellow]{lab}: bring-up failed, tearing down what was created[/]")

    def cleaning_up_by_name(self, why: str) -> None:
        err.print(f"[yellow]{escape(why)}: cleaning up by name[/]")

    def no_state_folder(self, lab: str) -> None:
        err.print(f"no state folder for lab {lab}; looking for what it left")


@app.command()
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
       ) -> None:
    """Deploy a lab: render, start routers (in the micro-VM when needed), configure them."""
    try:
        deployed = lifecycle.up(lab, variant, runtime, image, Shown())
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


@app.command()
@handle_errors
def down(lab: Annotated[str, typer.Argument(help="a running lab")],
         force: Annotated[bool, typer.Option(
             "--force", help="clean up by name, whatever state is left")] = False) -> None:
    """Tear a lab down completely: routers, namespaces, links, VM."""
    name = lifecycle.lab_name(lab)
    with out.status(f"tearing {name} down"):
        removed = lifecycle.down(name, force, Shown())
    for line in removed:
        out.print(f"  removed {line}")
    out.print(f"{name} is down")


@app.command()
@handle_errors
def status(lab: Annotated[str | None, typer.Argument(help="a running lab")] = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
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


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def exec(ctx: typer.Context, lab: Annotated[str, typer.Argument(help="a running lab")],
         node: Annotated[str, typer.Argument(help="a router of that lab")]) -> None:
    """Run a command on a router (after --); with none, an interactive vtysh."""
    _, runtime = lifecycle.live_router(lab, node)
    argv = list(ctx.args)
    if not argv:
        raise typer.Exit(runtime.interactive(node, ["vtysh"]))
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
           kinds: Annotated[list[str] | None, typer.Option(
               "--kind", help="only checks of this kind (repeatable; default: every kind)")
           ] = None,
           ) -> None:
    """Check the live routers against what the lab's option requires."""
    from emulator.verify.report import print_report, write_json, write_junit
    from emulator.verify.runner import run_checks

    refuse_unknown_kinds(kinds)
    # A report that cannot be written is refused before any check runs.
    for option, path in (("--json", json_path), ("--junit", junit_path)):
        if path is not None:
            check_output_file(path, option)
    state, runtime = lifecycle.live_runtime(lab)
    model = lifecycle.deployed_model(state)
    report = run_checks(model, runtime, deadline=deadline, console=out,
                        kinds=set(kinds) if kinds else None)
    print_report(report, out)
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    raise typer.Exit(0 if report.passed else 1)
