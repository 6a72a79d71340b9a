"""BIRD 2.17's answers to the verifier's questions: `birdc show ...`, parsed into the neutral
records of ``emulator.suites.records``.

BIRD runs BGP on the carrier PEs of the carrier-supporting-carrier labs (FRR 10.3 has no
labelled unicast inside a VRF); docs/research/bird/ holds the construction and the verbatim
outputs these parsers are tested against (tests/unit/test_bird_probes.py). BIRD's tables are
named by our templates: the VPNv4 table ``VPN_TABLE``, a VRF's IPv4 table ``vrf_<VRF>``,
the label table ``MPLS_TABLE``. Commands are addressed as `birdc show ...`; the runtime
points birdc at the router's own control socket, as it gives vtysh the router's pathspace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from emulator.suites.contract import Question, Router
from emulator.suites.records import (
    IMPLICIT_NULL,
    LfibEntry,
    LfibHop,
    ProbeError,
    Route,
    Session,
)

NAME = "bird"
PROTOCOLS = ("bgp",)  # FRR keeps the IGP and LDP on BIRD's routers
VPN_TABLE = "vpntab"
MPLS_TABLE = "mtab"
VRF_TABLE_PREFIX = "vrf_"
# BGP channel names → the lab format's address families.
FAMILIES = {"ipv4": "ipv4-unicast", "ipv4-mpls": "ipv4-labeled-unicast",
            "vpn4-mpls": "ipv4-vpn", "vpn4": "ipv4-vpn"}

ROUTE_LINE = re.compile(
    r"^(?P<net>\S.*?)(?: mpls (?P<local>\d+))?\s+"
    r"(?P<dest>unicast|blackhole|unreachable|prohibited)"
    r" \[(?P<proto>\S+) (?P<since>[^\]]+?)(?: from (?P<source>\S+))?\]"
    r"(?P<flag> [*!])?")
VIA_LINE = re.compile(r"^\t(?:via (?P<via>\S+) on (?P<dev>\S+)|dev (?P<onlydev>\S+))"
                      r"(?: mpls (?P<labels>[\d/]+))?")
ATTRIBUTE_LINE = re.compile(r"^\t(?P<key>[\w.]+): ?(?P<value>.*)$")
ROUTE_TARGET = re.compile(r"\(rt, ([^,]+), ([^)]+)\)")


NOT_FOUND = "Network not found"


def vrf_table(vrf: str) -> str:
    """A VRF's table on birdc's command line: a quoted symbol (VRF names carry dashes)."""
    return f"'{VRF_TABLE_PREFIX}{vrf}'"


def ipv4_table(vrf: str | None) -> str:
    """A VRF's IPv4 table, or the default one (``master4``) for None."""
    return vrf_table(vrf) if vrf else "master4"


def show(router: Router, node: str, *words: str) -> str:
    """`birdc show ...` on one router; the banner line dropped (a route asked for that is
    not there is an empty answer). Raises ProbeError."""
    question = Question(NAME, ("show", *words))
    result = router.ask(node, question)
    text = result.stdout
    if result.returncode != 0 and NOT_FOUND in text:
        return ""
    if result.returncode != 0:
        detail = (result.stderr or text).strip().splitlines()
        raise ProbeError(f"{node}: `{question}` failed: "
                         f"{detail[-1] if detail else f'exit {result.returncode}'}")
    return "\n".join(line for line in text.splitlines() if not line.startswith("BIRD "))


# -- sessions ------------------------------------------------------------------------------
@dataclass
class Protocol:
    name: str
    kind: str
    state: str
    since: str  # when its state last changed: a time of day (HH:MM:SS.mmm), or a date
    info: str
    fields: dict[str, str] = field(default_factory=dict)
    channels: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_protocols(text: str) -> list[Protocol]:
    """`show protocols all`: one block per protocol (its line unindented), its session
    fields (four spaces), its channels (`  Channel <name>`, then their fields)."""
    protocols: list[Protocol] = []
    channel: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("Name "):
            continue
        if not line[0].isspace():
            parts = line.split(None, 5)
            protocols.append(Protocol(parts[0], parts[1], parts[3], parts[4],
                                      parts[5].strip() if len(parts) > 5 else ""))
            channel = None
            continue
        if not protocols:
            continue
        current = protocols[-1]
        stripped = line.strip()
        if line.startswith("  Channel "):
            channel = current.channels.setdefault(stripped.split()[1], {})
        elif ":" in stripped:
            key, value = (part.strip() for part in stripped.split(":", 1))
            if key == "BGP state":
                current.fields[key] = value
                channel = None
            elif channel is not None and line.startswith("    ") and not line.startswith(
                    "      "):
                channel.setdefault(key, value)
            elif channel is None:
                current.fields.setdefault(key, value)
    return protocols


