"""The slides' walkthrough of a lab, from the lab model and its option's rules: for a site
prefix, which router holds its VPNv4 route with which next hop and whose label (and where
next hop and label are rewritten), and the label stack on every link a packet to it crosses.

Below the VPN route, the walk follows the path to its BGP next hop where the slides do:
Options 3 and 4 carry the PE loopbacks as labelled unicast (the ASBRs allocate the labels
the slides call L2, L3, ...); a customer carrier's loopbacks cross the backbone as VPNv4
routes of its VPN (carrier supporting carrier). For a carrier lab the walk is the carrier's
own traffic: from one site's external prefix to another site's network N.

It says what the scenario requires, from the same rules `verify` checks the live routers
against (emulator/verify/semantics.py): a trainee reads it beside the slide, then runs
`mplslab verify` to see the live routers hold exactly that.
"""

from __future__ import annotations

from emulator.errors import LabError
from emulator.model.topology import Lab, Node
from emulator.training.loopbacks import (
    carrier_loopback_walk,
    labelled_loopbacks,
    labelled_unicast_walk,
)
from emulator.training.walks import (
    Destination,
    Holder,
    LoopbackHolder,
    LoopbackWalk,
    Walkthrough,
    as_network,
    hop_line,
    next_hop_words,
    settings_on,
    slide_names,
)
from emulator.verify.carrier import backbone, external_address, externals
from emulator.verify.prediction import predict
from emulator.verify.semantics import (
    BackToBackVrfs,
    CarrierSite,
    CarrierSupportingCarrier,
    Hop,
    MultihopBetweenRrs,
    Semantics,
    VpnView,
    semantics_for,
)


def find_site(lab: Lab, what: str) -> Node:
    """A site by its prefix, an address inside it, or its CE's name."""
    if not lab.sites():
        raise LabError(f"lab {lab.name} has no VPN customer site to walk: its VPNs carry "
                       "carriers' internal routes (carrier supporting carrier)",
                       hint=f"mplslab explain {lab.name} NETWORK walks a carrier's external "
                            "prefix; docs/labs/csc.md walks it with the commands")
    for ce in lab.sites():
        if what == ce.name:
            return ce
    address = as_network(what)
    for ce in lab.sites():
        if address is not None and address.subnet_of(ce.site.prefix):
            return ce
    known = ", ".join(f"{c.site.prefix} ({c.name})" for c in lab.sites())
    raise LabError(f"{what} is not a site of lab {lab.name}",
                   hint=f"give a site prefix, an address in one, or a CE: {known}")


def carrier_routers(lab: Lab) -> list[Node]:
    """The routers of the customer carriers' sites, each with its loopback (an internal
    route the backbone carries)."""
    try:
        semantics = semantics_for(lab)
    except LabError:
        return []
    if not isinstance(semantics, CarrierSupportingCarrier):
        return []
    return [lab.node(r) for s in semantics.sites for r in s.routers if lab.node(r).loopback]


