"""From a validated lab file to the normalised lab: addresses, interfaces, protocols.

Everything here is deterministic: the same file gives the same addresses and names.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from emulator.errors import LabError
from emulator.model import schema, topology
from emulator.model.loader import SourceMap, load_lab_file, quote

PROVIDER_ROLES = {"pe", "p", "rr", "asbr", "pe-asbr", "csc-ce"}
CUSTOMER_ROLES = {"ce", "host"}
# Provider routers that hold VRFs: where customers attach and back-to-back VRFs end.
VRF_ROLES = {"pe", "pe-asbr"}
LINK_PREFIXLEN = 30
# Link MTUs: a customer's edge, a customer carrier's own links, the backbone's.
EDGE_MTU, CARRIER_MTU, BACKBONE_MTU = 1500, 4000, 9000
FIRST_VRF_TABLE = 10


def load_lab(lab: str, variant: str | None = None) -> topology.Lab:
    lab_file, source, variant, variants = load_lab_file(lab, variant)
    return Builder(lab_file, source, variant, variants).build()


class Claims:
    """Address ranges in use: disjoint, sorted, each with who claimed it. Never expands a
    network into its addresses (a /8 is one range)."""

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []
        self.owners: list[object] = []

    def overlapping(self, first: int, last: int) -> int | None:
        """The index of a claimed range that overlaps first..last, if any."""
        index = bisect.bisect_right(self.firsts, last) - 1
        if index >= 0 and self.lasts[index] >= first:
            return index
        return None

    def add(self, first: int, last: int, owner: object = None) -> None:
        index = bisect.bisect_left(self.firsts, first)
        self.firsts.insert(index, first)
        self.lasts.insert(index, last)
        self.owners.insert(index, owner)


def span(item: ipaddress.IPv4Address | ipaddress.IPv4Network) -> tuple[int, int]:
    if isinstance(item, ipaddress.IPv4Address):
        return int(item), int(item)
    return int(item.network_address), int(item.broadcast_address)


class AddressPool:
    """Hands out addresses or subnets from a network in order, skipping claimed ones."""

    def __init__(self, network: ipaddress.IPv4Network, claimed: Claims,
                 cursors: dict[tuple, int]):
        self.network = network
        self.claimed = claimed
        # Per pool and size: everything below the cursor is taken.
        self.cursors = cursors

    def next_host(self) -> ipaddress.IPv4Address:
        first, last = span(self.network)
        if self.network.prefixlen < 31:
            first, last = first + 1, last - 1
        key = (self.network, 32)
        address = max(first, self.cursors.get(key, first))
        while address <= last:
            taken = self.claimed.overlapping(address, address)
            if taken is None:
                self.claimed.add(address, address)
                self.cursors[key] = address + 1
                return ipaddress.IPv4Address(address)
            address = self.claimed.lasts[taken] + 1
        raise LabError(f"address pool {self.network} is exhausted",
                       hint="give the AS a larger pool")

    def next_subnet(self, prefixlen: int) -> ipaddress.IPv4Network:
        first, last = span(self.network)
        size = 1 << (32 - prefixlen)
        key = (self.network, prefixlen)
        start = max(first, self.cursors.get(key, first))
        while prefixlen >= self.network.prefixlen and start + size - 1 <= last:
            taken = self.claimed.overlapping(start, start + size - 1)
            if taken is None:
                self.claimed.add(start, start + size - 1)
                self.cursors[key] = start + size
                return ipaddress.IPv4Network((start, prefixlen))
            start = -(-(self.claimed.lasts[taken] + 1) // size) * size
        raise LabError(f"address pool {self.network} has no free /{prefixlen} left",
                       hint="give the AS a larger links pool")


@dataclass
class NodeDraft:
    """A node while it is being assembled."""

    name: str
    spec: schema.Node
    asn: int
    loopback: ipaddress.IPv4Interface | None = None
    interfaces: list[topology.Interface] = field(default_factory=list)
    neighbors: dict[str | None, list[topology.BgpNeighbor]] = field(
        default_factory=lambda: defaultdict(list))
    ospf: dict[str | None, dict] = field(default_factory=dict)
    rip: dict[str | None, dict] = field(default_factory=dict)
    static_routes: list[topology.StaticRoute] = field(default_factory=list)
    vrf_redistribute: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bgp_networks: list[ipaddress.IPv4Network] = field(default_factory=list)
    next_eth: int = 1

    @property
    def provider(self) -> bool:
        return self.spec.role in PROVIDER_ROLES

    def new_eth(self) -> str:
        name = f"eth{self.next_eth}"
        self.next_eth += 1
        return name


class Builder:
    def __init__(self, lab: schema.LabFile, source: SourceMap, variant: str | None,
                 variants: dict[str, str]):
        self.lab = lab
        self.source = source
        self.variant = variant
        self.variants = variants
        self.ases = {a.asn: a for a in lab.autonomous_systems}
        self.as_index = {a.asn: i + 1 for i, a in enumerate(lab.autonomous_systems)}
        # Address spaces: the backbone's (None), and each customer carrier's own (its AS),
        # which may reuse the backbone's or another carrier's addresses (its routes live in
        # its VRF on the backbone).
        self.spaces: dict[int | None, Claims] = defaultdict(Claims)
        self.cursors: dict[int | None, dict[tuple, int]] = defaultdict(dict)
        self.pools: dict[tuple[int, str], ipaddress.IPv4Network] = {}
        self.drafts: dict[str, NodeDraft] = {}
        self.links: list[topology.Link] = []
        self.sessions: list[topology.BgpSession] = []
        # Per provider router, the routers its core links reach (a customer carrier's site).
        self.core_group: dict[str, str] = {}

    # -- errors ---------------------------------------------------------------------------
    def fail(self, message: str, loc: tuple, hint: str | None = None) -> LabError:
        return LabError(message, where=self.source.where(loc), hint=hint)

    # -- the whole build ------------------------------------------------------------------
    def build(self) -> topology.Lab:
        self.check_references()
        self.check_pools()
        self.claim_explicit_addresses()
        self.make_drafts()
        self.allocate_loopbacks()
        for index, link in enumerate(self.lab.links):
            self.add_link(index, link)
        self.check_cores()
        self.add_sites()
        self.add_externals()
        for index, session in enumerate(self.lab.bgp):
            self.add_session(index, session)
        self.check_frr_can_do()
        nodes = [self.finish(d) for d in self.drafts.values()]
        vpns = [
            topology.Vpn(
                name=name, rd=vpn.rd,
                import_targets=vpn.import_targets or vpn.route_targets,
                export_targets=vpn.export_targets or vpn.route_targets,
                sites=[n for n, s in self.lab.nodes.items() if s.site and s.site.vpn == name],
            )
            for name, vpn in self.lab.vpns.items()
        ]
        customer_asns = sorted({d.asn for d in self.drafts.values() if not d.provider})
        return topology.Lab(
            name=self.lab.name, title=self.lab.title, description=self.lab.description.strip(),
            scenario=self.lab.scenario, variant=self.variant, variants=self.variants,
            slides=self.lab.slides, deviations=self.lab.deviations,
            source=str(self.source.path), platform_labels=self.lab.defaults.platform_labels,
            autonomous_systems=[
                topology.AutonomousSystem(
                    asn=a.asn, number=self.number(a.asn), name=a.name or f"AS {a.asn}",
                    igp=a.igp,
                    label_distribution=list(a.label_distribution), transit=a.transit,
                    carrier_vpn=a.carrier_vpn)
                for a in self.lab.autonomous_systems
            ] + [
                topology.AutonomousSystem(asn=asn, number=asn, name=f"customer AS {asn}",
                                          igp="none",
                                          label_distribution=[], transit=False, customer=True)
                for asn in customer_asns
            ],
            vpns=vpns, nodes=nodes, links=self.links, sessions=self.sessions,
        )

    # -- validation of names --------------------------------------------------------------
    def check_references(self) -> None:
        lab = self.lab
        seen_asn: set[int] = set()
        for index, system in enumerate(lab.autonomous_systems):
            if system.igp == "isis":
                raise self.fail("IS-IS is not built yet", ("autonomous_systems", index, "igp"),
                                hint="use igp: ospf")
            if system.asn in seen_asn:
                raise self.fail(f"AS {system.asn} is defined twice",
                                ("autonomous_systems", index, "asn"))
            seen_asn.add(system.asn)
            if system.carrier_vpn is not None and system.carrier_vpn not in lab.vpns:
                raise self.fail(f"unknown VPN {quote(system.carrier_vpn)}",
                                ("autonomous_systems", index, "carrier_vpn"),
                                hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
        for name, node in lab.nodes.items():
            if node.role in PROVIDER_ROLES:
                if node.asn is None:
                    raise self.fail(f"a {node.role} belongs to a provider AS: give it asn",
                                    ("nodes", name), hint=f"one of {sorted(self.ases)}")
                if node.asn not in self.ases:
                    raise self.fail(f"AS {node.asn} is not in autonomous_systems",
                                    ("nodes", name, "asn"), hint=f"known: {sorted(self.ases)}")
            elif node.asn is not None and node.asn in self.ases:
                raise self.fail(f"{name} is a {node.role} (a customer) but AS {node.asn} is a "
                                "provider AS of this lab", ("nodes", name, "asn"),
                                hint="give the customer its own AS number")
            if node.site and node.site.vpn not in lab.vpns:
                raise self.fail(f"unknown VPN {quote(node.site.vpn)}",
                                ("nodes", name, "site", "vpn"),
                                hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
            for protocol, suite in node.suites.items():
                if suite == "bird" and (protocol != "bgp" or node.role != "pe"):
                    raise self.fail(f"BIRD runs BGP on a carrier's PE only, not {protocol} on "
                                    f"a {node.role}", ("nodes", name, "suites", protocol),
                                    hint="FRR runs everything else: remove the entry")
            if node.role == "csc-ce" and node.asn in self.ases and \
                    self.ases[node.asn].carrier_vpn is None:
                raise self.fail(f"{name} is a csc-ce, but AS {node.asn} is no customer carrier",
                                ("nodes", name, "role"),
                                hint=f"give AS {node.asn} carrier_vpn: the backbone's VPN "
                                     "its sites attach to")
            for key in ("external", "external_routes"):
                if getattr(node, key) is not None and (
                        node.asn not in self.ases or self.ases[node.asn].carrier_vpn is None):
                    raise self.fail(f"{name} originates external routes, but its AS is no "
                                    "customer carrier", ("nodes", name, key),
                                    hint="external routes belong to an AS with carrier_vpn")
        names: dict[str, int] = {}
        attachments: dict[frozenset[str], int] = {}
        for index, link in enumerate(lab.links):
            for side, endpoint in enumerate(link.endpoints):
                if endpoint not in lab.nodes:
                    raise self.fail(f"unknown node {quote(endpoint)}",
                                    ("links", index, "endpoints", side),
                                    hint=f"nodes are: {', '.join(lab.nodes)}")
            for vrf in link.vrfs or {}:
                if vrf not in lab.vpns:
                    raise self.fail(f"unknown VPN {quote(vrf)}", ("links", index, "vrfs", vrf),
                                    hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
            name = link.name or "--".join(link.endpoints)
            if name in names:
                first = self.source.where(("links", names[name]))
                if link.name:
                    raise self.fail(f"two links are called {name} (the first at {first})",
                                    ("links", index, "name"))
                raise self.fail(f"a second link between {link.endpoints[0]} and "
                                f"{link.endpoints[1]} (the first at {first})",
                                ("links", index, "endpoints"),
                                hint="parallel links need a name each (name: ...)")
            names[name] = index
            ends = frozenset(link.endpoints)
            customer = next((n for n in link.endpoints
                             if lab.nodes[n].role in CUSTOMER_ROLES), None)
            if customer is not None:
                if ends in attachments:
                    first = self.source.where(("links", attachments[ends]))
                    raise self.fail(f"{customer} is attached to the same router twice (the "
                                    f"first at {first})", ("links", index, "endpoints"),
                                    hint="one link per customer attachment")
                attachments[ends] = index
        session_names: dict[str, int] = {}
        pairs: dict[frozenset[str], int] = {}
        for index, session in enumerate(lab.bgp):
            for side, endpoint in enumerate(session.between):
                if endpoint not in lab.nodes:
                    raise self.fail(f"unknown node {quote(endpoint)}",
                                    ("bgp", index, "between", side),
                                    hint=f"nodes are: {', '.join(lab.nodes)}")
            if session.name:
                if session.name in session_names:
                    first = self.source.where(("bgp", session_names[session.name]))
                    raise self.fail(f"two BGP sessions are called {session.name} (the first "
                                    f"at {first})", ("bgp", index, "name"))
                session_names[session.name] = index
            pair = frozenset(session.between)
            if pair in pairs:
                first = self.source.where(("bgp", pairs[pair]))
                raise self.fail(f"{session.between[0]} and {session.between[1]} already have a "
                                f"BGP session (at {first})", ("bgp", index, "between"),
                                hint="one session carries several address families: list "
                                     "them all in its families")
            pairs[pair] = index

    def check_pools(self) -> None:
        """Every AS's loopback and link pools (given or default) and the interconnect pool;
        no site prefix (customer addresses) may overlap one."""
        pools: list[tuple[ipaddress.IPv4Network, str, tuple]] = []
        for index, system in enumerate(self.lab.autonomous_systems):
            for kind, third in (("loopbacks", 0), ("links", 1)):
                network = getattr(system, kind)
                if network is None:
                    if index + 1 > 255:
                        raise self.fail(
                            f"AS {system.asn} is AS number {index + 1} in file order: there is "
                            f"no default {kind} pool past the 255th AS",
                            ("autonomous_systems", index), hint=f"give it {kind}: a prefix")
                    network = ipaddress.IPv4Network(f"10.{index + 1}.{third}.0/24")
                self.pools[system.asn, kind] = network
                given = "" if getattr(system, kind) else " (the default)"
                pools.append((network, f"AS {system.asn}'s {kind} pool {network}{given}",
                              ("autonomous_systems", index, kind)))
        pools.append((self.lab.defaults.interconnect,
                      f"the interconnect pool {self.lab.defaults.interconnect}",
                      ("defaults", "interconnect")))
        for name, node in self.lab.nodes.items():
            if node.site is None:
                continue
            for network, what, _ in pools:
                if node.site.prefix.overlaps(network):
                    raise self.fail(
                        f"site prefix {node.site.prefix} overlaps {what}: a customer address "
                        "would collide with a router's loopback or link address",
                        ("nodes", name, "site", "prefix"),
                        hint="pick a site prefix outside every address pool, or move the "
                             "pool (autonomous_systems[].loopbacks/links, "
                             "defaults.interconnect)")

    def claim_explicit_addresses(self) -> None:
        """Explicit loopbacks, link subnets, site prefixes and external routes must not
        collide inside one address space."""
        owners: dict[int | None, Claims] = defaultdict(Claims)

        def claim(item, loc, space):
            other = owners[space].overlapping(*span(item))
            if other is not None:
                raise self.fail(f"address {item} is already used at "
                                f"{self.source.where(owners[space].owners[other])}", loc,
                                hint="every loopback, link subnet and site prefix is unique "
                                     "(a customer carrier's own addresses may repeat "
                                     "another's)")
            owners[space].add(*span(item), loc)

        for name, node in self.lab.nodes.items():
            space = self.space(node.asn)
            if node.loopback is not None:
                claim(node.loopback, ("nodes", name, "loopback"), space)
                self.spaces[space].add(*span(node.loopback))
            if node.site is not None:
                claim(node.site.prefix, ("nodes", name, "site", "prefix"), None)
            if node.external is not None:
                claim(node.external, ("nodes", name, "external"), space)
        for index, link in enumerate(self.lab.links):
            if link.subnet is not None:
                ends = {self.space(self.lab.nodes[n].asn) for n in link.endpoints
                        if n in self.lab.nodes}
                space = ends.pop() if len(ends) == 1 else None
                claim(link.subnet, ("links", index, "subnet"), space)
                self.spaces[space].add(*span(link.subnet))

    def space(self, asn: int | None) -> int | None:
        """The address space of an AS: its own for a customer carrier, else the backbone's."""
        system = self.ases.get(asn) if asn is not None else None
        return asn if system is not None and system.carrier_vpn else None

    # -- nodes ----------------------------------------------------------------------------
    def make_drafts(self) -> None:
        next_customer = self.lab.defaults.customer_asn_base
        given = {n.asn for n in self.lab.nodes.values() if n.asn is not None}
        for name, spec in self.lab.nodes.items():
            asn = spec.asn
            if asn is None:
                next_customer += 1
                asn = next_customer
                if asn > schema.MAX_ASN or asn in given or asn in self.ases:
                    why = ("is past the largest AS number" if asn > schema.MAX_ASN else
                           "is also given to another node" if asn in given else
                           "is a provider AS of this lab")
                    raise self.fail(f"{name} would get customer AS {asn}, which {why}",
                                    ("nodes", name),
                                    hint="give it asn, or change defaults.customer_asn_base")
            self.drafts[name] = NodeDraft(name=name, spec=spec, asn=asn)

    def pool(self, asn: int, kind: str) -> AddressPool:
        space = self.space(asn)
        return AddressPool(self.pools[asn, kind], self.spaces[space], self.cursors[space])

    def allocate(self, pool: AddressPool, loc: tuple, prefixlen: int | None = None):
        """The next free address (or subnet of prefixlen) of a pool, or an error at loc."""
        try:
            return pool.next_host() if prefixlen is None else pool.next_subnet(prefixlen)
        except LabError as exc:
            raise self.fail(exc.message, loc, hint=exc.hint) from None

    def allocate_loopbacks(self) -> None:
        for draft in self.drafts.values():
            if not draft.provider:
                continue
            address = draft.spec.loopback or self.allocate(
                self.pool(draft.asn, "loopbacks"), ("nodes", draft.name))
            draft.loopback = ipaddress.IPv4Interface(f"{address}/32")
            draft.interfaces.append(topology.Interface(
                name="lo", kind="loopback", address=draft.loopback, scope="loopback",
                igp=self.igp_of(draft) != "none"))

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
            setting=f"neighbor as-override (towards {', '.join(overridden)})",
            why="the regions on either side of the transit share an AS number: without it "
                "each would drop the other's labelled loopbacks, its own number being in "
                "their AS path"))

    def number(self, asn: int) -> int:
        """The AS number BGP speaks in a region (its own asn unless it shares another's)."""
        system = self.ases.get(asn)
        return system.number if system is not None and system.number else asn

    def carrier_of(self, draft: NodeDraft) -> schema.AutonomousSystem | None:
        """The customer-carrier AS a provider router belongs to, if it is one."""
        system = self.ases.get(draft.asn) if draft.provider else None
        return system if system is not None and system.carrier_vpn else None

    def carrier_attachment(self, a: NodeDraft, b: NodeDraft
                           ) -> tuple[NodeDraft, NodeDraft] | None:
        """(backbone PE, csc-ce) when a link attaches a customer carrier to its backbone."""
        for pe, ce in ((a, b), (b, a)):
            if ce.spec.role == "csc-ce" and pe.spec.role in VRF_ROLES and pe.asn != ce.asn \
                    and self.carrier_of(pe) is None:
                return pe, ce
        return None

    def igp_of(self, draft: NodeDraft) -> str:
        return self.ases[draft.asn].igp if draft.provider else "none"

    def ldp_of(self, draft: NodeDraft) -> bool:
        return draft.provider and "ldp" in self.ases[draft.asn].label_distribution

    # -- links ----------------------------------------------------------------------------
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

    def site_peers(self, draft: NodeDraft) -> list[NodeDraft]:
        """The routers of a customer carrier's site (its core group), the router included."""
        group = self.core_group.get(draft.name)
        return [d for name, d in self.drafts.items()
                if d.asn == draft.asn and self.core_group.get(name) == group]

    # -- BGP sessions from the lab file ---------------------------------------------------
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
            # labeled-unicast, from the unicast table (network under ipv4 unicast): FRR
            # would advertise an IGP-learned loopback with implicit-null (FRR issue 2750).
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

    def check_frr_can_do(self) -> None:
        for index, session in enumerate(self.lab.bgp):
            families = set(session.families)
            if {"ipv4-unicast", "ipv4-labeled-unicast"} <= families:
                raise self.fail(
                    "FRR cannot activate one neighbor in both ipv4 unicast and ipv4 "
                    "labeled-unicast", ("bgp", index, "families"),
                    hint="labeled-unicast carries the unicast routes too; keep only it")
            for node in session.between:
                if self.lab.nodes[node].role in CUSTOMER_ROLES and "ipv4-vpn" in families:
                    raise self.fail(f"{node} is a {self.lab.nodes[node].role}: it holds no "
                                    "VPNv4 routes", ("bgp", index, "families"))

    # -- assembling the node --------------------------------------------------------------
    def finish(self, draft: NodeDraft) -> topology.Node:
        vrf_names = sorted({i.vrf for i in draft.interfaces if i.vrf and draft.provider} |
                           {i.vrf for i in draft.interfaces if i.vrf and i.kind == "vlan"},
                           key=list(self.lab.vpns).index)
        vrfs = []
        for name in vrf_names:
            vpn = self.lab.vpns[name]
            vrfs.append(topology.Vrf(
                name=name, table=FIRST_VRF_TABLE + list(self.lab.vpns).index(name), rd=vpn.rd,
                import_targets=vpn.import_targets or vpn.route_targets,
                export_targets=vpn.export_targets or vpn.route_targets,
                interfaces=[i.name for i in draft.interfaces if i.vrf == name],
                redistribute=sorted(draft.vrf_redistribute.get(name, ()))))
        ebgp_vpn = any(n.ebgp and not n.ebgp_multihop and "ipv4-vpn" in n.families
                       for n in draft.neighbors.get(None, []))
        ebgp_vpn_peers = [n for n in draft.neighbors.get(None, []) if n.ebgp
                          and not n.ebgp_multihop and "ipv4-vpn" in n.families]
        passes_next_hop = any(not n.ebgp and not n.next_hop_self and "ipv4-vpn" in n.families
                              for n in draft.neighbors.get(None, []))
        host_routes = []
        reasons: list[topology.Reason] = []
        if ebgp_vpn_peers and passes_next_hop and self.ldp_of(draft):
            # Option B without next-hop-self: the slide's /32 host route to the eBGP
            # neighbour, advertised into the IGP so that an LSP (with a real label, popped
            # here) reaches it.
            for peer in ebgp_vpn_peers:
                host = ipaddress.IPv4Network(f"{peer.address}/32")
                host_routes.append(host)
                draft.static_routes.append(topology.StaticRoute(prefix=host,
                                                                nexthop=peer.address))
                reasons.append(topology.Reason(
                    setting=f"static route {host} via {peer.address}, redistributed into "
                            "the IGP and labelled by LDP (install allow-broken-lsp)",
                    why=f"the VPN routes from eBGP neighbour {peer.peer} keep it as next hop "
                        "inside this AS (no next-hop-self): the PEs need an LSP to it"))
        if ebgp_vpn and self.ldp_of(draft):
            for vrf_name, neighbors in draft.neighbors.items():
                draft.neighbors[vrf_name] = [
                    n.model_copy(update={"wait_for_ldp_label": True})
                    if "ipv4-vpn" in n.families and not n.ebgp else n for n in neighbors]
            waiting = [n.peer for n in draft.neighbors.get(None, []) if n.wait_for_ldp_label]
            if waiting:
                reasons.append(topology.Reason(
                    setting=f"VPNv4 session to {', '.join(waiting)} enabled only once LDP "
                            "labels the route to it",
                    why="an Option B ASBR binds its swap entries when the routes arrive: "
                        "before LDP has a label for the next hop they would lack their "
                        "transport label for good (docs/labs/option2.md)"))
        interfaces = []
        for interface in draft.interfaces:
            if ebgp_vpn and interface.mpls:
                # Option B: a new local label and a swap entry for each VPN route whose next
                # hop the ASBR rewrites, on both its core and inter-AS interfaces.
                interface = interface.model_copy(update={"l3vpn_switching": True})
            interfaces.append(interface)
        switching = [i.name for i in interfaces if i.l3vpn_switching]
        if switching:
            reasons.append(topology.Reason(
                setting=f"mpls bgp l3vpn-multi-domain-switching on {', '.join(switching)}",
                why="VPNv4 over eBGP without VRFs (Option B): this router rewrites the next "
                    "hop, so it allocates a label of its own per VPN route and swaps it to "
                    "the label it received, in both directions"))
            reasons.append(topology.Reason(
                setting="no bgp suppress-duplicates",
                why="FRR 10.3 on an Option B ASBR can re-bind a VPN route's local label after "
                    "convergence and then suppress the update carrying the new one as a "
                    "duplicate (docs/labs/option2.md, trap 3)"))
        self.shared_number(draft, reasons)
        carrier = self.carrier_of(draft)
        internal_routes: list[ipaddress.IPv4Network] = []
        distance = None
        redistribute_internal_bgp = False
        if carrier is not None:
            internal_routes, distance, redistribute_internal_bgp = self.carrier_routing(
                draft, carrier, reasons)
        router_id = (draft.loopback.ip if draft.loopback else
                     next(i.address.ip for i in interfaces if i.scope == "site"))
        ospf = []
        if self.igp_of(draft) == "ospf":
            ospf.append(topology.OspfInstance(
                vrf=None, router_id=router_id,
                interfaces=[i.name for i in interfaces if i.igp], passive=["lo"],
                redistribute=["static"] if host_routes else [],
                redistribute_internal_bgp=redistribute_internal_bgp))
        for vrf, body in draft.ospf.items():
            if vrf is None and ospf:
                raise LabError(f"{draft.name}: OSPF towards a CE in the default table would "
                               "mix with the provider IGP")
            ospf.append(topology.OspfInstance(
                vrf=vrf, router_id=router_id, interfaces=body["interfaces"],
                passive=body["passive"], redistribute=sorted(body["redistribute"])))
        rip = [topology.RipInstance(vrf=vrf, interfaces=body["interfaces"],
                                    redistribute=sorted(body["redistribute"]))
               for vrf, body in draft.rip.items()]
        has_lu = any("ipv4-labeled-unicast" in n.families for n in draft.neighbors.get(None, []))
        external_routes = draft.spec.external_routes
        if has_lu:
            reasons.append(topology.Reason(
                setting="no bgp network import-check",
                why="a labelled loopback (BGP labelled unicast) is announced with itself as "
                    "next hop; the import check would mark it invalid"))
        elif external_routes is not None and draft.neighbors.get(None):
            reasons.append(topology.Reason(
                setting="no bgp network import-check",
                why=f"the {external_routes.count} external routes stand for the carrier's "
                    "Internet table: announced without a route of their own in the RIB"))
        bgp = []
        if draft.neighbors.get(None) or (vrfs and draft.provider):
            bgp.append(topology.BgpInstance(
                asn=self.number(draft.asn), router_id=router_id,
                neighbors=draft.neighbors.get(None, []),
                networks=draft.bgp_networks,
                # A labelled loopback arrives with itself as next hop ("prefix loops through
                # itself"); FRR's import check would mark it invalid.
                import_check=not (has_lu or external_routes), distance=distance))
        for vrf in vrfs:
            bgp.append(topology.BgpInstance(
                asn=self.number(draft.asn), router_id=router_id, vrf=vrf.name,
                neighbors=draft.neighbors.get(vrf.name, [])))
        label_guard = [topology.GuardedInterface(interface=i.name, vrf=instance.vrf,
                                                 peer=neighbor.peer)
                       for instance in bgp if instance.vrf
                       for neighbor in instance.family("ipv4-labeled-unicast")
                       for i in interfaces if i.peer and i.peer.node == neighbor.peer]
        if label_guard:
            reasons.append(topology.Reason(
                setting="label guard (nftables, netdev ingress) on "
                        + ", ".join(f"{g.interface} ({g.peer})" for g in label_guard),
                why="a router has one label space: a CSC-CE could push a label this PE gave "
                    "another customer carrier and enter that carrier's VPN (label "
                    "spoofing); each CE-facing interface admits only the labels advertised "
                    "on it, refreshed from BIRD's live bindings"))
        ldp = any(i.ldp for i in interfaces)
        mpls = any(i.mpls for i in interfaces)
        fec_resolution = ldp and (has_lu or ebgp_vpn)
        if fec_resolution:
            reasons.append(topology.Reason(
                setting="mpls fec nexthop-resolution",
                why="BGP next hops learned with a label (labelled unicast or an Option B "
                    "eBGP peer) must resolve over LDP-labelled IGP routes"))
        protocols = [name for name, runs in (("bgp", bgp), ("ospf", ospf), ("rip", rip),
                                             ("ldp", ldp), ("static", draft.static_routes))
                     if runs]
        suites = {"igp": "frr", "ldp": "frr", "bgp": "frr", **draft.spec.suites}
        site = None
        if draft.spec.site is not None:
            spec = draft.spec.site
            site = topology.Site(name=spec.name, vpn=spec.vpn, prefix=spec.prefix,
                                 address=next(i.address for i in interfaces if i.scope == "site"))
        return topology.Node(
            name=draft.name, role=draft.spec.role, asn=draft.asn,
            bgp_asn=self.number(draft.asn), router_id=router_id,
            loopback=draft.loopback, interfaces=interfaces, suites=suites, site=site, vrfs=vrfs,
            ospf=ospf, rip=rip, static_routes=draft.static_routes, bgp=bgp, ldp=ldp,
            ldp_host_routes=host_routes,
            fec_nexthop_resolution=fec_resolution, mpls=mpls, protocols=protocols,
            reasons=reasons, internal_routes=internal_routes, external=draft.spec.external,
            external_routes=(topology.ExternalRoutes(**external_routes.model_dump())
                             if external_routes and draft.neighbors.get(None) else None),
            label_guard=label_guard)


    def carrier_routing(self, draft: NodeDraft, carrier: schema.AutonomousSystem,
                        reasons: list[topology.Reason]) -> tuple[list, int | None, bool]:
        """What a customer carrier's router needs for carrier supporting carrier: its
        internal routes (every loopback of its AS, the only routes the backbone may carry),
        the loopbacks a csc-ce originates into labelled unicast for its site, its external
        routes into its own iBGP. Returns (internal routes, BGP distance, whether the IGP
        redistributes BGP's internal routes)."""
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
            setting="neighbor allowas-in 1 and set as-path replace (from the backbone PE)",
            why=f"the other sites of AS {draft.asn} are the same AS: their routes reach this "
                f"site with {draft.asn} in the AS path; this csc-ce accepts them and replaces "
                "its AS with the backbone's, as the PE's as-override would (BIRD has none), "
                "so that the site's other routers accept them too"))
        distance = None
        if any(not n.ebgp and n.families == ["ipv4-labeled-unicast"] for n in neighbors):
            distance = 20
            reasons.append(topology.Reason(
                setting="distance bgp 20 20 20",
                why="the labelled route to a site router learned over iBGP labelled unicast "
                    "must beat the IGP's route to be installed: only an installed route gets "
                    "the local label this csc-ce advertises to the backbone"))
        redistribute = "ldp" not in carrier.label_distribution
        if redistribute:
            reasons.append(topology.Reason(
                setting="redistribute bgp route-map CSC-INTERNAL (OSPF)",
                why="the site runs no MPLS: its routers learn the other sites' loopbacks (the "
                    "BGP next hops of the external routes) from the IGP, and this csc-ce "
                    "pushes the backbone's label"))
        return internal, distance, redistribute


def load_all_variants(lab: str) -> list[topology.Lab]:
    """The lab in its default variant, then in every other one; an error names the variant."""
    first = load_lab(lab)
    labs = [first]
    for name in list(first.variants)[1:]:
        try:
            labs.append(load_lab(lab, name))
        except LabError as exc:
            if f"variant {name}'s patch" not in (exc.where or ""):
                exc.message = f"variant {name}: {exc.message}"
            raise
    return labs
