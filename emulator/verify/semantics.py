"""What each inter-AS option fixes, derived from the lab model.

Labels are dynamic and never written here. What an option fixes is: which router a VPNv4
route's next hop is on each router that holds it, which router allocated the label that
router sees, and how many labels a packet carries on each link of a path. Every
option-specific rule of the verifier lives in this module, one class per scenario.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from collections import deque
from dataclasses import dataclass

from emulator.errors import LabError
from emulator.model.topology import Lab, Node


@dataclass(frozen=True)
class VpnView:
    """How one router holds the VPNv4 route of one site prefix."""

    holder: str
    prefix: ipaddress.IPv4Network
    vpn: str
    rd: str
    route_targets: tuple[str, ...]
    next_hop: ipaddress.IPv4Address | None  # None: the holder originates the route itself
    next_hop_router: str
    allocator: str  # the router whose label the holder sees
    # The provider ASes the route crossed, nearest first (each eBGP hop prepends the
    # sender's AS), and ASes that must never appear in its path; None: not checked.
    as_path: tuple[int, ...] | None = None
    never_in_path: tuple[int, ...] = ()


@dataclass(frozen=True)
class Hop:
    """One link a packet crosses, and the label-stack depth it must carry there."""

    sender: str
    interface: str
    receiver: str
    depth: int
    note: str


class Semantics:
    """Shared topology helpers; subclasses state the option's rules."""

    scenarios: tuple[str, ...] = ()  # the lab format's scenarios these rules serve

    def __init__(self, lab: Lab):
        self.lab = lab

    # -- topology facts ------------------------------------------------------------------
    def vpn_speakers(self, asn: int) -> list[Node]:
        """Routers of an AS that hold a VPNv4 table."""
        return [n for n in self.lab.nodes if n.asn == asn and n.core_bgp
                and n.core_bgp.family("ipv4-vpn")]

    def lsp_hops(self, ingress: str, egress: str, inner: int, what: str,
                 php: bool = True) -> list[Hop]:
        """An LDP LSP carrying ``inner`` labels below the transport label; the penultimate
        hop pops the transport label unless the egress advertised a real label for the
        FEC (``php=False``: a host route it originates for another router). On a one-hop
        LSP the ingress is itself the penultimate hop: it never pushes the transport label,
        and nothing is popped on the way."""
        path = self.lab.core_path(ingress, egress)
        hops = []
        for index, (sender, interface, receiver) in enumerate(path):
            last = index == len(path) - 1 and php
            depth = inner + (0 if last else 1)
            if not last:
                note = f"LDP + {what}"
            elif index:
                note = f"{what}, after PHP at {sender.name}"
            else:
                note = f"{what} (no LDP label: {sender.name} is already the penultimate hop)"
            hops.append(Hop(sender.name, interface, receiver, depth, note))
        return hops

    # -- the option's rules --------------------------------------------------------------
    def vpn_views(self, ce: str) -> list[VpnView]:
        raise NotImplementedError

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        raise NotImplementedError

    def vpn_absent_on(self) -> list[str]:
        """Routers that must hold no route to any site prefix (the label-switching core)."""
        return [n.name for n in self.lab.nodes if n.role == "p"]

    def labelled_loopbacks(self) -> list[Node]:
        """Routers that originate their own loopback into BGP labeled-unicast."""
        return [n for n in self.lab.nodes if n.core_bgp and n.loopback
                and n.core_bgp.family("ipv4-labeled-unicast")
                and n.loopback.network in n.core_bgp.networks]

    def view(self, holder: Node, ce: str, next_hop_router: Node | None,
             allocator: Node, next_hop: ipaddress.IPv4Address | None = None) -> VpnView:
        """``next_hop`` defaults to the next-hop router's loopback."""
        site = self.lab.node(ce).site
        vpn = self.lab.vpn(site.vpn)
        if next_hop is None and next_hop_router is not None:
            next_hop = next_hop_router.loopback.ip
        return VpnView(
            holder=holder.name, prefix=site.prefix, vpn=vpn.name, rd=vpn.rd,
            route_targets=tuple(vpn.export_targets), next_hop=next_hop,
            next_hop_router=(next_hop_router or holder).name, allocator=allocator.name)

    def spread(self, origin: Node, family: str) -> dict[str, tuple]:
        """Follow a route over the lab's sessions of one family from the router that
        originates it: for each router that ends up holding it, (next-hop address or None
        at the origin, next-hop router, label allocator).

        RFC 4364/8277 rules as FRR applies them: a sender that changes the next hop (the
        origin, single-hop eBGP, next-hop-self) advertises its own address and a label it
        allocates (an Option B ASBR swaps it); any other sender (iBGP, a route reflector,
        multihop eBGP with next hop unchanged) passes next hop and label on untouched. A
        route learned over iBGP goes on to another iBGP peer only through a route reflector
        (from or to one of its clients).
        """
        return self.walk(origin, family)[0]

    def as_paths(self, origin: Node, family: str) -> dict[str, tuple[int, ...]]:
        """For each router holding the route (as in ``spread``), the ASes an eBGP sender
        prepended on the way, nearest first."""
        return self.walk(origin, family)[1]

    def walk(self, origin: Node, family: str) -> tuple[dict[str, tuple],
                                                        dict[str, tuple[int, ...]]]:
        held = {origin.name: (None, origin.name, origin.name)}
        paths: dict[str, tuple[int, ...]] = {origin.name: ()}
        learned_over: dict[str, object] = {origin.name: None}  # the sender's neighbor entry
        queue = deque([origin.name])
        while queue:
            sender = self.lab.node(queue.popleft())
            source = learned_over[sender.name]
            for neighbor in sender.core_bgp.family(family):
                if neighbor.peer in held:
                    continue
                if source is not None and not source.ebgp and not neighbor.ebgp \
                        and not (source.rr_client or neighbor.rr_client):
                    continue  # iBGP split horizon
                receiver = self.lab.node(neighbor.peer)
                back = next(n for n in receiver.core_bgp.neighbors
                            if n.session == neighbor.session)
                rewrites = (sender.name == origin.name or neighbor.next_hop_self
                            or (neighbor.ebgp and not neighbor.next_hop_unchanged))
                held[receiver.name] = ((back.address, sender.name, sender.name) if rewrites
                                       else held[sender.name])
                paths[receiver.name] = ((sender.bgp_asn, *paths[sender.name]) if neighbor.ebgp
                                        else paths[sender.name])
                learned_over[receiver.name] = back
                queue.append(receiver.name)
        return held, paths

    def propagate(self, ce: str) -> dict[str, VpnView]:
        """Every VPNv4 speaker's view of a site's route, from its origin PE."""
        origin = self.lab.pe_of(ce)
        views = {}
        for holder, (next_hop, router, allocator) in self.spread(origin, "ipv4-vpn").items():
            views[holder] = self.view(
                self.lab.node(holder), ce, self.lab.node(router) if next_hop else None,
                self.lab.node(allocator), next_hop)
        return views

    def owner_of(self, address: ipaddress.IPv4Address) -> Node:
        for node in self.lab.nodes:
            if any(i.address and i.address.ip == address for i in node.interfaces):
                return node
        raise LabError(f"no router owns {address}")

    def forwarding_hops(self, source_ce: str, destination_ce: str) -> list[Hop]:
        """The packet follows each router's next hop for the destination's VPN route: an LSP
        (transport label + VPN label) to a next hop in the same AS, the VPN label alone
        across a directly connected inter-AS link."""
        views = self.propagate(destination_ce)
        here = self.lab.pe_of(source_ce)
        hops: list[Hop] = []
        while views[here.name].next_hop is not None:
            view = views[here.name]
            owner = self.lab.node(view.next_hop_router)
            direct = [i for i in here.towards(owner.name) if i.peer.address.ip == view.next_hop]
            what = f"{view.allocator}'s VPN label"
            if direct:
                hops.append(Hop(here.name, direct[0].name, owner.name, 1, what))
            elif owner.asn != here.asn:
                # No next-hop-self: the next hop is the far ASBR's link address, reached over
                # an LSP to the near ASBR's /32 host route (a real label, no PHP), then the
                # inter-AS link.
                near = next(n for n in self.lab.nodes if view.next_hop in
                            [h.network_address for h in n.ldp_host_routes])
                hops += self.lsp_hops(here.name, near.name, 1, what, php=False)
                hops.append(Hop(near.name, self.lab.link_interface(near.name, owner.name),
                                owner.name, 1, what))
            else:
                hops += self.lsp_hops(here.name, owner.name, 1, what)
            here = owner
        return hops


