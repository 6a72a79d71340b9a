"""Whether a lab's sites can reach each other, predicted from the model alone (no routers).

``predict(lab)`` names what a lab that deploys cleanly would still lack: for every ordered
pair of sites of a VPN (and of a customer carrier's external prefixes in different sites),
whether the destination's route reaches the source's router through the sessions, address
families, route targets and route-reflection rules the model defines (the control plane),
and whether every BGP next hop on the way back is reached with a label wherever a label
must be carried (the transport).

Nothing here is specific to an inter-AS option. A route is followed (``Flood``) from the
router that owns its address, by the rules of the protocols the model configures:

- the IGPs (OSPF, RIP, per VRF or in the default table) relay what they learn, advertise
  their interfaces' subnets and what they redistribute; a static route brings the route
  to the router that has it, when its next hop holds it;
- BGP originates what a ``network`` covers (default table) or a VRF redistributes; it sends
  a route over a neighbour whose address family carries it (IPv4 unicast and labelled
  unicast share a table; VPNv4 its own), to a peer whose end of the same session carries
  it too, where the session comes up (between loopbacks: each end has a route to the
  other's address), respecting iBGP split horizon (a route learned over iBGP goes on over
  iBGP only from or to a route-reflector client), the AS path (an eBGP peer drops a route
  carrying its own AS, unless allowas-in; as-override replaces it) and a customer
  carrier's policies (labelled sessions carry its loopbacks only); the receiver keeps the
  route only when it can resolve its next hop; the sender rewrites the next hop when it
  originates the route, sets next-hop-self, or speaks eBGP without next-hop-unchanged;
- a VRF exports what it learned from its own side (not what it imported) into VPNv4 with
  its RD and export targets; a router's VRF imports a VPNv4 route whose targets meet its
  import targets.

Sessions between loopbacks and next-hop resolution depend on other routes (the loopbacks'),
so ``Network`` first floods every address a BGP neighbour names, repeatedly, until the set
of sessions that come up and the routers that reach each address no longer grow.

The transport (``Network.follow``): the packet takes the router's best route (by
administrative distance) and follows it back towards its origin; where a route's next hop
is not on a link of the router, the packet is carried to it over that next hop's own route;
wherever a label sits under the one the router pushes (a VPN label, a labelled-unicast
label towards a router that is not the address's owner), every hop must switch labels: LDP
on an IGP hop, a label on a BGP route, MPLS on a link.

When a route does not arrive, the flood is run again with the rules relaxed (a session that
does not come up, a missing route reflector, an AS-path loop, an unresolvable next hop each
cost one), and the first rule the cheapest relaxed chain breaks is the missing link; when
even that does not arrive, what is missing is a session: inside the destination's IGP
domain, from the router nearest it that holds the route; else into the domain, from the
holders nearest it.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
from collections import deque
from dataclasses import dataclass

from emulator.model.topology import BgpNeighbor, Lab, Node, OspfInstance, RipInstance

Address = ipaddress.IPv4Address
VPN_FAMILY = "ipv4-vpn"
LABELLED = "ipv4-labeled-unicast"
UNICAST_FAMILIES = ("ipv4-unicast", LABELLED)
PROTOCOL_WORDS = {"static": "static", "ospf": "OSPF", "rip": "RIP", "bgp": "BGP",
                  "connected": "connected", "link": "connected"}
FAMILY_WORDS = {"ipv4-vpn": "VPNv4", LABELLED: "labelled-unicast", "ipv4-unicast": "IPv4"}
# FRR's administrative distances: which of a router's routes to an address it forwards on.
DISTANCE = {"connected": 0, "link": 0, "static": 1, "ebgp": 20, "ospf": 110, "rip": 120,
            "ibgp": 200}
# BGP routes a router originates itself (its RIB holds the route they come from).
LOCAL = ("network", "redistribute", "export")
IGP = ("ospf", "rip")
MAX_ROUNDS = 32
MAX_DEPTH = 3  # how deep a reason explains the reason of a reason


@dataclass(frozen=True)
class SiteEnd:
    node: str
    prefix: str

    def __str__(self) -> str:
        return f"{self.node} ({self.prefix})"


@dataclass(frozen=True)
class Problem:
    """Traffic from the first site to the second cannot flow: ``missing`` says why, in the
    words of the link of the chain that is missing."""

    sites: tuple[SiteEnd, SiteEnd]
    vpn: str
    missing: str

    def __str__(self) -> str:
        return f"{self.vpn}: {self.sites[0]} → {self.sites[1]}: {self.missing}"


@dataclass(frozen=True)
class Route:
    """What is followed: the routes covering one address, from the router that owns it."""

    address: Address
    owner: str
    name: str  # "152.12.4.0/24 (VPN-B)", "PE-1's loopback 10.1.0.1"
    family: str  # the sessions that carry it between domains, in words


@dataclass(frozen=True)
class Violation:
    """A rule a relaxed flood broke to get a route one step further."""

    kind: str  # session, reflection, as-path, next-hop
    node: str  # the router where the rule bites
    other: str = ""  # the peer (session), the iBGP source (reflection)
    target: str = ""  # the iBGP destination (reflection)
    session: str = ""
    families: tuple[str, ...] = ()
    next_hop: tuple[Address, str] | None = None
    as_path: tuple[int, ...] = ()


@dataclass(eq=False)
class Entry:
    """One router's route in one table: ("rib", vrf, protocol), ("bgp", vrf) or
    ("vpn", rd, route targets)."""

    node: str
    table: tuple
    via: str  # connected, link, static, ospf, rip, network, redistribute, export, import, bgp
    parent: Entry | None = None
    next_hop: tuple[Address, str] | None = None  # BGP next hop and the router it belongs to
    labelled: bool = False
    learned: BgpNeighbor | None = None  # the holder's neighbour it came from
    interface: str | None = None  # the holder's interface it came in on (IGP, static, link)
    as_path: tuple[int, ...] = ()
    violation: Violation | None = None
    cost: int = 0
    depth: int = 0

    @property
    def vrf(self) -> str | None:
        return self.table[1] if self.table[0] in ("rib", "bgp") else None

    def chain(self) -> list[Entry]:
        """From the origin to this entry."""
        entries = []
        entry: Entry | None = self
        while entry is not None:
            entries.append(entry)
            entry = entry.parent
        return list(reversed(entries))


@dataclass(frozen=True)
class Fault:
    """Where a packet would lose the label it needs."""

    kind: str  # ldp, mpls, unlabelled, unreachable
    node: str
    peer: str = ""
    protocol: str = ""
    session: str = ""
    families: tuple[str, ...] = ()
    target: str = ""  # the address being reached at that point


def families_in_words(families) -> str:
    return " + ".join(FAMILY_WORDS.get(f, f) for f in families)


class Flood:
    """Every router's route to one address, each with the chain it came by."""

    def __init__(self, net: Network, route: Route, relaxed: bool = False):
        self.net = net
        self.route = route
        self.relaxed = relaxed
        self.entries: dict[tuple[str, tuple], Entry] = {}
        self.run()

    # -- what it found -------------------------------------------------------------------
    def at(self, node: str, vrf: str | None = None) -> list[Entry]:
        """The router's routes in a VRF (or the default table), BGP's own originations
        left out (its RIB holds the route they come from)."""
        return [e for (n, t), e in self.entries.items()
                if n == node and t[0] in ("rib", "bgp") and t[1] == vrf and e.via not in LOCAL]

    def holds(self, node: str, vrf: str | None = None) -> bool:
        return bool(self.at(node, vrf))

    def best(self, node: str, vrf: str | None = None) -> Entry | None:
        entries = self.at(node, vrf)
        return min(entries, key=lambda e: (self.net.distance(e), e.cost, e.depth)) \
            if entries else None

    def vpn(self, node: str) -> list[Entry]:
        return [e for (n, t), e in self.entries.items() if n == node and t[0] == "vpn"]

    def holders(self) -> dict[str, list[Entry]]:
        found: dict[str, list[Entry]] = {}
        for (node, _), entry in self.entries.items():
            found.setdefault(node, []).append(entry)
        return found

    # -- the flood -----------------------------------------------------------------------
    def run(self) -> None:
        owner = self.net.nodes[self.route.owner]
        interface = next((i for i in owner.interfaces
                          if i.address and i.address.ip == self.route.address), None)
        if interface is None:
            return
        start = Entry(owner.name, ("rib", interface.vrf, "connected"), "connected",
                      interface=interface.name)
        best = {(start.node, start.table): start}
        order = itertools.count()
        heap = [(0, next(order), start)]
        while heap:
            _, _, entry = heapq.heappop(heap)
            key = (entry.node, entry.table)
            if key in self.entries or best[key] is not entry:
                continue
            self.entries[key] = entry
            for step in self.steps(entry):
                step.cost = entry.cost + (step.violation is not None)
                step.depth = entry.depth + 1
                if step.violation is not None and not self.relaxed:
                    continue
                key = (step.node, step.table)
                if key in self.entries:
                    continue
                if key not in best or step.cost < best[key].cost:
                    best[key] = step
                    heapq.heappush(heap, (step.cost, next(order), step))

    def steps(self, entry: Entry):
        node = self.net.nodes[entry.node]
        kind = entry.table[0]
        if kind == "rib":
            yield from self.igp(entry, node)
            yield from self.statics(entry, node)
            if entry.via == "connected":
                yield from self.links(entry, node)
            yield from self.originate(entry, node)
        elif kind == "bgp":
            if entry.via not in LOCAL:
                yield from self.igp(entry, node)
                yield from self.statics(entry, node)
            yield from self.bgp(entry, node)
            if entry.vrf is not None and entry.via != "import":
                yield from self.export(entry, node)
        else:
            yield from self.bgp(entry, node)
            yield from self.imports(entry, node)

    def advertises(self, entry: Entry, node: Node, instance: OspfInstance | RipInstance
                   ) -> bool:
        """Whether an IGP instance of the router advertises the route."""
        if entry.table[0] == "bgp":
            internal = isinstance(instance, OspfInstance) and instance.redistribute_internal_bgp
            return "bgp" in instance.redistribute or (
                internal and self.net.internal(node, self.route.address))
        if entry.via in ("connected", "link"):
            return entry.interface in instance.interfaces
        return entry.via in (self.protocol_of(instance), *instance.redistribute)

    @staticmethod
    def protocol_of(instance: OspfInstance | RipInstance) -> str:
        return "ospf" if isinstance(instance, OspfInstance) else "rip"

    def igp(self, entry: Entry, node: Node):
        for instance in (*node.ospf, *node.rip):
            if instance.vrf != entry.vrf or not self.advertises(entry, node, instance):
                continue
            protocol = self.protocol_of(instance)
            passive = instance.passive if isinstance(instance, OspfInstance) else []
            for name in instance.interfaces:
                interface = node.interface(name)
                if interface.peer is None or name in passive:
                    continue
                other = self.net.igp_of.get(
                    (interface.peer.node, interface.peer.interface, protocol))
                if other is None:
                    continue
                yield Entry(interface.peer.node, ("rib", other.vrf, protocol), protocol,
                            parent=entry, interface=interface.peer.interface)

    def statics(self, entry: Entry, node: Node):
        """Static routes, elsewhere, whose next hop is this router holding the route."""
        for interface in node.interfaces:
            if interface.address is None or interface.vrf != entry.vrf or interface.peer is None:
                continue
            for holder, static in self.net.statics.get(interface.address.ip, ()):
                if holder == interface.peer.node and self.route.address in static.prefix:
                    yield Entry(holder, ("rib", static.vrf, "static"), "static", parent=entry,
                                interface=interface.peer.interface)

    def links(self, entry: Entry, node: Node):
        """The owner's neighbours on the subnet of the address: connected there too."""
        for interface in node.interfaces:
            if interface.peer and interface.address and \
                    self.route.address in interface.address.network:
                peer = self.net.nodes[interface.peer.node].interface(interface.peer.interface)
                yield Entry(interface.peer.node, ("rib", peer.vrf, "link"), "link",
                            parent=entry, interface=peer.name)

    def originate(self, entry: Entry, node: Node):
        if entry.vrf is None:
            bgp = node.core_bgp
            if bgp and any(self.route.address in network for network in bgp.networks):
                yield Entry(node.name, ("bgp", None), "network", parent=entry,
                            as_path=entry.as_path)
            return
        vrf = next((v for v in node.vrfs if v.name == entry.vrf), None)
        if vrf and entry.via in vrf.redistribute and self.net.instance(node, vrf.name):
            yield Entry(node.name, ("bgp", vrf.name), "redistribute", parent=entry)

    def export(self, entry: Entry, node: Node):
        vrf = next((v for v in node.vrfs if v.name == entry.vrf), None)
        if vrf is not None:
            yield Entry(node.name, ("vpn", vrf.rd, tuple(vrf.export_targets)), "export",
                        parent=entry, labelled=True, as_path=entry.as_path)

    def imports(self, entry: Entry, node: Node):
        targets = set(entry.table[2])
        for vrf in node.vrfs:
            if targets & set(vrf.import_targets):
                yield Entry(node.name, ("bgp", vrf.name), "import", parent=entry,
                            next_hop=entry.next_hop, labelled=True, as_path=entry.as_path)

    def bgp(self, entry: Entry, node: Node):
        vpn = entry.table[0] == "vpn"
        instance = self.net.instance(node, None if vpn else entry.vrf)
        if instance is None:
            return
        for neighbor in instance.neighbors:
            if not self.net.carries(neighbor, vpn):
                continue
            if entry.learned is not None and neighbor.peer == entry.learned.peer:
                continue
            if not vpn and neighbor.export_only and \
                    (neighbor.export_only == "internal") != self.net.internal(
                        node, self.route.address):
                continue  # a customer carrier's policy, by design
            found = self.net.back.get((neighbor.peer, neighbor.session, node.name))
            if found is None or not self.net.carries(found[1], vpn):
                continue
            back_vrf, back = found
            receiver = self.net.nodes[neighbor.peer]
            path = entry.as_path
            if neighbor.ebgp:
                path = (node.bgp_asn, *path)
            if neighbor.as_override:
                path = tuple(node.bgp_asn if a == receiver.bgp_asn else a for a in path)
            rewrites = (entry.next_hop is None or neighbor.next_hop_self
                        or (neighbor.ebgp and not neighbor.next_hop_unchanged))
            next_hop = (back.address, node.name) if rewrites else entry.next_hop
            violation = None
            if not self.net.is_up(node.name, neighbor):
                violation = Violation("session", node.name, neighbor.peer,
                                      session=neighbor.session,
                                      families=tuple(neighbor.families))
            elif entry.learned is not None and not entry.learned.ebgp and not neighbor.ebgp \
                    and not (entry.learned.rr_client or neighbor.rr_client):
                violation = Violation("reflection", node.name, entry.learned.peer,
                                      neighbor.peer)
            elif neighbor.ebgp and receiver.bgp_asn in path and not back.allowas_in:
                violation = Violation("as-path", receiver.name, as_path=path)
            elif not self.net.resolvable(receiver.name, next_hop):
                violation = Violation("next-hop", receiver.name, next_hop=next_hop)
            labelled = vpn or (LABELLED in neighbor.families and LABELLED in back.families)
            yield Entry(receiver.name, entry.table if vpn else ("bgp", back_vrf), "bgp",
                        parent=entry, next_hop=next_hop, labelled=labelled, learned=back,
                        as_path=path, violation=violation)


