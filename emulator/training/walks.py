"""The walks `explain` tells, as data: who holds a route with which next hop and whose
label, the level below it (the loopback of its next hop), and the label stack on each link
(emulator/training/explain.py builds them; the CLI prints them, the report draws them)."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field

from emulator.model.topology import Lab, Node
from emulator.suites import reason_words
from emulator.verify.semantics import Hop


@dataclass
class Holder:
    router: str
    next_hop: str
    label_from: str
    rewrites: str | None
    as_path: str | None
    slide: str | None = None  # the slides' name for the label it pushes (L1, L2, ...)


@dataclass
class LoopbackHolder:
    """One router's route to a BGP next hop's loopback: how it learned it, its next hop, and
    whose label it pushes towards it."""

    router: str
    # Where it holds the route: "origin" (its own loopback), "lu" (labelled unicast in its
    # default table), "igp", "vrf" (a backbone PE's VRF of the carrier), "vpnv4".
    table: str
    learned: str
    next_hop: str
    label_from: str | None  # None: it pushes no label for the loopback (plain IP routing)
    label: str  # that label in words, with the slides' name where they give one


@dataclass
class LoopbackWalk:
    """The level below a VPN route: who holds the loopback its next hop is, and where the
    labels for it are allocated and swapped."""

    kind: str  # "labelled-unicast" (Options 3 and 4) or "carrier" (across the backbone)
    prefix: str
    router: str  # whose loopback
    rd: str | None  # carrier: the RD of the backbone's VPNv4 route of the loopback
    why: str
    holders: list[LoopbackHolder]
    swaps: list[str]


@dataclass
class Walkthrough:
    lab: str
    variant: str | None
    prefix: str
    vpn: str
    rd: str
    route_targets: list[str]
    site: str  # the CE behind which the prefix lives (a carrier walk: the router with N)
    origin: str  # the PE that exports it (a carrier walk: the loopback of N's next hop)
    holders: list[Holder]
    absent_on: list[str]
    packet_from: str | None
    links: list[dict]
    # Settings the model derived on the routers of the walk, and why (the builder's reasons,
    # in the words of the suite that implements each).
    settings: dict[str, list[dict]]
    # "vpn": a customer site's prefix; "carrier": a customer carrier's external prefix N,
    # whose holders are the backbone's VPNv4 routes of N's next hop (the carrier's loopback).
    kind: str = "vpn"
    route: str = ""  # the VPNv4 route the holders hold, RD:prefix
    address: str = ""  # the address in the prefix a packet is sent to
    # Options 3 and 4: the labelled-unicast path to the origin PE's loopback; carrier labs:
    # the path of N's next hop (csc-vpn: the I-PE's loopback) through sites and backbone.
    loopback: LoopbackWalk | None = None
    # A carrier walk to N: how N itself travels (the carrier's own iBGP), never through
    # the backbone.
    external: dict | None = None
    # Other destinations the words given also name (two carriers may use one prefix).
    also: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Destination:
    """What a walk goes to: a customer site ("site", its CE), a carrier's external prefix
    ("external", N behind ``node``) or a carrier's internal route ("loopback", ``node``'s)."""

    kind: str
    node: Node
    prefix: ipaddress.IPv4Network


def as_network(what: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.ip_network(what, strict=False)
    except ValueError:
        return None


def hop_line(hop: Hop) -> dict:
    return {"link": f"{hop.sender} → {hop.receiver}", "interface": hop.interface,
            "labels": hop.depth, "what": hop.note or "plain IP"}


def slide_names(allocators: list[str], first: int) -> dict[str, str]:
    """The slides' names of the labels (L1, L2, ...), by allocator in the order the route
    spreads from its origin."""
    return {name: f"L{first + index}" for index, name in enumerate(dict.fromkeys(allocators))}


def settings_on(lab: Lab, routers: list[str]) -> dict[str, list[dict]]:
    return {name: [words._asdict() for reason in lab.node(name).reasons
                   for words in reason_words(lab.node(name), reason)]
            for name in dict.fromkeys(routers) if lab.node(name).reasons}


def next_hop_words(address: ipaddress.IPv4Address | None, router: str) -> str:
    return f"{address} ({router})" if address is not None else "itself"
