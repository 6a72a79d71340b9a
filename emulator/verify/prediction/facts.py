"""The prediction's words and records: sites, problems, routes as a router holds them, the
rules a relaxed chain breaks."""


from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from emulator.model.topology import BgpNeighbor

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
