"""Exercises that teach the inter-AS options' slides: what each option needs that the
others do not, broken the way it goes wrong in practice. Like the generic exercises
(``exercises.py``) each is derived from the lab model: a lab of the same option written from
docs/lab-format.md gets them, on its own routers.

Option 1 (A), back-to-back VRFs:
- ``vlan-vrf``: a PE-ASBR's VLAN sub-interface of one VPN is bound to another VPN's VRF;
- ``asbr-import``: a PE-ASBR's VRF stops importing its own AS's VPN routes;
- ``asbr-export``: a PE-ASBR's VRF stops exporting the other AS's routes as VPNv4 routes;
- ``vrf-redistribute``: the PE-CE protocol between the PE-ASBRs (OSPF, RIPv2, static) is no
  longer redistributed into the VRF's BGP.

Option 2 (B), MP-eBGP between the ASBRs (besides ``next-hop-self``, in ``exercises.py``):
- ``asbr-label-switching``: the receiving ASBR no longer binds a label of its own to the
  VPN routes it rewrites (`mpls bgp l3vpn-multi-domain-switching`);
- ``host-route``: without next-hop-self, the /32 host route to the other ASBR leaves the IGP.

Options 3 (C) and 4, labelled loopbacks between the ASBRs:
- ``rr-next-hop-self``: a route reflector rewrites the next hop of the VPN routes;
- ``lu-next-hop-self``: an ASBR passes a labelled loopback to its PE without next-hop-self;
- ``transit-next-hop-self``: the same between the transit's own ASBRs (option 4);
- ``rr-loopback``: an ASBR sends the other AS only the PE loopbacks, not the RR's;
- ``as-override``: a transit between regions of one AS number stops replacing it.

Options 2, 3 and 4 alike (what Option A does not have):
- ``inter-as-mpls``: the inter-AS link no longer accepts labelled packets;
- ``retain-route-targets``: a VPNv4 speaker without VRFs (Option B ASBR, route reflector)
  keeps only the routes a VRF of its own would import: none.

``fails`` lists the check kinds that fail: at least one at once (on the exercise's own
router, or after a withdrawal), the others at the latest once a BGP hold time (30 s) or an
OSPF dead interval has passed, as the symptom says.
"""

from __future__ import annotations

from emulator.model.topology import BgpNeighbor, Interface, Lab, Node
from emulator.suites import frr
from emulator.training.exercise_kit import (
    Change,
    Exercise,
    both,
    lu_neighbors,
    originates_loopback,
    phase_order,
    speaks_frr_bgp,
    vpn_neighbors,
)

SUITE_WORDS = {"ospf": "OSPF", "rip": "RIPv2", "static": "static routes",
               "connected": "connected routes", "bgp": "BGP"}


def back_to_back(lab: Lab) -> list[tuple[Node, Interface, Node]]:
    """Option A's VRF sub-interfaces on the inter-AS links, from the lower AS's PE-ASBR:
    (that PE-ASBR, its sub-interface, the PE-ASBR on the other side)."""
    return [(node, interface, lab.node(interface.peer.node)) for node in lab.nodes
            for interface in node.interfaces
            if interface.scope == "inter-as" and interface.vrf and interface.address
            and interface.peer and node.asn < lab.node(interface.peer.node).asn
            and speaks_frr_bgp(node) and speaks_frr_bgp(lab.node(interface.peer.node))]


def vrf_of(node: Node, name: str):
    return next(v for v in node.vrfs if v.name == name)


def peer_address(lab: Lab, neighbor: BgpNeighbor, node: Node) -> str:
    """The address ``neighbor``'s router uses towards ``node`` (what node's neighbour
    statement for it says)."""
    return str(next(n.address for n in lab.node(neighbor.peer).core_bgp.neighbors
                    if n.session == neighbor.session and n.peer == node.name))