def day_seconds(since: str) -> float | None:
    """A protocol's ``since`` in seconds after midnight; None for a date (BIRD's default
    time format gives the time of day for a change within the last 20 hours, else the
    date)."""
    try:
        hours, minutes, seconds = since.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def bgp_sessions(router: Router, node: str) -> list[Session]:
    """One record per BGP protocol and channel: Established when the session is and that
    channel is up. A channel's table says the VRF (``vrf_<VRF>``; others: the default).
    Its history is the protocol's last state change."""
    sessions = []
    for protocol in parse_protocols(show(router, node, "protocols", "all")):
        if protocol.kind != "BGP" or "Neighbor address" not in protocol.fields:
            continue
        state = protocol.fields.get("BGP state", protocol.state)
        for name, channel in protocol.channels.items():
            if name not in FAMILIES:
                continue  # the `mpls` channel carries no routes of its own
            table = channel.get("Table", "")
            vrf = table.removeprefix(VRF_TABLE_PREFIX) if table.startswith(
                VRF_TABLE_PREFIX) else "default"
            up = state == "Established" and channel.get("State") == "UP"
            sessions.append(Session(vrf=vrf, family=FAMILIES[name],
                                    peer=protocol.fields["Neighbor address"],
                                    state="Established" if up else state,
                                    last_change=day_seconds(protocol.since)))
    return sessions


# -- routes --------------------------------------------------------------------------------
@dataclass
class BirdRoute:
    net: str
    local_label: int | None
    proto: str
    primary: bool
    synced: bool  # in the kernel ("!" marks a primary route the kernel refused)
    kind: str = ""  # the route's source: BGP, L3VPN, static, ...
    hops: list[tuple[str | None, str | None, tuple[int, ...]]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)


def parse_routes(text: str) -> list[BirdRoute]:
    """`show route table X all`: each route's first line, its next hops, its attributes. A
    route line indented by spaces is another route for the previous net."""
    routes: list[BirdRoute] = []
    net = ""
    for line in text.splitlines():
        if not line or line.startswith("Table "):
            continue
        if line.startswith("\t"):
            if not routes:
                continue
            hop = VIA_LINE.match(line)
            attribute = ATTRIBUTE_LINE.match(line)
            if hop:
                labels = tuple(int(x) for x in hop["labels"].split("/")) if hop["labels"] \
                    else ()
                routes[-1].hops.append((hop["via"], hop["dev"] or hop["onlydev"], labels))
            elif line.startswith("\tType: "):
                routes[-1].kind = line.split()[1]
            elif attribute:
                routes[-1].attributes[attribute["key"]] = attribute["value"]
            continue
        # Another route for the same net starts with spaces, without the net.
        continued = line.startswith(" ")
        match = ROUTE_LINE.match(f"- {line.strip()}" if continued else line)
        if match is None:
            continue
        if not continued:
            net = match["net"]
        flag = (match["flag"] or "").strip()
        routes.append(BirdRoute(net=net, proto=match["proto"],
                                local_label=int(match["local"]) if match["local"] else None,
                                primary=bool(flag), synced=flag == "*"))
    return routes


def record(route: BirdRoute, prefix: str, rd: str | None = None) -> Route:
    attributes = route.attributes
    stack = [int(x) for x in attributes.get("BGP.mpls_label_stack", "").split()]
    local = route.kind == "L3VPN"  # exported here from a VRF by the L3VPN protocol
    return Route(
        prefix=prefix, rd=rd, next_hop=attributes.get("BGP.next_hop"),
        label=stack[-1] if stack else (route.local_label if local else None),
        route_targets=tuple(sorted(f"{a}:{b}" for a, b in ROUTE_TARGET.findall(
            attributes.get("BGP.ext_community", "")))),
        as_path=tuple(attributes.get("BGP.as_path", "").split()),
        exported_from=route.proto if local else None, self_next_hop=local)


def vpn_routes(router: Router, node: str, prefix: str) -> dict[str, Route]:
    """The best VPNv4 path for ``prefix`` under each RD (BIRD's net: `<RD> <prefix>`)."""
    routes, prefix = {}, str(prefix)
    for route in parse_routes(show(router, node, "route", "table", VPN_TABLE, "all")):
        rd, _, net = route.net.partition(" ")
        if net == prefix and route.primary:
            routes[rd] = record(route, prefix, rd)
    return routes


