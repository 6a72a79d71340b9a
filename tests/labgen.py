"""Seeded generator of lab files in the documented format (docs/lab-format.md).

From a seed, one inter-AS lab the project supports today, shaped like the shipped labs
(labs/option1.yml, option2.yml, option3.yml: same keys, same sessions and variants) but
with everything a user may choose drawn at random: lab and node names, AS numbers (2- and
4-byte), loopback, link and interconnect pools, 1-4 VPNs with their own RDs, RTs and site
prefixes, 1-3 sites per VPN and side, 0-3 P routers in a row per core, the routing
protocol on each PE-CE attachment, the order of nodes and links. Everything is consistent:
prefixes never overlap, addresses are unique, RDs and RTs fit their type.

    python tests/labgen.py --seed 42 > lab.yml          # option and variant picked by the seed
    python tests/labgen.py --seed 42 --option 2 --variant no-next-hop-self
    python tests/labgen.py --seed 42 --small            # the shape the e2e test brings up

The chosen variant is written first in ``variants`` (the lab's default), so ``mplslab up
lab.yml`` brings up exactly what the seed picked; the other variants of the option are there
too, as patches, as in the shipped labs.

Standard library only, so that the CLI runs with any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import json
import random
import re
import string
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

Network = ipaddress.IPv4Network

OPTIONS = (1, 2, 3)
VARIANTS: dict[int, tuple[str | None, ...]] = {
    1: ("ebgp", "ospf", "rip", "static"),
    2: ("next-hop-self", "no-next-hop-self"),
    3: (None,),
}
# Every (option, variant) pair.
COMBOS: tuple[tuple[int, str | None], ...] = tuple(
    (option, variant) for option in OPTIONS for variant in VARIANTS[option])


def combo(seed: int) -> tuple[int, str | None]:
    """The option and variant a seed picks when none is given: the options in turn (each a
    third of the seeds), and each option's variants in turn among its seeds; any 12
    consecutive seeds give every pair."""
    option = OPTIONS[seed % len(OPTIONS)]
    variants = VARIANTS[option]
    return option, variants[seed // len(OPTIONS) % len(variants)]

MAX_ROUTERS = 16  # the whole lab, CEs included: an e2e bring-up stays affordable
MAX_P = 3
MAX_VPNS = 4
MAX_SITES = 3  # per VPN and side
PE_CE_PROTOCOLS = ("ebgp", "ospf", "rip", "static")

# Names the shipped and e2e labs use: a generated lab never shares their namespaces.
RESERVED_LAB_NAMES = frozenset({"option1", "option2", "option3", "option4", "mini", "mini2"})
LAB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,14}$")
VRF_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,14}$")

# Never addressed: the ranges the model refuses (emulator/model/schema.py SPECIAL_RANGES),
# plus the other special-purpose blocks of RFC 6890 and QEMU's user network inside the VM,
# so that a generated lab is unambiguous whatever the validation adds.
AVOID = [Network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "10.0.2.0/24",
)]
PRIVATE = [Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                "100.64.0.0/10")]

SLIDES = {
    1: "Option 1: Back-to-back VRF Connectivity",
    2: "Option 2: External MP-BGP for VPNv4 Prefix Exchange",
    3: "Option 3: Multihop MP-eBGP for VPNv4 between RRs",
}
TITLES = {
    1: "Inter-AS Option 1 (A): back-to-back VRFs",
    2: "Inter-AS Option 2 (B): MP-eBGP VPNv4 between PE-ASBRs",
    3: "Inter-AS Option 3 (C): multihop MP-eBGP VPNv4 between RRs, labelled IPv4 between ASBRs",
}
VARIANT_TEXT = {
    "ebgp": "eBGP per VRF between the PE-ASBRs",
    "ospf": "OSPF per VRF between the PE-ASBRs, redistributed into and out of BGP",
    "rip": "RIPv2 per VRF between the PE-ASBRs, redistributed into and out of BGP",
    "static": "static routes per VRF between the PE-ASBRs, redistributed into BGP",
    "next-hop-self": "next-hop-self on the receiving PE-ASBR",
    "no-next-hop-self": "no next-hop-self on PE-ASBR {asbr}; a /32 host route to the far "
                        "PE-ASBR keeps the LSP",
}

POPS = ("ams", "fra", "lon", "par", "nyc", "sfo", "tyo", "sin", "syd", "mad", "mil", "zrh",
        "waw", "osl", "hel", "dub", "bru", "vie", "prg", "lis")
VPN_WORDS = ("red", "Blue", "green", "amber", "violet", "teal", "Acme", "globex", "initech",
             "Umbrella", "hooli", "Stark", "wayne", "cyberdyne", "Tyrell", "soylent")


class Quoted(str):
    """A string always written in double quotes (RDs and RTs: YAML 1.1 reads an unquoted
    1:27 as the number 87)."""


class Flow(dict):
    """A mapping written on one line, in braces, as the shipped labs write their items."""


@dataclass(frozen=True)
class Generated:
    """One generated lab: its YAML text, the data it encodes, and what was drawn."""

    seed: int
    option: int
    variant: str | None
    small: bool
    name: str
    text: str
    data: dict[str, Any]
    shape: dict[str, Any] = field(default_factory=dict)

    @property
    def replay(self) -> str:
        return replay_command(self.seed, self.option, self.variant, self.small)

    @property
    def variants(self) -> list[str]:
        """The lab's variants, the default (the drawn one) first; [] for option 3."""
        return list(self.data.get("variants", {}))


