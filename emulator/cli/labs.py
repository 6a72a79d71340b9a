"""Commands on lab files, whether or not the lab is up: list, new, validate, render, graph,
report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from emulator import lifecycle
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import JsonOpt, LabArg, VariantOpt
from emulator.errors import LabError
from emulator.model.build import load_all_variants, load_lab
from emulator.model.loader import SHIPPED, lab_files, renamed
from emulator.paths import check_output_folder, user_labs_dir
from emulator.render import render_lab
from emulator.verify.prediction import predict

commands = typer.Typer()


@commands.command("list")
@handle_errors
def list_labs(as_json: JsonOpt = False) -> None:
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


@commands.command()
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
    text = renamed(shipped[source].read_text(), name, f"the shipped lab {source}")
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


@commands.command()
@handle_errors
def validate(lab: LabArg, variant: VariantOpt = None) -> None:
    """Check a lab file, every variant unless --variant; exit 2 with the field and what to
    do when it is wrong."""
    models = [load_lab(lab, variant)] if variant is not None else load_all_variants(lab)
    broken = [(model, problems) for model in models if (problems := predict(model))]
    if broken:
        # One error line (scripts read it), then each site pair and the link it lacks.
        count = sum(len(problems) for _, problems in broken)
        err.print(f"[bold red]error:[/] {escape(models[0].source)}: {count} site pair(s) "
                  "would not reach each other once deployed:", highlight=False,
                  soft_wrap=True, emoji=False)
        for model, problems in broken:
            where = f"variant {model.variant}: " if model.variant else ""
            for problem in problems:
                err.print(f"  {escape(where + str(problem))}", highlight=False,
                          soft_wrap=True, emoji=False)
        raise typer.Exit(2)
    for model in models:
        out.print(f"[green]ok[/] {model.name}"
                  + (f" (variant {escape(model.variant)})" if model.variant else "")
                  + f": {len(model.nodes)} routers, {len(model.links)} links, "
                  f"{len(model.sessions)} BGP sessions", emoji=False)


@commands.command()
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


@commands.command()
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


@commands.command()
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
