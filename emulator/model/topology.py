"""The normalised lab: every fact a template, a runtime or the verifier needs, derived once.

Templates and checks read only this. Nothing downstream computes topology facts.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import deque
from collections.abc import Iterator
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from emulator.errors import LabError
from emulator.model.schema import (
    AddressFamily,
    Igp,
    Role,
    RoutingSuite,
    Scenario,
    Timers,
    VrfProtocol,
)

InterfaceScope = Literal["loopback", "core", "inter-as", "attachment", "site", "external"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def _number_defaults_to_asn(key: str):
    """Models written before regions could share an AS number: BGP's number is the asn."""
    def fill(data):
        if isinstance(data, dict) and data.get(key) is None and "asn" in data:
            return {**data, key: data["asn"]}
        return data
    return model_validator(mode="before")(fill)


class Peer(Model):
    node: str
    interface: str
    address: ipaddress.IPv4Interface


class Interface(Model):
    name: str
    kind: Literal["loopback", "veth", "vlan", "dummy"]
    # None on the parent of VLAN sub-interfaces: only the sub-interfaces are addressed.
    address: ipaddress.IPv4Interface | None
    scope: InterfaceScope
    parent: str | None = None
    vlan: int | None = None
    vrf: str | None = None
    peer: Peer | None = None
    link: str | None = None
    igp: bool = False
    ldp: bool = False
    mpls: bool = False
    # Option B ASBR data plane: forward labelled packets received from an eBGP peer, and
    # allocate a local label + swap entry for VPN routes whose next hop changes.
    mpls_bgp_forwarding: bool = False
    l3vpn_switching: bool = False
    mtu: int = 1500


class BgpNeighbor(Model):
    session: str
    peer: str
    address: ipaddress.IPv4Address
    remote_as: int
    families: list[AddressFamily]
    ebgp: bool
    vrf: str | None = None
    update_source: str | None = None
    ebgp_multihop: int | None = None
    next_hop_self: bool = False
    next_hop_unchanged: bool = False
    rr_client: bool = False
    # Start administratively down; the runtime enables the session once this router's route
    # to the peer carries an LDP label. An Option B ASBR binds a VPN route's swap entry when
    # the route arrives: bound before LDP labels the next hop, it lacks its transport label
    # for good (docs/labs/option2.md).
    wait_for_ldp_label: bool = False
    # Carrier supporting carrier: what a customer carrier's router sends on this session,
    # its internal routes (loopbacks: over labelled unicast, towards the backbone) or its
    # external ones (over its own iBGP, never through the backbone).
    export_only: Literal["internal", "external"] | None = None
    # Accept routes carrying this router's own AS once (a customer carrier's sites share
    # its AS, and the backbone passes the AS path on).
    allowas_in: bool = False
    # Replace the peer's AS with this router's own in what it sends (a transit between two
    # regions that share an AS number: option 4, same-as).
    as_override: bool = False


class OspfInstance(Model):
    vrf: str | None
    router_id: ipaddress.IPv4Address
    interfaces: list[str]
    passive: list[str] = []
    redistribute: list[str] = []
    # Redistribute BGP's internal routes only (a CSC-CE hands the other sites' loopbacks to
    # a site IGP without MPLS).
    redistribute_internal_bgp: bool = False


class RipInstance(Model):
    vrf: str | None
    interfaces: list[str]
    redistribute: list[str] = []


class StaticRoute(Model):
    prefix: ipaddress.IPv4Network
    nexthop: ipaddress.IPv4Address
    vrf: str | None = None


class Vrf(Model):
    name: str
    table: int
    rd: str
    import_targets: list[str]
    export_targets: list[str]
    interfaces: list[str]
    # BGP redistribution inside the VRF instance (routes learned from OSPF/RIP/static CEs).
    redistribute: list[str] = []


