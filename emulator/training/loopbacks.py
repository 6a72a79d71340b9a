"""The level below a VPN route in a walk: who holds the loopback its next hop is, whose
label each router pushes for it, and where the labels are swapped. Options 3 and 4 carry the
PE loopbacks in labelled unicast (the ASBRs allocate the labels the slides call L2, L3, ...);
a customer carrier's loopbacks cross the backbone as VPNv4 routes of its VPN."""

from __future__ import annotations

import ipaddress

from emulator.model.topology import Lab, Node
from emulator.training.walks import LoopbackHolder, LoopbackWalk, next_hop_words, slide_names
from emulator.verify.semantics import CarrierSupportingCarrier, Semantics


# -- Options 3 and 4: the labelled loopbacks -----------------------------------------------
def directly_connected(node: Node, address: ipaddress.IPv4Address) -> bool:
    return any(i.peer and i.peer.address.ip == address for i in node.interfaces)


def labelled_unicast_walk(semantics: Semantics, ingress: Node, ce: Node
                          ) -> LoopbackWalk | None:
    """The labelled-unicast route to the loopback of the VPN route's next hop (the origin PE),
    from the router that originates it: each holder's next hop, and whose LU label it pushes
    (the slides' L2, L3, ...: the VPN label is L1)."""
    lab = semantics.lab
    view = {v.holder: v for v in semantics.vpn_views(ce.name)}.get(ingress.name)
    if view is None or view.next_hop_router not in {
            n.name for n in semantics.labelled_loopbacks()}:
        return None  # no labelled loopback under this route
    target = lab.node(view.next_hop_router)
    held = semantics.spread(target, "ipv4-labeled-unicast")
    names = slide_names([allocator for _, _, allocator in held.values()
                         if allocator != target.name], 2)
    holders, swaps = [], []
    for holder, (next_hop, router, allocator) in held.items():
        node = lab.node(holder)
        if holder == target.name:
            holders.append(LoopbackHolder(holder, "origin", "originates it (network statement)",
                                          "itself", None, "advertises implicit-null"))
            continue
        session = next((n for n in node.core_bgp.family("ipv4-labeled-unicast")
                        if n.peer == router), None)
        learned = (f"{'eBGP' if session.ebgp else 'iBGP'} labelled unicast from {router}"
                   if session else f"labelled unicast (reflected), next hop {router}")
        beneath = ("" if directly_connected(node, next_hop)
                   else f", under LDP to {router}")
        if allocator == target.name:
            label = f"implicit-null from {target.name}: no LU label, LDP to it only"
        else:
            label = f"{names[allocator]} ({allocator}'s){beneath}"
        holders.append(LoopbackHolder(holder, "lu", learned,
                                      next_hop_words(next_hop, router), allocator, label))
    for allocator, name in names.items():
        next_hop, router, received = held[allocator]
        if received == target.name:
            onto = f"onto the LDP label to {target.name} ({target.name} gave implicit-null)"
        else:
            onto = f"onto {names[received]} ({received}'s)" + (
                "" if directly_connected(lab.node(allocator), next_hop)
                else f" under LDP to {router}")
        swaps.append(f"{allocator} allocates {name} and swaps it {onto}")
    return LoopbackWalk(kind="labelled-unicast", prefix=str(target.loopback.network),
                        router=target.name, rd=None,
                        why=f"the next hop of {view.rd}:{view.prefix} at {ingress.name}: "
                            f"{target.name}'s loopback, labelled unicast between the ASBRs",
                        holders=holders, swaps=swaps)


def labelled_loopbacks(semantics: Semantics) -> list[dict]:
    """Every labelled loopback, with the routers that allocate a label for it (the story)."""
    told = []
    for origin in semantics.labelled_loopbacks():
        held = semantics.spread(origin, "ipv4-labeled-unicast")
        names = slide_names([a for _, _, a in held.values() if a != origin.name], 2)
        told.append({"loopback": str(origin.loopback.network), "router": origin.name,
                     "allocators": [{"router": r, "slide": n} for r, n in names.items()]})
    return told


# -- carrier supporting carrier ------------------------------------------------------------
def igp_name(lab: Lab, node: Node) -> str:
    igp = next(a.igp for a in lab.autonomous_systems if a.asn == node.asn)
    return {"ospf": "OSPF", "rip": "RIPv2"}.get(igp, igp)


def session_to(node: Node, peer: str, vrf: str | None = None):
    """``node``'s BGP neighbour entry for ``peer`` (in ``vrf``), or None."""
    for instance in node.bgp:
        if instance.vrf == vrf:
            return next((n for n in instance.neighbors if n.peer == peer), None)
    return None


def igp_next_hop(lab: Lab, start: str, goal: str) -> str:
    sender, interface, receiver = lab.core_path(start, goal)[0]
    return f"{sender.interface(interface).peer.address.ip} ({receiver})"


def learns_labelled(node: Node) -> bool:
    """A site router that learns the other sites' loopbacks over iBGP labelled unicast."""
    return bool(node.core_bgp) and any(
        "ipv4-labeled-unicast" in n.families and not n.ebgp for n in node.core_bgp.neighbors)


