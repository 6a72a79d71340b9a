"""The slides' walkthrough of a lab, from the lab model and its option's rules: for a site
prefix, which router holds its VPNv4 route with which next hop and whose label (and where
next hop and label are rewritten), and the label stack on every link a packet to it crosses.

It says what the scenario requires, from the same rules `verify` checks the live routers
against (emulator/verify/semantics.py): a trainee reads it beside the slide, then runs
`mplslab verify` to see the live routers hold exactly that.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass

from emulator.errors import LabError
from emulator.model.topology import Lab, Node
from emulator.suites import reason_words
from emulator.verify.prediction import predict
from emulator.verify.semantics import Hop, Semantics, VpnView, semantics_for


@dataclass
class Holder:
    router: str
    next_hop: str
    label_from: str
    rewrites: str | None
    as_path: str | None


@dataclass
class Walkthrough:
    lab: str
    variant: str | None
    prefix: str
    vpn: str
    rd: str
    route_targets: list[str]
    site: str  # the CE behind which the prefix lives
    origin: str  # the PE that exports it
    holders: list[Holder]
    absent_on: list[str]
    packet_from: str | None
    links: list[dict]
    # Settings the model derived on the routers of the walk, and why (the builder's reasons,
    # in the words of the suite that implements each).
    settings: dict[str, list[dict]]

    def as_dict(self) -> dict:
        return asdict(self)


def find_site(lab: Lab, what: str) -> Node:
    """A site by its prefix, an address inside it, or its CE's name."""
    if not lab.sites():
        raise LabError(f"lab {lab.name} has no VPN customer site to walk: its VPNs carry "
                       "carriers' internal routes (carrier supporting carrier)",
                       hint=f"mplslab verify {lab.name} --kind wire-labels shows the label "
                            "stack on every link of the slides' walk; docs/labs/csc.md walks "
                            "it with the commands")
    for ce in lab.sites():
        if what == ce.name:
            return ce
    try:
        address = ipaddress.ip_network(what, strict=False)
    except ValueError:
        address = None
    for ce in lab.sites():
        if address is not None and address.subnet_of(ce.site.prefix):
            return ce
    known = ", ".join(f"{c.site.prefix} ({c.name})" for c in lab.sites())
    raise LabError(f"{what} is not a site of lab {lab.name}",
                   hint=f"give a site prefix, an address in one, or a CE: {known}")


def rewrite_reason(lab: Lab, views: list[VpnView], view: VpnView, origin: Node) -> str | None:
    """Why the label ``view`` carries is not the origin PE's: the session on which its
    allocator re-advertised the route with itself as next hop (Option B)."""
    if view.allocator == origin.name:
        return None
    allocator = lab.node(view.allocator)
    own = next((v for v in views if v.holder == allocator.name), None)
    if own is not None and own.next_hop is None:
        return (f"{allocator.name} learned it as plain IP in its VRF {view.vpn} (back to back "
                f"with the other AS) and exports it into AS {allocator.asn}'s VPN with a label "
                "of its own")
    receivers = {v.holder for v in views if v.allocator == allocator.name
                 and v.holder != allocator.name}
    why = []
    for neighbor in (allocator.core_bgp.family("ipv4-vpn") if allocator.core_bgp else []):
        if neighbor.peer not in receivers:
            continue
        if neighbor.next_hop_self:
            why.append(f"next-hop-self towards {neighbor.peer}")
        elif neighbor.ebgp and not neighbor.next_hop_unchanged:
            why.append(f"eBGP to {neighbor.peer}")
    return (f"{allocator.name} re-advertised it with itself as next hop and a label of its "
            f"own ({', '.join(why) or 'next hop changed'}); its LFIB swaps that label to the "
            "one it received")


def hop_line(hop: Hop) -> dict:
    return {"link": f"{hop.sender} → {hop.receiver}", "interface": hop.interface,
            "labels": hop.depth, "what": hop.note or "plain IP"}


def packet_source(semantics: Semantics, destination: Node, chosen: str | None) -> Node | None:
    """The site a packet is sent from: ``chosen``, else a site of the same VPN on another PE."""
    lab = semantics.lab
    if chosen is not None:
        source = find_site(lab, chosen)
        if source.site.vpn != destination.site.vpn:
            raise LabError(f"{source.name} is in {source.site.vpn}, not "
                           f"{destination.site.vpn}: it cannot reach {destination.site.prefix}",
                           hint="pick a site of the same VPN with --from")
        return source
    target_pe = semantics.lab.pe_of(destination.name).name
    for ce in lab.sites():
        if ce.site.vpn == destination.site.vpn and semantics.lab.pe_of(ce.name).name != target_pe:
            return ce
    return None