def replay_command(seed: int, option: int | None = None, variant: str | None = None,
                   small: bool = False) -> str:
    command = f"python tests/labgen.py --seed {seed}"
    if option is not None and (option, variant) != combo(seed):
        command += f" --option {option}" + (f" --variant {variant}" if variant else "")
    return command + (" --small" if small else "")


# -- addresses ----------------------------------------------------------------------------
class AddressPlan:
    """Networks handed out so far; every new one is disjoint from all of them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: list[Network] = list(AVOID)

    def free(self, network: Network) -> bool:
        return not any(network.overlaps(other) for other in self.used)

    def claim(self, network: Network) -> Network:
        if not self.free(network):
            raise ValueError(f"{network} is taken")
        self.used.append(network)
        return network

    def pick(self, prefixlen: int, private: bool | None = None) -> Network:
        """A random free network of prefixlen: from a private block, or anywhere unicast
        (public ranges included)."""
        rng = self.rng
        if private is None:
            private = rng.random() < 0.6
        for _ in range(2000):
            if private:
                blocks = [b for b in PRIVATE if b.prefixlen <= prefixlen]
                block = rng.choice(blocks)
            else:
                block = Network("0.0.0.0/0")
            size = 1 << (32 - prefixlen)
            slots = block.num_addresses // size
            start = int(block.network_address) + rng.randrange(slots) * size
            network = Network((start, prefixlen))
            if int(network.broadcast_address) >= int(ipaddress.IPv4Address("224.0.0.0")):
                continue
            if self.free(network):
                return self.claim(network)
        raise RuntimeError(f"no free /{prefixlen} found")

    def host(self, private: bool | None = None) -> ipaddress.IPv4Address:
        """A free unicast address (used as an RD or RT administrator: claimed so that it
        looks like nobody's router address)."""
        network = self.pick(32, private)
        return network.network_address


def usable_hosts(prefixlen: int) -> int:
    return 1 if prefixlen == 32 else 2 if prefixlen == 31 else (1 << (32 - prefixlen)) - 2


def pool_prefixlen(rng: random.Random, tightest: int, loosest: int = 20) -> int:
    """A pool size between comfortable (loosest) and exactly enough (tightest)."""
    if rng.random() < 0.3:
        return tightest
    return rng.randint(min(loosest, tightest), tightest)


def loopback_prefixlen(rng: random.Random, routers: int) -> int:
    tightest = max(p for p in range(20, 31) if usable_hosts(p) >= routers)
    return pool_prefixlen(rng, tightest)


def links_prefixlen(rng: random.Random, links: int) -> int:
    tightest = max(p for p in range(16, 31) if 1 << (30 - p) >= links)
    return pool_prefixlen(rng, tightest)


# -- AS numbers, RDs, RTs -----------------------------------------------------------------
RESERVED_ASNS = frozenset({0, 23456, 65535, 4294967295})


def draw_asn(rng: random.Random, avoid: set[int]) -> int:
    """A provider or customer AS number: 2-byte public or private, 4-byte public or
    private (about half the time above 65535)."""
    while True:
        kind = rng.choices(("two", "private2", "four", "private4", "one"),
                           weights=(25, 20, 25, 25, 5))[0]
        asn = {"two": lambda: rng.randint(1, 64495),
               "private2": lambda: rng.randint(64512, 65534),
               "four": lambda: rng.randint(131072, 4199999999),
               "private4": lambda: rng.randint(4200000000, 4294967294),
               "one": lambda: rng.randint(1, 9)}[kind]()
        if asn not in RESERVED_ASNS and asn not in avoid:
            return asn


def community(rng: random.Random, admin: int | ipaddress.IPv4Address) -> Quoted:
    """ASN:nn or IPv4:nn, the number in range for its type: a 2-byte ASN takes a 4-byte
    number, a 4-byte ASN and an IPv4 address a 2-byte one."""
    if isinstance(admin, int) and admin <= 0xFFFF and rng.random() < 0.4:
        number = rng.choice((rng.randint(65536, 4294967295), 4294967295))
    else:
        number = rng.choice((rng.randint(1, 65535), rng.randint(1, 999), 65535))
    return Quoted(f"{admin}:{number}")


# -- names --------------------------------------------------------------------------------
def lab_name(rng: random.Random, option: int) -> str:
    while True:
        style = rng.randrange(5)
        digits = "".join(rng.choices(string.digits, k=rng.randint(1, 5)))
        letters = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 6)))
        name = [f"gen-{digits}", f"g{digits}", f"opt{option}-{letters}",
                f"{letters}{digits}", f"lab-{letters}-{digits}"][style][:12].rstrip("-")
        if LAB_NAME.match(name) and name not in RESERVED_LAB_NAMES:
            return name


