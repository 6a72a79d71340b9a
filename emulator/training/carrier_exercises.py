"""Exercises that teach the carrier's carrier slides: the backbone carries a customer
carrier's internal routes only, the carrier's own iBGP its external ones, and labels run
between PE and CE. Derived from the model like every exercise (``exercises.py``).

- ``external-leak``: a customer carrier's router hands its external routes to the backbone;
- ``site-igp``: (csc-ip) a CSC-CE no longer puts the other sites' loopbacks in its IGP;
- ``site-route-reflector``: (csc-ip) a CSC-CE no longer reflects external routes to its site;
- ``csc-next-hop-self``: (csc-mpls, csc-vpn) a CSC-CE hands its site the other sites'
  loopbacks without itself as next hop;
- ``ce-mpls``: (csc-mpls, csc-vpn) a CSC-CE's link to its PE no longer accepts labels.

BIRD runs BGP on the carrier labs' PEs and takes no typed changes: these exercises change
FRR routers only, the customer carriers' own.
"""

from __future__ import annotations

from collections import deque

from emulator.model.topology import Lab, Node
from emulator.suites import frr
from emulator.training.exercise_kit import (
    Exercise,
    both,
    carrier_attachments,
    lu_neighbors,
    speaks_frr_bgp,
)


def site_routers(lab: Lab, csc_ce: Node) -> list[Node]:
    """The routers behind a CSC-CE: its site, joined to it by core links."""
    found, queue = [csc_ce.name], deque([csc_ce.name])
    while queue:
        for interface in lab.node(queue.popleft()).interfaces:
            if interface.scope == "core" and interface.peer and \
                    interface.peer.node not in found:
                found.append(interface.peer.node)
                queue.append(interface.peer.node)
    return [lab.node(name) for name in found[1:]]


def carrier_vrf(lab: Lab, node: Node) -> str | None:
    return next((a.carrier_vpn for a in lab.autonomous_systems if a.asn == node.asn), None)


def first_carrier_ces(lab: Lab) -> list[Node]:
    """The first customer carrier's CSC-CEs on FRR, last site first (as the slides' walk,
    which starts behind the second site)."""
    seen = []
    for node, _ in carrier_attachments(lab):
        if node not in seen and speaks_frr_bgp(node):
            seen.append(node)
    return seen


def external_leak(lab: Lab) -> Exercise | None:
    """A customer carrier's router that holds external routes hands them to the backbone."""
    for node in lab.nodes:
        if node.role != "csc-ce" or not speaks_frr_bgp(node):
            continue
        holds = node.external is not None or any(
            not n.ebgp and "ipv4-unicast" in n.families for n in node.core_bgp.neighbors)
        filtered = [n for n in lu_neighbors(node) if n.ebgp and n.export_only == "internal"]
        vrf = carrier_vrf(lab, node)
        if not holds or not filtered or vrf is None:
            continue
        neighbor = filtered[0]
        breaks, fixes = both(node, "exercise_route_map_out.j2", neighbor=neighbor)
        return Exercise(
            name="external-leak",
            title=f"{node.name} hands its external routes to the backbone",
            symptom=f"Every ping still passes, but the backbone carrier complains: its VRF "
                    f"{vrf} for AS {node.bgp_asn} holds more than the carrier's loopbacks.",
            hint=f"On {neighbor.peer} (BIRD): `mplslab exec {lab.name} {neighbor.peer} -- "
                 f"birdc show route table \"'vrf_{vrf}'\"`; on {node.name}: `show bgp ipv4 "
                 f"labeled-unicast neighbors {neighbor.address} advertised-routes`: which of "
                 "these are the carrier's internal routes?",
            why="Carrier's carrier: a customer carrier's site gives the backbone its internal "
                "routes only (its loopbacks, the BGP next hops of its external routes); the "
                "external routes (network N, possibly a full Internet table) travel over the "
                "carrier's own iBGP between its sites and never through the backbone (the "
                "slide: \"External routes need to be advertised to all ISP sites but NOT "
                "through the MPLS-VPN backbone\"), which is the point of the design. FRR's "
                "labelled unicast shares the unicast table, so without `neighbor "
                f"{neighbor.address} route-map CSC-INTERNAL out` (router bgp {node.bgp_asn}, "
                f"address-family ipv4 labeled-unicast) {node.name} sends {neighbor.peer} "
                "every route it holds. Put the filter back.",
            fails=["vrf-route"], breaks=breaks, fixes=fixes)
    return None


