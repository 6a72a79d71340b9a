"""One page for a trainee: the topology picture, the verify results, and per site prefix the
slide's walkthrough with the live labels drawn over the packet's path.

The page is static HTML (inline SVG, no script, no network): it opens from a file, on a
projector, or attached to a CI run. The walks come from `explain` (what the scenario
requires); the labels on them from a verify report (what the live routers held).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
import jinja2

from emulator.errors import LabError
from emulator.model.topology import Lab
from emulator.suites import reason_words
from emulator.training.explain import Walkthrough, story, walkthrough
from emulator.training.graph import to_dot

TEMPLATE = Path(__file__).with_name("report.html.j2")


@dataclass
class LiveWalk:
    """A walkthrough with what the live routers held along it (when a report is given)."""

    walk: Walkthrough
    labels: dict[str, object] = field(default_factory=dict)  # holder -> its VPN label
    stacks: dict[str, str] = field(default_factory=dict)  # "A→B" -> observed stack
    wire_check: str | None = None
    path_svg: str = ""


def svg(graph: graphviz.Graph | graphviz.Digraph) -> str:
    """The picture as inline SVG (without the XML prologue, which HTML does not take)."""
    text = graph.pipe(format="svg").decode()
    return text[text.index("<svg"):]


def path_picture(live: LiveWalk) -> graphviz.Digraph:
    """The packet's path left to right, each link labelled with its stack: the depth the
    scenario requires and, when known, the labels seen on the wire."""
    walk = live.walk
    graph = graphviz.Digraph(f"walk {walk.prefix}", graph_attr={
        "rankdir": "LR", "fontname": "Helvetica", "nodesep": "0.3"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box",
                   "style": "rounded,filled", "fillcolor": "#eef4fb"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    for link in walk.links:
        sender, receiver = (part.strip() for part in link["link"].split("→"))
        seen = live.stacks.get(f"{sender}→{receiver}")
        label = f"{link['labels']} label{'s' if link['labels'] != 1 else ''}: {link['what']}"
        if seen:
            label += f"\nseen: {seen}"
        graph.edge(sender, receiver, label=label,
                   color="#c0392b" if link["labels"] == 0 else "#1f6fd1")
    return graph


def walk_checks(walk: Walkthrough, destination: str) -> tuple[list[str], str | None]:
    """The names of the checks that observe a walk: the VPNv4 route on each holder, and the
    capture of a packet along its path (when verify captures that very path)."""
    routes = [f"{holder.router}: {walk.rd}:{walk.prefix}" for holder in walk.holders]
    wire = f"{walk.packet_from} → {destination} ({walk.vpn})" if walk.packet_from else None
    return routes, wire


def live_walk(walk: Walkthrough, destination: str, results: dict | None) -> LiveWalk:
    """``walk`` with the labels the live routers held and the stacks seen on the wire, from
    a verify report (its checks' observed values)."""
    checks = {c["name"]: c for c in (results or {}).get("checks", [])}
    live = LiveWalk(walk)
    routes, wire = walk_checks(walk, destination)
    for holder, name in zip(walk.holders, routes, strict=True):
        if isinstance(checks.get(name, {}).get("observed"), dict):
            live.labels[holder.router] = checks[name]["observed"].get("label")
    if wire in checks and isinstance(checks[wire].get("observed"), dict):
        live.wire_check = wire
        live.stacks = {k: str(v) for k, v in checks[wire]["observed"].items()}
    return live


def live_walks(lab: Lab, results: dict | None) -> list[LiveWalk]:
    walks = []
    for ce in lab.sites():
        live = live_walk(walkthrough(lab, str(ce.site.prefix)), str(ce.site.address.ip),
                         results)
        if live.walk.links:
            live.path_svg = svg(path_picture(live))
        walks.append(live)
    return walks


def render(lab: Lab, results: dict | None) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    checks = (results or {}).get("checks", [])
    return environment.get_template(TEMPLATE.name).render(
        lab=lab, told=story(lab), topology=svg(to_dot(lab)), results=results,
        passed=sum(1 for c in checks if c["passed"]), checks=checks,
        walks=live_walks(lab, results), show=show, reason_words=reason_words)


def show(value: object) -> str:
    """A check's expected or observed value, compactly."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) or "(none)"
    return str(value)


def load_results(path: Path, lab: Lab) -> dict:
    """A report written by `mplslab verify --json`, for this lab."""
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LabError(f"cannot read the verify report {path}: {exc}",
                       hint="give a file written by `mplslab verify LAB --json FILE`") from None
    if not isinstance(results, dict) or not isinstance(results.get("checks"), list):
        raise LabError(f"{path} is not a verify report",
                       hint="give a file written by `mplslab verify LAB --json FILE`")
    if results.get("lab") != lab.name or results.get("variant") != lab.variant:
        raise LabError(f"{path} reports lab {results.get('lab')} "
                       f"({results.get('variant') or 'default variant'}), not {lab.name} "
                       f"({lab.variant or 'default variant'})",
                       hint="verify this lab with --json, or pick its variant with --variant")
    return results


def write(lab: Lab, results: dict | None, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(render(lab, results))
    return page
