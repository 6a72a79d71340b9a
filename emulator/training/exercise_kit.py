"""What an exercise is, and how the changes it types into a router are rendered (one FRR
template per change under ``templates/frr/exercise_*.j2``, with ``fix`` false to break and
true to mend), with the topology questions several exercises ask."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from emulator.model.topology import BgpNeighbor, Lab, Node
from emulator.render.templates import environment
from emulator.suites import frr
from emulator.verify.checks import KINDS


@dataclass
class Change:
    router: str
    lines: list[str]  # configuration commands, typed in order after `configure terminal`
    command: list[str] = field(default_factory=list)  # or a program run in the router


@dataclass
class Exercise:
    name: str
    title: str
    symptom: str  # what the trainee is told at the start
    hint: str  # given when a check still fails
    why: str  # the solution's explanation
    fails: list[str]  # kinds of checks that must fail while the lab is broken
    breaks: list[Change]
    fixes: list[Change]

    def as_dict(self) -> dict:
        return asdict(self)


def change(node: Node, template: str, fix: bool, **context) -> Change:
    """The lines a template tells ``node`` (``asn``: the number its BGP speaks, which may
    differ from its region's, option 4 same-as)."""
    text = environment(frr.NAME).get_template(template).render(
        node=node, fix=fix, asn=node.bgp_asn, **context)
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("!")]
    return Change(node.name, lines)


def both(node: Node, template: str, **context) -> tuple[list[Change], list[Change]]:
    return ([change(node, template, False, **context)],
            [change(node, template, True, **context)])


def crossing_sessions(lab: Lab) -> list[tuple[Node, BgpNeighbor]]:
    """The BGP sessions on the links between provider ASes, from the lower AS's side."""
    found = []
    for node in lab.nodes:
        for instance in node.bgp:
            for neighbor in instance.neighbors:
                peer = lab.node(neighbor.peer)
                crossing = any(i.scope == "inter-as" for i in node.towards(peer.name))
                if crossing and node.asn < peer.asn:
                    found.append((node, neighbor))
    return found


def carrier_attachments(lab: Lab) -> list[tuple[Node, BgpNeighbor]]:
    """The first customer carrier's CSC-CEs and their labelled session to the backbone PE,
    last site first (the slides' walkthrough starts behind the second site)."""
    carrier = next((a.asn for a in lab.autonomous_systems if a.carrier_vpn), None)
    return [(node, neighbor) for node in reversed(lab.nodes)
            if node.role == "csc-ce" and node.asn == carrier
            for neighbor in node.core_bgp.neighbors
            if neighbor.ebgp and "ipv4-labeled-unicast" in neighbor.families]


def speaks_frr_bgp(node: Node) -> bool:
    """Whether ``node``'s BGP takes typed FRR configuration (BIRD's takes none)."""
    return node.suites.get("bgp") == frr.NAME and bool(node.bgp)


def vpn_neighbors(node: Node) -> list[BgpNeighbor]:
    return node.core_bgp.family("ipv4-vpn") if node.core_bgp else []


def lu_neighbors(node: Node) -> list[BgpNeighbor]:
    return node.core_bgp.family("ipv4-labeled-unicast") if node.core_bgp else []


def originates_loopback(node: Node) -> bool:
    """Whether ``node`` puts its own loopback into labelled unicast (a PE's or an RR's, the
    BGP next hops of Options C and 4)."""
    return bool(node.loopback and node.core_bgp and lu_neighbors(node)
                and node.loopback.network in node.core_bgp.networks)


def phase_order(kinds: list[str]) -> list[str]:
    return sorted(dict.fromkeys(kinds), key=KINDS.index)
