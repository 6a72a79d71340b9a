"""What a lab file may say: the input schema, validated by pydantic.

A lab file states only what makes a scenario what it is (roles, ASes, links, VPNs,
BGP sessions). Everything else (addresses, interface names, router IDs, which daemon
runs where) is derived by :mod:`emulator.model.build` into the normalised model.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

NODE_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,14}$"
VRF_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,14}$"
LAB_NAME = r"^[a-z][a-z0-9-]{0,11}$"
# Link and BGP session names (variant patches and the verifier's checks name them).
ITEM_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
# Names that end up in configs or on one line of output (a site's name is an interface
# description in frr.conf): one line, no control characters.
LABEL = r"^[^\x00-\x1f\x7f]{1,80}$"
# What each name pattern means, for messages (a regular expression helps nobody).
PATTERN_HELP = {
    NODE_NAME: "a node name is a letter, then letters, digits or '-', at most 15 characters",
    VRF_NAME: "a VPN name is a letter, then letters, digits, '_' or '-', at most 15 "
              "characters (it names the VRF device)",
    LAB_NAME: "a lab name is a lowercase letter, then lowercase letters, digits or '-', at "
              "most 12 characters",
    ITEM_NAME: "such a name is letters, digits, '_', '.' or '-', at most 32 characters",
    LABEL: "one line of at most 80 characters, without control characters",
}
# RD and RT in the ASN:nn or IPv4:nn form that FRR accepts.
COMMUNITY = r"^(\d{1,10}|\d{1,3}(\.\d{1,3}){3}):\d{1,10}$"
MAX_ASN = 4294967295
MAX_LABEL = 1048575  # the kernel's largest net.mpls.platform_labels
# Interface names a router already has (lo, eth<N>, eth<N>.<vlan>, site0) or that mean
# something else to FRR (default): a VRF device cannot take them.
# (sysctl paths also have conf/all and conf/default).
RESERVED_VRF_NAME = r"^(default|all|lo|site0|eth\d.*|vlan.*)$"
# Ranges no router interface may be addressed from.
SPECIAL_RANGES = [
    (ipaddress.IPv4Network("0.0.0.0/8"), "'this network' (0.0.0.0/8)"),
    (ipaddress.IPv4Network("127.0.0.0/8"), "loopback (127.0.0.0/8)"),
    (ipaddress.IPv4Network("169.254.0.0/16"), "link-local (169.254.0.0/16)"),
    (ipaddress.IPv4Network("224.0.0.0/4"), "multicast (224.0.0.0/4)"),
    (ipaddress.IPv4Network("240.0.0.0/4"), "reserved (240.0.0.0/4)"),
]


def special_range(network: ipaddress.IPv4Network) -> str | None:
    """The special-purpose range a network overlaps, if any."""
    for special, what in SPECIAL_RANGES:
        if network.overlaps(special):
            return what
    return None


def _network(value: object) -> ipaddress.IPv4Network:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a prefix is written as text like 10.1.0.0/24, not {value!r}"[:120])
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not an IPv4 prefix: {exc}"[:160]) from None
    special = special_range(network)
    if special:
        raise ValueError(f"{network} overlaps the {special} range, which routers cannot use")
    return network


def _address(value: object) -> ipaddress.IPv4Address:
    if isinstance(value, ipaddress.IPv4Address):
        return value
    if not isinstance(value, str):
        raise ValueError(f"an address is written as text like 10.1.0.1, not {value!r}"[:120])
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not an IPv4 address: {exc}"[:160]) from None
    special = special_range(ipaddress.IPv4Network(address))
    if special or address == ipaddress.IPv4Address("255.255.255.255"):
        raise ValueError(f"{address} is in the {special} range, which routers cannot use")
    return address


def _community(value: str) -> str:
    """An RD or RT: ASN:nn (a 2-byte ASN takes a 4-byte number, a 4-byte ASN a 2-byte one)
    or IPv4:nn (a 2-byte number), as FRR accepts them."""
    if not re.match(COMMUNITY, value):
        raise ValueError(f"{value[:60]!r} is not ASN:nn or IPv4:nn (like 1:27 or 10.0.0.1:5)")
    admin, _, number = value.rpartition(":")
    nn = int(number)
    if "." in admin:
        try:
            ipaddress.IPv4Address(admin)
        except ValueError:
            raise ValueError(f"{value}: {admin} is not an IPv4 address") from None
        if nn > 0xFFFF:
            raise ValueError(f"{value}: after an IPv4 address the number is at most 65535")
    else:
        asn = int(admin)
        if asn > MAX_ASN:
            raise ValueError(f"{value}: the ASN is at most {MAX_ASN}")
        if asn > 0xFFFF and nn > 0xFFFF:
            raise ValueError(f"{value}: after a 4-byte ASN (above 65535) the number is at "
                             "most 65535")
        if nn > 0xFFFFFFFF:
            raise ValueError(f"{value}: after a 2-byte ASN the number is at most 4294967295")
    return value


def _vrf_name(value: str) -> str:
    if re.match(RESERVED_VRF_NAME, value):
        raise ValueError(
            f"a VPN's name names its VRF device, and {value!r} is taken: routers have lo, "
            "eth<N>, eth<N>.<vlan> and site0 and FRR's own VRF is 'default'; pick another "
            "name (not default, all, lo, site0, eth<digit>..., vlan...)")
    return value


Network = Annotated[ipaddress.IPv4Network, BeforeValidator(_network)]
Address = Annotated[ipaddress.IPv4Address, BeforeValidator(_address)]
Community = Annotated[str, AfterValidator(_community)]
Asn = Annotated[int, Field(ge=1, le=MAX_ASN)]
VrfName = Annotated[str, Field(pattern=VRF_NAME), AfterValidator(_vrf_name)]
NodeName = Annotated[str, Field(pattern=NODE_NAME)]
ItemName = Annotated[str, Field(pattern=ITEM_NAME)]
Label = Annotated[str, Field(pattern=LABEL)]

Role = Literal["ce", "pe", "p", "rr", "asbr", "pe-asbr", "host", "csc-ce"]
Igp = Literal["ospf", "none"]
LabelDistribution = Literal["ldp", "bgp-lu"]
AddressFamily = Literal["ipv4-unicast", "ipv4-vpn", "ipv4-labeled-unicast"]
VrfProtocol = Literal["ebgp", "ospf", "rip", "static", "ebgp-labeled-unicast"]
RoutingSuite = Literal["frr", "bird"]
# What the verifier derives its option-specific expectations from.
Scenario = Literal[
    "option1", "option2", "option3", "option4", "csc-ip", "csc-mpls", "csc-vpn", "l3vpn"
]


class Strict(BaseModel):
    # strict: YAML's true is not the AS number 1, "1" is not a number, 1 is not a name.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _pool_of_link_subnets(network: ipaddress.IPv4Network | None
                          ) -> ipaddress.IPv4Network | None:
    if network is not None and network.prefixlen > 30:
        raise ValueError(f"{network} is cut into one /30 per link: give at least a /30")
    return network


class AutonomousSystem(Strict):
    asn: Asn
    name: Label | None = None
    igp: Igp = "ospf"
    label_distribution: list[LabelDistribution] = ["ldp"]
    loopbacks: Network | None = None
    links: Annotated[Network | None, AfterValidator(_pool_of_link_subnets)] = None
    # A transit AS (option4) carries labelled loopbacks but is kept out of the VPN AS path.
    transit: bool = False
    # A customer carrier (carrier supporting carrier): its sites are joined by the backbone
    # carrier's VPN of this name, which its csc-ce routers attach to.
    carrier_vpn: str | None = None
    # The AS number BGP speaks, when it is not `asn`: two regions may share one (option 4,
    # "providers may use the same AS# within each region"); `asn` then names the region,
    # which nodes refer to.
    number: Asn | None = None


class Vpn(Strict):
    rd: Community
    route_targets: Annotated[list[Community], Field(min_length=1)]
    # Optional asymmetric policies; default to route_targets.
    import_targets: list[Community] | None = None
    export_targets: list[Community] | None = None


class Site(Strict):
    name: Label
    vpn: str
    prefix: Network


class ExternalRoutes(Strict):
    """Many more external routes (a customer carrier's Internet table, the scaling point of
    carrier supporting carrier): ``count`` prefixes of length ``length``, the first ones of
    ``pool``, originated into the carrier's iBGP."""

    count: Annotated[int, Field(ge=1, le=1_048_576)]
    pool: Network
    length: Annotated[int, Field(ge=8, le=32)] = 24

    @model_validator(mode="after")
    def _fits_the_pool(self) -> ExternalRoutes:
        if self.length < self.pool.prefixlen:
            raise ValueError(f"length {self.length} is shorter than the pool "
                             f"{self.pool} (/{self.pool.prefixlen})")
        room = 2 ** (self.length - self.pool.prefixlen)
        if self.count > room:
            raise ValueError(f"{self.pool} holds {room} prefixes of length /{self.length}, "
                             f"not {self.count}: take a larger pool or longer prefixes")
        return self


