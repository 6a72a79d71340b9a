"""How one route spreads through the routers by the protocols the model configures."""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from emulator.model.topology import Node, OspfInstance, RipInstance
from emulator.verify.prediction.facts import (
    LABELLED,
    LOCAL,
    Entry,
    Route,
    Violation,
)

if TYPE_CHECKING:  # the network floods; a flood asks it about sessions and links
    from emulator.verify.prediction.network import Network


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