def site_igp(lab: Lab) -> Exercise | None:
    """csc-ip: the CSC-CE hands the other sites' loopbacks (learned labelled from the
    backbone) to its site's IGP, where the site's routers find their BGP next hops."""
    for node in first_carrier_ces(lab):
        if not any(o.redistribute_internal_bgp and o.vrf is None for o in node.ospf):
            continue
        routers = [r.name for r in site_routers(lab, node)]
        if not routers:
            continue
        line = "redistribute bgp route-map CSC-INTERNAL"
        breaks, fixes = both(node, "exercise_ospf_redistribute.j2", what=line)
        return Exercise(
            name="site-igp",
            title=f"{node.name} no longer hands the other sites' loopbacks to its site's IGP",
            symptom=f"{', '.join(routers)} no longer reach the external networks of the "
                    f"carrier's other sites; {node.name} and the backbone hold every route "
                    "they should.",
            hint=f"On {routers[0]}: `show bgp ipv4 unicast` (what is the next hop of the other "
                 "sites' external routes?) and `show ip route`: which of the other sites' "
                 f"loopbacks does OSPF give it? On {node.name}: `show running-config`, router "
                 "ospf.",
            why="A customer carrier without MPLS (the slide \"Customer-ISP not running "
                "MPLS\"): its sites run only an IGP and iBGP, and an external route keeps its "
                "next hop, the far site's exit point (\"BGP-4 Net=N NH=ASBR1\"), which the "
                f"site's IGP must carry (\"IGP Net=ASBR1\"). {node.name} learns the other "
                "sites' loopbacks labelled from the backbone and hands them to OSPF: "
                f"`{line}` under `router ospf` (the internal routes only). Without it "
                f"{routers[0]} has no route to the next hop of the other sites' external "
                "routes and drops them.",
            fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def site_route_reflector(lab: Lab) -> Exercise | None:
    """csc-ip: each site's CSC-CE is the route reflector of the carrier's external routes."""
    for node in first_carrier_ces(lab):
        clients = [n for n in node.core_bgp.family("ipv4-unicast")
                   if not n.ebgp and n.rr_client]
        if not clients:
            continue
        neighbor = clients[0]
        breaks, fixes = both(node, "exercise_route_reflector_client.j2", neighbor=neighbor)
        return Exercise(
            name="site-route-reflector",
            title=f"{node.name} no longer reflects the carrier's external routes to "
                  f"{neighbor.peer}",
            symptom=f"The external networks behind {neighbor.peer} and those of the carrier's "
                    "other sites no longer reach each other; the sessions are up again after "
                    "a reset and the backbone still carries every loopback.",
            hint=f"On {neighbor.peer}: `show bgp ipv4 unicast` (the other sites' external "
                 f"routes are missing); on {node.name}: `show bgp ipv4 unicast neighbors "
                 f"{neighbor.address}`: what is {neighbor.peer} to {node.name}?",
            why="The carrier's external routes travel over its own iBGP between its sites, "
                "never through the backbone; each site's CSC-CE is its route reflector and "
                "the CSC-CEs peer between themselves (the slides: \"iBGP session between "
                "RRs\", \"route reflectors to improve scalability\"). An iBGP router passes "
                "iBGP routes on only as a route reflector, to or from its clients: without "
                f"`neighbor {neighbor.address} route-reflector-client` (router bgp "
                f"{node.bgp_asn}, address-family ipv4 unicast) {node.name} keeps the other "
                f"sites' external routes from {neighbor.peer}, and {neighbor.peer}'s from "
                "them. (FRR resets the session when it changes.)",
            fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def csc_next_hop_self(lab: Lab) -> Exercise | None:
    """csc-mpls, csc-vpn: the CSC-CE hands its site the other sites' loopbacks labelled,
    with itself as next hop."""
    for node in first_carrier_ces(lab):
        for neighbor in lu_neighbors(node):
            if neighbor.ebgp or not neighbor.next_hop_self:
                continue
            pe = next((n.peer for n in lu_neighbors(node) if n.ebgp), "its PE")
            breaks, fixes = both(node, "exercise_next_hop_self.j2", neighbor=neighbor,
                                 family="ipv4 labeled-unicast")
            return Exercise(
                name="csc-next-hop-self",
                title=f"{node.name} no longer sets itself as next hop of the loopbacks it "
                      f"hands {neighbor.peer}",
                symptom=f"{neighbor.peer} no longer reaches the carrier's other sites; "
                        f"{node.name} still does, and the backbone holds every loopback.",
                hint=f"On {neighbor.peer}: `show bgp ipv4 labeled-unicast` — what is the next "
                     f"hop of the other sites' loopbacks, and can {neighbor.peer} reach it?",
                why="A customer carrier running MPLS (the slides \"Customer-ISP running "
                    "MPLS\" and \"… MPLS-VPN\"): labels are switched end to end, and in the "
                    f"site {node.name} hands the other sites' loopbacks to {neighbor.peer} "
                    "with a label of its own and itself as next hop (the slide's \"IGP + LDP "
                    f"Net=ASBR1 Label=7\" inside site 2): {neighbor.peer} pushes it and "
                    f"{node.name} swaps onto {pe}'s label. Without next-hop-self the next "
                    f"hop is {pe}'s link address, which the site's IGP does not carry. "
                    f"`neighbor {neighbor.address} next-hop-self` under `router bgp "
                    f"{node.bgp_asn}`, address-family ipv4 labeled-unicast.",
                fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def ce_mpls(lab: Lab) -> Exercise | None:
    """csc-mpls, csc-vpn: the PE swaps onto a label the CSC-CE gave it, so packets into the
    site arrive at the CSC-CE labelled. Its first site: where the slides' walk ends."""
    for node in reversed(first_carrier_ces(lab)):
        if not any(not n.ebgp for n in lu_neighbors(node)):
            continue  # its site learns nothing labelled: the PE sends it plain IP (csc-ip)
        pe = next((n.peer for n in lu_neighbors(node) if n.ebgp), None)
        interface = next((i for i in node.towards(pe) if i.mpls), None) if pe else None
        if interface is None or node.suites.get("igp") != frr.NAME:
            continue
        breaks, fixes = both(node, "exercise_mpls_input.j2", interface=interface)
        return Exercise(
            name="ce-mpls",
            title=f"{node.name}'s link to {pe} no longer accepts labelled packets",
            symptom=f"Nothing from the carrier's other sites reaches the site behind "
                    f"{node.name} any more; every session, route and label looks right.",
            hint=f"Capture on the link (`mplslab exec {lab.name} {node.name} -- tcpdump -nn "
                 f"-i {interface.name} mpls`) while a far site pings into this one: the "
                 f"packets arrive with {node.name}'s label. `sysctl "
                 f"net.mpls.conf.{interface.name}.input` on {node.name}?",
            why="\"In all cases MPLS is used between PE and CE routers\" (carrier's carrier): "
                f"{pe} swaps the backbone's VPN label onto the label {node.name} gave it for "
                "its site's loopbacks, so packets into the site arrive at "
                f"{node.name} labelled. `mpls disable` under `interface {interface.name}` "
                "turned the kernel's MPLS input off there: labelled packets are dropped on "
                "arrival while the control plane stays clean. `mpls enable` under `interface "
                f"{interface.name}`.",
            fails=["ping", "wire-labels"], breaks=breaks, fixes=fixes)
    return None


DERIVERS = [external_leak, site_igp, site_route_reflector, csc_next_hop_self, ce_mpls]