class Node(Strict):
    role: Role
    asn: Asn | None = None
    site: Site | None = None
    loopback: Address | None = None
    # Routes external to a customer carrier (its Internet routes, the slides' network N),
    # originated here into the carrier's own iBGP: they must never enter the backbone.
    external: Network | None = None
    external_routes: ExternalRoutes | None = None
    # Which routing suite speaks each protocol; FRR by default. Carrier-supporting-carrier
    # PEs run BGP in BIRD beside FRR's IGP and LDP (FRR has no labelled unicast in a VRF).
    suites: dict[Literal["bgp", "igp", "ldp"], RoutingSuite] = {}

    @model_validator(mode="after")
    def _site_only_on_customer_edges(self) -> Node:
        if self.site is not None and self.role not in ("ce", "host"):
            raise ValueError(f"only a ce or host carries a site, not a {self.role}")
        if self.role == "ce" and self.site is None:
            raise ValueError("a ce needs a site: {name, vpn, prefix}")
        if (self.external is not None or self.external_routes is not None) and \
                self.role not in ("asbr", "pe", "p", "rr", "csc-ce"):
            raise ValueError(f"external routes are originated by a provider router of a "
                             f"customer carrier, not by a {self.role}")
        return self


class Link(Strict):
    name: ItemName | None = None
    endpoints: Annotated[list[str], Field(min_length=2, max_length=2)]
    # VRF-to-VRF link (Option 1): one VLAN sub-interface per VRF, VLAN id per VRF.
    vrfs: dict[str, Annotated[int, Field(ge=1, le=4094)]] | None = None
    # Routing protocol on a VRF attachment (PE-CE or back-to-back VRFs).
    protocol: VrfProtocol | None = None
    subnet: Network | None = None

    @field_validator("endpoints")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if value[0] == value[1]:
            raise ValueError(f"a link joins two different nodes, not {value[0]} to itself")
        return value

    @field_validator("subnet")
    @classmethod
    def _two_hosts(cls, value: ipaddress.IPv4Network | None) -> ipaddress.IPv4Network | None:
        if value is not None and value.prefixlen > 31:
            raise ValueError(f"{value} has room for one address; a link needs two (a /30 or "
                             "a /31)")
        return value

    @model_validator(mode="after")
    def _one_vlan_per_vrf(self) -> Link:
        vlans: dict[int, str] = {}
        for vrf, vlan in (self.vrfs or {}).items():
            if vlan in vlans:
                raise ValueError(f"VLAN {vlan} is given to both {vlans[vlan]} and {vrf}: one "
                                 "VLAN per VRF on a link")
            vlans[vlan] = vrf
        if self.subnet is not None and self.vrfs is not None and len(self.vrfs) > 1:
            raise ValueError("subnet applies to one link; with several vrfs each VLAN takes "
                             "its own /30 from the pool: remove subnet")
        return self