class BgpInstance(Model):
    asn: int
    router_id: ipaddress.IPv4Address
    vrf: str | None = None
    neighbors: list[BgpNeighbor] = []
    networks: list[ipaddress.IPv4Network] = []
    import_check: bool = True
    # eBGP, iBGP and local administrative distance when BGP must beat the IGP (a CSC-CE's
    # labelled route to its own site's ASBR is only installed, and so labelled, if it wins).
    distance: int | None = None

    def family(self, family: AddressFamily) -> list[BgpNeighbor]:
        return [n for n in self.neighbors if family in n.families]


class Site(Model):
    name: str
    vpn: str
    prefix: ipaddress.IPv4Network
    address: ipaddress.IPv4Interface


# Which entry of Node.suites runs each protocol.
PROTOCOL_KIND = {"bgp": "bgp", "ospf": "igp", "rip": "igp", "static": "igp", "ldp": "ldp"}


class ExternalRoutes(Model):
    """A customer carrier's many external routes (lab format: ``external_routes``)."""

    count: int
    pool: ipaddress.IPv4Network
    length: int

    def prefixes(self) -> Iterator[ipaddress.IPv4Network]:
        return itertools.islice(self.pool.subnets(new_prefix=self.length), self.count)


class GuardedInterface(Model):
    """A PE interface towards a customer carrier's CSC-CE on which labelled packets are
    admitted only with the labels this PE advertised to that CE (label spoofing: one label
    space per router)."""

    interface: str
    vrf: str
    peer: str


class Reason(Model):
    """A setting the builder derived from the scenario (the lab file does not state it), as
    a neutral fact: which setting, the protocol it belongs to, its parameters, and why the
    scenario needs it. The suite that runs that protocol on the node implements it and says
    it in its own commands (``emulator.suites.reason_words``): `mplslab explain` and the
    report print those words beside the why."""

    key: str  # the setting, e.g. "l3vpn-switching" (a suite's SETTING_WORDS)
    protocol: Literal["bgp", "igp", "ldp"]  # a key of Node.suites: whose suite words it
    # What the setting applies to: interfaces, peers, prefixes, numbers.
    params: dict[str, str | int | list[str]] = {}
    why: str


class Node(Model):
    name: str
    role: Role
    asn: int  # its region (lab file); bgp_asn: the number its BGP speaks
    bgp_asn: int
    _bgp_asn = _number_defaults_to_asn("bgp_asn")
    router_id: ipaddress.IPv4Address
    # None on customer edges: their identity is their site address.
    loopback: ipaddress.IPv4Interface | None
    interfaces: list[Interface]
    suites: dict[str, RoutingSuite]
    site: Site | None = None
    vrfs: list[Vrf] = []
    ospf: list[OspfInstance] = []
    rip: list[RipInstance] = []
    static_routes: list[StaticRoute] = []
    bgp: list[BgpInstance] = []
    ldp: bool = False
    # /32 host routes to eBGP neighbours that LDP must label although their next hop is no
    # LDP peer (the runtime has LDP label them only once it has labelled the routes to the
    # iBGP peers: labelled from the start, they leave Option B swap entries without their
    # transport label for good).
    ldp_host_routes: list[ipaddress.IPv4Network] = []
    # BGP labelled next hops resolve over IGP routes that LDP labels.
    fec_nexthop_resolution: bool = False
    mpls: bool = False
    # The routing protocols it runs (bgp, ospf, rip, ldp, static); its suites say by whom.
    protocols: list[str]
    reasons: list[Reason] = []
    # A customer carrier's internal routes (its routers' loopbacks): what its labelled
    # sessions may carry and its iBGP for external routes may not.
    internal_routes: list[ipaddress.IPv4Network] = []
    external: ipaddress.IPv4Network | None = None
    external_routes: ExternalRoutes | None = None
    label_guard: list[GuardedInterface] = []

    @field_validator("reasons", mode="before")
    @classmethod
    def _reasons_written_before_they_were_neutral(cls, reasons):
        """Models written when a reason was one suite's text ({setting, why}): such reasons
        are left out (they explain the configuration; no check reads them)."""
        if isinstance(reasons, list):
            return [r for r in reasons
                    if not (isinstance(r, dict) and "setting" in r and "key" not in r)]
        return reasons

    def interface(self, name: str) -> Interface:
        for interface in self.interfaces:
            if interface.name == name:
                return interface
        raise KeyError(f"{self.name} has no interface {name}")

    def towards(self, peer: str) -> list[Interface]:
        """This node's interfaces on links to ``peer`` (one per VRF or VLAN)."""
        return [i for i in self.interfaces if i.peer and i.peer.node == peer]

    def runs(self, suite: str) -> list[str]:
        """The protocols this node's ``suite`` runs (static routes go with the IGP's)."""
        return [p for p in self.protocols if self.suites[PROTOCOL_KIND[p]] == suite]

    @property
    def core_bgp(self) -> BgpInstance | None:
        return next((b for b in self.bgp if b.vrf is None), None)