def labeled_unicast_route(router: Router, node: str, prefix: str) -> Route | None:
    """A labelled route of the default table (a carrier CE's view)."""
    for route in parse_routes(show(router, node, "route", "table", "master4", prefix, "all")):
        if route.net == prefix and route.primary and route.local_label is not None:
            return record(route, prefix)
    return None


def labeled_unicast_prefixes(router: Router, node: str) -> list[str]:
    """The labelled routes of the default table (BIRD keeps them there, with a label)."""
    return sorted({route.net for route in parse_routes(show(router, node, "route", "table",
                                                             "master4", "all"))
                   if route.primary and route.local_label is not None})


def ip_routes(router: Router, node: str, *, vrf: str | None = None,
              prefix: str | None = None) -> dict[str, bool]:
    """A table (a VRF's, or the default one) or one prefix of it: prefix → installed."""
    table = ipv4_table(vrf)
    words = ["route", "table", table, *([prefix] if prefix else [])]
    held: dict[str, bool] = {}
    for route in parse_routes(show(router, node, *words)):
        held[route.net] = held.get(route.net, False) or route.synced
    return held


COUNT_LINE = re.compile(r"^(\d+) of \d+ routes for \d+ networks")


def routes_within(router: Router, node: str, supernet: str, vrf: str | None = None) -> int:
    """How many routes of a table (a VRF's, or the default one) lie within ``supernet``:
    `show route table T in <supernet> count`, BIRD's first figure (routes exported to
    the kernel or not: BIRD holding one is enough to count)."""
    table = ipv4_table(vrf)
    text = show(router, node, "route", "table", table, "in", supernet, "count")
    if not text.strip():
        return 0  # "Network not found"
    for line in text.splitlines():
        if match := COUNT_LINE.match(line.strip()):
            return int(match[1])
    raise ProbeError(f"{node}: `show route table {table} in {supernet} count` gave no count: "
                     f"{text.strip()[-120:]}")


def vrf_route(router: Router, node: str, vrf: str, prefix: str) -> Route | None:
    """The best route for ``prefix`` in a VRF, with the label it pushes (implicit-null when
    it forwards unlabelled): on a carrier's PE, the CSC-CE's label for the prefix."""
    for route in parse_routes(show(router, node, "route", "table", vrf_table(vrf),
                                   prefix, "all")):
        if route.net == prefix and route.primary:
            labels = next((hop[2] for hop in route.hops), ())
            return Route(prefix=prefix, next_hop=next((hop[0] for hop in route.hops), None),
                         label=labels[-1] if labels else IMPLICIT_NULL)
    return None


# -- labels --------------------------------------------------------------------------------
def lfib(router: Router, node: str) -> dict[int, LfibEntry]:
    """BIRD's label table: each in-label, what it swaps to (an empty stack pops), installed
    when the kernel took it."""
    entries = {}
    for route in parse_routes(show(router, node, "route", "table", MPLS_TABLE, "all")):
        if not route.primary or not route.net.isdigit():
            continue
        hops = tuple(LfibHop(source=route.kind or route.proto, via=via, interface=dev,
                             out_labels=labels or (IMPLICIT_NULL,), installed=route.synced)
                     for via, dev, labels in route.hops)
        entries[int(route.net)] = LfibEntry(label=int(route.net), installed=route.synced,
                                            hops=hops)
    return entries


# -- the label guard (emulator/suites/bird.py, templates/bird/label-guard.*) -----------------
def guard_drops(router: Router, node: str, table: str, interface: str) -> int | None:
    """Labelled packets the label guard dropped at ingress of ``interface``; None when its
    filter is not loaded (the guard is off, or not running)."""
    result = router.ask(node, Question.kernel("nft", "-j", "list", "table", "netdev", table,
                                              volatile=True))
    if result.returncode != 0:
        return None
    try:
        objects = json.loads(result.stdout)["nftables"]
    except (json.JSONDecodeError, KeyError) as exc:
        raise ProbeError(f"{node}: nft -j list table netdev {table}: {exc}") from None
    chains = {o["chain"]["name"] for o in objects
              if "chain" in o and o["chain"].get("dev") == interface}
    if not chains:
        return None
    return sum(expression["counter"]["packets"] for o in objects
               if "rule" in o and o["rule"]["chain"] in chains
               for expression in o["rule"]["expr"] if "counter" in expression)


def label_uses(router: Router, node: str, protocols: list[str]) -> dict[int, str]:
    """Every label BIRD holds in its label table, with the route that needs it: BIRD
    derives the table from its current routes, so a label there is one in use."""
    if "bgp" not in protocols:
        return {}
    return {label: f"BIRD {entry.hops[0].source if entry.hops else 'route'}"
            for label, entry in lfib(router, node).items()}
