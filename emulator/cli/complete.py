"""Shell completion of what the commands take: labs (shipped, the user's, running), a lab's
routers and their links by their ends (PE-2:P-2), a router's interfaces, a lab's exercises.

typer calls these for `--install-completion`'s scripts (`_MPLSLAB_COMPLETE`); it keeps the
choices that start with what was typed. A completion never fails: whatever goes wrong
(a lab that does not load, a damaged state) offers nothing. The model is read only when
asked: `mplslab --help` imports nothing of this.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from emulator.model.topology import Lab


def quietly(compute):
    """The choices ``compute`` gives, or none when it fails."""
    try:
        return compute()
    except Exception:  # a completion offers nothing rather than an error
        return []


def labs(incomplete: str) -> list[tuple[str, str]]:
    """Lab names: the shipped labs and the user's, with their origin, then running ones."""
    def compute():
        from emulator.model.loader import lab_files
        from emulator.runtime.state import LabState

        found = {path.stem: origin for origin, path in lab_files()}
        found.update({name: "running" for name in LabState.names() if name not in found})
        return list(found.items())
    return quietly(compute)


def running_labs(incomplete: str) -> list[str]:
    def compute():
        from emulator.runtime.state import LabState

        return LabState.names()
    return quietly(compute)


def lab_of(ctx: click.Context) -> Lab | None:
    """The model of the lab named on the command line: as deployed when it is up."""
    from emulator import lifecycle

    lab = ctx.params.get("lab")
    if not lab:
        return None
    return lifecycle.model_of(lab, ctx.params.get("variant"))[0]


def routers_running(ctx: click.Context) -> list[str]:
    """A running lab's routers, from its rendered lab.json (no model to load)."""
    from emulator.runtime.state import LabState, lab_name_of

    state = LabState.load(lab_name_of(ctx.params["lab"]))
    return json.loads((Path(state.rendered) / "lab.json").read_text())["nodes"]


def routers(ctx: click.Context, incomplete: str) -> list[str]:
    """A lab's routers; once a ':' is typed, that router's links by their ends."""
    def compute():
        if ":" not in incomplete:
            return routers_running(ctx)
        model = lab_of(ctx)
        return model.link_names(incomplete.partition(":")[0]) if model else []
    return quietly(compute)


def router_names(ctx: click.Context, incomplete: str) -> list[str]:
    """A running lab's routers (as many as wanted: save, diff)."""
    return quietly(lambda: [n for n in routers_running(ctx)
                            if n not in (ctx.params.get("nodes") or [])])


def interfaces(ctx: click.Context, incomplete: str) -> list[tuple[str, str]]:
    """The interfaces of the router named before (by the lab's names, with their peer),
    then the routers at their other ends."""
    def compute():
        model = lab_of(ctx)
        where = ctx.params.get("where") or ""
        if model is None or ":" in where:
            return []
        node = model.router(where)
        ends = [model.named_end(node, i) for i in node.interfaces]
        return ([(e.interface, f"to {e.peer} {e.peer_interface}" if e.peer else "")
                 for e in ends]
                + [(e.peer, f"its {e.interface}") for e in ends if e.peer])
    return quietly(compute)


def exercises(ctx: click.Context, incomplete: str) -> list[tuple[str, str]]:
    """The exercises of the lab named before, with what each breaks."""
    def compute():
        from emulator.training.exercises import exercises as of

        model = lab_of(ctx)
        return [(e.name, e.title) for e in of(model)] if model else []
    return quietly(compute)