class SingleAsL3vpn(Semantics):
    """RFC 4364 inside one AS: the origin PE advertises, every VPNv4 speaker keeps its next
    hop and label; [LDP, VPN] across the core."""

    scenarios = ("l3vpn",)

    def vpn_views(self, ce: str) -> list[VpnView]:
        origin = self.lab.pe_of(ce)
        return [self.view(holder, ce, origin if holder.name != origin.name else None, origin)
                for holder in self.vpn_speakers(origin.asn)]

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        return self.lsp_hops(self.lab.pe_of(source_ce).name, self.lab.pe_of(destination_ce).name, 1,
                             "VPN label")


class BackToBackVrfs(Semantics):
    """Option 1 (A): each AS runs its own VPN; PE-ASBRs meet as each other's CE."""

    scenarios = ("option1",)

    def border(self, asn: int, vpn: str) -> Node:
        """The PE-ASBR of an AS holding the VPN's VRF on the inter-AS link."""
        for node in self.lab.nodes:
            if node.asn == asn and any(i.scope == "inter-as" and i.vrf == vpn
                                       for i in node.interfaces):
                return node
        raise LabError(f"AS {asn} has no back-to-back VRF {vpn} on an inter-AS link")

    def vpn_views(self, ce: str) -> list[VpnView]:
        site = self.lab.node(ce).site
        origin = self.lab.pe_of(ce)
        views = []
        for system in self.lab.autonomous_systems:
            if system.customer or system.transit:
                continue
            # Where the prefix enters this AS's VPN: the attachment PE in the site's own AS,
            # the PE-ASBR (which learned it in its VRF from the other AS) elsewhere.
            advertiser = origin if origin.asn == system.asn else self.border(system.asn, site.vpn)
            for holder in self.vpn_speakers(system.asn):
                remote = holder.name != advertiser.name
                views.append(self.view(holder, ce, advertiser if remote else None, advertiser))
        return views

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        vpn = self.lab.node(source_ce).site.vpn
        ingress, egress = self.lab.pe_of(source_ce), self.lab.pe_of(destination_ce)
        if ingress.asn == egress.asn:
            return self.lsp_hops(ingress.name, egress.name, 1, "VPN label")
        near, far = self.border(ingress.asn, vpn), self.border(egress.asn, vpn)
        return [
            *self.lsp_hops(ingress.name, near.name, 1, "VPN label"),
            Hop(near.name, self.lab.link_interface(near.name, far.name, vpn), far.name, 0,
                "plain IP between back-to-back VRFs"),
            *self.lsp_hops(far.name, egress.name, 1, "VPN label"),
        ]