def refuse_broken(lab: Lab, source: str, destination: str) -> None:
    """A walk the lab cannot do (the model predicts the pair broken) is no walk: the slides'
    rules assume the chain is whole."""
    for problem in predict(lab):
        if (problem.sites[0].node, problem.sites[1].node) == (source, destination):
            raise LabError(f"{lab.source}: {problem}",
                           hint="mplslab validate lists what the lab lacks")


def walkthrough(lab: Lab, what: str, source: str | None = None) -> Walkthrough:
    semantics = semantics_for(lab)
    ce = find_site(lab, what)
    origin = semantics.lab.pe_of(ce.name)
    vpn = lab.vpn(ce.site.vpn)
    holders = []
    # The origin's AS first, and in each AS the router that exports the route into its VPN
    # (an Option A PE-ASBR re-exports it from its VRF) before those that learn it.
    views = sorted(semantics.vpn_views(ce.name),
                   key=lambda v: (lab.node(v.holder).asn != origin.asn, v.next_hop is not None))
    for view in views:
        next_hop = (f"{view.next_hop} ({view.next_hop_router})" if view.next_hop
                    else f"itself (exports it from VRF {view.vpn})")
        as_path = None
        if view.as_path is not None:
            as_path = " ".join(map(str, view.as_path)) or "(empty)"
            if view.never_in_path:
                as_path += f", never AS {', '.join(map(str, view.never_in_path))}"
        holders.append(Holder(view.holder, next_hop, view.allocator,
                              rewrite_reason(lab, views, view, origin), as_path))
    sender = packet_source(semantics, ce, source)
    if sender is not None:
        refuse_broken(lab, sender.name, ce.name)
    hops = semantics.wire_path(sender.name, ce.name) if sender is not None else []
    links = [hop_line(h) for h in hops]
    on_walk = [*(h.router for h in holders), *(h.sender for h in hops)]
    settings = {name: [words._asdict() for reason in lab.node(name).reasons
                       for words in reason_words(lab.node(name), reason)]
                for name in dict.fromkeys(on_walk) if lab.node(name).reasons}
    return Walkthrough(lab=lab.name, variant=lab.variant, prefix=str(ce.site.prefix),
                       vpn=vpn.name, rd=vpn.rd, route_targets=list(vpn.export_targets),
                       site=ce.name, origin=origin.name, holders=holders,
                       absent_on=semantics.vpn_absent_on(),
                       packet_from=sender.name if sender else None, links=links,
                       settings=settings)


def story(lab: Lab) -> dict:
    """The lab in a few lines per VPN: its sites, RD and RTs, and for each site the routers a
    packet from another site crosses and the deepest label stack on the way."""
    semantics = semantics_for(lab)
    unreachable = predict(lab)
    broken = {(p.sites[0].node, p.sites[1].node) for p in unreachable}
    vpns = []
    for vpn in lab.vpns:
        members = [c for c in lab.sites() if c.site.vpn == vpn.name]
        paths = []
        for ce in members:
            sender = packet_source(semantics, ce, None)
            if sender is None or (sender.name, ce.name) in broken:
                continue
            hops = semantics.wire_path(sender.name, ce.name)
            routers = [hops[0].sender, *(h.receiver for h in hops)] if hops else []
            paths.append({"from": sender.name, "to": f"{ce.site.prefix} ({ce.name})",
                          "routers": routers, "deepest_stack": max(
                              (h.depth for h in hops), default=0)})
        vpns.append({"vpn": vpn.name, "rd": vpn.rd, "import": vpn.import_targets,
                     "export": vpn.export_targets,
                     "sites": [{"ce": c.name, "prefix": str(c.site.prefix),
                                "pe": semantics.lab.pe_of(c.name).name} for c in members],
                     "paths": paths})
    return {"lab": lab.name, "variant": lab.variant, "title": lab.title,
            "description": lab.description, "deviations": lab.deviations, "vpns": vpns,
            # What the model predicts will not work once deployed (mplslab validate).
            "unreachable": [str(problem) for problem in unreachable]}