class BgpSession(Strict):
    name: ItemName | None = None
    between: Annotated[list[str], Field(min_length=2, max_length=2)]
    families: Annotated[list[AddressFamily], Field(min_length=1)]
    # eBGP between loopbacks several hops apart (Option 3 route reflectors).
    multihop: bool = False
    # Endpoints that are route-reflector clients of the other endpoint.
    rr_clients: list[str] = []
    # Endpoints that set themselves as next hop towards the other endpoint.
    next_hop_self: list[str] = []
    # Endpoints that pass next hop (and so the label) unchanged to the other endpoint.
    next_hop_unchanged: list[str] = []

    @model_validator(mode="after")
    def _roles_name_endpoints(self) -> BgpSession:
        if self.between[0] == self.between[1]:
            raise ValueError(f"a BGP session joins two different nodes, not {self.between[0]}")
        for field in ("rr_clients", "next_hop_self", "next_hop_unchanged"):
            for node in getattr(self, field):
                if node not in self.between:
                    raise ValueError(f"{field} names {node}, which is not one of {self.between}")
        return self


class Defaults(Strict):
    pe_ce_protocol: VrfProtocol = "ebgp"
    # Pools for addresses that belong to no single provider AS.
    interconnect: Annotated[Network, AfterValidator(_pool_of_link_subnets)] = (
        ipaddress.IPv4Network("10.255.0.0/24"))
    # Customer edges without asn get base+1, base+2, ...
    customer_asn_base: Annotated[int, Field(ge=0, le=MAX_ASN - 1)] = 65000
    # Labels 0-15 are reserved; the kernel accepts labels below this number.
    platform_labels: Annotated[int, Field(ge=17, le=MAX_LABEL)] = 100000