class MpEbgpBetweenAsbrs(Semantics):
    """Option 2 (B): the PE-ASBRs exchange VPNv4 over single-hop MP-eBGP without VRFs,
    rewriting next hop and label; with next-hop-self towards their PEs, again inside each
    AS."""

    scenarios = ("option2",)

    def vpn_views(self, ce: str) -> list[VpnView]:
        return list(self.propagate(ce).values())

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        return self.forwarding_hops(source_ce, destination_ce)


class MultihopBetweenRrs(Semantics):
    """Option 3 (C): the route reflectors exchange VPNv4 over multihop MP-eBGP with next hop
    and label unchanged; the ASBRs exchange only labelled loopbacks (BGP labeled-unicast)
    and hold no VPN route."""

    scenarios = ("option3",)

    def vpn_views(self, ce: str) -> list[VpnView]:
        return list(self.propagate(ce).values())

    def vpn_absent_on(self) -> list[str]:
        return [n.name for n in self.lab.nodes if n.role in ("p", "asbr")]

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        """[transport, LU, VPN] to the ASBR, [LU, VPN] across the inter-AS link, the LU label
        swapped onto LDP at the far ASBR: [LDP, VPN], then the VPN label after PHP."""
        views = self.propagate(destination_ce)
        here = self.lab.pe_of(source_ce)
        target = self.lab.node(views[here.name].next_hop_router)
        labelled = self.spread(target, "ipv4-labeled-unicast")
        hops: list[Hop] = []
        while here.name != target.name:
            if here.asn == target.asn:
                hops += self.lsp_hops(here.name, target.name, 1, "VPN label")
                break
            next_hop, router, _ = labelled[here.name]
            owner = self.lab.node(router)
            direct = [i for i in here.towards(owner.name) if i.peer.address.ip == next_hop]
            if direct:
                hops.append(Hop(here.name, direct[0].name, owner.name, 2,
                                f"{owner.name}'s LU label + VPN label"))
            else:
                hops += self.lsp_hops(here.name, owner.name, 2,
                                      f"{owner.name}'s LU label + VPN label")
            here = owner
        return hops


