"""Links and the interfaces they give the routers: the scope of each link (core, inter-AS,
attachment), its addresses, MTU and labelled forwarding, the routing between a VRF and what
sits behind it; then the sites' and external routes' interfaces, and the check that each
AS's core links join its routers."""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict

from emulator.errors import LabError
from emulator.model import schema, topology
from emulator.model.addressing import AddressPool
from emulator.model.draft import VRF_ROLES, LabDraft, NodeDraft

LINK_PREFIXLEN = 30
# Link MTUs: a customer's edge, a customer carrier's own links, the backbone's.
EDGE_MTU, CARRIER_MTU, BACKBONE_MTU = 1500, 4000, 9000


class Links(LabDraft):
    def add_link(self, index: int, link: schema.Link) -> None:
        a, b = (self.drafts[n] for n in link.endpoints)
        name = link.name or f"{a.name}--{b.name}"
        if not (a.provider or b.provider):
            raise self.fail(f"{a.name} and {b.name} are both customer routers: links behind "
                            "a CE are not built yet", ("links", index, "endpoints"),
                            hint="attach each CE to a provider router")
        carrier = self.carrier_attachment(a, b)
        if carrier:
            scope = "attachment"
            if link.protocol not in (None, "ebgp-labeled-unicast") or link.vrfs:
                raise self.fail(f"a customer carrier's {carrier[1].name} attaches to "
                                f"{carrier[0].name} with eBGP labelled unicast, in VPN "
                                f"{self.ases[carrier[1].asn].carrier_vpn}",
                                ("links", index), hint="remove protocol and vrfs")
        elif a.provider and b.provider:
            scope = "core" if a.asn == b.asn else "inter-as"
        else:
            scope = "attachment"
        if link.protocol == "ebgp-labeled-unicast" and not carrier:
            raise self.fail("ebgp-labeled-unicast joins a customer carrier's csc-ce to a PE",
                            ("links", index, "protocol"),
                            hint="a CE of an ordinary VPN takes ebgp, ospf, rip or static")
        if link.vrfs and scope == "attachment":
            raise self.fail("vrfs (one VLAN per VRF) joins two provider routers; a CE link "
                            "takes its VRF from the CE's site", ("links", index, "vrfs"))
        if link.vrfs and scope == "core":
            raise self.fail(f"vrfs (back-to-back VRFs) on a core link: {a.name} and {b.name} "
                            f"are both in AS {a.asn}, and inside an AS VPN routes travel as "
                            "labelled VPNv4 routes, not one VLAN per VRF",
                            ("links", index, "vrfs"),
                            hint="remove vrfs; back-to-back VRFs join the PE-ASBRs of two ASes")
        if link.vrfs:
            for draft in (a, b):
                if draft.spec.role not in VRF_ROLES:
                    raise self.fail(f"vrfs (back-to-back VRFs) needs a router holding VRFs at "
                                    f"both ends; {draft.name} is a {draft.spec.role}",
                                    ("links", index, "vrfs"),
                                    hint="only a pe or pe-asbr holds VRFs")
        if scope == "attachment" and not carrier:
            customer, provider = (b, a) if a.provider else (a, b)
            if provider.spec.role not in VRF_ROLES:
                raise self.fail(f"{customer.name} (a {customer.spec.role}) is attached to "
                                f"{provider.name}, a {provider.spec.role}: only a pe or "
                                "pe-asbr holds the VRF a customer needs",
                                ("links", index, "endpoints"),
                                hint="attach the customer to a PE")
        if link.protocol and scope == "core":
            raise self.fail("protocol applies to VRF attachments, not to a core link",
                            ("links", index, "protocol"))
        if scope == "inter-as" and not link.vrfs and link.protocol:
            raise self.fail("protocol on an inter-AS link needs vrfs (back-to-back VRFs)",
                            ("links", index, "protocol"))
        if scope == "core":
            pool = self.pool(a.asn, "links")
        elif carrier:
            pool = self.pool(carrier[0].asn, "links")
        elif scope == "attachment":
            pool = self.pool((a if a.provider else b).asn, "links")
        else:
            pool = AddressPool(self.lab.defaults.interconnect, self.spaces[None],
                               self.cursors[None])
        eth_a, eth_b = a.new_eth(), b.new_eth()
        self.links.append(topology.Link(
            name=name, a=topology.Endpoint(node=a.name, interface=eth_a),
            b=topology.Endpoint(node=b.name, interface=eth_b), scope=scope,
            vrfs=dict(link.vrfs or {}),
            protocol="ebgp-labeled-unicast" if carrier else
            (link.protocol or self.lab.defaults.pe_ce_protocol)
            if scope == "attachment" or link.vrfs else None))
        if link.vrfs:
            # One logical interface and VRF per VPN client on the one physical link.
            for draft, eth in ((a, eth_a), (b, eth_b)):
                draft.interfaces.append(topology.Interface(
                    name=eth, kind="veth", address=None, scope=scope, link=name,
                    mtu=self.link_mtu(a, b)))
            for vrf, vlan in link.vrfs.items():
                subnet = link.subnet or self.allocate(pool, ("links", index), LINK_PREFIXLEN)
                self.connect(a, f"{eth_a}.{vlan}", b, f"{eth_b}.{vlan}", subnet, scope, name,
                             vrf=vrf, vlan=vlan, parents=(eth_a, eth_b))
                self.attach_protocol(a, f"{eth_a}.{vlan}", b, f"{eth_b}.{vlan}", vrf,
                                     link.protocol or self.lab.defaults.pe_ce_protocol,
                                     ("links", index, "protocol"))
            return
        subnet = link.subnet or self.allocate(pool, ("links", index), LINK_PREFIXLEN)
        vrf = None
        if carrier:
            vrf = self.ases[carrier[1].asn].carrier_vpn
            self.connect(a, eth_a, b, eth_b, subnet, scope, name, vrf=vrf)
            self.attach_protocol(a, eth_a, b, eth_b, vrf, "ebgp-labeled-unicast",
                                 ("links", index))
            return
        if scope == "attachment":
            customer = a if not a.provider else b
            if customer.spec.site is None:
                raise self.fail(f"{customer.name} attaches to a provider but has no site",
                                ("nodes", customer.name))
            vrf = customer.spec.site.vpn
        self.connect(a, eth_a, b, eth_b, subnet, scope, name, vrf=vrf)
        if scope == "attachment":
            self.attach_protocol(a, eth_a, b, eth_b, vrf,
                                 link.protocol or self.lab.defaults.pe_ce_protocol,
                                 ("links", index, "protocol"))

    def connect(self, a: NodeDraft, if_a: str, b: NodeDraft, if_b: str,
                subnet: ipaddress.IPv4Network, scope: str, link: str, *, vrf: str | None = None,
                vlan: int | None = None, parents: tuple[str, str] | None = None) -> None:
        hosts = list(itertools.islice(iter(subnet.hosts()), 2))
        if len(hosts) < 2:
            raise LabError(f"link {link}: subnet {subnet} has room for fewer than two hosts")
        addr_a = ipaddress.IPv4Interface(f"{hosts[0]}/{subnet.prefixlen}")
        addr_b = ipaddress.IPv4Interface(f"{hosts[1]}/{subnet.prefixlen}")
        for index, (draft, ifname, addr, peer, peer_if, peer_addr) in enumerate((
                (a, if_a, addr_a, b, if_b, addr_b), (b, if_b, addr_b, a, if_a, addr_a))):
            core = scope == "core"
            # Labelled packets cross a customer carrier's attachment both ways.
            carrier = scope == "attachment" and draft.provider and peer.provider
            draft.interfaces.append(topology.Interface(
                name=ifname, kind="vlan" if vlan else "veth", address=addr, scope=scope,
                parent=parents[index] if parents else None, vlan=vlan,
                vrf=vrf if draft.spec.role in VRF_ROLES or vlan else None,
                peer=topology.Peer(node=peer.name, interface=peer_if, address=peer_addr),
                link=link, igp=core and self.igp_of(draft) != "none",
                ldp=core and self.ldp_of(draft), mpls=core or carrier,
                mtu=self.link_mtu(a, b)))

    def link_mtu(self, a: NodeDraft, b: NodeDraft) -> int:
        """Links get larger towards the backbone so that every level of label stacking fits
        (a full-size packet of a site gains a customer carrier's labels on its links, and
        the backbone's on top: a carrier's iBGP updates are such packets)."""
        if not (a.provider and b.provider):
            return EDGE_MTU
        if self.carrier_of(a) is not None and self.carrier_of(b) is not None:
            return CARRIER_MTU
        return BACKBONE_MTU

    def attach_protocol(self, a: NodeDraft, if_a: str, b: NodeDraft, if_b: str, vrf: str,
                        protocol: str, loc: tuple) -> None:
        """The routing between a VRF and what sits behind it (a CE, or the other AS's VRF)."""
        for me, my_if, other, other_if in ((a, if_a, b, if_b), (b, if_b, a, if_a)):
            my_vrf = vrf if me.provider else None
            other_addr = next(i for i in other.interfaces if i.name == other_if).address
            if protocol == "ebgp-labeled-unicast":
                me.neighbors[my_vrf if me.spec.role in VRF_ROLES else None].append(
                    topology.BgpNeighbor(
                        session=f"{a.name}--{b.name}", peer=other.name, address=other_addr.ip,
                        remote_as=self.number(other.asn), families=["ipv4-labeled-unicast"],
                        vrf=my_vrf if me.spec.role in VRF_ROLES else None, ebgp=True,
                        export_only=None if me.spec.role in VRF_ROLES else "internal",
                        allowas_in=me.spec.role not in VRF_ROLES))
            elif protocol == "ebgp":
                if me.asn == other.asn:
                    raise self.fail(f"eBGP between {me.name} and {other.name} needs two ASes",
                                    loc, hint="give the CE its own asn")
                me.neighbors[my_vrf].append(topology.BgpNeighbor(
                    session=self.attachment_session(a, b, vrf), peer=other.name,
                    address=other_addr.ip, remote_as=self.number(other.asn),
                    families=["ipv4-unicast"],
                    vrf=my_vrf, ebgp=True))
            elif protocol == "ospf":
                instance = me.ospf.setdefault(my_vrf, {"interfaces": [], "passive": [],
                                                       "redistribute": set()})
                instance["interfaces"].append(my_if)
                if me.provider:
                    instance["redistribute"].add("bgp")
                    me.vrf_redistribute[vrf].add("ospf")
            elif protocol == "rip":
                instance = me.rip.setdefault(my_vrf, {"interfaces": [], "redistribute": set()})
                instance["interfaces"].append(my_if)
                if me.provider:
                    instance["redistribute"].add("bgp")
                    me.vrf_redistribute[vrf].add("rip")
            elif protocol == "static":
                if me.provider:
                    for prefix in self.prefixes_behind(other, vrf):
                        me.static_routes.append(topology.StaticRoute(
                            prefix=prefix, nexthop=other_addr.ip, vrf=my_vrf))
                    me.vrf_redistribute[vrf].add("static")
                else:
                    me.static_routes.append(topology.StaticRoute(
                        prefix=ipaddress.IPv4Network("0.0.0.0/0"), nexthop=other_addr.ip))
        if protocol == "ebgp":
            self.sessions.append(topology.BgpSession(
                name=self.attachment_session(a, b, vrf), a=a.name, b=b.name,
                families=["ipv4-unicast"], ebgp=True, multihop=False,
                vrf=vrf))
        elif protocol == "ebgp-labeled-unicast":
            self.sessions.append(topology.BgpSession(
                name=f"{a.name}--{b.name}", a=a.name, b=b.name,
                families=["ipv4-labeled-unicast"], ebgp=True, multihop=False, vrf=vrf))

    @staticmethod
    def attachment_session(a: NodeDraft, b: NodeDraft, vrf: str) -> str:
        both_provider = a.provider and b.provider
        return f"{a.name}--{b.name}" + (f"@{vrf}" if both_provider else "")

    def prefixes_behind(self, other: NodeDraft, vrf: str) -> list[ipaddress.IPv4Network]:
        """Site prefixes of a VPN reached through a statically routed attachment."""
        if not other.provider:
            return [other.spec.site.prefix] if other.spec.site else []
        # Back-to-back VRFs: the sites attached in the other AS.
        return [
            node.site.prefix for name, node in self.lab.nodes.items()
            if node.site and node.site.vpn == vrf
            and any(self.drafts[p].asn == other.asn for p in self.attached_providers(name))
        ]

    def attached_providers(self, customer: str) -> list[str]:
        return [
            other for link in self.lab.links if customer in link.endpoints
            for other in link.endpoints if other != customer and self.drafts[other].provider
        ]

    def add_sites(self) -> None:
        for draft in self.drafts.values():
            site = draft.spec.site
            if site is None:
                continue
            first_host = next(iter(site.prefix.hosts()))
            address = ipaddress.IPv4Interface(f"{first_host}/{site.prefix.prefixlen}")
            draft.interfaces.append(topology.Interface(
                name="site0", kind="dummy", address=address, scope="site"))
            if None in draft.ospf:
                draft.ospf[None]["interfaces"].append("site0")
                draft.ospf[None]["passive"].append("site0")
            if None in draft.rip:
                draft.rip[None]["interfaces"].append("site0")
            if draft.neighbors.get(None):
                draft.bgp_networks.append(site.prefix)

    def check_cores(self) -> None:
        """The provider routers of an AS reach each other over its core links (the IGP, LDP
        and the iBGP sessions between loopbacks need it)."""
        parent = {name: name for name, d in self.drafts.items() if d.provider}

        def root(name: str) -> str:
            while parent[name] != name:
                parent[name] = parent[parent[name]]
                name = parent[name]
            return name

        for link in self.links:
            if link.scope == "core":
                parent[root(link.a.node)] = root(link.b.node)
        linked = {end for link in self.links for end in (link.a.node, link.b.node)}
        for name, draft in self.drafts.items():
            if not draft.provider and name not in linked:
                raise self.fail(f"{name} is a {draft.spec.role} with no link: its site is "
                                "reachable from nowhere", ("nodes", name),
                                hint="attach it to a PE in links")
        self.core_group = {name: root(name) for name in parent}
        for asn, system in self.ases.items():
            members = [n for n, d in self.drafts.items() if d.provider and d.asn == asn]
            groups: dict[str, list[str]] = defaultdict(list)
            for name in members:
                groups[root(name)].append(name)
            if system.carrier_vpn:
                # A customer carrier's sites are apart: the backbone's VPN joins them, and
                # each site reaches it through a csc-ce.
                for group in groups.values():
                    if not any(self.drafts[n].spec.role == "csc-ce" for n in group):
                        raise self.fail(
                            f"{', '.join(group)} of customer carrier AS {asn} reach no csc-ce "
                            "over core links: the site is cut off from the backbone",
                            ("nodes", group[0]), hint="link the site to its csc-ce")
                continue
            if len(groups) < 2:
                continue
            # Name the smallest group: usually the one router someone forgot to link.
            alone, first = sorted(groups.values(), key=lambda g: (len(g), members.index(g[0])))[:2]
            what = (f"{alone[0]} has no core link to the rest of AS {asn}" if len(alone) == 1
                    else f"AS {asn}'s core links leave {', '.join(alone)} apart from "
                         f"{', '.join(first)}")
            raise self.fail(f"{what}: the IGP, LDP and iBGP between loopbacks cannot reach "
                            "across", ("nodes", alone[0]),
                            hint=f"link {alone[0]} to a router of AS {asn} (a core link "
                                 "joins two provider routers of one AS)")

    def add_externals(self) -> None:
        """A customer carrier's external routes (network N): a dummy interface holds the
        prefix's first address, so that a ping can reach it."""
        for draft in self.drafts.values():
            external = draft.spec.external
            if external is None:
                continue
            first_host = next(iter(external.hosts()))
            draft.interfaces.append(topology.Interface(
                name="ext0", kind="dummy",
                address=ipaddress.IPv4Interface(f"{first_host}/{external.prefixlen}"),
                scope="external"))

    def carrier_attachment(self, a: NodeDraft, b: NodeDraft
                           ) -> tuple[NodeDraft, NodeDraft] | None:
        """(backbone PE, csc-ce) when a link attaches a customer carrier to its backbone."""
        for pe, ce in ((a, b), (b, a)):
            if ce.spec.role == "csc-ce" and pe.spec.role in VRF_ROLES and pe.asn != ce.asn \
                    and self.carrier_of(pe) is None:
                return pe, ce
        return None