def find_destination(lab: Lab, what: str) -> list[Destination]:
    """What ``what`` names (a name, a prefix or an address in it): a site, a carrier's
    external prefix N or one of its internal routes, in that order. Two carriers may use one
    prefix: all that match, the first being the one walked."""
    address = as_network(what)
    candidates = [*(Destination("site", n, n.site.prefix) for n in lab.sites()),
                  *(Destination("external", n, n.external) for n in externals(lab)),
                  *(Destination("loopback", n, n.loopback.network)
                    for n in carrier_routers(lab))]
    found = [d for d in candidates if what == d.node.name or (
        address is not None and address.subnet_of(d.prefix))]
    if not found:
        known = ", ".join([*(f"{c.site.prefix} ({c.name})" for c in lab.sites()),
                           *(f"{n.external} ({n.name}, N of AS {n.asn})"
                             for n in externals(lab))])
        loopbacks = ("; or a customer carrier's router (its loopback)"
                     if carrier_routers(lab) else "")
        raise LabError(f"{what} is not a site of lab {lab.name}",
                       hint=f"give a prefix, an address in one, or its router: {known}"
                            f"{loopbacks}")
    walked = found[0]
    # The others: another carrier's router with the same prefix, not the walked one again.
    return [walked, *(d for d in found[1:] if d.node.name != walked.node.name
                      and d.prefix == walked.prefix)]


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
    """The walk to what ``what`` names: a customer site's prefix, or (carrier labs) a
    customer carrier's external prefix N."""
    destination = find_destination(lab, what)
    if destination[0].kind != "site":
        return carrier_walkthrough(lab, destination, source)
    semantics = semantics_for(lab)
    ce = destination[0].node
    origin = semantics.lab.pe_of(ce.name)
    vpn = lab.vpn(ce.site.vpn)
    holders = []
    # The origin's AS first, and in each AS the router that exports the route into its VPN
    # (an Option A PE-ASBR re-exports it from its VRF) before those that learn it.
    spread_order = [v.holder for v in semantics.vpn_views(ce.name)]
    views = sorted(semantics.vpn_views(ce.name),
                   key=lambda v: (lab.node(v.holder).asn != origin.asn, v.next_hop is not None))
    # The slides name the VPN labels L1, L2, ... from the origin (Options B, C and 4); Option
    # A's two VPNs label the route twice, the origin PE (the slide's 29) and the other AS's
    # PE-ASBR that re-exports it from its VRF (92).
    allocators = list(dict.fromkeys(
        v.allocator for v in sorted(views, key=lambda v: spread_order.index(v.holder))))
    names = slide_names(allocators, 1)
    if isinstance(semantics, BackToBackVrfs):
        names = dict(zip(allocators, ("29", "92"), strict=False)) if len(allocators) == 2 else {}
    if isinstance(semantics, CarrierSupportingCarrier):
        names = {origin.name: "12"}  # "Customer-ISP running MPLS-VPN": Net=N NH=I-PE1
    for view in views:
        next_hop = (f"{view.next_hop} ({view.next_hop_router})" if view.next_hop
                    else f"itself (exports it from VRF {view.vpn})")
        as_path = None
        if view.as_path is not None:
            as_path = " ".join(map(str, view.as_path)) or "(empty)"
            if view.never_in_path:
                as_path += f", never AS {', '.join(map(str, view.never_in_path))}"
        holders.append(Holder(view.holder, next_hop, view.allocator,
                              rewrite_reason(lab, views, view, origin), as_path,
                              names.get(view.allocator)))
    sender = packet_source(semantics, ce, source)
    if sender is not None:
        refuse_broken(lab, sender.name, ce.name)
    hops = semantics.wire_path(sender.name, ce.name) if sender is not None else []
    loopback = None
    if sender is not None and isinstance(semantics, MultihopBetweenRrs):
        loopback = labelled_unicast_walk(semantics, lab.pe_of(sender.name), ce)
    elif sender is not None and isinstance(semantics, CarrierSupportingCarrier):
        loopback = carrier_loopback_walk(
            semantics, lab.pe_of(sender.name).name, origin.name,
            f"the next hop of {vpn.rd}:{ce.site.prefix}, {origin.name}'s loopback: the "
            "customer ISP's VPN rides on the backbone's")
    on_walk = [*(h.router for h in holders), *(h.sender for h in hops),
               *(h.router for h in (loopback.holders if loopback else []))]
    return Walkthrough(lab=lab.name, variant=lab.variant, prefix=str(ce.site.prefix),
                       vpn=vpn.name, rd=vpn.rd, route_targets=list(vpn.export_targets),
                       site=ce.name, origin=origin.name, holders=holders,
                       absent_on=semantics.vpn_absent_on(),
                       packet_from=sender.name if sender else None,
                       links=[hop_line(h) for h in hops], settings=settings_on(lab, on_walk),
                       route=f"{vpn.rd}:{ce.site.prefix}", address=str(ce.site.address.ip),
                       loopback=loopback, also=[
                           {"router": d.node.name, "asn": d.node.asn, "prefix": str(d.prefix)}
                           for d in destination[1:]])


def carrier_source(semantics: CarrierSupportingCarrier, destination: Destination,
                   chosen: str | None) -> Node | None:
    """The router of the same carrier, in another site, a packet is sent from: ``chosen``
    (a router, or an external prefix), else the first with an external prefix, or (to a
    loopback) the first that is not a CSC-CE."""
    lab = semantics.lab
    home = semantics.site_of(destination.node.name)
    routers = [lab.node(r) for s in semantics.sites if s.asn == home.asn and s != home
               for r in s.routers]
    if chosen is None:
        ranked = sorted(routers, key=lambda n: (n.external is None, n.role == "csc-ce"))
        if destination.kind == "external":
            ranked = [n for n in ranked if n.external is not None]
        return ranked[0] if ranked else None
    address = as_network(chosen)
    named = [n for n in routers if n.name == chosen or (
        address is not None and n.external is not None and address.subnet_of(n.external))]
    if not named:
        raise LabError(f"{chosen} is no router of AS {home.asn} in another site than "
                       f"{destination.node.name}'s",
                       hint="pick one with --from: " + (", ".join(
                           f"{n.name}" + (f" ({n.external})" if n.external else "")
                           for n in routers) or "the carrier has no other site"))
    return named[0]