class Endpoint(Model):
    node: str
    interface: str


class Link(Model):
    name: str
    a: Endpoint
    b: Endpoint
    scope: InterfaceScope
    vrfs: dict[str, int] = {}
    protocol: VrfProtocol | None = None


class LinkEnd(NamedTuple):
    """A router's interface as a user names it, and what is at its other end (nothing for a
    loopback or a site's dummy)."""

    node: str
    interface: str
    peer: str | None = None
    peer_interface: str | None = None
    link: str | None = None

    def __str__(self) -> str:
        """Both names a user knows it by: the lab's interface name and the peer."""
        there = f" (to {self.peer} {self.peer_interface})" if self.peer else ""
        return f"{self.node} {self.interface}{there}"


class AutonomousSystem(Model):
    asn: int  # the region's identity in the lab file
    number: int  # the AS number its BGP speaks (regions may share one)
    _number = _number_defaults_to_asn("number")
    name: str
    igp: Igp
    label_distribution: list[str]
    transit: bool
    customer: bool = False
    carrier_vpn: str | None = None


class Vpn(Model):
    name: str
    rd: str
    import_targets: list[str]
    export_targets: list[str]
    sites: list[str]  # CE node names


class BgpSession(Model):
    name: str
    a: str
    b: str
    families: list[AddressFamily]
    ebgp: bool
    multihop: bool
    vrf: str | None = None