def carrier_loopback_walk(semantics: CarrierSupportingCarrier, source: str, destination: str,
                          why: str) -> LoopbackWalk:
    """The route from ``source`` to ``destination``'s loopback (the BGP next hop of the
    carrier's routes behind it), from its origin: the far site, the far PE's VRF, the
    backbone's VPNv4, the near PE's VRF, the near site; who pushes whose label, and where
    the PEs swap the CSC-CE's label and the VPN label."""
    lab = semantics.lab
    near, far = semantics.site_of(source), semantics.site_of(destination)
    target = str(lab.node(destination).loopback.network)
    vpn = lab.vpn(far.vpn)
    far_label = target in far.labelled
    holders: list[LoopbackHolder] = []
    if destination != far.csc_ce:
        holders.append(LoopbackHolder(
            destination, "origin",
            f"its loopback, in the site's {igp_name(lab, lab.node(destination))}"
            + (f"; to {far.csc_ce} over iBGP labelled unicast, implicit-null" if far_label
               else ""), "itself", None, "its own"))
        if far_label:
            session = session_to(lab.node(far.csc_ce), destination)
            holders.append(LoopbackHolder(
                far.csc_ce, "lu", f"iBGP labelled unicast from {destination}; to {far.pe} "
                                  "with a label of its own",
                f"{session.address} ({destination})", destination,
                f"implicit-null from {destination}: pops the label it gave {far.pe}"))
        else:
            holders.append(LoopbackHolder(
                far.csc_ce, "igp", f"{igp_name(lab, lab.node(far.csc_ce))}; to {far.pe} over "
                            "labelled unicast with implicit-null",
                igp_next_hop(lab, far.csc_ce, destination), None, "none (IP)"))
    else:
        holders.append(LoopbackHolder(
            destination, "origin", f"its loopback; to {far.pe} over eBGP labelled unicast, "
                         "implicit-null", "itself", None, "its own"))
    to_ce = session_to(lab.node(far.pe), far.csc_ce, far.vpn)
    holders.append(LoopbackHolder(
        far.pe, "vrf", f"eBGP labelled unicast from {far.csc_ce} in VRF {far.vpn}; exports it as "
                f"VPNv4 {vpn.rd}:{target} with a VPN label of its own",
        f"{to_ce.address} ({far.csc_ce})", far.csc_ce,
        f"{far.csc_ce}'s label" if far_label
        else f"implicit-null from {far.csc_ce}: pops its VPN label"))
    for view in semantics.internal_views(far, target):
        if view.holder == far.pe:
            continue
        to_site = " and advertises it to " + near.csc_ce if view.holder == near.pe else ""
        holders.append(LoopbackHolder(
            view.holder, "vpnv4", f"VPNv4 {view.rd}, imported into VRF {view.vpn}{to_site} with a "
                         "label of its own",
            f"{view.next_hop} ({view.next_hop_router})", view.allocator,
            f"{view.allocator}'s VPN label (the slide's 1), under LDP to {view.allocator} "
            "(the slide's 6)"))
    site_labelled = learns_labelled(lab.node(source))
    from_pe = session_to(lab.node(near.csc_ce), near.pe)
    onward = ("" if source == near.csc_ce else
              f"; to {source} over iBGP labelled unicast, a label of its own" if site_labelled
              else f"; into the site's {igp_name(lab, lab.node(near.csc_ce))}")
    holders.append(LoopbackHolder(
        near.csc_ce, "lu", f"eBGP labelled unicast from {near.pe}{onward}",
        f"{from_pe.address} ({near.pe})", near.pe, f"{near.pe}'s label (the slide's 2)"))
    if source != near.csc_ce:
        if site_labelled:
            session = session_to(lab.node(source), near.csc_ce)
            holders.append(LoopbackHolder(
                source, "lu", f"iBGP labelled unicast from {near.csc_ce}",
                f"{session.address} ({near.csc_ce})", near.csc_ce, f"{near.csc_ce}'s label"))
        else:
            holders.append(LoopbackHolder(
                source, "igp", f"{igp_name(lab, lab.node(source))} (from {near.csc_ce})",
                igp_next_hop(lab, source, near.csc_ce), None, "none (IP)"))
    swaps = []
    if site_labelled and source != near.csc_ce:
        swaps.append(f"{near.csc_ce} swaps the label it gave {source} onto {near.pe}'s")
    swaps.append(f"{near.pe} swaps the label it gave {near.csc_ce} (the slide's 2) onto "
                 f"{far.pe}'s VPN label (the slide's 1), under LDP to {far.pe}")
    swaps.append(f"{far.pe} swaps its VPN label onto {far.csc_ce}'s label" if far_label else
                 f"{far.pe} pops its VPN label: {far.csc_ce} advertised implicit-null")
    if far_label:
        swaps.append(f"{far.csc_ce} pops its label: {destination} advertised implicit-null "
                     "for its own loopback")
    return LoopbackWalk(kind="carrier", prefix=target, router=destination, rd=vpn.rd, why=why,
                        holders=holders, swaps=swaps)


