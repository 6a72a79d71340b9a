"""What the verifier learns from a router, in no suite's words.

Each suite's probes (``<suite>_probes.py``) ask the router in its own language (FRR: `vtysh
... json`; BIRD: `birdc show ...`) and answer with these records, so the checks in
``emulator/verify`` are written once for every suite. States are the protocols' own terms
(BGP "Established", LDP "OPERATIONAL", OSPF "Full"), families the lab format's names.

Standard library only, like the drivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# RFC 3032: the label a router advertises to ask its neighbour to pop (penultimate hop).
IMPLICIT_NULL = 3


class ProbeError(Exception):
    """The router did not answer the way a probe needs (daemon down, bad output)."""


@dataclass(frozen=True)
class Session:
    """One BGP session, per address family (a family not negotiated is "absent").

    Its history, as far as the suite tells it (FRR: how long the session has been in its
    state, how many times it was established; BIRD: when its state last changed), is read
    by bench/soak.py (did anything go down between two readings?) and never compared:
    it changes from one reading to the next while the state holds, so it is left out of
    the record's equality and hash (``compare=False``), as in ``Neighbor``."""

    vrf: str  # "default" for the global table
    family: str  # ipv4-unicast, ipv4-vpn, ipv4-labeled-unicast
    peer: str
    state: str
    # Seconds since it last came up (or, while it is not up, went down).
    uptime: float | None = field(default=None, compare=False)
    times_established: int | None = field(default=None, compare=False)
    # The time of day of its last state change, in seconds after midnight on the router's
    # clock; None when the suite gives a date instead (an older change).
    last_change: float | None = field(default=None, compare=False)

    @property
    def established(self) -> bool:
        return self.state == "Established"


@dataclass(frozen=True)
class Neighbor:
    """An LDP session or an OSPF adjacency, by the neighbour's id (LSR id, router id)."""

    id: str
    state: str  # "OPERATIONAL"; "Full" (without the DR role)
    # Seconds in that state: history, as Session's (never compared).
    uptime: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Route:
    """The best path a router holds for a prefix (VPNv4: under one RD)."""

    prefix: str
    next_hop: str | None = None
    label: int | None = None  # the label the router pushes (at the origin: advertises)
    rd: str | None = None
    route_targets: tuple[str, ...] = ()
    as_path: tuple[str, ...] = ()  # AS numbers, nearest first
    exported_from: str | None = None  # the VRF this router exported it from (its own route)
    self_next_hop: bool = False  # advertised with this router as next hop


@dataclass(frozen=True)
class LfibHop:
    source: str  # who installed it: LDP, BGP, static, ...
    via: str | None
    interface: str | None
    out_labels: tuple[int, ...]  # the stack pushed, outermost first; (3,) pops
    installed: bool


@dataclass(frozen=True)
class LfibEntry:
    """One incoming label of a router's label forwarding table, as its suite installed it."""

    label: int
    installed: bool
    hops: tuple[LfibHop, ...]

    def describe(self) -> str:
        return (f"installed={self.installed} out {[h.interface for h in self.hops]} "
                f"stack {[list(h.out_labels) for h in self.hops]}")

    def swaps_to(self, label: int) -> bool:
        """Some installed path pushes ``label`` at the bottom of its stack."""
        return self.installed and any(h.out_labels and h.out_labels[-1] == label
                                      for h in self.hops)


@dataclass(frozen=True)
class ConfigChange:
    """A configuration line in which a router differs from what it was deployed with: one
    its daemons run and the deployed configuration does not hold (``running``), or the
    other way round. ``context``: the blocks around it, outermost first, as the suite
    words them (`router bgp 2 vrf VPN-B`, `address-family ipv4 unicast`)."""

    context: tuple[str, ...]
    line: str
    running: bool
