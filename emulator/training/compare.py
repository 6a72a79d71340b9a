"""The options side by side: where the VPN routes live, what crosses the AS boundary (routes
and labels), what each border router holds, and how much the ASes must trust each other.

The first three are derived from the shipped labs' models by the verifier's semantics (the
same rules `verify` checks the live routers against), so the table follows the labs; the
trust between the ASes is no property of a model: it is stated here, from the slides where
they say it. docs/training.md carries the table as `python -m emulator.training.compare`
prints it (a unit test keeps the two equal); the HTML report shows it too.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import asdict, dataclass

from emulator.model.build import load_lab
from emulator.model.topology import Lab, Node
from emulator.verify.semantics import (
    CarrierSupportingCarrier,
    Hop,
    Semantics,
    semantics_for,
)

# The shipped lab each row is derived from, in the order of the slides.
LABS = ["option1", "option2", "option3", "option4", "csc-ip", "csc-mpls", "csc-vpn"]

TITLES = {
    "option1": "Option 1 (A): back-to-back VRFs",
    "option2": "Option 2 (B): MP-eBGP VPNv4 between the ASBRs",
    "option3": "Option 3 (C): multihop MP-eBGP between the RRs",
    "option4": "Option 4: non-VPN transit provider",
    "csc-ip": "Carrier's carrier, ISP without MPLS",
    "csc-mpls": "Carrier's carrier, ISP with MPLS",
    "csc-vpn": "Carrier's carrier, ISP with MPLS VPNs",
}

# How much the ASes must trust each other: stated, not derived ("…" quotes the slides).
TRUST = {
    "option1": "Least: \"each PE-ASBR router treats the other as a CE\"; only IP routes, per "
               "VRF, cross the boundary and no label from the other AS is accepted. The price "
               "is one VRF, sub-interface and session per VPN at the boundary.",
    "option2": "Some: the ASBRs accept VPNv4 routes and their labels from each other (\"next-hop "
               "and labels are rewritten\" at the boundary) and must agree on route targets; "
               "packets from the other AS carry only labels the receiving ASBR allocated.",
    "option3": "Most: each AS carries the other's PE loopbacks with labels (\"only PE loopback "
               "addresses exchanged\") and the other AS's PEs push its PEs' VPN labels end to "
               "end, beneath an LU label the ASBRs swap without looking: in practice ASes of "
               "one operator or close partners.",
    "option4": "As Option 3 between the two VPN providers, who also trust the transit to switch "
               "their labels; the transit sees no VPN route and \"is not part of the AS path\".",
    "csc-ip": "The backbone must not trust the customer carrier's labels: \"the PE must "
              "control that labels used by the CE are associated to IP routes present in the "
              "PE/CE VRF\" (here the label guard); the carrier gives it only its internal "
              "routes, never its external ones.",
    "csc-mpls": "As csc-ip: the PE admits from each CSC-CE only the labels it advertised to it "
                "(\"label security in order to prevent label spoofing\").",
    "csc-vpn": "As csc-ip; the ISP's own VPN labels ride below the backbone's, which never "
               "reads them: the ISP's customers trust the ISP, the ISP trusts the backbone "
               "with its loopbacks only.",
}

ROLES = {"pe": "PEs", "p": "P routers", "rr": "RRs", "asbr": "ASBRs", "pe-asbr": "PE-ASBRs",
         "csc-ce": "CSC-CEs", "ce": "CEs", "host": "hosts"}
FAMILIES = {"ipv4-unicast": "IPv4", "ipv4-vpn": "VPNv4",
            "ipv4-labeled-unicast": "labelled IPv4"}


@dataclass(frozen=True)
class OptionFacts:
    lab: str
    scenario: str
    option: str
    vpn_routes: str  # derived
    boundary: str  # derived: the routes and the labels that cross the AS boundary
    border_holds: str  # derived: what each router at the boundary holds
    trust: str  # stated (the slides, where they say it)

    def as_dict(self) -> dict:
        return asdict(self)


def roles(lab: Lab, names) -> str:
    counted = Counter(lab.node(n).role for n in names)
    return and_join([ROLES.get(role, role) for role in
                     sorted(counted, key=lambda r: list(ROLES).index(r) if r in ROLES else 99)])


def and_join(words: list[str]) -> str:
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def providers(lab: Lab) -> set[int]:
    """The provider ASes (not the customers' own)."""
    return {a.asn for a in lab.autonomous_systems if not a.customer}


def boundary_routers(lab: Lab) -> list[Node]:
    """Provider routers with a link into another provider AS (the carrier labs: the CSC-CEs
    and the backbone's PEs)."""
    own = providers(lab)
    return [n for n in lab.nodes if n.asn in own and any(
        i.peer and lab.node(i.peer.node).asn in own and lab.node(i.peer.node).asn != n.asn
        for i in n.interfaces)]


def vpn_routes(lab: Lab, semantics: Semantics) -> str:
    if isinstance(semantics, CarrierSupportingCarrier):
        sites = semantics.sites
        holders = {v.holder for s in sites for p in s.internal
                   for v in semantics.internal_views(s, p)}
        loopbacks = len({(s.vpn, p) for s in sites for p in s.internal})
        told = (f"the backbone's VPNv4 ({roles(lab, holders)}) holds the customer carriers' "
                f"{plural(loopbacks, 'internal route')} (their loopbacks), nothing else")
        own = {v.holder for ce in lab.sites() for v in semantics.vpn_views(ce.name)}
        if own:
            told += (f"; the ISP's own VPN lives on its {roles(lab, own)}, above the "
                     "backbone's")
        return told + "; external routes (N): the carrier's iBGP only"
    holders = {v.holder for ce in lab.sites() for v in semantics.vpn_views(ce.name)}
    told = f"VPNv4 on the {roles(lab, holders)}"
    vrfs = sorted({n.name for n in boundary_routers(lab) if any(
        i.vrf for i in n.interfaces if i.peer and lab.node(i.peer.node).asn != n.asn)})
    if vrfs:
        told += (f", each AS its own VPN; plain IPv4 in a VRF per VPN on the boundary "
                 f"({and_join(vrfs)})")
    else:
        told += " only"
    absent = semantics.vpn_absent_on()
    transit = [a for a in lab.autonomous_systems if a.transit]
    if absent:
        told += f"; none on the {roles(lab, absent)}"
        if transit:
            told += f" (the whole transit AS {', '.join(str(a.number) for a in transit)})"
    return told


def crossing(lab: Lab, hops: list[Hop]) -> list[Hop]:
    own = providers(lab)
    return [h for h in hops if lab.node(h.sender).asn != lab.node(h.receiver).asn
            and {lab.node(h.sender).asn, lab.node(h.receiver).asn} <= own]


def sample_path(lab: Lab, semantics: Semantics) -> list[Hop]:
    """The path the table reads the labels off: the first VPN's walk between sites (as
    `explain` walks it), else a carrier's traffic to its first external prefix."""
    from emulator.training.explain import walkthrough
    from emulator.verify.carrier import externals

    for ce in lab.sites():
        walk = walkthrough(lab, str(ce.site.prefix))
        if walk.packet_from:
            return semantics.wire_path(walk.packet_from, ce.name)
    for node in externals(lab):
        walk = walkthrough(lab, node.name)
        if walk.packet_from:
            return semantics.external_path(walk.packet_from, node.name)
    return []


def boundary(lab: Lab, semantics: Semantics) -> str:
    own = providers(lab)
    sessions: dict[str, dict] = {}  # one entry per session, both ends' settings merged
    for node in lab.nodes:
        for instance in node.bgp:
            for neighbor in instance.neighbors:
                peer = lab.node(neighbor.peer)
                if not neighbor.ebgp or peer.asn == node.asn or not {node.asn, peer.asn} <= own:
                    continue
                told = sessions.setdefault(neighbor.session, {
                    "families": "/".join(FAMILIES.get(f, f) for f in neighbor.families),
                    "pair": and_join(sorted({ROLES[node.role], ROLES[peer.role]})),
                    "vrf": False, "multihop": False})
                told["vrf"] |= instance.vrf is not None
                told["multihop"] |= bool(neighbor.ebgp_multihop)
    carrier = isinstance(semantics, CarrierSupportingCarrier)
    routes = dict.fromkeys(
        f"{s['families']} (eBGP between the {s['pair']}"
        + (" in the PE's VRF" if s["vrf"] and carrier else " per VRF" if s["vrf"] else
           ", multihop" if s["multihop"] else "") + ")" for s in sessions.values())
    labels = []
    for hop in crossing(lab, sample_path(lab, semantics)):
        what = hop.note.split(" (")[0] if hop.depth else "plain IP"
        labels.append(f"{hop.sender} → {hop.receiver}: {what} "
                      f"({plural(hop.depth, 'label')})")
    return (f"Routes: {'; '.join(routes) or 'none'}. "
            f"Labels: {'; '.join(labels) or 'none'}")


def holds(lab: Lab, semantics: Semantics, node: Node) -> str:
    """What one boundary router holds: its VRFs, VPNv4 routes and labelled loopbacks."""
    parts = []
    if isinstance(semantics, CarrierSupportingCarrier):
        sites = semantics.sites
        if node.role == "csc-ce":
            mine = [s for s in sites if s.asn == node.asn]
            count = len({p for s in mine for p in s.internal})
            told = f"its carrier's {plural(count, 'loopback')} as labelled IPv4"
            if node.core_bgp and any(not n.ebgp for n in node.core_bgp.family("ipv4-unicast")):
                told += ", and the carrier's external routes (N) over its iBGP"
            return told
        for vrf in node.vrfs:
            count = len({p for s in sites if s.vpn == vrf.name for p in s.internal})
            parts.append(f"{vrf.name} ({plural(count, 'loopback')})")
        return f"a VRF per customer carrier, {', '.join(parts)}; no external route"
    inter_as_vrfs = sorted({i.vrf for i in node.interfaces if i.vrf and i.peer
                            and lab.node(i.peer.node).asn != node.asn})
    if inter_as_vrfs:
        parts.append(f"a VRF and sub-interface per VPN ({', '.join(inter_as_vrfs)})")
    views = [{v.holder: v for v in semantics.vpn_views(ce.name)} for ce in lab.sites()]
    held = [v[node.name] for v in views if node.name in v]
    parts.append(f"the VPNv4 routes of all {len(held)} site prefixes"
                 if held and len(held) == len(views) else
                 plural(len(held), "VPNv4 route") if held else "no VPN route")
    exported = [v for v in held if v.next_hop is None]
    swapped = [v for v in held if v.next_hop is not None and any(
        other.allocator == node.name for other in views[held.index(v)].values())]
    if exported:
        parts.append(f"{len(exported)} of them re-exported from its VRFs with a label of "
                     "its own")
    if swapped:
        parts.append(f"{'each' if len(swapped) == len(held) else len(swapped)} with a label "
                     "of its own and an LFIB swap")
    loopbacks = [o for o in semantics.labelled_loopbacks()
                 if node.name in semantics.spread(o, "ipv4-labeled-unicast")]
    if loopbacks:
        parts.append(f"{plural(len(loopbacks), 'labelled loopback')} "
                     f"({roles(lab, [o.name for o in loopbacks])})")
    return ", ".join(parts)


def border_holds(lab: Lab, semantics: Semantics) -> str:
    grouped: dict[str, list[str]] = {}
    for node in boundary_routers(lab):
        grouped.setdefault(holds(lab, semantics, node), []).append(node.name)
    return "; ".join(f"{', '.join(names)}: {what}" for what, names in grouped.items())


def facts(lab: Lab) -> OptionFacts:
    semantics = semantics_for(lab)
    return OptionFacts(lab=lab.name, scenario=lab.scenario,
                       option=TITLES.get(lab.name, lab.title),
                       vpn_routes=vpn_routes(lab, semantics),
                       boundary=boundary(lab, semantics),
                       border_holds=border_holds(lab, semantics),
                       trust=TRUST.get(lab.scenario, ""))


@functools.cache
def comparison() -> tuple[OptionFacts, ...]:
    """One row per shipped lab, each from its default variant."""
    return tuple(facts(load_lab(name)) for name in LABS)


HEADERS = ["option", "lab", "where the VPN routes live", "what crosses the AS boundary",
           "what each border router holds", "how much the ASes must trust each other"]


def markdown() -> str:
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731
    rows = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in comparison():
        rows.append("| " + " | ".join(cell(c) for c in (
            row.option, f"`{row.lab}`", row.vpn_routes, row.boundary, row.border_holds,
            row.trust)) + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