class NonVpnTransit(MultihopBetweenRrs):
    """Option 4: two VPN providers exchange VPNv4 between their route reflectors (multihop,
    next hop and label unchanged) across a non-VPN MPLS transit provider, which carries only
    the providers' labelled loopbacks (BGP labeled-unicast between its ASBRs over its own
    LDP core) and never appears in the VPN routes' AS path. The data path is Option 3's,
    with one more labelled-unicast swap at each transit ASBR."""

    scenarios = ("option4",)

    def transit_ases(self) -> tuple[int, ...]:
        return tuple(a.number for a in self.lab.autonomous_systems if a.transit)

    def vpn_views(self, ce: str) -> list[VpnView]:
        origin = self.lab.pe_of(ce)
        paths = self.as_paths(origin, "ipv4-vpn")
        return [dataclasses.replace(view, as_path=paths[holder],
                                    never_in_path=self.transit_ases())
                for holder, view in self.propagate(ce).items()]

    def vpn_absent_on(self) -> list[str]:
        transit = {a.asn for a in self.lab.autonomous_systems if a.transit}  # regions
        return [n.name for n in self.lab.nodes
                if n.role in ("p", "asbr") or (n.asn in transit and n.role != "ce")]


@dataclass(frozen=True)
class CarrierSite:
    """One site of a customer carrier: its routers (joined by its own core links), the csc-ce
    that attaches it to the backbone, and the backbone PE on the other side."""

    asn: int
    vpn: str
    csc_ce: str
    pe: str
    routers: tuple[str, ...]
    # The site's internal routes (its loopbacks), and those the csc-ce learns over labelled
    # unicast from their router (it advertises a label of its own for them; the others it
    # originates from the IGP, with implicit-null).
    internal: tuple[str, ...]
    labelled: frozenset[str]


