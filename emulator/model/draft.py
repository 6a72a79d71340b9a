"""A lab while it is being built: each node's draft, and the state and lookups the build
steps share (the lab file, the address spaces and pools, the links and sessions so far).

The steps themselves live beside it, one concern per module (references, links, sessions,
derived); :class:`emulator.model.build.Builder` runs them in order.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field

from emulator.errors import LabError
from emulator.model import schema, topology
from emulator.model.addressing import AddressPool, Claims
from emulator.model.loader import SourceMap

PROVIDER_ROLES = {"pe", "p", "rr", "asbr", "pe-asbr", "csc-ce"}
CUSTOMER_ROLES = {"ce", "host"}
# Provider routers that hold VRFs: where customers attach and back-to-back VRFs end.
VRF_ROLES = {"pe", "pe-asbr"}
# The suite that runs a protocol (bgp, igp, ldp) a node's suites do not name.
DEFAULT_SUITE = "frr"


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

    @property
    def suites(self) -> dict[str, str]:
        """Which suite runs each protocol (bgp, igp, ldp)."""
        return {"igp": DEFAULT_SUITE, "ldp": DEFAULT_SUITE, "bgp": DEFAULT_SUITE,
                **self.spec.suites}

    def new_eth(self) -> str:
        name = f"eth{self.next_eth}"
        self.next_eth += 1
        return name


class LabDraft:
    """The state every build step reads and extends, and the lookups they share."""

    def __init__(self, lab: schema.LabFile, source: SourceMap, variant: str | None,
                 variants: dict[str, str]):
        self.lab = lab
        self.source = source
        self.variant = variant
        self.variants = variants
        self.ases = {a.asn: a for a in lab.autonomous_systems}
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

    def fail(self, message: str, loc: tuple, hint: str | None = None) -> LabError:
        return LabError(message, where=self.source.where(loc), hint=hint)

    # -- addresses ------------------------------------------------------------------------
    def space(self, asn: int | None) -> int | None:
        """The address space of an AS: its own for a customer carrier, else the backbone's."""
        system = self.ases.get(asn) if asn is not None else None
        return asn if system is not None and system.carrier_vpn else None

    def pool(self, asn: int, kind: str) -> AddressPool:
        space = self.space(asn)
        return AddressPool(self.pools[asn, kind], self.spaces[space], self.cursors[space])

    def allocate(self, pool: AddressPool, loc: tuple, prefixlen: int | None = None):
        """The next free address (or subnet of prefixlen) of a pool, or an error at loc."""
        try:
            return pool.next_host() if prefixlen is None else pool.next_subnet(prefixlen)
        except LabError as exc:
            raise self.fail(exc.message, loc, hint=exc.hint) from None

    # -- ASes -----------------------------------------------------------------------------
    def number(self, asn: int) -> int:
        """The AS number BGP speaks in a region (its own asn unless it shares another's)."""
        system = self.ases.get(asn)
        return system.number if system is not None and system.number else asn

    def carrier_of(self, draft: NodeDraft) -> schema.AutonomousSystem | None:
        """The customer-carrier AS a provider router belongs to, if it is one."""
        system = self.ases.get(draft.asn) if draft.provider else None
        return system if system is not None and system.carrier_vpn else None

    def igp_of(self, draft: NodeDraft) -> str:
        return self.ases[draft.asn].igp if draft.provider else "none"

    def ldp_of(self, draft: NodeDraft) -> bool:
        return draft.provider and "ldp" in self.ases[draft.asn].label_distribution
