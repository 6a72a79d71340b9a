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
from emulator.training.compare import HEADERS, comparison
from emulator.training.explain import Walkthrough, story, walkthrough
from emulator.training.graph import to_dot
from emulator.verify.carrier import externals

TEMPLATE = Path(__file__).with_name("report.html.j2")


@dataclass
class LiveWalk:
    """A walkthrough with what the live routers held along it (when a report is given)."""

    walk: Walkthrough
    labels: dict[str, object] = field(default_factory=dict)  # holder -> its VPN label
    stacks: dict[str, str] = field(default_factory=dict)  # "A→B" -> observed stack
    wire_check: str | None = None
    path_svg: str = ""
    # router -> the label it pushes towards the loopback of the walk's next hop (the
    # labelled-unicast chain of Options 3 and 4, the carrier's swaps at the backbone's PEs)
    loopback_labels: dict[str, object] = field(default_factory=dict)


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


def walk_checks(walk: Walkthrough, destination: str | None = None
                ) -> tuple[list[str], str | None]:
    """The names of the checks that observe a walk: the VPNv4 route on each holder, and the
    capture of a packet along its path (when verify captures that very path)."""
    destination = destination or walk.address
    route = walk.route or f"{walk.rd}:{walk.prefix}"
    routes = [f"{holder.router}: {route}" for holder in walk.holders]
    if not walk.packet_from:
        return routes, None
    if walk.kind == "carrier":
        return routes, f"{walk.packet_from} → {destination} (N behind {walk.site})"
    return routes, f"{walk.packet_from} → {destination} ({walk.vpn})"


def loopback_checks(walk: Walkthrough) -> dict[str, tuple[str, str]]:
    """For each router of the walk's loopback level, the check that reads the label it
    pushes towards the loopback, and the key of that label in the check's observed value:
    the labelled-unicast chain (emulator/verify/expectations.py labeled_unicast_checks), or
    the carrier's VPNv4 routes and the PEs' swaps (emulator/verify/carrier.py)."""
    level = walk.loopback
    if level is None:
        return {}
    found = {}
    if level.kind == "labelled-unicast":
        for holder in level.holders:
            if holder.label_from:
                found[holder.router] = (f"{level.prefix}: {holder.router} pushes "
                                        f"{holder.label_from}'s LU label", "pushed")
        return found
    backbone = {h.router: h.label_from for h in level.holders if h.table == "vpnv4"}
    for holder in level.holders:
        if holder.table == "vpnv4":
            found[holder.router] = (f"{holder.router}: {level.rd}:{level.prefix}", "label")
        elif holder.table == "vrf":
            found[holder.router] = (f"{holder.router}: VPN label of {level.prefix} swaps "
                                    f"towards {holder.label_from}",
                                    f"{holder.label_from}'s label")
        elif holder.table == "lu" and holder.label_from in backbone:
            found[holder.router] = (
                f"{level.prefix}: {holder.label_from} swaps {holder.router}'s label onto "
                f"{backbone[holder.label_from]}'s VPN label", f"{holder.router} pushes")
    return found


def check_names(walk: Walkthrough) -> set[str]:
    """Every check a live walk reads (`explain` on a running lab runs just these)."""
    routes, wire = walk_checks(walk)
    return {*routes, *([wire] if wire else []),
            *(name for name, _ in loopback_checks(walk).values())}


def observed(checks: dict[str, dict], name: str) -> dict | None:
    value = checks.get(name, {}).get("observed")
    return value if isinstance(value, dict) else None


def live_walk(walk: Walkthrough, destination: str | None, results: dict | None) -> LiveWalk:
    """``walk`` with the labels the live routers held and the stacks seen on the wire, from
    a verify report (its checks' observed values)."""
    checks = {c["name"]: c for c in (results or {}).get("checks", [])}
    live = LiveWalk(walk)
    routes, wire = walk_checks(walk, destination)
    for holder, name in zip(walk.holders, routes, strict=True):
        if (seen := observed(checks, name)) is not None:
            live.labels[holder.router] = seen.get("label")
    for router, (name, key) in loopback_checks(walk).items():
        if (seen := observed(checks, name)) is not None and key in seen:
            live.loopback_labels[router] = seen[key]
    if wire and (seen := observed(checks, wire)) is not None:
        live.wire_check = wire
        live.stacks = {k: str(v) for k, v in seen.items()}
    return live


def walked(lab: Lab) -> list[Walkthrough]:
    """The walks of a lab: to every customer site's prefix, and (carrier labs) to every
    customer carrier's external prefix that another of its sites sends to."""
    walks = [walkthrough(lab, str(ce.site.prefix)) for ce in lab.sites()]
    for node in externals(lab):
        walk = walkthrough(lab, node.name)
        if walk.packet_from:
            walks.append(walk)
    return walks


def live_walks(lab: Lab, results: dict | None) -> list[LiveWalk]:
    walks = []
    for walk in walked(lab):
        live = live_walk(walk, walk.address, results)
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
        walks=live_walks(lab, results), show=show, reason_words=reason_words,
        compared=comparison(), compared_headers=HEADERS)


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