class CarrierSupportingCarrier(Semantics):
    """Carrier supporting carrier (RFC 4364 §9): a customer carrier's sites exchange their
    internal routes (loopbacks) as labelled IPv4 with the backbone's PEs, which carry them as
    VPNv4 routes of the carrier's VPN, swapping the CSC-CE's label onto the VPN label and
    back. The carrier's external routes travel over its own iBGP between its sites and never
    enter the backbone. Without MPLS in the sites (csc-ip) the packet leaves the backbone as
    IP; with it (csc-mpls) it is label switched end to end."""

    scenarios = ("csc-ip", "csc-mpls", "csc-vpn")

    def labelled_loopbacks(self) -> list[Node]:
        """Option C's labelled-loopback chain does not apply: a carrier's loopbacks cross
        the backbone as VPNv4 routes (the swaps are checked by emulator/verify/carrier.py)."""
        return []

    def vpn_views(self, ce: str) -> list[VpnView]:
        """The customer carrier's own VPN (csc-vpn): its PEs exchange VPNv4 between their
        loopbacks across the backbone, next hop and label unchanged."""
        return list(self.propagate(ce).values())

    def vpn_absent_on(self) -> list[str]:
        """The backbone and the VPN-running carrier's CSC-CEs and P routers never hold its
        customers' routes (another carrier may use the same prefixes: not checked there)."""
        carriers = {a.asn for a in self.lab.autonomous_systems if a.carrier_vpn or a.customer}
        running_vpns = {n.asn for n in self.lab.nodes if n.asn in carriers and n.vrfs}
        return [n.name for n in self.lab.nodes if n.asn not in carriers or
                (n.asn in running_vpns and n.role in ("csc-ce", "p"))]

    def wire_path(self, source_ce: str, destination_ce: str) -> list[Hop]:
        """Hierarchical VPNs (csc-vpn): the carrier's VPN label under the path its PE's
        loopback takes (external_path), popped into the VRF by the egress PE."""
        ingress, egress = self.lab.pe_of(source_ce), self.lab.pe_of(destination_ce)
        return self.external_path(ingress.name, egress.name,
                                  payload=f"{egress.name}'s VPN label")

    @functools.cached_property
    def sites(self) -> list[CarrierSite]:
        """The carriers' sites (derived once: every check asks for them)."""
        sites = []
        carriers = {a.asn: a.carrier_vpn for a in self.lab.autonomous_systems if a.carrier_vpn}
        for ce in self.lab.nodes:
            if ce.role != "csc-ce":
                continue
            pe = next((i.peer.node for i in ce.interfaces
                       if i.scope == "attachment" and i.peer), None)
            if pe is None:
                continue  # a CSC-CE on no PE is no site (mplslab validate says so)
            routers = [ce.name]
            queue = deque([ce.name])
            while queue:
                for interface in self.lab.node(queue.popleft()).interfaces:
                    if interface.scope == "core" and interface.peer and \
                            interface.peer.node not in routers:
                        routers.append(interface.peer.node)
                        queue.append(interface.peer.node)
            labelled_peers = {n.peer for n in ce.core_bgp.neighbors
                              if not n.ebgp and "ipv4-labeled-unicast" in n.families}
            members = [self.lab.node(r) for r in routers]
            sites.append(CarrierSite(
                asn=ce.asn, vpn=carriers[ce.asn], csc_ce=ce.name, pe=pe,
                routers=tuple(routers),
                internal=tuple(str(m.loopback.network) for m in members if m.loopback),
                labelled=frozenset(str(m.loopback.network) for m in members
                                   if m.name in labelled_peers)))
        return sites

    def site_of(self, router: str) -> CarrierSite:
        return next(s for s in self.sites if router in s.routers)

    def internal_views(self, site: CarrierSite, prefix: str) -> list[VpnView]:
        """Every backbone VPNv4 speaker's view of one internal route: exported from the VRF
        by the site's PE, which allocates the label everyone pushes."""
        origin = self.lab.node(site.pe)
        vpn = self.lab.vpn(site.vpn)
        return [VpnView(holder=holder, prefix=ipaddress.IPv4Network(prefix), vpn=vpn.name,
                        rd=vpn.rd, route_targets=tuple(vpn.export_targets),
                        next_hop=next_hop, next_hop_router=router, allocator=allocator)
                for holder, (next_hop, router, allocator)
                in self.spread(origin, "ipv4-vpn").items()]

    def external_path(self, source: str, destination: str,
                      payload: str | None = None) -> list[Hop]:
        """A packet from a router's external prefix to another site's external prefix: its
        BGP next hop is the destination router's loopback, which the source site reaches
        through its csc-ce: with that csc-ce's label where the site learns the loopback over
        labelled unicast (csc-mpls), as IP where it learns it from the IGP (csc-ip); then
        the PE's label, [LDP, VPN] across the backbone, and the far csc-ce's label for the
        loopback (none when it originated the route from its IGP), which the far csc-ce pops
        when the destination advertised implicit-null for its own loopback.

        ``payload``: a label the packet carries beneath those on every link (csc-vpn: the
        egress I-PE's VPN label)."""
        near, far = self.site_of(source), self.site_of(destination)
        target = str(self.lab.node(destination).loopback.network)
        extra = 1 if payload else 0

        def what(label: str | None) -> str:  # the stack in words, top first
            return " + ".join(part for part in (label, payload) if part) or "IP"

        hops: list[Hop] = []
        site_labelled = any("ipv4-labeled-unicast" in n.families and not n.ebgp
                            for n in self.lab.node(source).core_bgp.neighbors)
        if source != near.csc_ce:
            if site_labelled:
                hops += self.lsp_hops(source, near.csc_ce, 1 + extra,
                                      what(f"{near.csc_ce}'s LU label"))
            else:
                hops += [Hop(s.name, i, r, extra, f"{what(None)} (the site runs no MPLS)")
                         for s, i, r in self.lab.core_path(source, near.csc_ce)]
        hops.append(Hop(near.csc_ce, self.lab.link_interface(near.csc_ce, near.pe), near.pe,
                        1 + extra, what(f"{near.pe}'s label for {target}")))
        hops += self.lsp_hops(near.pe, far.pe, 1 + extra, what(f"{far.pe}'s VPN label"))
        far_label = target in far.labelled
        hops.append(Hop(far.pe, self.lab.link_interface(far.pe, far.csc_ce, far.vpn), far.csc_ce,
                        (1 if far_label else 0) + extra,
                        what(f"{far.csc_ce}'s LU label") if far_label
                        else f"{what(None)} ({far.csc_ce} advertised implicit-null: "
                             f"{far.pe} pops)"))
        if destination != far.csc_ce:
            if any(i.ldp for i in self.lab.node(far.csc_ce).interfaces):
                site = self.lsp_hops(far.csc_ce, destination, extra, what(None))
                if far_label and len(site) == 1:
                    site[0] = dataclasses.replace(site[0], note=(
                        f"{what(None)} ({far.csc_ce} pops its LU label: {destination} "
                        "advertised implicit-null for its loopback)"))
                elif far_label:
                    site[0] = dataclasses.replace(site[0], note=(
                        f"{site[0].note} ({far.csc_ce} swaps its LU label onto LDP)"))
                hops += site
            else:
                hops += [Hop(s.name, i, r, extra, f"{what(None)} (the site runs no MPLS)")
                         for s, i, r in self.lab.core_path(far.csc_ce, destination)]
        return hops

SEMANTICS = {scenario: cls for cls in (SingleAsL3vpn, BackToBackVrfs, MpEbgpBetweenAsbrs,
                                        MultihopBetweenRrs, NonVpnTransit,
                                        CarrierSupportingCarrier)
             for scenario in cls.scenarios}


def semantics_for(lab: Lab) -> Semantics:
    if lab.scenario not in SEMANTICS:
        raise LabError(f"verification of scenario {lab.scenario} is not built yet",
                       hint=f"built: {', '.join(SEMANTICS)}")
    return SEMANTICS[lab.scenario](lab)