class Network:
    """The lab's routing, solved: which sessions come up and who reaches whose addresses."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.nodes = {n.name: n for n in lab.nodes}
        # (router, session, peer) -> (the VRF of its instance, its neighbour entry)
        self.back: dict[tuple[str, str, str], tuple[str | None, BgpNeighbor]] = {}
        for node in lab.nodes:
            for instance in node.bgp:
                for neighbor in instance.neighbors:
                    self.back[node.name, neighbor.session, neighbor.peer] = (instance.vrf,
                                                                             neighbor)
        self.igp_of = {(node.name, name, Flood.protocol_of(instance)): instance
                       for node in lab.nodes for instance in (*node.ospf, *node.rip)
                       for name in instance.interfaces}
        self.statics: dict[Address, list] = {}
        for node in lab.nodes:
            for static in node.static_routes:
                self.statics.setdefault(static.nexthop, []).append((node.name, static))
        self.domains = self.core_domains()
        self.floods: dict[tuple[Route, bool], Flood] = {}
        self.up: set[tuple] = set()
        self.known: dict[tuple[str, Address], frozenset[str]] = {}
        self.converge()

    # -- facts of the model --------------------------------------------------------------
    @staticmethod
    def instance(node: Node, vrf: str | None):
        return next((b for b in node.bgp if b.vrf == vrf), None)

    @staticmethod
    def carries(neighbor: BgpNeighbor, vpn: bool) -> bool:
        if vpn:
            return VPN_FAMILY in neighbor.families
        return any(f in neighbor.families for f in UNICAST_FAMILIES)

    @staticmethod
    def internal(node: Node, address: Address) -> bool:
        """A customer carrier's internal route (one of its loopbacks)."""
        return any(address in network for network in node.internal_routes)

    @staticmethod
    def over_loopbacks(neighbor: BgpNeighbor) -> bool:
        return neighbor.update_source == "lo" or bool(neighbor.ebgp_multihop)

    @staticmethod
    def session_key(a: str, b: str, session: str) -> tuple:
        return (*sorted((a, b)), session)

    def is_up(self, node: str, neighbor: BgpNeighbor) -> bool:
        return not self.over_loopbacks(neighbor) or \
            self.session_key(node, neighbor.peer, neighbor.session) in self.up

    def adjacent(self, node: Node, address: Address, router: str):
        """The router's interface on a link whose far end is ``router`` at ``address``."""
        return next((i for i in node.interfaces if i.peer and i.peer.node == router
                     and i.peer.address.ip == address), None)

    def resolvable(self, node: str, next_hop: tuple[Address, str] | None) -> bool:
        if next_hop is None:
            return True
        address, router = next_hop
        if router == node or self.adjacent(self.nodes[node], address, router):
            return True
        return node in self.known.get((router, address), ())

    def distance(self, entry: Entry) -> int:
        if entry.table[0] == "rib":
            return DISTANCE[entry.via]
        instance = self.instance(self.nodes[entry.node], entry.vrf)
        if instance is not None and instance.distance is not None:
            return instance.distance
        return DISTANCE["ebgp" if entry.learned is not None and entry.learned.ebgp else "ibgp"]

    def core_domains(self) -> dict[str, frozenset[str]]:
        """Each router's IGP domain: the routers its core links join it to."""
        domains: dict[str, frozenset[str]] = {}
        for node in self.lab.nodes:
            if node.name in domains:
                continue
            members, queue = {node.name}, deque([node.name])
            while queue:
                for interface in self.nodes[queue.popleft()].interfaces:
                    if interface.scope == "core" and interface.peer and \
                            interface.peer.node not in members:
                        members.add(interface.peer.node)
                        queue.append(interface.peer.node)
            for member in members:
                domains[member] = frozenset(members)
        return domains

    def domain_name(self, node: str) -> str:
        members = self.domains[node]
        asn = self.nodes[node].asn
        region = {n.name for n in self.lab.nodes if n.asn == asn and n.loopback is not None}
        if members == region:
            return f"AS {asn}"
        if len(members) == 1 and self.nodes[node].loopback is None:
            return node
        ordered = [n.name for n in self.lab.nodes if n.name in members]
        return f"AS {asn}'s site {', '.join(ordered)}"

    def who(self, node: str) -> str:
        return f"{node} (AS {self.nodes[node].asn})"

    def link_distances(self, sources: frozenset[str]) -> dict[str, int]:
        """Hops over any link from a set of routers."""
        distances = dict.fromkeys(sources, 0)
        queue = deque(sources)
        while queue:
            here = queue.popleft()
            for interface in self.nodes[here].interfaces:
                if interface.peer and interface.peer.node not in distances:
                    distances[interface.peer.node] = distances[here] + 1
                    queue.append(interface.peer.node)
        return distances

    def describe(self, address: Address, router: str) -> str:
        node = self.nodes[router]
        if node.loopback is not None and node.loopback.ip == address:
            return f"{router}'s loopback"
        interface = next((i for i in node.interfaces if i.address and i.address.ip == address),
                         None)
        if interface is not None and interface.peer is not None:
            return f"{router}'s address on the link to {interface.peer.node}"
        return f"{router}'s address"

    # -- the routes the sessions need ----------------------------------------------------
    def transport_route(self, router: str, address: Address) -> Route:
        return Route(address, router, f"{self.describe(address, router)} {address}",
                     "labelled-unicast")

    def flood(self, route: Route, relaxed: bool = False) -> Flood:
        key = (route, relaxed)
        if key not in self.floods:
            self.floods[key] = Flood(self, route, relaxed)
        return self.floods[key]

    def converge(self) -> None:
        """Flood every address a BGP neighbour names until the sessions that come up and the
        routers that reach each address stop growing (from none: a session whose route to
        the peer needs the session itself never comes up)."""
        named = {(n.peer, n.address) for node in self.lab.nodes for instance in node.bgp
                 for n in instance.neighbors}
        sessions = [(node.name, n) for node in self.lab.nodes for instance in node.bgp
                    for n in instance.neighbors if self.over_loopbacks(n)]
        for _ in range(MAX_ROUNDS):
            self.floods = {}
            known = {key: frozenset(n for n in self.nodes if self.flood(
                self.transport_route(*key)).holds(n)) for key in named}
            up = set()
            for node, neighbor in sessions:
                found = self.back.get((neighbor.peer, neighbor.session, node))
                if found is not None and node in known[neighbor.peer, neighbor.address] \
                        and neighbor.peer in known[node, found[1].address]:
                    up.add(self.session_key(node, neighbor.peer, neighbor.session))
            if known == self.known and up == self.up:
                break
            self.known, self.up = known, up
        self.floods = {}

    # -- the transport -------------------------------------------------------------------
    def follow(self, flood: Flood, entry: Entry, inner: bool,
               resolving: frozenset[tuple[Route, str]] = frozenset()
               ) -> tuple[Fault, Entry | None] | None:
        """Follow a packet from ``entry``'s router along its route back to the owner; with
        ``inner``, the packet carries a label for the owner under what the routers push,
        so every hop must switch labels. Returns the fault and, when it lies on the way to
        a BGP next hop, the entry whose next hop it is. ``resolving``: the (route, router)
        pairs being resolved already (a route a router resolves over itself never
        forwards)."""
        seen: set[int] = set()
        resolving = resolving | {(flood.route, entry.node)}
        target = str(flood.route.address)
        while entry is not None and id(entry) not in seen:
            seen.add(id(entry))
            node = self.nodes[entry.node]
            if entry.via == "connected":
                return None
            if entry.via in LOCAL or (entry.next_hop is None and entry.via in ("import", "bgp")):
                entry = entry.parent
                continue
            if entry.via in (*IGP, "static", "link"):
                sender = entry.parent.node
                mine = node.interface(entry.interface)
                theirs = self.nodes[sender].interface(mine.peer.interface)
                if inner and entry.via in IGP and not (mine.ldp and theirs.ldp):
                    return Fault("ldp", node.name, sender, protocol=entry.via,
                                 target=target), None
                if inner and not (mine.mpls and theirs.mpls):
                    return Fault("mpls", node.name, sender, target=target), None
                entry = entry.parent
                continue
            address, router = entry.next_hop
            carried = inner or entry.labelled
            if inner and not entry.labelled and router != flood.route.owner:
                return Fault("unlabelled", node.name, entry.learned.peer,
                             session=entry.learned.session,
                             families=tuple(entry.learned.families), target=target), None
            link = self.adjacent(node, address, router)
            if link is not None:
                theirs = self.nodes[router].interface(link.peer.interface)
                if carried and not (link.mpls and theirs.mpls):
                    return Fault("mpls", node.name, router, target=target), None
            else:
                transport = self.flood(self.transport_route(router, address))
                start = transport.best(node.name)
                if start is None or (transport.route, node.name) in resolving:
                    return Fault("unreachable", node.name, target=str(address)), entry
                fault = self.follow(transport, start, carried, resolving)
                if fault is not None:
                    return fault[0], entry
            entry = next((e for e in reversed(entry.chain()[:-1]) if e.node == router), None)
        return None

    # -- the reasons -----------------------------------------------------------------------
    def explain(self, route: Route, node: str, vrf: str | None, depth: int = 0) -> str:
        """Why ``node`` holds no usable route in ``vrf``: the first rule the cheapest relaxed
        chain breaks, or the session missing."""
        broken = self.first_violation(route, node, vrf)
        if broken is not None:
            return self.violation_text(broken, depth)
        return self.gap(route, node)

    def first_violation(self, route: Route, node: str, vrf: str | None) -> Violation | None:
        relaxed = self.flood(route, relaxed=True)
        candidates = [e for (n, t), e in relaxed.entries.items()
                      if n == node and t[0] in ("rib", "bgp") and t[1] == vrf]
        if not candidates:
            return None
        reached = min(candidates, key=lambda e: (e.cost, e.depth))
        return next((e.violation for e in reached.chain() if e.violation), None)

    def violation_text(self, violation: Violation, depth: int) -> str:
        if violation.kind == "reflection":
            return (f"{violation.node} learns it over iBGP from {violation.other} and would "
                    f"have to reflect it to {violation.target}, but neither is its "
                    "route-reflector client")
        if violation.kind == "as-path":
            path = " ".join(map(str, violation.as_path))
            return (f"{violation.node} drops it: its own AS "
                    f"{self.nodes[violation.node].bgp_asn} is in the AS path ({path}), "
                    "with neither allowas-in nor as-override")
        if violation.kind == "next-hop":
            address, router = violation.next_hop
            return (f"{violation.node} drops it: its next hop {address} "
                    f"({self.describe(address, router)}) is unreachable from "
                    f"{violation.node}{self.because(router, address, violation.node, depth)}")
        ends = self.ends(violation.session, violation.node, violation.other)
        text = (f"the {families_in_words(violation.families)} session {violation.session} "
                f"between {ends[0]} and {ends[1]} cannot come up")
        lacking = []
        for me, other in (ends, tuple(reversed(ends))):
            found = self.back.get((me, violation.session, other))
            if found is None:
                continue
            address = found[1].address
            if me not in self.known.get((other, address), ()):
                verb = "and " + me + " none" if lacking else me + " has no route"
                lacking.append(f"{verb} to {self.describe(address, other)} "
                               f"{address}{self.because(other, address, me, depth)}")
        if not lacking:
            return text
        return f"{text}: " + "; ".join(lacking)

    def ends(self, session: str, a: str, b: str) -> tuple[str, str]:
        """A session's routers in the order the lab file names them."""
        found = next((s for s in self.lab.sessions if s.name == session
                      and {s.a, s.b} == {a, b}), None)
        return (found.a, found.b) if found else (a, b)

    def because(self, router: str, address: Address, node: str, depth: int) -> str:
        if depth >= MAX_DEPTH:
            return ""
        return f" ({self.explain(self.transport_route(router, address), node, None, depth + 1)})"

    def gap(self, route: Route, node: str) -> str:
        """The session missing: from the router of the destination's domain nearest it that
        holds the route, or into the domain from the holders nearest it."""
        flood = self.flood(route)
        holders = {name: entries for name, entries in flood.holders().items()
                   if name != node and self.nodes[name].loopback is not None}
        domain = self.domains[node]
        inside = [name for name in holders if name in domain]
        if inside:
            distances = self.link_distances(frozenset([node]))
            nearest = min(inside, key=lambda n: (distances.get(n, len(self.nodes)),
                                                  min(e.depth for e in holders[n])))
            return f"{nearest}'s {self.family_of(route, holders[nearest])} session to " \
                   f"{node} is missing"
        into = self.domain_name(node)
        origin = self.origin_side(route)
        others = [n for n in holders if n != origin] or list(holders)
        if not others:
            return f"nothing carries it into {into}"
        distances = self.link_distances(domain)
        far = len(self.nodes) + 1
        rank = {n: (distances.get(n, far), -max(e.depth for e in holders[n])) for n in others}
        closest = min(rank.values())
        stops = [n for n in others if rank[n] == closest]
        clauses = "; ".join(self.stop(route, n, holders[n], into) for n in stops)
        return f"nothing carries it into {into}: it stops at {clauses}"

    def origin_side(self, route: Route) -> str:
        """The provider router where the route enters the provider's network."""
        owner = self.nodes[route.owner]
        if owner.loopback is not None:
            return owner.name
        return self.lab.pe_of(owner.name).name

    def family_of(self, route: Route, entries: list[Entry]) -> str:
        if any(e.table[0] == "vpn" for e in entries):
            return "VPNv4"
        return route.family

    def stop(self, route: Route, name: str, entries: list[Entry], into: str) -> str:
        node = self.nodes[name]
        where = f"{name} ({self.domain_name(name)})"
        imported = [e.vrf for e in entries if e.via == "import"]
        if imported:
            return f"{where}, whose VRF {imported[0]} hands it to no router of {into}"
        vpn = [e for e in entries if e.table[0] == "vpn"]
        if not vpn:
            return f"{where}, which has no {route.family} session into {into}"
        targets = {t for e in vpn for t in e.table[2]}
        if node.vrfs and not any(targets & set(v.import_targets) for v in node.vrfs):
            return (f"{where}, which has no VRF importing {', '.join(sorted(targets))} and no "
                    f"VPNv4 session into {into}")
        return f"{where}, which has no VPNv4 session into {into}"

    def transport_text(self, route: Route, holder: Entry | None, fault: Fault) -> str:
        if fault.kind == "ldp":
            why = (f"{fault.node} reaches {fault.target} over "
                   f"{PROTOCOL_WORDS[fault.protocol]} from {fault.peer}, but the link between "
                   f"{fault.peer} and {fault.node} runs no LDP")
        elif fault.kind == "mpls":
            why = f"the link between {fault.node} and {fault.peer} carries no MPLS"
        elif fault.kind == "unlabelled":
            why = (f"{fault.node} learns {fault.target} from {fault.peer} without a label "
                   f"(session {fault.session}: {families_in_words(fault.families)})")
        else:
            why = f"{fault.node} has no route to {fault.target}"
        if holder is None:
            return f"{route.name} cannot be label switched: {why}"
        address, router = holder.next_hop
        return (f"{holder.node}'s next hop for {route.name}, {address} "
                f"({self.describe(address, router)}), has no label-switched path: {why}")

    # -- the pairs -------------------------------------------------------------------------
    def reach(self, route: Route, source: str, attachment: tuple[str, str | None] | None
              ) -> str | None:
        """Why ``source`` cannot send to ``route``'s address, or None. ``attachment``: the
        provider router and VRF the source's traffic enters (a customer's PE), if any."""
        flood = self.flood(route)
        if flood.holds(source):
            fault = self.follow(flood, flood.best(source), False)
            return None if fault is None else self.transport_text(route, fault[1], fault[0])
        if attachment is None:
            return self.headline(route, source, None)
        pe, vrf = attachment
        if flood.holds(pe, vrf):
            broken = self.first_violation(route, source, None)
            why = (self.violation_text(broken, 0) if broken is not None
                   else self.attachment_gap(flood, pe, vrf, source))
            return f"{source} never learns {route.name} from {pe}'s VRF {vrf}: {why}"
        held = flood.vpn(pe)
        vrf_spec = next((v for v in self.nodes[pe].vrfs if v.name == vrf), None)
        if held and vrf_spec is not None:
            carried = sorted({t for e in held for t in e.table[2]})
            return (f"{self.who(pe)} holds {route.name} as a VPNv4 route, but its VRF {vrf} "
                    f"imports {', '.join(vrf_spec.import_targets)} and the route carries "
                    f"{', '.join(carried)}")
        return self.headline(route, pe, vrf)

    def headline(self, route: Route, node: str, vrf: str | None) -> str:
        broken = self.first_violation(route, node, vrf)
        if broken is not None and broken.kind == "next-hop" and broken.node == node:
            address, router = broken.next_hop
            return (f"{self.who(node)} cannot use {route.name}: its next hop {address} "
                    f"({self.describe(address, router)}) is unreachable from {node}"
                    f"{self.because(router, address, node, 0)}")
        why = self.violation_text(broken, 0) if broken is not None else self.gap(route, node)
        return f"{self.who(node)} never receives {route.name}: {why}"

    def attachment_gap(self, flood: Flood, pe: str, vrf: str | None, ce: str) -> str:
        """The PE's VRF holds the route, the customer does not: what the PE runs towards it
        does not hand it over."""
        node = self.nodes[pe]
        held = flood.best(pe, vrf)
        how = PROTOCOL_WORDS["bgp" if held.table[0] == "bgp" else held.via]
        towards = {i.name for i in node.towards(ce)}
        for instance in (*node.ospf, *node.rip):
            if instance.vrf == vrf and towards & set(instance.interfaces):
                protocol = Flood.protocol_of(instance).upper()
                redistributed = ", ".join(PROTOCOL_WORDS.get(r, r) for r in instance.redistribute) \
                    or "nothing"
                return (f"{pe} holds it there as a {how} route, and its {protocol} towards "
                        f"{ce} redistributes {redistributed} only")
        return f"{pe} runs no routing protocol towards {ce} in VRF {vrf}"

    def site_problems(self) -> list[Problem]:
        problems = []
        for a, b in itertools.permutations(self.lab.sites(), 2):
            if a.site.vpn != b.site.vpn:
                continue
            route = Route(b.site.address.ip, b.name, f"{b.site.prefix} ({b.site.vpn})",
                          "VPNv4")
            pe = self.lab.pe_of(a.name)
            attachment = next((i.vrf for i in pe.towards(a.name)), None)
            missing = self.reach(route, a.name, (pe.name, attachment))
            if missing is not None:
                problems.append(Problem(
                    (SiteEnd(a.name, str(a.site.prefix)), SiteEnd(b.name, str(b.site.prefix))),
                    a.site.vpn, missing))
        return problems

    def carrier_problems(self) -> list[Problem]:
        """A customer carrier's external prefixes in different sites reach each other (over
        its own iBGP, across the backbone's VPN)."""
        carriers = {a.asn: a.carrier_vpn for a in self.lab.autonomous_systems if a.carrier_vpn}
        externals = [n for n in self.lab.nodes if n.external is not None and n.asn in carriers]
        problems = []
        for a, b in itertools.permutations(externals, 2):
            if a.asn != b.asn or self.domains[a.name] == self.domains[b.name]:
                continue
            address = b.interface("ext0").address.ip
            route = Route(address, b.name, f"{b.external} (external, AS {b.asn})", "BGP")
            missing = self.reach(route, a.name, None)
            if missing is not None:
                problems.append(Problem(
                    (SiteEnd(a.name, str(a.external)), SiteEnd(b.name, str(b.external))),
                    carriers[a.asn], missing))
        return problems


def predict(lab: Lab) -> list[Problem]:
    """What keeps a site of the lab from reaching another of its VPN (or a customer
    carrier's external prefix from reaching another site's), one problem per ordered pair:
    empty when the lab's sessions, families, route targets and labels carry every route."""
    network = Network(lab)
    return network.site_problems() + network.carrier_problems()