# -- Option 1 (A): back-to-back VRFs ----------------------------------------------------------
def vlan_vrf(lab: Lab) -> Exercise | None:
    """A PE-ASBR's sub-interface of one VPN is bound to another VPN's VRF (a kernel change:
    Linux binds an interface to a VRF with `ip link`; FRR follows)."""
    pairs = back_to_back(lab)
    for node, interface, far in pairs:
        others = [i.vrf for n, i, _ in pairs if n is node and i.vrf != interface.vrf]
        if not others:
            continue
        wrong = others[0]
        fails = ["vrf-route", "ping"]
        how = "the routes it learned across the boundary"
        instance = next((b for b in node.bgp if b.vrf == interface.vrf), None)
        if instance and any(n.address == interface.peer.address.ip
                            for n in instance.neighbors):
            fails.append("bgp-session")
            how = f"its eBGP session to {far.name} (within the 30 s hold time) and " + how
        if any(o.vrf == interface.vrf and interface.name in o.interfaces for o in node.ospf):
            fails.append("igp-adjacency")
            how = f"its OSPF adjacency with {far.name} and " + how
        bind = ["ip", "link", "set", "dev", interface.name, "master"]
        return Exercise(
            name="vlan-vrf",
            title=f"{node.name}'s VLAN {interface.vlan} ({interface.vrf}'s sub-interface "
                  f"{interface.name}) is bound to VRF {wrong}",
            symptom=f"The sites of {interface.vrf} no longer reach {interface.vrf}'s sites "
                    f"behind the other AS (AS {far.bgp_asn}); {wrong}'s sites still reach "
                    "each other, and nobody touched the routing configuration.",
            hint=f"On {node.name}: `show interface brief` and `show ip route vrf "
                 f"{interface.vrf}`: which VRF does VLAN {interface.vlan}'s interface sit in "
                 f"(`mplslab exec {lab.name} {node.name} -- ip -d link show "
                 f"{interface.name}`)?",
            why=f"Option A gives each VPN client its own logical interface and VRF on the "
                f"link between the PE-ASBRs (the slide: \"one logical interface and VRF per "
                f"VPN client\"): VLAN {interface.vlan} is {interface.vrf}'s. With "
                f"{interface.name} in VRF {wrong}, {node.name}'s VRF {interface.vrf} lost its "
                f"route to {far.name} ({interface.peer.address.ip}) and with it {how}. "
                f"`ip link set dev {interface.name} master {interface.vrf}` on {node.name} "
                "binds it back (a Linux router binds interfaces to VRFs in the kernel; FRR "
                "follows).",
            fails=phase_order(fails),
            breaks=[Change(node.name, [], [*bind, wrong])],
            fixes=[Change(node.name, [], [*bind, interface.vrf])])
    return None


def slide_vrf(lab: Lab) -> tuple[Node, Interface, Node] | None:
    """The back-to-back VRF the slides' walkthrough follows (152.12.4.0/24 of VPN-B, from
    AS #1 to AS #2): the last sub-interface of the first pair of PE-ASBRs."""
    pairs = back_to_back(lab)
    if not pairs:
        return None
    first = pairs[0][0]
    return [p for p in pairs if p[0] is first][-1]


def asbr_import(lab: Lab) -> Exercise | None:
    found = slide_vrf(lab)
    if found is None:
        return None
    node, interface, far = found
    vrf = vrf_of(node, interface.vrf)
    if not vrf.import_targets:
        return None
    breaks, fixes = both(node, "exercise_vpn_import.j2", vrf=vrf)
    return Exercise(
        name="asbr-import",
        title=f"{node.name}'s VRF {vrf.name} no longer imports the VPN routes of its own AS",
        symptom=f"The sites of {vrf.name} behind the other AS (AS {far.bgp_asn}) no longer "
                f"reach {vrf.name}'s sites in AS {node.bgp_asn}; every session is up and "
                f"{node.name} still holds their VPNv4 routes.",
        hint=f"On {node.name}: `show bgp ipv4 vpn` (the routes of AS {node.bgp_asn}'s sites "
             f"are there) and `show ip route vrf {vrf.name}`: what must a PE-ASBR do with "
             f"them before it can tell {far.name} about them?",
        why=f"In Option A each PE-ASBR is a PE of its own AS and a CE of the other: "
            f"{node.name}'s VRF {vrf.name} imports the VPNv4 routes of its AS's sites (route "
            f"target {' '.join(vrf.import_targets)}; the slide: \"VPN-B VRF: import routes "
            f"with route-target 1:222\") and advertises them to {far.name} over VLAN "
            f"{interface.vlan} as plain IPv4. `import vpn` under `router bgp {node.bgp_asn} "
            f"vrf {vrf.name}`, address-family ipv4 unicast, turns it back on.",
        fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)


