"""The lab as a picture: autonomous systems as clusters, routers by role, links by scope (the
inter-AS links stand out), BGP sessions drawn over them by address family.

Built from the lab model alone (no live routers needed), laid out by Graphviz's `dot`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import graphviz

from emulator.errors import LabError
from emulator.model.topology import Lab, Node

FORMATS = ("svg", "png", "dot")
SHAPES = {"ce": "box", "pe": "box", "p": "ellipse", "rr": "diamond", "asbr": "hexagon",
          "pe-asbr": "hexagon", "host": "plaintext", "csc-ce": "box"}
FILL = {"ce": "#fff4d6", "pe": "#d9ecff", "p": "#eeeeee", "rr": "#e6dcff", "asbr": "#ffe0e0",
        "pe-asbr": "#ffe0e0", "host": "#ffffff", "csc-ce": "#fff4d6"}
LINKS = {  # scope -> edge attributes
    "core": {"color": "#555555", "penwidth": "1.5"},
    "inter-as": {"color": "#c0392b", "penwidth": "3"},
    "attachment": {"color": "#999999", "penwidth": "1.2"},
    "site": {"color": "#999999", "penwidth": "1", "style": "dotted"},
}
FAMILIES = {  # address family -> colour of the session's dashed line
    "ipv4-vpn": "#1f6fd1",
    "ipv4-labeled-unicast": "#1e9e4a",
    "ipv4-unicast": "#e08a00",
}
SHORT = {"ipv4-vpn": "VPNv4", "ipv4-labeled-unicast": "IPv4+label", "ipv4-unicast": "IPv4"}


def node_label(node: Node) -> str:
    lines = [node.name, node.role.upper()]
    if node.loopback is not None:
        lines.append(str(node.loopback.ip))
    if node.site is not None:
        lines.append(f"{node.site.vpn} {node.site.prefix}")
    return r"\n".join(lines)  # DOT's centred line break


def to_dot(lab: Lab) -> graphviz.Graph:
    title = lab.title + (f" ({lab.variant})" if lab.variant else "")
    graph = graphviz.Graph(lab.name, graph_attr={
        "label": title, "labelloc": "t", "fontsize": "18", "rankdir": "LR",
        "fontname": "Helvetica", "nodesep": "0.4", "ranksep": "0.9"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    placed = set()
    for system in lab.autonomous_systems:
        members = [n for n in lab.nodes if n.asn == system.asn and n.role != "ce"]
        if not members:
            continue
        kind = "transit, " if system.transit else ""
        # Names like "AS #1" already say the number.
        named = "" if system.name.lstrip("AS #") == str(system.asn) else f" {system.name}"
        mpls = "/".join(system.label_distribution) or "no MPLS"
        with graph.subgraph(name=f"cluster_as{system.asn}") as cluster:
            cluster.attr(label=f"AS {system.asn}{named} ({kind}{system.igp}, {mpls})",
                         style="rounded", color="#7f8c8d", fontsize="12")
            for node in members:
                cluster.node(node.name, node_label(node), shape=SHAPES[node.role],
                             fillcolor=FILL[node.role])
                placed.add(node.name)
    for node in lab.nodes:  # CEs (and anything outside a provider AS) sit between clusters
        if node.name not in placed:
            graph.node(node.name, node_label(node), shape=SHAPES[node.role],
                       fillcolor=FILL[node.role])
    for link in lab.links:
        a, b = lab.node(link.a.node), lab.node(link.b.node)
        addresses = [i.address for n, end in ((a, link.a), (b, link.b))
                     for i in n.interfaces if i.name == end.interface]
        label = str(addresses[0].network) if addresses and addresses[0] else ""
        graph.edge(link.a.node, link.b.node, label=label, **LINKS.get(link.scope, {}))
    for session in lab.sessions:
        families = ", ".join(SHORT[f] for f in session.families)
        kind = ("eBGP" if session.ebgp else "iBGP") + (" multihop" if session.multihop else "")
        where = f" vrf {session.vrf}" if session.vrf else ""
        graph.edge(session.a, session.b, label=f"{kind}{where}: {families}", style="dashed",
                   color=FAMILIES[session.families[0]], fontcolor=FAMILIES[session.families[0]],
                   constraint="false")
    return graph


def write(lab: Lab, out: Path, fmt: str) -> Path:
    """Write the picture to ``out`` (its suffix is replaced by the format's)."""
    if fmt not in FORMATS:
        raise LabError(f"unknown picture format '{fmt}'", hint=f"one of: {', '.join(FORMATS)}")
    graph = to_dot(lab)
    target = out.with_suffix(f".{fmt}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        target.write_text(graph.source)
        return target
    if shutil.which("dot") is None:
        raise LabError("Graphviz's `dot` is not installed (it lays the picture out)",
                       hint="apt-get install graphviz (make setup does it), or use "
                            "--format dot and lay it out elsewhere")
    target.write_bytes(graph.pipe(format=fmt))
    return target
