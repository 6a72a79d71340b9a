"""What a lab file may say: the input schema, validated by pydantic.

A lab file states only what makes a scenario what it is (roles, ASes, links, VPNs,
BGP sessions). Everything else (addresses, interface names, router IDs, which daemon
runs where) is derived by :mod:`emulator.model.build` into the normalised model.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NODE_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,14}$"
VRF_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,14}$"
# RD and RT in the ASN:nn or IPv4:nn form that FRR accepts.
COMMUNITY = r"^(\d{1,10}|\d{1,3}(\.\d{1,3}){3}):\d{1,10}$"

Role = Literal["ce", "pe", "p", "rr", "asbr", "pe-asbr", "host"]
Igp = Literal["ospf", "isis", "none"]
LabelDistribution = Literal["ldp", "bgp-lu"]
AddressFamily = Literal["ipv4-unicast", "ipv4-vpn", "ipv4-labeled-unicast"]
VrfProtocol = Literal["ebgp", "ospf", "rip", "static"]
RoutingSuite = Literal["frr", "bird"]
# What the verifier derives its option-specific expectations from.
Scenario = Literal[
    "option1", "option2", "option3", "option4", "csc-ip", "csc-mpls", "csc-vpn", "l3vpn"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutonomousSystem(Strict):
    asn: Annotated[int, Field(ge=1, le=4294967295)]
    name: str | None = None
    igp: Igp = "ospf"
    label_distribution: list[LabelDistribution] = ["ldp"]
    loopbacks: ipaddress.IPv4Network | None = None
    links: ipaddress.IPv4Network | None = None
    # A transit AS (option4) carries labelled loopbacks but is kept out of the VPN AS path.
    transit: bool = False


class Vpn(Strict):
    rd: Annotated[str, Field(pattern=COMMUNITY)]
    route_targets: Annotated[list[Annotated[str, Field(pattern=COMMUNITY)]], Field(min_length=1)]
    # Optional asymmetric policies; default to route_targets.
    import_targets: list[Annotated[str, Field(pattern=COMMUNITY)]] | None = None
    export_targets: list[Annotated[str, Field(pattern=COMMUNITY)]] | None = None


class Site(Strict):
    name: str
    vpn: str
    prefix: ipaddress.IPv4Network


class Node(Strict):
    role: Role
    asn: Annotated[int, Field(ge=1, le=4294967295)] | None = None
    site: Site | None = None
    loopback: ipaddress.IPv4Address | None = None
    # Which routing suite speaks each protocol; FRR by default. Carrier-supporting-carrier
    # PEs run BGP in BIRD beside FRR's IGP and LDP.
    suites: dict[Literal["bgp", "igp", "ldp"], RoutingSuite] = {}

    @model_validator(mode="after")
    def _site_only_on_customer_edges(self) -> Node:
        if self.site is not None and self.role not in ("ce", "host"):
            raise ValueError(f"only a ce or host carries a site, not a {self.role}")
        if self.role == "ce" and self.site is None:
            raise ValueError("a ce needs a site: {name, vpn, prefix}")
        return self


class Link(Strict):
    name: str | None = None
    endpoints: Annotated[list[str], Field(min_length=2, max_length=2)]
    # VRF-to-VRF link (Option 1): one VLAN sub-interface per VRF, VLAN id per VRF.
    vrfs: dict[str, Annotated[int, Field(ge=1, le=4094)]] | None = None
    # Routing protocol on a VRF attachment (PE-CE or back-to-back VRFs).
    protocol: VrfProtocol | None = None
    subnet: ipaddress.IPv4Network | None = None

    @field_validator("endpoints")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if value[0] == value[1]:
            raise ValueError(f"a link joins two different nodes, not {value[0]} to itself")
        return value


class BgpSession(Strict):
    name: str | None = None
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
    interconnect: ipaddress.IPv4Network = ipaddress.IPv4Network("10.255.0.0/24")
    customer_asn_base: int = 65000
    platform_labels: int = 100000


class LabFile(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")]
    title: str
    description: str
    scenario: Scenario
    slides: str | None = None
    defaults: Defaults = Defaults()
    autonomous_systems: Annotated[list[AutonomousSystem], Field(min_length=1)]
    vpns: dict[Annotated[str, Field(pattern=VRF_NAME)], Vpn] = {}
    nodes: dict[Annotated[str, Field(pattern=NODE_NAME)], Node]
    links: list[Link]
    bgp: list[BgpSession] = []
    # Notes shown to the user and in the verifier's output: where this lab departs from
    # the slides because FRR cannot do a thing, and what it does instead.
    deviations: list[str] = []