def asbr_export(lab: Lab) -> Exercise | None:
    found = slide_vrf(lab)
    if found is None:
        return None
    near, interface, node = found
    vrf = vrf_of(node, interface.vrf)
    breaks, fixes = both(node, "exercise_vpn_export.j2", vrf=vrf)
    return Exercise(
        name="asbr-export",
        title=f"{node.name}'s VRF {vrf.name} no longer exports into VPNv4",
        symptom=f"The sites of {vrf.name} in AS {node.bgp_asn} no longer reach {vrf.name}'s "
                f"sites behind the other AS, although {node.name}'s VRF {vrf.name} holds "
                "their routes; every session is up.",
        hint=f"On {node.name}: `show ip route vrf {vrf.name}` (the other AS's prefixes are "
             "there), then `show bgp ipv4 vpn`: does it advertise them to the PEs of its own "
             "AS, with which next hop and label?",
        why=f"The PE-ASBR re-originates the routes it learns from the other AS as VPNv4 "
            f"routes of its own AS: next hop itself, a label of its own, RD {vrf.rd}, RT "
            f"{' '.join(vrf.export_targets)} (the slide: \"VPN-v4 update: "
            f"RD:1:27:152.12.4.0/24, NH=PE-ASBR-2, RT=1:222, Label=(92)\"). Without `export "
            f"vpn` (router bgp {node.bgp_asn} vrf {vrf.name}, address-family ipv4 unicast) "
            f"{node.name}'s VRF keeps them to itself and the PEs of AS {node.bgp_asn} never "
            f"learn them ({near.name}'s side still works the other way).",
        fails=["vpnv4-route", "vrf-route", "ping"], breaks=breaks, fixes=fixes)


def vrf_redistribute(lab: Lab) -> Exercise | None:
    found = slide_vrf(lab)
    if found is None:
        return None
    node, interface, far = found
    vrf = vrf_of(node, interface.vrf)
    if not vrf.redistribute:
        return None  # eBGP between the PE-ASBRs: BGP itself learns the routes
    words = " and ".join(SUITE_WORDS.get(p, p) for p in vrf.redistribute)
    lines = ", ".join(f"`redistribute {p}`" for p in vrf.redistribute)
    breaks, fixes = both(node, "exercise_vrf_redistribute.j2", vrf=vrf)
    return Exercise(
        name="vrf-redistribute",
        title=f"{node.name}'s VRF {vrf.name} no longer redistributes {words} into BGP",
        symptom=f"The sites of {vrf.name} in AS {node.bgp_asn} no longer reach {vrf.name}'s "
                f"sites behind the other AS, although {node.name}'s VRF {vrf.name} still has "
                f"routes to them ({words}, from {far.name}).",
        hint=f"On {node.name}: `show ip route vrf {vrf.name}` (how did it learn the other "
             f"AS's prefixes?) and `show bgp vrf {vrf.name} ipv4 unicast`: which of them "
             "does BGP hold?",
        why=f"The PE-ASBRs may use any PE-CE protocol between them (the slide: \"OSPF, "
            f"BGP-4, RIPv2, and static\"); with {words} the other AS's prefixes arrive in the "
            f"VRF as {words}, and only BGP turns them into VPNv4 routes for the PEs of AS "
            f"{node.bgp_asn}. {lines} under `router bgp {node.bgp_asn} vrf {vrf.name}`, "
            "address-family ipv4 unicast, hands them to BGP again (the other way, the VRF's "
            "IGP redistributes BGP).",
        fails=["vpnv4-route", "vrf-route", "ping"], breaks=breaks, fixes=fixes)


