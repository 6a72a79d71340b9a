"""The BGP sessions a lab file lists: whom each peers with and from which address, the
neighbours on both routers, and what a session may carry."""

from __future__ import annotations

from emulator import suites
from emulator.model import schema, topology
from emulator.model.draft import CUSTOMER_ROLES, LabDraft


class Sessions(LabDraft):
    def add_session(self, index: int, session: schema.BgpSession) -> None:
        a, b = (self.drafts[n] for n in session.between)
        loc = ("bgp", index)
        name = session.name or f"{a.name}--{b.name}"
        ebgp = self.number(a.asn) != self.number(b.asn)
        over_loopbacks = not ebgp or session.multihop
        adjacent = [i for i in a.interfaces if i.peer and i.peer.node == b.name and not i.vrf]
        carrier_lu = (not ebgp and self.carrier_of(a) is not None and adjacent
                      and session.families == ["ipv4-labeled-unicast"])
        if carrier_lu:
            # Inside a customer carrier's site, labelled unicast between neighbours peers
            # over their link: between loopbacks, the ASBR's own loopback would come back
            # to it with a next hop through itself (docs/labs/csc.md).
            over_loopbacks = False
        if over_loopbacks:
            for draft in (a, b):
                if draft.loopback is None:
                    raise self.fail(f"{draft.name} has no loopback to peer from", loc)
            addr_a, addr_b = a.loopback.ip, b.loopback.ip
        else:
            shared = adjacent
            if not shared:
                raise self.fail(f"single-hop eBGP between {a.name} and {b.name} needs a direct "
                                "link between them", loc,
                                hint="add the link, or set multihop: true to peer loopbacks")
            addr_a, addr_b = shared[0].address.ip, shared[0].peer.address.ip
        for me, other, other_addr in ((a, b, addr_b), (b, a, addr_a)):
            export_only = None
            if self.carrier_of(me) is not None:
                export_only = ("internal" if session.families == ["ipv4-labeled-unicast"]
                               else "external")
            me.neighbors[None].append(topology.BgpNeighbor(
                export_only=export_only,
                session=name, peer=other.name, address=other_addr,
                remote_as=self.number(other.asn),
                families=list(session.families), ebgp=ebgp,
                update_source="lo" if over_loopbacks else None,
                ebgp_multihop=255 if ebgp and session.multihop else None,
                next_hop_self=me.name in session.next_hop_self,
                next_hop_unchanged=me.name in session.next_hop_unchanged,
                rr_client=other.name in session.rr_clients))
            # A PE or RR originates its own loopback (the BGP next hop others need) into
            # labeled-unicast, from the unicast table (network under ipv4 unicast): an
            # IGP-learned loopback can go out with implicit-null (FRRouting issue 2750).
            if ("ipv4-labeled-unicast" in session.families
                    and (me.spec.role in ("pe", "rr") or self.carrier_of(me) is not None)
                    and me.loopback.network not in me.bgp_networks):
                me.bgp_networks.append(me.loopback.network)
        if ebgp and not session.multihop:
            # The inter-AS interface carries labelled packets when BGP hands out labels on it.
            carries_labels = {"ipv4-vpn", "ipv4-labeled-unicast"} & set(session.families)
            if carries_labels:
                for me, other in ((a, b), (b, a)):
                    me.interfaces = [
                        i.model_copy(update={"mpls": True, "mpls_bgp_forwarding": True})
                        if i.peer and i.peer.node == other.name and not i.vrf else i
                        for i in me.interfaces
                    ]
        self.sessions.append(topology.BgpSession(
            name=name, a=a.name, b=b.name, families=list(session.families), ebgp=ebgp,
            multihop=session.multihop))

    def check_sessions(self) -> None:
        """What each session asks of its routers: address families that the suite running
        BGP on each end can carry on one neighbor (its BGP_FAMILIES_APART), and no VPNv4
        routes to a customer edge."""
        for index, session in enumerate(self.lab.bgp):
            families = set(session.families)
            for name in dict.fromkeys(session.between):
                speaker = suites.driver(self.drafts[name].suites["bgp"])
                for apart, what, hint in speaker.BGP_FAMILIES_APART:
                    if apart <= families:
                        raise self.fail(f"{speaker.TITLE} cannot {what}",
                                        ("bgp", index, "families"), hint=hint)
            for node in session.between:
                if self.lab.nodes[node].role in CUSTOMER_ROLES and "ipv4-vpn" in families:
                    raise self.fail(f"{node} is a {self.lab.nodes[node].role}: it holds no "
                                    "VPNv4 routes", ("bgp", index, "families"))
