"""Sessions that come up, next hops that resolve, the transport, and the missing link."""

from __future__ import annotations

import itertools
from collections import deque

from emulator.model.topology import BgpNeighbor, Lab, Node
from emulator.verify.prediction.facts import (
    DISTANCE,
    IGP,
    LOCAL,
    MAX_DEPTH,
    MAX_ROUNDS,
    PROTOCOL_WORDS,
    UNICAST_FAMILIES,
    VPN_FAMILY,
    Address,
    Entry,
    Fault,
    Problem,
    Route,
    SiteEnd,
    Violation,
    families_in_words,
)
from emulator.verify.prediction.flood import Flood


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