# -- Option 2 (B): MP-eBGP VPNv4 between the ASBRs --------------------------------------------
def asbr_label_switching(lab: Lab) -> Exercise | None:
    """The receiving ASBR (the slide's PE-ASBR-2, which allocates L3) stops binding labels
    to the VPN routes that arrive on its inter-AS interface; without next-hop-self towards
    its PE it binds none that matter, and the other ASBR is taken."""
    for node in reversed(lab.nodes):
        if not speaks_frr_bgp(node):
            continue
        rewrites = [n for n in vpn_neighbors(node) if not n.ebgp and n.next_hop_self]
        for interface in node.interfaces:
            if interface.scope != "inter-as" or not interface.l3vpn_switching or \
                    not interface.peer or not rewrites:
                continue
            if not any(n.ebgp and n.address == interface.peer.address.ip
                       for n in vpn_neighbors(node)):
                continue
            pe, other = rewrites[0].peer, interface.peer.node
            breaks, fixes = both(node, "exercise_l3vpn_switching.j2", interface=interface)
            return Exercise(
                name="asbr-label-switching",
                title=f"{node.name} no longer binds labels of its own to the VPN routes "
                      f"arriving on {interface.name}",
                symptom=f"{pe} holds the other AS's VPN routes with {node.name} as next hop "
                        f"and every session is up, but {pe}'s sites cannot reach the other "
                        "AS's sites.",
                hint=f"On {pe}: `show bgp ipv4 vpn <a prefix of the other AS>` (which label "
                     f"does it push?); on {node.name}: `show mpls table` and `show bgp "
                     "mplsvpn-nh-label-bind detail`: is there an entry for that label?",
                why=f"An Option B ASBR that rewrites the next hop (next-hop-self towards {pe}) "
                    "must allocate a label of its own and install a swap onto the label it "
                    f"received: the slide's L3 → L2 at {node.name}. In FRR that is `mpls bgp "
                    "l3vpn-multi-domain-switching` on the interface the routes arrive on "
                    f"({interface.name}, from {other}); without it {node.name} frees its "
                    f"labels and swap entries, and {pe} pushes a label {node.name} no longer "
                    f"has (re-advertised, it would pass on {other}'s label, which only {other} "
                    f"knows). `mpls bgp l3vpn-multi-domain-switching` under `interface "
                    f"{interface.name}` binds them again (before FRR 9.1 there was no such "
                    "command and the traffic was dropped: FRR issue 8921).",
                fails=["mpls-lfib", "label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


def host_route(lab: Lab) -> Exercise | None:
    """Option B without next-hop-self: the /32 host route to the other ASBR leaves the IGP."""
    for node in lab.nodes:
        ospf = next((o for o in node.ospf if o.vrf is None), None)
        if not node.ldp_host_routes or ospf is None or "static" not in ospf.redistribute:
            continue
        host = node.ldp_host_routes[0]
        pes = [n.name for n in lab.nodes if n.role == "pe" and n.asn == node.asn]
        owner = next((n.name for n in lab.nodes for i in n.interfaces
                      if i.address and i.address.ip == host.network_address), "the other ASBR")
        breaks, fixes = both(node, "exercise_ospf_redistribute.j2", what="redistribute static")
        return Exercise(
            name="host-route",
            title=f"{node.name}'s /32 host route to {host.network_address} is no longer in "
                  "the IGP",
            symptom=f"{', '.join(pes)} still hold the other AS's VPN routes with next hop "
                    f"{host.network_address}, every session is up, but their sites cannot "
                    "reach the other AS's sites.",
            hint=f"On {pes[0] if pes else node.name}: `show bgp ipv4 vpn` (the next hop of the "
                 f"other AS's routes), `show ip route {host}`; on {node.name}: `show ip route "
                 f"{host}` and `show ip ospf database external`.",
            why=f"Without next-hop-self, {node.name} passes the other AS's routes on with "
                f"{owner}'s link address {host.network_address} as next hop. The slide: "
                "\"Receiving PE-ASBR will automatically create a /32 host route for its "
                "PE-ASBR neighbor, which must be advertised into receiving IGP if "
                "next-hop-self is not in operation to maintain the LSP\". The lab gives "
                f"{node.name} that host route as a static route, and `redistribute static` "
                "under `router ospf` puts it in OSPF, where LDP labels it; without it the PEs "
                "have no route, and no LSP, to the next hop. `redistribute static` under "
                "`router ospf` brings it back.",
            fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


# -- Options 2, 3 and 4: what crosses the boundary carries labels -----------------------------
def inter_as_mpls(lab: Lab) -> Exercise | None:
    for node in lab.nodes:
        for interface in node.interfaces:
            if interface.scope == "inter-as" and interface.mpls and interface.address and \
                    interface.peer and node.asn < lab.node(interface.peer.node).asn and \
                    node.suites.get("igp") == frr.NAME:
                other = interface.peer.node
                breaks, fixes = both(node, "exercise_mpls_input.j2", interface=interface)
                return Exercise(
                    name="inter-as-mpls",
                    title=f"{node.name}'s inter-AS interface {interface.name} no longer "
                          "accepts labelled packets",
                    symptom="Sites no longer reach the sites behind the other AS, in either "
                            "direction; every session, route and label looks right.",
                    hint=f"Capture on the inter-AS link (`mplslab exec {lab.name} {node.name} "
                         f"-- tcpdump -nn -i {interface.name} mpls`) while a site of the "
                         f"other AS pings: the packets arrive with their label. What does "
                         "Linux do with a labelled packet on an interface whose MPLS input is "
                         f"off (`sysctl net.mpls.conf.{interface.name}.input`)?",
                    why="Labels cross the boundary in Options B, C and 4 (the VPN label in "
                        "B, labelled loopback and VPN label in C and 4); in Option A the link "
                        "carries plain IP. The kernel forwards labelled packets only from "
                        f"interfaces with MPLS input on, and `mpls disable` under `interface "
                        f"{interface.name}` turned it off on {node.name} "
                        f"(net.mpls.conf.{interface.name}.input = 0): {other}'s labelled "
                        "packets are dropped on arrival while the control plane stays clean. "
                        "`mpls enable` turns it back on. (`mpls bgp forwarding` on the same "
                        "interface is no data-plane switch in FRR 10.3: it lets a VRF import "
                        "VPN routes of a directly connected eBGP peer without a transport "
                        "label.)",
                    fails=["ping", "wire-labels"], breaks=breaks, fixes=fixes)
    return None


def retain_route_targets(lab: Lab) -> Exercise | None:
    """A VPNv4 speaker without VRFs (Option B ASBR, route reflector) keeps every VPN route
    only as long as FRR's default `bgp retain route-target all` holds."""
    for node in lab.nodes:
        neighbors = vpn_neighbors(node)
        if node.vrfs or not neighbors or not speaks_frr_bgp(node):
            continue
        peers = ", ".join(n.peer for n in neighbors)
        what = ("an Option B ASBR" if any(i.l3vpn_switching for i in node.interfaces)
                else "a route reflector" if any(n.rr_client for n in neighbors)
                else "a VPNv4 speaker without VRFs")
        breaks, fixes = both(node, "exercise_retain_route_targets.j2")
        return Exercise(
            name="retain-route-targets",
            title=f"{node.name} keeps only the VPN routes a VRF of its own would import",
            symptom=f"Every BGP session is up, yet no VPN route gets past {node.name} any more: "
                    f"its neighbours ({peers}) receive none from it.",
            hint=f"On {node.name}: `show bgp ipv4 vpn summary` (how many prefixes does it "
                 "accept from each neighbour?), `show bgp ipv4 vpn`, and `show running-config` "
                 "for anything about route targets.",
            why=f"{node.name} is {what}: it holds VPN routes for others and has no VRF (the "
                "slide on Option B: \"PE-ASBR stores all VPN routes that need to be exchanged, "
                "but only within the BGP table; no VRFs\"). It must keep every VPNv4 route "
                "whatever its route targets, which FRR does by default (`bgp retain "
                "route-target all`). `no bgp retain route-target all` under address-family "
                f"ipv4 vpn makes {node.name} drop every route no local VRF imports: all of "
                "them. `bgp retain route-target all` takes them back (FRR asks its peers to "
                "send them again).",
            fails=["vpnv4-route", "vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


# -- Options 3 (C) and 4: VPNv4 between the RRs, labelled loopbacks between the ASBRs ---------
def rr_next_hop_self(lab: Lab) -> Exercise | None:
    for node in lab.nodes:
        if not speaks_frr_bgp(node):
            continue
        for neighbor in vpn_neighbors(node):
            if not neighbor.next_hop_unchanged:
                continue
            pes = [n.name for n in lab.nodes if n.role == "pe" and n.asn == node.asn]
            breaks, fixes = both(node, "exercise_rr_next_hop.j2", neighbor=neighbor)
            return Exercise(
                name="rr-next-hop-self",
                title=f"{node.name} sets itself as next hop of the VPN routes it sends "
                      f"{neighbor.peer}",
                symptom=f"Every session is up and the sites behind {neighbor.peer} still "
                        f"receive the VPN routes of {', '.join(pes) or node.name}'s sites, "
                        "but cannot reach them.",
                hint=f"On {neighbor.peer}, then on a PE behind it: `show bgp ipv4 vpn <a "
                     f"prefix behind {pes[0] if pes else node.name}>`: what is the next hop, "
                     "and is it the router that allocated the label?",
                why="Option C: the route reflectors pass the VPN routes on with next hop and "
                    "label unchanged (the slide: \"next-hop-self must be disabled on route "
                    "reflector: preserves next-hop and label as allocated by the originating "
                    "PE router\"), so the far PE pushes the originating PE's label and reaches "
                    f"that PE over the labelled loopbacks. {node.name} now puts itself as next "
                    "hop but passes the PE's label on: the traffic lands on "
                    f"{node.name}, which has no VRF and no such label. `neighbor "
                    f"{neighbor.address} attribute-unchanged next-hop`, without `next-hop-self "
                    f"force`, under `router bgp {node.bgp_asn}`, address-family ipv4 vpn.",
                fails=["vpnv4-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def lu_next_hop_self(lab: Lab) -> Exercise | None:
    """The ASBR of the slide's receiving AS passes a labelled loopback to its PE with the
    far ASBR's link address as next hop."""
    transit = {a.asn for a in lab.autonomous_systems if a.transit}
    for node in reversed(lab.nodes):
        if node.role != "asbr" or node.asn in transit or not speaks_frr_bgp(node):
            continue
        for neighbor in lu_neighbors(node):
            pe = lab.node(neighbor.peer)
            if neighbor.ebgp or not neighbor.next_hop_self or pe.role != "pe" or \
                    not originates_loopback(pe):
                continue
            breaks, fixes = both(node, "exercise_next_hop_self.j2", neighbor=neighbor,
                                 family="ipv4 labeled-unicast")
            return Exercise(
                name="lu-next-hop-self",
                title=f"{node.name} no longer sets itself as next hop of the labelled "
                      f"loopbacks it sends {pe.name}",
                symptom=f"{pe.name}'s sites no longer reach the other AS's sites; {pe.name} "
                        "still holds their VPN routes, and every session is up.",
                hint=f"On {pe.name}: `show bgp ipv4 labeled-unicast <the other AS's PE "
                     "loopback>` — what is its next hop, and does it have a route to it? "
                     f"Compare with `show bgp ipv4 labeled-unicast` on {node.name}.",
                why="The ASBRs exchange the PE loopbacks (the VPN routes' next hops) as eBGP "
                    "IPv4 + labels, and each AS hands them to its PEs over iBGP labelled "
                    "unicast with its ASBR as next hop (the slide: \"Network=PE-1, NH=ASBR-2, "
                    f"Label=(L3)\"): {pe.name} pushes {node.name}'s label under the LDP label "
                    f"to {node.name}. Without next-hop-self {pe.name} gets the far ASBR's "
                    "link address as next hop, which its IGP does not carry: the loopback is "
                    "unusable, and so are the VPN routes behind it. `neighbor "
                    f"{neighbor.address} next-hop-self` under `router bgp {node.bgp_asn}`, "
                    "address-family ipv4 labeled-unicast.",
                fails=["vrf-route", "label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


def transit_next_hop_self(lab: Lab) -> Exercise | None:
    """Option 4: the transit's ASBRs pass the providers' loopbacks between them with
    next-hop-self, over the transit's own LDP core."""
    transit = {a.asn for a in lab.autonomous_systems if a.transit}
    for node in lab.nodes:
        if node.asn not in transit or not speaks_frr_bgp(node):
            continue
        for neighbor in lu_neighbors(node):
            if neighbor.ebgp or not neighbor.next_hop_self or \
                    lab.node(neighbor.peer).asn != node.asn:
                continue
            breaks, fixes = both(node, "exercise_next_hop_self.j2", neighbor=neighbor,
                                 family="ipv4 labeled-unicast")
            return Exercise(
                name="transit-next-hop-self",
                title=f"{node.name} no longer sets itself as next hop of the loopbacks it "
                      f"sends {neighbor.peer} across the transit",
                symptom="The two VPN providers' sites no longer reach each other; every "
                        "session of the transit provider is up.",
                hint=f"On {neighbor.peer}: `show bgp ipv4 labeled-unicast` — what are the next "
                     f"hops of the loopbacks learned from {node.name}, and does the transit's "
                     "IGP reach them?",
                why="The transit carries the providers' loopbacks as BGP IPv4 + labels between "
                    "its own ASBRs, over its own LDP core (the slide: \"Network=PE-1, "
                    f"NH=ASBR-2, Label=(L3)\" inside the transit): {neighbor.peer} swaps onto "
                    f"{node.name}'s label under the LDP label to {node.name}. Without "
                    f"next-hop-self {neighbor.peer} sees the provider's ASBR link address as "
                    "next hop, which the transit's IGP does not carry: the loopbacks stop "
                    "there, and the VPN routes behind them with them. `neighbor "
                    f"{neighbor.address} next-hop-self` under `router bgp {node.bgp_asn}`, "
                    "address-family ipv4 labeled-unicast.",
                fails=["vrf-route", "label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


def rr_loopback(lab: Lab) -> Exercise | None:
    """An ASBR sends the other AS only the PE loopbacks (the slide's words taken literally):
    the RRs' multihop session has no route left."""
    for node in lab.nodes:
        if node.role != "asbr" or not speaks_frr_bgp(node):
            continue
        for neighbor in lu_neighbors(node):
            peer = lab.node(neighbor.peer)
            if not neighbor.ebgp or peer.asn < node.asn:
                continue
            rrs = [(rr, far) for rr in lab.nodes
                   if rr.role == "rr" and rr.asn == node.asn and originates_loopback(rr)
                   for far in vpn_neighbors(rr) if lab.node(far.peer).asn != rr.asn]
            pes = [str(pe.loopback.network) for pe in lab.nodes
                   if pe.role == "pe" and pe.asn == node.asn and originates_loopback(pe)]
            if not rrs or not pes:
                continue
            rr, far = rrs[0]
            breaks, fixes = both(node, "exercise_prefix_list_out.j2", neighbor=neighbor,
                                 name="PE-LOOPBACKS", prefixes=pes,
                                 family="ipv4 labeled-unicast")
            return Exercise(
                name="rr-loopback",
                title=f"{node.name} sends {peer.name} only the PE loopbacks",
                symptom="At first the sites still reach each other; within the BGP hold time "
                        f"(30 s) the session between {rr.name} and {far.peer} drops, and the "
                        f"sites of AS {node.bgp_asn} and AS {peer.bgp_asn} lose each other.",
                hint=f"On {far.peer}: `show bgp ipv4 vpn summary` and `show bgp ipv4 "
                     f"labeled-unicast {rr.loopback.network}`; on {node.name}: `show bgp "
                     f"ipv4 labeled-unicast neighbors {neighbor.address} advertised-routes`.",
                why="The slide: the ASBRs exchange \"only PE loopback addresses, as these are "
                    f"BGP next-hop addresses\", and {node.name}'s outbound filter "
                    "(prefix-list PE-LOOPBACKS) takes it literally. But the route reflectors' "
                    "multihop VPNv4 session runs between their loopbacks too: without "
                    f"{rr.name}'s loopback in labelled unicast {far.peer} has no route to it, "
                    "the session times out and every VPN route between the ASes goes with "
                    f"it. `no neighbor {neighbor.address} prefix-list PE-LOOPBACKS out` under "
                    f"`router bgp {node.bgp_asn}`, address-family ipv4 labeled-unicast, and "
                    "the prefix-list removed.",
                fails=["bgp-session", "label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


def as_override(lab: Lab) -> Exercise | None:
    """Option 4 with one AS number in both regions: the transit's ASBR replaces it."""
    for node in lab.nodes:
        if not speaks_frr_bgp(node):
            continue
        for neighbor in lu_neighbors(node):
            if not neighbor.as_override:
                continue
            breaks, fixes = both(node, "exercise_as_override.j2", neighbor=neighbor)
            return Exercise(
                name="as-override",
                title=f"{node.name} no longer replaces AS {neighbor.remote_as} with its own "
                      f"in the loopbacks it sends {neighbor.peer}",
                symptom=f"The sites behind {neighbor.peer} no longer reach the VPN provider's "
                        "other region; every session of the transit is up.",
                hint=f"On {neighbor.peer}: `show bgp ipv4 labeled-unicast` lacks the other "
                     f"region's loopbacks; `show bgp ipv4 labeled-unicast neighbors "
                     f"{peer_address(lab, neighbor, node)} received-routes`? What AS path do "
                     "they carry, and what does BGP do when it finds its own AS in it?",
                why=f"Both providers use AS {neighbor.remote_as} in their regions (the slide: "
                    "\"providers may use the same AS# within each region\"): the other "
                    f"region's loopbacks reach {neighbor.peer} through the transit with "
                    f"{neighbor.remote_as} in their AS path, and its loop prevention drops "
                    "them, and with them the route reflectors' iBGP session and every VPN "
                    "route between the regions. The transit's ASBR replaces the providers' "
                    f"number with its own on the way out: `neighbor {neighbor.address} "
                    f"as-override` under `router bgp {node.bgp_asn}`, address-family ipv4 "
                    "labeled-unicast (allowas-in on the provider's ASBR alone is not enough: "
                    "its RR and PEs check the path too).",
                fails=["vrf-route", "label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


DERIVERS = [vlan_vrf, asbr_import, asbr_export, vrf_redistribute, asbr_label_switching,
            host_route, inter_as_mpls, retain_route_targets, rr_next_hop_self, lu_next_hop_self,
            transit_next_hop_self, rr_loopback, as_override]