def carrier_walkthrough(lab: Lab, found: list[Destination], source: str | None
                        ) -> Walkthrough:
    """A customer carrier's traffic: from a router of one site to network N behind
    ``found[0]`` (or to its loopback). N's BGP next hop is that router's loopback, an
    internal route the backbone carries as a VPNv4 route of the carrier's VPN; N itself
    crosses only the carrier's iBGP."""
    semantics = semantics_for(lab)
    destination = found[0].node
    far = semantics.site_of(destination.name)
    target = str(destination.loopback.network)
    vpn = lab.vpn(far.vpn)
    views = semantics.internal_views(far, target)
    holders = [Holder(v.holder, (f"{v.next_hop} ({v.next_hop_router})" if v.next_hop else
                                 f"itself (from {far.csc_ce} in its VRF {v.vpn})"),
                      v.allocator, None, None, "1") for v in views]
    sender = carrier_source(semantics, found[0], source)
    hops = semantics.external_path(sender.name, destination.name) if sender else []
    n = found[0].kind == "external"
    loopback = None
    if sender is not None:
        loopback = carrier_loopback_walk(
            semantics, sender.name, destination.name,
            f"the BGP next hop of N {destination.external}: {destination.name}'s loopback, "
            f"an internal route of AS {destination.asn}" if n else
            f"{destination.name}'s loopback, an internal route of AS {destination.asn}: the "
            "BGP next hop of the carrier's routes behind it")
    external = None
    also = [{"router": d.node.name, "asn": d.node.asn, "prefix": str(d.prefix)}
            for d in found[1:]]
    if n:
        ibgp = semantics.spread(destination, "ipv4-unicast")
        external = {
            "asn": destination.asn, "prefix": str(destination.external),
            "next_hop": f"{destination.loopback.ip} ({destination.name})",
            "ibgp": [{"router": holder, "next_hop": next_hop_words(next_hop, router)}
                     for holder, (next_hop, router, _) in ibgp.items()],
            "absent_on": [node.name for node in backbone(lab)]}
    on_walk = [*(h.router for h in holders), *(h.sender for h in hops),
               *(h.router for h in (loopback.holders if loopback else []))]
    return Walkthrough(lab=lab.name, variant=lab.variant,
                       prefix=str(destination.external if n else target),
                       vpn=vpn.name, rd=vpn.rd, route_targets=list(vpn.export_targets),
                       site=destination.name, origin=far.pe, holders=holders,
                       absent_on=[node.name for node in backbone(lab)] if n else [],
                       packet_from=sender.name if sender else None,
                       links=[hop_line(h) for h in hops], settings=settings_on(lab, on_walk),
                       kind="carrier", route=f"{vpn.rd}:{target}",
                       address=external_address(destination) if n
                       else str(destination.loopback.ip),
                       loopback=loopback, external=external,
                       also=also)


def carrier_story(semantics: CarrierSupportingCarrier, vpn: str) -> dict | None:
    """A customer carrier's sites, the internal routes each gives the backbone, and its
    external prefixes."""
    sites = [s for s in semantics.sites if s.vpn == vpn]
    if not sites:
        return None
    return {"asn": sites[0].asn,
            "sites": [{"csc_ce": s.csc_ce, "pe": s.pe, "routers": list(s.routers),
                       "internal": list(s.internal)} for s in sites],
            "externals": [{"router": n.name, "prefix": str(n.external)}
                          for n in externals(semantics.lab) if n.asn == sites[0].asn]}


def carrier_paths(lab: Lab, site: CarrierSite | None, semantics: CarrierSupportingCarrier
                  ) -> list[dict]:
    paths = []
    for node in externals(lab):
        if site is None or node.asn != site.asn:
            continue
        sender = carrier_source(semantics, Destination("external", node, node.external), None)
        if sender is None:
            continue
        hops = semantics.external_path(sender.name, node.name)
        paths.append(path_told(sender.name, f"{node.external} ({node.name})", hops))
    return paths


def path_told(sender: str, to: str, hops: list[Hop]) -> dict:
    routers = [hops[0].sender, *(h.receiver for h in hops)] if hops else []
    return {"from": sender, "to": to, "routers": routers,
            "deepest_stack": max((h.depth for h in hops), default=0)}


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
            paths.append(path_told(sender.name, f"{ce.site.prefix} ({ce.name})",
                                   semantics.wire_path(sender.name, ce.name)))
        told = {"vpn": vpn.name, "rd": vpn.rd, "import": vpn.import_targets,
                "export": vpn.export_targets,
                "sites": [{"ce": c.name, "prefix": str(c.site.prefix),
                           "pe": semantics.lab.pe_of(c.name).name} for c in members],
                "paths": paths}
        if isinstance(semantics, CarrierSupportingCarrier):
            carrier = carrier_story(semantics, vpn.name)
            if carrier is not None:
                told["carrier"] = carrier
                site = next(s for s in semantics.sites if s.vpn == vpn.name)
                told["paths"] += carrier_paths(lab, site, semantics)
        vpns.append(told)
    return {"lab": lab.name, "variant": lab.variant, "title": lab.title,
            "description": lab.description, "deviations": lab.deviations, "vpns": vpns,
            # Options 3 and 4: the loopbacks labelled unicast carries, and who labels them.
            "labelled_loopbacks": labelled_loopbacks(semantics),
            # What the model predicts will not work once deployed (mplslab validate).
            "unreachable": [str(problem) for problem in unreachable]}


# What the CLI, the report and the tests import from here.
__all__ = ["Destination", "Holder", "LoopbackHolder", "LoopbackWalk", "Walkthrough",
           "find_destination", "find_site", "story", "walkthrough"]