class Lab(Model):
    name: str
    title: str
    description: str
    scenario: Scenario
    variant: str | None
    variants: dict[str, str]
    slides: str | None
    deviations: list[str]
    source: str
    platform_labels: int
    timers: Timers = Timers()
    autonomous_systems: list[AutonomousSystem]
    vpns: list[Vpn]
    nodes: list[Node]
    links: list[Link]
    sessions: list[BgpSession]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def vpn(self, name: str) -> Vpn:
        for vpn in self.vpns:
            if vpn.name == name:
                return vpn
        raise KeyError(name)

    # -- topology questions: answered here, once, for templates, checks and training -------
    def sites(self) -> list[Node]:
        """The customer edges, in the lab's order."""
        return [n for n in self.nodes if n.site is not None]

    def pe_of(self, ce: str) -> Node:
        """The provider router a customer edge attaches to."""
        for link in self.links:
            ends = (link.a.node, link.b.node)
            if ce in ends and link.scope == "attachment":
                return self.node(ends[1] if ends[0] == ce else ends[0])
        raise LabError(f"{ce} attaches to no provider router")

    def core_path(self, start: str, goal: str) -> list[tuple[Node, str, str]]:
        """The shortest path over core links: (sender, its interface, receiver) per hop."""
        previous: dict[str, tuple[str, str] | None] = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == goal:
                break
            for interface in self.node(here).interfaces:
                if interface.scope == "core" and interface.peer and \
                        interface.peer.node not in previous:
                    previous[interface.peer.node] = (here, interface.name)
                    queue.append(interface.peer.node)
        if goal not in previous:
            raise LabError(f"no core path from {start} to {goal}")
        hops = []
        node = goal
        while (step := previous[node]) is not None:
            sender, interface = step
            hops.append((self.node(sender), interface, node))
            node = sender
        return list(reversed(hops))

    def router(self, name: str) -> Node:
        """The node a user names, or an error that lists them."""
        try:
            return self.node(name)
        except KeyError:
            raise LabError(f"lab {self.name} has no router {name!r}",
                           hint=f"routers: {', '.join(n.name for n in self.nodes)}") from None

    def link_end(self, where: str, interface: str | None = None) -> LinkEnd:
        """A router's interface as a user names it: ``NODE:PEER`` (NODE's end of its link to
        PEER), or NODE with ``interface``, the lab's name for it (``eth1``, ``eth2.101``) or
        the name of the router at its other end. Unknown or ambiguous, an error that lists
        the choices."""
        name, _, peer = where.partition(":")
        node = self.router(name)
        names = [i.name for i in node.interfaces]
        if peer and interface is not None:
            raise LabError(f"{where} already names an interface of {node.name}; {interface!r} "
                           "is one too many", hint=f"either {where}, or {node.name} and one of: "
                                                   f"{self.interface_choices(node)}")
        if interface is None and not peer:
            raise LabError(f"which interface of {node.name}?",
                           hint=f"{self.interface_choices(node)}; or a link by its ends: "
                                f"{', '.join(self.link_names(node.name))}")
        if interface is not None and interface not in names:
            if not any(n.name == interface for n in self.nodes):
                raise LabError(f"{node.name} has no interface {interface!r}",
                               hint=f"its interfaces: {self.interface_choices(node)}")
            peer = interface
        if peer:
            return self.end_towards(node, peer)
        return self.named_end(node, node.interface(interface or ""))

    def link_names(self, node: str) -> list[str]:
        """The router's links by their ends (``NODE:PEER``), in link order."""
        ends = [(link.a, link.b) if link.a.node == node else (link.b, link.a)
                for link in self.links if node in (link.a.node, link.b.node)]
        return list(dict.fromkeys(f"{mine.node}:{other.node}" for mine, other in ends))

    def interface_choices(self, node: Node) -> str:
        return ", ".join(str(self.named_end(node, i)).removeprefix(f"{node.name} ")
                         for i in node.interfaces)

    def end_towards(self, node: Node, peer: str) -> LinkEnd:
        """The router's end of its one link to ``peer`` (the link's own interface: a VLAN
        trunk's parent, whose sub-interfaces each carry a VRF)."""
        self.router(peer)
        ends = [LinkEnd(mine.node, mine.interface, other.node, other.interface, link.name)
                for link in self.links
                for mine, other in ((link.a, link.b), (link.b, link.a))
                if mine.node == node.name and other.node == peer]
        if not ends:
            raise LabError(f"{node.name} has no link to {peer}",
                           hint=f"its links: {', '.join(self.link_names(node.name))}")
        if len(ends) > 1:
            raise LabError(f"{node.name} has {len(ends)} links to {peer}",
                           hint="name the interface: " + ", ".join(
                               f"{node.name} {e.interface} (link {e.link})" for e in ends))
        return ends[0]

    def named_end(self, node: Node, interface: Interface) -> LinkEnd:
        if interface.peer is not None:
            return LinkEnd(node.name, interface.name, interface.peer.node,
                           interface.peer.interface, interface.link)
        for link in self.links:
            for mine, other in ((link.a, link.b), (link.b, link.a)):
                if (mine.node, mine.interface) == (node.name, interface.name):
                    return LinkEnd(node.name, interface.name, other.node, other.interface,
                                   link.name)
        return LinkEnd(node.name, interface.name)

    def link_interface(self, sender: str, receiver: str, vrf: str | None = None) -> str:
        """The interface of ``sender`` on its link to ``receiver`` (in ``vrf``, or the
        default table)."""
        for interface in self.node(sender).towards(receiver):
            if interface.vrf == vrf:
                return interface.name
        raise LabError(f"no interface from {sender} to {receiver}")