def random_tail(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


class Namer:
    """Node names in one of several styles, unique whatever their case."""

    STYLES = ("slides", "lower", "pop", "router", "long")

    def __init__(self, rng: random.Random, option: int):
        self.rng = rng
        self.style = rng.choice(self.STYLES)
        self.pops = rng.sample(POPS, 2)
        self.taken: set[str] = set()
        self.routers = 0
        self.border_role = "pe-asbr" if option in (1, 2) else "asbr"

    def unique(self, name: str) -> str:
        base, extra = name, 1
        while name.lower() in self.taken:
            extra += 1
            name = f"{base[:13]}-{extra}" if len(base) > 12 else f"{base}-{extra}"
        assert NODE_NAME.match(name), name
        self.taken.add(name.lower())
        return name

    def provider(self, role: str, side: int, index: int = 0, count: int = 1) -> str:
        """role in pe, p, rr, asbr, pe-asbr; index counts P routers along the core."""
        style, pop = self.style, self.pops[side - 1]
        letter = "abc"[index] if count > 1 else ""
        if style == "slides":
            name = f"{role.upper()}-{side}{letter}"
        elif style == "lower":
            name = f"{role}{side}{index + 1 if count > 1 else ''}"
        elif style == "pop":
            name = f"{pop}-{role}{index + 1 if role == 'p' else ''}"
        elif style == "router":
            self.routers += 1
            name = f"R{self.routers}"
        else:
            head = f"{role.upper()}{side}{letter}-"
            name = head + random_tail(self.rng, 15 - len(head))
        return self.unique(name)

    def customer(self, number: int, side: int) -> str:
        style, pop = self.style, self.pops[side - 1]
        if style == "slides":
            name = f"CE-{number}"
        elif style == "lower":
            name = f"ce{number}"
        elif style == "pop":
            name = f"{pop}-ce{number}"
        elif style == "router":
            name = f"C{number}"
        else:
            head = f"CE{number}-"
            name = head + random_tail(self.rng, 15 - len(head))
        return self.unique(name)


def vpn_names(rng: random.Random, count: int, avoid: set[str]) -> list[str]:
    style = rng.randrange(5)
    words = rng.sample(VPN_WORDS, count)
    names = []
    for index in range(count):
        name = [f"VPN-{'ABCD'[index]}", words[index], f"cust_{rng.randint(1, 999)}",
                f"Tenant-{rng.randint(1, 99)}", f"CustomerVPN-{index + 1:03d}"][style]
        assert VRF_NAME.match(name), name
        if name.lower() in avoid or name.lower() in {n.lower() for n in names}:
            name = f"{words[index]}{index}"
        names.append(name)
    return names


# -- the lab ------------------------------------------------------------------------------
def generate(seed: int, option: int | None = None, variant: str | None = None,
             small: bool = False) -> Generated:
    """The lab of one seed. option and variant default to ``combo(seed)`` (every pair
    over 12 consecutive seeds); small gives the e2e shape: two VPNs
    (so that isolation is checked too) with one site per side each, at most one P router
    per core, BGP to every CE."""
    if option is None:
        option, default_variant = combo(seed)
        variant = variant or default_variant
    if option not in OPTIONS:
        raise ValueError(f"option {option}: the generator knows options {OPTIONS}")
    if variant is None:
        variant = VARIANTS[option][0]
    if variant not in VARIANTS[option]:
        known = ", ".join(v for v in VARIANTS[option] if v) or "none"
        raise ValueError(f"option {option} has no variant {variant!r} (variants: {known})")
    rng = random.Random(seed)
    return Draw(rng, seed, option, variant, small).lab()


class Draw:
    def __init__(self, rng: random.Random, seed: int, option: int, variant: str | None,
                 small: bool):
        self.rng, self.seed, self.option, self.variant, self.small = (
            rng, seed, option, variant, small)

    def lab(self) -> Generated:
        rng, option = self.rng, self.option
        # -- shape ------------------------------------------------------------------------
        p_count = [rng.randint(0, 1 if self.small else MAX_P) for _ in (1, 2)]
        rr = option == 3
        providers = 4 + sum(p_count) + (2 if rr else 0)
        budget = MAX_ROUTERS - providers
        vpn_count = 2 if self.small else rng.randint(1, min(MAX_VPNS, budget // 2))
        sites = [[1 if self.small else rng.randint(1, MAX_SITES) for _ in (1, 2)]
                 for _ in range(vpn_count)]
        while sum(map(sum, sites)) > budget:
            v, s = rng.choice([(v, s) for v in range(vpn_count) for s in (0, 1)
                               if sites[v][s] > 1])
            sites[v][s] -= 1
        customers = sum(map(sum, sites))

        # -- AS numbers ---------------------------------------------------------------------
        explicit_ce_asn = rng.random() < 0.3
        avoid = set() if explicit_ce_asn else set(range(65001, 65001 + customers))
        asns: list[int] = []
        for _ in (1, 2):
            asns.append(draw_asn(rng, avoid | set(asns)))
        ce_asns: list[int] = []
        if explicit_ce_asn:
            for _ in range(customers):
                ce_asns.append(draw_asn(rng, set(asns) | set(ce_asns)))

        # -- names --------------------------------------------------------------------------
        name = lab_name(rng, option)
        namer = Namer(rng, option)
        border_role = namer.border_role
        pe = [namer.provider("pe", s) for s in (1, 2)]
        p = [[namer.provider("p", s, k, p_count[s - 1]) for k in range(p_count[s - 1])]
             for s in (1, 2)]
        border = [namer.provider(border_role, s) for s in (1, 2)]
        rrs = [namer.provider("rr", s) for s in (1, 2)] if rr else []
        vpns = vpn_names(rng, vpn_count, namer.taken)
        # CEs side by side, VPN by VPN; numbered in that order.
        ce_side: dict[str, int] = {}
        ce_vpn: dict[str, str] = {}
        number = 0
        for side in (1, 2):
            for v, vpn in enumerate(vpns):
                for _ in range(sites[v][side - 1]):
                    number += 1
                    ce = namer.customer(number, side)
                    ce_side[ce], ce_vpn[ce] = side, vpn

        # -- addresses ----------------------------------------------------------------------
        plan = AddressPlan(rng)
        inter_as_links = vpn_count if option == 1 else 1
        give_interconnect = rng.random() < 0.5
        if not give_interconnect:
            plan.claim(Network("10.255.0.0/24"))
        # Each pool is given (a random prefix) or left to its default, 10.<i>.0.0/24 and
        # 10.<i>.1.0/24, which nothing else may then overlap.
        pools: list[dict[str, Network | None]] = []
        defaults: list[dict[str, Network]] = []
        for index in (1, 2):
            given = {kind: rng.random() < 0.8 for kind in ("loopbacks", "links")}
            pools.append({kind: None for kind in given})
            defaults.append({kind: plan.claim(Network(f"10.{index}.{third}.0/24"))
                             for kind, third in (("loopbacks", 0), ("links", 1))
                             if not given[kind]})
        for side in (1, 2):
            routers = 2 + p_count[side - 1] + (1 if rr else 0)
            core_links = p_count[side - 1] + 1 + (1 if rr else 0)
            attachments = sum(sites[v][side - 1] for v in range(vpn_count))
            if "loopbacks" not in defaults[side - 1]:
                pools[side - 1]["loopbacks"] = plan.pick(loopback_prefixlen(rng, routers))
            if "links" not in defaults[side - 1]:
                pools[side - 1]["links"] = plan.pick(
                    links_prefixlen(rng, core_links + attachments))
        interconnect = (plan.pick(links_prefixlen(rng, inter_as_links))
                        if give_interconnect else None)
        prefixes = {ce: plan.pick(rng.choice((16, 20, 22, 23, 24, 24, 24, 24, 25, 26, 27, 28,
                                              29)))
                    for ce in ce_side}

        # Some routers get their loopback written down (a host of their AS's pool).
        explicit_loopbacks: dict[str, ipaddress.IPv4Address] = {}
        if rng.random() < 0.25:
            members = [[pe[s], *p[s], border[s], *(rrs[s:s + 1])] for s in (0, 1)]
            for side in rng.sample((0, 1), rng.randint(1, 2)):
                pool = (pools[side]["loopbacks"] or defaults[side]["loopbacks"])
                chosen = rng.sample(members[side], rng.randint(1, 2))
                hosts = rng.sample(range(usable_hosts(pool.prefixlen)), len(chosen))
                for node, offset in zip(chosen, hosts, strict=True):
                    explicit_loopbacks[node] = pool.network_address + offset + (
                        1 if pool.prefixlen < 31 else 0)

        # -- VPNs: RDs and RTs ----------------------------------------------------------------
        def admin() -> int | ipaddress.IPv4Address:
            kind = rng.choices(("provider", "other", "ip"), weights=(60, 15, 25))[0]
            if kind == "provider":
                return rng.choice(asns)
            if kind == "other":
                return draw_asn(rng, set())
            return plan.host()

        shared_rd = community(rng, admin()) if rng.random() < 0.2 else None
        seen_rts: set[str] = set()
        vpn_data: dict[str, Flow] = {}
        for vpn in vpns:
            rd = shared_rd or community(rng, admin())
            targets: list[Quoted] = []
            while len(targets) < rng.choice((1, 1, 1, 2)):
                rt = community(rng, admin())
                if rt not in seen_rts:
                    seen_rts.add(rt)
                    targets.append(rt)
            vpn_data[vpn] = Flow(rd=rd, route_targets=targets)

        # -- nodes --------------------------------------------------------------------------
        def provider(node: str, role: str, side: int) -> Flow:
            entry = Flow(role=role, asn=asns[side - 1])
            if node in explicit_loopbacks:
                entry["loopback"] = str(explicit_loopbacks[node])
            return entry

        side_nodes: list[list[tuple[str, Flow]]] = [[], []]
        ce_numbers = iter(ce_asns)
        for ce, side in ce_side.items():
            vpn = ce_vpn[ce]
            count = sum(1 for other in ce_side if ce_vpn[other] == vpn
                        and list(ce_side).index(other) <= list(ce_side).index(ce))
            entry = Flow(role="ce")
            if explicit_ce_asn:
                entry["asn"] = next(ce_numbers)
            entry["site"] = Flow(name=f"{vpn}-{count}", vpn=vpn, prefix=str(prefixes[ce]))
            side_nodes[side - 1].append((ce, entry))
        nodes: list[tuple[str, Flow]] = []
        for side in (1, 2):
            chain = [(pe[side - 1], provider(pe[side - 1], "pe", side))]
            chain += [(n, provider(n, "p", side)) for n in p[side - 1]]
            chain += [(border[side - 1], provider(border[side - 1], border_role, side))]
            if rr:
                chain.insert(rng.randint(1, len(chain)),
                             (rrs[side - 1], provider(rrs[side - 1], "rr", side)))
            customers_here = side_nodes[side - 1]
            if side == 1:
                nodes += customers_here + chain
            else:
                nodes += list(reversed(chain)) + customers_here
        if rng.random() < 0.25:
            rng.shuffle(nodes)

        # -- links --------------------------------------------------------------------------
        pe_ce = "ebgp" if self.small else rng.choices(
            ("default", "explicit-ebgp", "mixed"), weights=(55, 10, 35))[0]

        def flip(a: str, b: str) -> list[str]:
            return [b, a] if rng.random() < 0.25 else [a, b]

        links_by_side: list[list[Flow]] = [[], []]
        rr_anchor: list[str] = []
        for side in (1, 2):
            chain = [pe[side - 1], *p[side - 1], border[side - 1]]
            attachments = []
            for ce, ce_s in ce_side.items():
                if ce_s != side:
                    continue
                link = Flow(endpoints=flip(pe[side - 1], ce))
                if pe_ce == "explicit-ebgp":
                    link["protocol"] = "ebgp"
                elif pe_ce == "mixed":
                    protocol = rng.choice(PE_CE_PROTOCOLS)
                    if protocol != "ebgp" or rng.random() < 0.5:
                        link["protocol"] = protocol
                attachments.append(link)
            core = [Flow(endpoints=flip(a, b)) for a, b in itertools.pairwise(chain)]
            if rr:
                anchor = rng.choice(chain[1:-1] or chain)
                rr_anchor.append(anchor)
                core.insert(rng.randint(0, len(core)),
                            Flow(endpoints=flip(anchor, rrs[side - 1])))
            if side == 1:
                links_by_side[0] = attachments + core
            else:
                links_by_side[1] = [Flow(endpoints=list(reversed(link["endpoints"])))
                                    for link in reversed(core)] + attachments
        inter_as = Flow(name="inter-as", endpoints=flip(border[0], border[1]))
        vlans: dict[str, int] = {}
        if option == 1:
            for vpn in rng.sample(vpns, len(vpns)) if rng.random() < 0.3 else vpns:
                vlan = rng.choice((rng.randint(1, 4094), rng.randint(100, 199), 4094))
                while vlan in vlans.values():
                    vlan = rng.randint(1, 4094)
                vlans[vpn] = vlan
            inter_as["vrfs"] = Flow(vlans)
            inter_as["protocol"] = self.variant
        links = links_by_side[0] + [inter_as] + links_by_side[1]
        if rng.random() < 0.25:
            rng.shuffle(links)

        # -- BGP sessions ---------------------------------------------------------------------
        def pair(a: str, b: str) -> list[str]:
            return [a, b] if rng.random() < 0.5 else [b, a]

        no_nhs_side = rng.choice((1, 2))
        bgp: list[Flow] = []
        if option in (1, 2):
            for side in (1, 2):
                session = Flow(name=f"as{side}-vpnv4", between=pair(pe[side - 1],
                                                                      border[side - 1]),
                               families=["ipv4-vpn"])
                if option == 2:
                    keep = not (self.variant == "no-next-hop-self" and side == no_nhs_side)
                    session["next_hop_self"] = [border[side - 1]] if keep else []
                bgp.append(session)
            if option == 2:
                bgp.insert(1, Flow(name="inter-as-vpnv4", between=pair(*border),
                                   families=["ipv4-vpn"]))
        else:
            for side in (1, 2):
                bgp.append(Flow(name=f"as{side}-vpnv4", between=[rrs[side - 1], pe[side - 1]],
                                families=["ipv4-vpn"], rr_clients=[pe[side - 1]]))
            bgp.append(Flow(name="rr-vpnv4", between=pair(*rrs), families=["ipv4-vpn"],
                            multihop=True, next_hop_unchanged=list(rrs)))
            for side in (1, 2):
                for who, node in (("pe", pe[side - 1]), ("rr", rrs[side - 1])):
                    bgp.append(Flow(name=f"as{side}-lu-{who}",
                                    between=[border[side - 1], node],
                                    families=["ipv4-labeled-unicast"],
                                    next_hop_self=[border[side - 1]]))
                if side == 1:
                    bgp.append(Flow(name="inter-as-lu", between=pair(*border),
                                    families=["ipv4-labeled-unicast"]))

        # -- variants -----------------------------------------------------------------------
        variants: dict[str, Any] = {}
        if option in (1, 2):
            for other in [self.variant, *(v for v in VARIANTS[option] if v != self.variant)]:
                text = VARIANT_TEXT[other].format(asbr=border[no_nhs_side - 1])
                body: dict[str, Any] = {"description": text + (
                    " (default)" if other == self.variant else "")}
                if other != self.variant:
                    if option == 1:
                        body["patch"] = {"links": {"inter-as": {"protocol": other}}}
                    else:
                        nhs = [] if other == "no-next-hop-self" else [border[no_nhs_side - 1]]
                        body["patch"] = {"bgp": {f"as{no_nhs_side}-vpnv4": {
                            "next_hop_self": nhs}}}
                variants[other] = body

        # -- the file -------------------------------------------------------------------------
        systems = []
        for side in (1, 2):
            system = Flow(asn=asns[side - 1])
            system["name"] = rng.choice((f"AS #{side}", f"AS {asns[side - 1]}",
                                         f"Provider {'AB'[side - 1]}"))
            system["igp"] = "ospf"
            system["label_distribution"] = ["ldp", "bgp-lu"] if rr else ["ldp"]
            for kind in ("loopbacks", "links"):
                if pools[side - 1][kind] is not None:
                    system[kind] = str(pools[side - 1][kind])
            systems.append(system)
        data: dict[str, Any] = {
            "name": name,
            "title": f"{TITLES[option]} (generated, seed {self.seed})",
            "scenario": f"option{option}",
            "slides": SLIDES[option],
            "description": self.description(asns, vpn_count, sites, p_count),
        }
        if interconnect is not None:
            data["defaults"] = Flow(interconnect=str(interconnect))
        data["autonomous_systems"] = systems
        data["vpns"] = vpn_data
        data["nodes"] = dict(nodes)
        data["links"] = links
        data["bgp"] = bgp
        if variants:
            data["variants"] = variants
        shape = {
            "asns": asns, "p_routers": p_count, "vpns": vpn_count, "sites": sites,
            "routers": providers + customers, "node_style": namer.style,
            "pe_ce": pe_ce, "explicit_loopbacks": len(explicit_loopbacks),
            "explicit_ce_asn": explicit_ce_asn, "shared_rd": shared_rd is not None,
            "interconnect": str(interconnect) if interconnect else None,
            "rr_anchor": rr_anchor, "no_nhs_side": no_nhs_side if option == 2 else None,
        }
        return Generated(seed=self.seed, option=option, variant=self.variant,
                         small=self.small, name=name, text=emit(data, self.header()),
                         data=data, shape=shape)

    def header(self) -> str:
        return (f"# Generated by tests/labgen.py: option {self.option}"
                + (f", variant {self.variant}" if self.variant else "")
                + (", small" if self.small else "") + f", seed {self.seed}.\n"
                + f"# Replay: {replay_command(self.seed, self.option, self.variant, self.small)}\n")

    def description(self, asns: list[int], vpns: int, sites: list[list[int]],
                    p_count: list[int]) -> str:
        per_side = [sum(s[i] for s in sites) for i in (0, 1)]
        return (f"Generated from seed {self.seed}: AS {asns[0]} and AS {asns[1]}, {vpns} VPN(s), "
                f"{per_side[0]} and {per_side[1]} site(s) on each side, {p_count[0]} and "
                f"{p_count[1]} P router(s) in a row in each core. Replay with "
                f"{replay_command(self.seed, self.option, self.variant, self.small)}.")


# -- YAML text ----------------------------------------------------------------------------
PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
# Plain scalars YAML 1.1 reads as something other than the text (booleans, null, numbers).
NOT_TEXT = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~|[-+]?[0-9][0-9_.:eE+-]*|\.inf|\.nan)$")


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if isinstance(value, Quoted) or not PLAIN.match(value) or NOT_TEXT.match(value):
            return json.dumps(value)
        return value
    raise TypeError(f"cannot write {value!r}")


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def emit(data: dict[str, Any], header: str) -> str:
    """The lab in the shipped labs' layout: one flow mapping per AS, VPN, node, link and
    session."""
    lines = [header.rstrip("\n")]
    for key in ("name", "title", "scenario", "slides"):
        lines.append(f"{key}: {scalar(data[key])}")
    lines.append("description: >-")
    lines += ["  " + line for line in textwrap.wrap(data["description"], 88)]
    if "defaults" in data:
        lines += ["", f"defaults: {flow(data['defaults'])}"]
    lines += ["", "autonomous_systems:"]
    lines += [f"  - {flow(system)}" for system in data["autonomous_systems"]]
    for section in ("vpns", "nodes"):
        lines += ["", f"{section}:"]
        width = max(len(scalar(k)) for k in data[section]) + 2
        lines += [f"  {(scalar(k) + ':').ljust(width)}{flow(v)}"
                  for k, v in data[section].items()]
    for section in ("links", "bgp"):
        lines += ["", f"{section}:"]
        lines += [f"  - {flow(item)}" for item in data[section]]
    if "variants" in data:
        lines += ["", "variants:"]
        for name, body in data["variants"].items():
            lines.append(f"  {scalar(name)}:")
            lines.append(f"    description: {scalar(body['description'])}")
            if "patch" in body:
                lines.append(f"    patch: {flow(body['patch'])}")
    return "\n".join(lines) + "\n"


# -- CLI ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a seeded random lab file to stdout.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--option", type=int, choices=OPTIONS,
                        help="inter-AS option (default: picked by the seed)")
    parser.add_argument("--variant", help="the option's variant (default: picked by the "
                        "seed, or the option's first)")
    parser.add_argument("--small", action="store_true",
                        help="the e2e shape: 2 VPNs, 1 site per VPN and side, 0-1 P router")
    args = parser.parse_args(argv)
    if args.variant and args.option is None:
        parser.error("--variant needs --option")
    try:
        lab = generate(args.seed, args.option, args.variant, args.small)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(lab.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
