"""Settings the scenario implies and no lab file states, each recorded with its reason
(``Node.reasons``): Option B's label switching and staged sessions, the /32 host routes to
an eBGP neighbour, as-override between regions that share an AS number, a customer
carrier's routing, the import check, the label guard and labelled next-hop resolution.

A reason is a neutral fact (``topology.Reason``: a key, the protocol it belongs to, its
parameters, why); the suite that runs that protocol on the node words it in its commands
(``emulator.suites.reason_words``).

Each step reads a node's draft once its links and sessions are in, and may change it (its
neighbours, interfaces, static routes, networks); ``Builder.finish`` runs them in order.
"""

from __future__ import annotations

import ipaddress

from emulator.model import topology
from emulator.model.draft import LabDraft, NodeDraft


class Derived(LabDraft):
    def option_b_peers(self, draft: NodeDraft) -> list[topology.BgpNeighbor]:
        """Option B: the eBGP neighbours over a link (not multihop) that exchange VPNv4."""
        return [n for n in draft.neighbors.get(None, []) if n.ebgp
                and not n.ebgp_multihop and "ipv4-vpn" in n.families]

    @staticmethod
    def labelled_unicast(draft: NodeDraft) -> bool:
        return any("ipv4-labeled-unicast" in n.families for n in draft.neighbors.get(None, []))

    def ldp_host_routes(self, draft: NodeDraft, reasons: list[topology.Reason]
                        ) -> list[ipaddress.IPv4Network]:
        """Option B without next-hop-self: the slide's /32 host route to the eBGP
        neighbour, advertised into the IGP so that an LSP (with a real label, popped here)
        reaches it."""
        peers = self.option_b_peers(draft)
        passes_next_hop = any(not n.ebgp and not n.next_hop_self and "ipv4-vpn" in n.families
                              for n in draft.neighbors.get(None, []))
        host_routes: list[ipaddress.IPv4Network] = []
        if not (peers and passes_next_hop and self.ldp_of(draft)):
            return host_routes
        for peer in peers:
            host = ipaddress.IPv4Network(f"{peer.address}/32")
            host_routes.append(host)
            draft.static_routes.append(topology.StaticRoute(prefix=host, nexthop=peer.address))
            reasons.append(topology.Reason(
                key="ldp-host-route", protocol="ldp",
                params={"prefix": str(host), "nexthop": str(peer.address), "peer": peer.peer},
                why=f"the VPN routes from eBGP neighbour {peer.peer} keep it as next hop "
                    "inside this AS (no next-hop-self): the PEs need an LSP to it"))
        return host_routes

    def stage_vpn_sessions(self, draft: NodeDraft, reasons: list[topology.Reason]) -> None:
        """Option B: the iBGP VPNv4 sessions start down, and come up once LDP labels the
        route to the peer."""
        if not (self.option_b_peers(draft) and self.ldp_of(draft)):
            return
        for vrf_name, neighbors in draft.neighbors.items():
            draft.neighbors[vrf_name] = [
                n.model_copy(update={"wait_for_ldp_label": True})
                if "ipv4-vpn" in n.families and not n.ebgp else n for n in neighbors]
        waiting = [n.peer for n in draft.neighbors.get(None, []) if n.wait_for_ldp_label]
        if waiting:
            reasons.append(topology.Reason(
                key="staged-session", protocol="bgp", params={"peers": waiting},
                why="an Option B ASBR binds its swap entries when the routes arrive: "
                    "before LDP has a label for the next hop they would lack their "
                    "transport label for good (docs/labs/option2.md)"))

    def l3vpn_switching(self, draft: NodeDraft, reasons: list[topology.Reason]) -> None:
        """Option B: a new local label and a swap entry for each VPN route whose next hop
        the ASBR rewrites, on both its core and inter-AS interfaces."""
        if self.option_b_peers(draft):
            draft.interfaces = [i.model_copy(update={"l3vpn_switching": True}) if i.mpls else i
                                for i in draft.interfaces]
        switching = [i.name for i in draft.interfaces if i.l3vpn_switching]
        if switching:
            reasons.append(topology.Reason(
                key="l3vpn-switching", protocol="bgp", params={"interfaces": switching},
                why="VPNv4 over eBGP without VRFs (Option B): this router rewrites the next "
                    "hop, so it allocates a label of its own per VPN route and swaps it to "
                    "the label it received, in both directions"))

    def shared_number(self, draft: NodeDraft, reasons: list[topology.Reason]) -> None:
        """A transit router's eBGP peer whose AS number another region also uses (option 4,
        same-as): routes from that other region would reach the peer with the peer's own
        number in their AS path, and loop prevention there (and at every iBGP router behind
        it) would drop them. The transit replaces the number with its own on the way out."""
        overridden = []
        for neighbor in draft.neighbors.get(None, []):
            peer = self.drafts.get(neighbor.peer)
            if not neighbor.ebgp or peer is None or not draft.provider:
                continue
            number = self.number(peer.asn)
            if any(a.asn != peer.asn and self.number(a.asn) == number
                   for a in self.lab.autonomous_systems):
                overridden.append(neighbor.peer)
        if not overridden:
            return
        draft.neighbors[None] = [n.model_copy(update={"as_override": True})
                                 if n.peer in overridden else n for n in draft.neighbors[None]]
        reasons.append(topology.Reason(
            key="as-override", protocol="bgp", params={"peers": overridden},
            why="the regions on either side of the transit share an AS number: without it "
                "each would drop the other's labelled loopbacks, its own number being in "
                "their AS path"))

    def carrier_routing(self, draft: NodeDraft, reasons: list[topology.Reason]
                        ) -> tuple[list[ipaddress.IPv4Network], int | None, bool]:
        """What a customer carrier's router needs for carrier supporting carrier: its
        internal routes (every loopback of its AS, the only routes the backbone may carry),
        the loopbacks a csc-ce originates into labelled unicast for its site, its external
        routes into its own iBGP. Returns (internal routes, BGP distance, whether the IGP
        redistributes BGP's internal routes); nothing for any other router."""
        carrier = self.carrier_of(draft)
        if carrier is None:
            return [], None, False
        internal = sorted(d.loopback.network for d in self.drafts.values()
                          if d.asn == draft.asn and d.loopback is not None)
        neighbors = draft.neighbors.get(None, [])
        if draft.spec.external is not None and neighbors:
            draft.bgp_networks.append(draft.spec.external)
        if draft.spec.role != "csc-ce":
            return internal, None, False
        # The site's loopbacks that reach this csc-ce by the IGP only (no labelled session of
        # their own to it): it originates them towards the backbone.
        labelled_peers = {n.peer for n in neighbors if n.families == ["ipv4-labeled-unicast"]}
        for peer in self.site_peers(draft):
            if peer.loopback is not None and peer.name not in labelled_peers and \
                    peer.loopback.network not in draft.bgp_networks:
                draft.bgp_networks.append(peer.loopback.network)
        reasons.append(topology.Reason(
            key="accept-own-as", protocol="bgp",
            params={"peers": [n.peer for n in neighbors if n.allowas_in]},
            why=f"the other sites of AS {draft.asn} are the same AS: their routes reach this "
                f"site with {draft.asn} in the AS path; this csc-ce accepts them and replaces "
                "its AS with the backbone's, as an as-override on the PE would, so that the "
                "site's other routers accept them too"))
        distance = None
        if any(not n.ebgp and n.families == ["ipv4-labeled-unicast"] for n in neighbors):
            distance = 20
            reasons.append(topology.Reason(
                key="bgp-distance", protocol="bgp", params={"distance": distance},
                why="the labelled route to a site router learned over iBGP labelled unicast "
                    "must beat the IGP's route to be installed: only an installed route gets "
                    "the local label this csc-ce advertises to the backbone"))
        redistribute = "ldp" not in carrier.label_distribution
        if redistribute:
            reasons.append(topology.Reason(
                key="redistribute-internal", protocol="igp",
                why="the site runs no MPLS: its routers learn the other sites' loopbacks (the "
                    "BGP next hops of the external routes) from the IGP, and this csc-ce "
                    "pushes the backbone's label"))
        return internal, distance, redistribute

    def site_peers(self, draft: NodeDraft) -> list[NodeDraft]:
        """The routers of a customer carrier's site (its core group), the router included."""
        group = self.core_group.get(draft.name)
        return [d for name, d in self.drafts.items()
                if d.asn == draft.asn and self.core_group.get(name) == group]

    def import_check(self, draft: NodeDraft, reasons: list[topology.Reason]) -> bool:
        """Whether BGP announces a network only with a route of its own in the RIB: not for
        a labelled loopback, which arrives with itself as next hop ("prefix loops through
        itself"), nor for a carrier's many external routes."""
        has_lu = self.labelled_unicast(draft)
        external_routes = draft.spec.external_routes
        if has_lu:
            reasons.append(topology.Reason(
                key="no-import-check", protocol="bgp",
                why="a labelled loopback (BGP labelled unicast) is announced with itself as "
                    "next hop; the import check would mark it invalid"))
        elif external_routes is not None and draft.neighbors.get(None):
            reasons.append(topology.Reason(
                key="no-import-check", protocol="bgp",
                why=f"the {external_routes.count} external routes stand for the carrier's "
                    "Internet table: announced without a route of their own in the RIB"))
        return not (has_lu or external_routes)

    @staticmethod
    def label_guard(draft: NodeDraft, bgp: list[topology.BgpInstance],
                    reasons: list[topology.Reason]) -> list[topology.GuardedInterface]:
        """A backbone PE's interfaces towards customer carriers' CSC-CEs admit only the
        labels advertised on each."""
        label_guard = [topology.GuardedInterface(interface=i.name, vrf=instance.vrf,
                                                 peer=neighbor.peer)
                       for instance in bgp if instance.vrf
                       for neighbor in instance.family("ipv4-labeled-unicast")
                       for i in draft.interfaces if i.peer and i.peer.node == neighbor.peer]
        if label_guard:
            reasons.append(topology.Reason(
                key="label-guard", protocol="bgp",
                params={"guarded": [f"{g.interface} ({g.peer})" for g in label_guard]},
                why="a router has one label space: a CSC-CE could push a label this PE gave "
                    "another customer carrier and enter that carrier's VPN (label "
                    "spoofing); each CE-facing interface admits only the labels advertised "
                    "on it"))
        return label_guard

    def fec_nexthop_resolution(self, draft: NodeDraft, reasons: list[topology.Reason]) -> bool:
        """BGP next hops learned with a label resolve over LDP-labelled IGP routes."""
        ldp = any(i.ldp for i in draft.interfaces)
        resolution = ldp and (self.labelled_unicast(draft) or bool(self.option_b_peers(draft)))
        if resolution:
            reasons.append(topology.Reason(
                # The suite that labels the IGP's routes resolves over them.
                key="fec-nexthop-resolution", protocol="ldp",
                why="BGP next hops learned with a label (labelled unicast or an Option B "
                    "eBGP peer) must resolve over LDP-labelled IGP routes"))
        return resolution