Seconds = Annotated[int, Field(ge=1, le=65535)]


class Timers(Strict):
    """Protocol timers, chosen for a lab on one machine rather than for a WAN: what starts
    an adjacency or a session is fast (hellos, connect retries), so a lab converges at the
    pace of its CPU; what declares one dead is generous (a dozen hellos), so a CPU-starved
    micro-VM does not flap. docs/lab-format.md (Timers) gives FRR's WAN defaults."""

    ospf_hello: Seconds = 1
    ospf_dead: Seconds = 15
    rip_update: Annotated[int, Field(ge=5, le=65535)] = 5  # FRR's least
    ldp_hello: Seconds = 1
    ldp_holdtime: Annotated[int, Field(ge=3, le=65535)] = 15
    bgp_keepalive: Seconds = 10
    bgp_hold: Annotated[int, Field(ge=3, le=65535)] = 30
    bgp_connect_retry: Seconds = 1

    @model_validator(mode="after")
    def _alive_for_three_hellos(self) -> Timers:
        # A neighbour is declared dead after missing ~3 of its messages at the very least.
        for hello, dead in (("ospf_hello", "ospf_dead"), ("ldp_hello", "ldp_holdtime"),
                            ("bgp_keepalive", "bgp_hold")):
            if getattr(self, dead) < 3 * getattr(self, hello):
                raise ValueError(f"{dead} ({getattr(self, dead)} s) must be at least three "
                                 f"times {hello} ({getattr(self, hello)} s)")
        return self


class LabFile(Strict):
    name: Annotated[str, Field(pattern=LAB_NAME)]
    title: str
    description: str
    scenario: Scenario
    slides: str | None = None
    defaults: Defaults = Defaults()
    timers: Timers = Timers()
    autonomous_systems: Annotated[list[AutonomousSystem], Field(min_length=1)]
    vpns: dict[VrfName, Vpn] = {}
    nodes: dict[NodeName, Node]
    links: list[Link]
    bgp: list[BgpSession] = []
    # Notes shown to the user and in the verifier's output: where this lab departs from
    # the slides because FRR cannot do a thing, and what it does instead.
    deviations: list[str] = []
