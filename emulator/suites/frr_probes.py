"""FRRouting 10.3's answers to the verifier's questions: `vtysh -c '... json'`, parsed into
the neutral records of ``emulator.suites.records``.

Every command here is answered by the one daemon it concerns (``frr.show_daemon``); the
JSON shapes are FRR 10.3's, as recorded from live routers in tests/unit/fixtures/.
"""

from __future__ import annotations

import json
import re
from typing import Any

from emulator.suites import frr
from emulator.suites.contract import Question, Router, ask_together
from emulator.suites.records import (
    IMPLICIT_NULL,
    LfibEntry,
    LfibHop,
    Neighbor,
    ProbeError,
    Route,
    Session,
)

NAME = frr.NAME
PROTOCOLS = ("bgp", "igp", "ldp")
FAMILIES = {"ipv4Unicast": "ipv4-unicast", "ipv4Vpn": "ipv4-vpn",
            "ipv4LabeledUnicast": "ipv4-labeled-unicast"}


def show_json(router: Router, node: str, command: str) -> Any:
    """`vtysh -c '<command> json'` on one router, parsed. Raises ProbeError."""
    result = router.ask(node, Question(frr.NAME, (f"{command} json",)))
    text = result.stdout.strip()
    if result.returncode != 0 or not text:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ProbeError(f"{node}: `{command} json` failed: "
                         f"{detail[-1] if detail else f'exit {result.returncode}'}")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ProbeError(f"{node}: `{command} json` did not return JSON: {text[:120]}") from None


def show_text(router: Router, node: str, command: str) -> str:
    result = router.ask(node, Question(frr.NAME, (command,)))
    if result.returncode != 0:
        raise ProbeError(f"{node}: `{command}` failed: {result.stderr.strip()[-200:]}")
    return result.stdout


# -- sessions and adjacencies ------------------------------------------------------------
def seconds(milliseconds: int | None) -> float | None:
    """bgpd's and ospfd's uptimes (peerUptimeMsec, upTimeInMsec) in seconds."""
    return None if milliseconds is None else milliseconds / 1000


LDP_UPTIME_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def ldp_uptime(text: str) -> float:
    """ldpd's uptime in seconds: "01:02:03" under a day, then "2d03h04m", "01w2d03h"."""
    if ":" in text:
        hours, minutes, secs = (int(v) for v in text.split(":"))
        return hours * 3600 + minutes * 60 + secs
    return sum(int(n) * LDP_UPTIME_UNITS[u] for n, u in re.findall(r"(\d+)([wdhms])", text))


def bgp_sessions(router: Router, node: str) -> list[Session]:
    summary = show_json(router, node, "show bgp vrf all summary")
    return [Session(vrf=vrf, family=FAMILIES[key], peer=peer, state=info.get("state", "?"),
                    uptime=seconds(info.get("peerUptimeMsec")),
                    times_established=info.get("connectionsEstablished"))
            for vrf, tables in summary.items() if isinstance(tables, dict)
            for key, table in tables.items() if key in FAMILIES and isinstance(table, dict)
            for peer, info in table.get("peers", {}).items()]


def ldp_neighbors(router: Router, node: str) -> dict[str, Neighbor]:
    """LDP neighbours by LSR id, with their session state."""
    neighbors = show_json(router, node, "show mpls ldp neighbor").get("neighbors", [])
    return {n["neighborId"]: Neighbor(
        id=n["neighborId"], state=n.get("state", "?"),
        uptime=ldp_uptime(n["upTime"]) if "upTime" in n else None)
        for n in neighbors if "neighborId" in n}


def ospf_neighbors(router: Router, node: str, vrf: str | None) -> dict[str, Neighbor]:
    """OSPF neighbours by router id, with their adjacency state ("Full", without the DR role);
    a neighbour over several links: its first adjacency."""
    data = show_json(router, node, f"show ip ospf{f' vrf {vrf}' if vrf else ''} neighbor")
    if vrf:
        data = data.get(vrf, {})  # a VRF instance's answer is keyed by the VRF's name
    return {neighbor: Neighbor(id=neighbor, state=states[0].get("nbrState", "?").split("/")[0],
                               uptime=seconds(states[0].get("upTimeInMsec")))
            for neighbor, states in data.get("neighbors", {}).items() if states}


def rip_sources(router: Router, node: str, vrf: str | None) -> set[str]:
    """The gateways RIP has heard updates from (10.3 has no JSON for it: the text table)."""
    text = show_text(router, node, f"show ip rip{f' vrf {vrf}' if vrf else ''} status")
    sources = text.split("Routing Information Sources:")[-1]
    return {line.split()[0] for line in sources.splitlines()[1:] if line.split()}


# -- routes --------------------------------------------------------------------------------
def route_of(prefix: str, path: dict, rd: str | None = None) -> Route:
    communities = path.get("extendedCommunity", {}).get("string", "")
    return Route(
        prefix=prefix, rd=rd, next_hop=(path.get("nexthops") or [{}])[0].get("ip"),
        label=path.get("remoteLabel"),
        route_targets=tuple(sorted({c.removeprefix("RT:") for c in communities.split()
                                    if c.startswith("RT:")})),
        as_path=as_path_of(path), exported_from=path.get("nhVrfName"),
        self_next_hop=path.get("announceNexthopSelf") is True)


def as_path_of(path: dict) -> tuple[str, ...]:
    """The AS numbers of a path, nearest first (AS_SET members included)."""
    aspath = path.get("aspath")
    text = aspath.get("string", "") if isinstance(aspath, dict) else str(path.get("path", ""))
    return tuple(token for token in text.replace("{", " ").replace("}", " ").split()
                 if token.isdigit())


def best(paths: list[dict]) -> dict | None:
    return next((p for p in paths if p.get("bestpath", {}).get("overall")), None)


def vpn_routes(router: Router, node: str, prefix: str) -> dict[str, Route]:
    """The best VPNv4 path for ``prefix`` under each RD the router holds it."""
    data = show_json(router, node, f"show bgp ipv4 vpn {prefix}")
    routes = {}
    for rd, entry in data.items():
        path = best(entry.get("paths", [])) if isinstance(entry, dict) else None
        if path is not None:
            routes[rd] = route_of(prefix, path, rd)
    return routes


def labeled_unicast_route(router: Router, node: str, prefix: str) -> Route | None:
    path = best(show_json(router, node, f"show bgp ipv4 labeled-unicast {prefix}")
                .get("paths", []))
    return route_of(prefix, path) if path else None


def labeled_unicast_prefixes(router: Router, node: str) -> list[str]:
    return sorted(show_json(router, node, "show bgp ipv4 labeled-unicast").get("routes", {}))


def ip_routes(router: Router, node: str, *, vrf: str | None = None,
              prefix: str | None = None) -> dict[str, bool]:
    """The routing table (of a VRF, or for one prefix): prefix → whether a route to it is
    installed in the kernel."""
    command = "show ip route" + (f" vrf {vrf}" if vrf else "") + (f" {prefix}" if prefix else "")
    return {p: any(r.get("installed") for r in routes)
            for p, routes in show_json(router, node, command).items()}


def routes_within(router: Router, node: str, supernet: str, vrf: str | None = None) -> int:
    """How many prefixes of a table (a VRF's, or the default one) lie within ``supernet``
    (itself included) and have an installed route."""
    command = "show ip route" + (f" vrf {vrf}" if vrf else "") + f" {supernet} longer-prefixes"
    return sum(any(r.get("installed") for r in routes)
               for routes in show_json(router, node, command).values())


def vrf_route(router: Router, node: str, vrf: str, prefix: str) -> Route | None:
    """The selected route for ``prefix`` in a VRF, with the label it pushes (implicit-null
    when it forwards unlabelled)."""
    for route in show_json(router, node, f"show ip route vrf {vrf} {prefix}").get(prefix, []):
        if route.get("selected"):
            hop = next(iter(route.get("nexthops", [])), {})
            labels = hop.get("labels") or [IMPLICIT_NULL]
            return Route(prefix=prefix, next_hop=hop.get("ip"), label=labels[-1])
    return None


# -- labels --------------------------------------------------------------------------------
def lfib(router: Router, node: str) -> dict[int, LfibEntry]:
    """zebra's label table: every in-label and what each path does with it."""
    return {int(label): LfibEntry(
        label=int(label), installed=bool(entry.get("installed")),
        hops=tuple(LfibHop(source=hop.get("type", "?"), via=hop.get("nexthop"),
                           interface=hop.get("interface"),
                           out_labels=tuple(hop.get("outLabelStack")
                                            or ([hop["outLabel"]] if "outLabel" in hop else [])),
                           installed=bool(hop.get("installed")))
                   for hop in entry.get("nexthops", [])))
        for label, entry in show_json(router, node, "show mpls table").items()}


NEXT_HOP_BIND = re.compile(r"^\s*(\S+), label (\d+), local label (\d+) #paths (\d+)")


def label_uses(router: Router, node: str, protocols: list[str]) -> dict[int, str]:
    """Every label FRR allocated on this router, with what currently needs it ("" for
    nothing: a leaked label). LDP: its local binding for each FEC of the routing table;
    BGP: its label pool's ledger (a VRF's VPN label, an Option B swap bound to a next hop
    and the label it received, while a path uses it; a labelled route, while it is in the
    labelled-unicast table)."""
    uses: dict[int, str] = {}
    # One pass for the independent questions (the label table is the lfib's).
    ask_together(router, node, [Question(NAME, (f"{command} json",)) for command in (
        "show mpls table", *(["show mpls ldp binding"] if "ldp" in protocols else []),
        *(["show bgp labelpool inuse"] if "bgp" in protocols else []))])
    if "ldp" in protocols:
        for binding in show_json(router, node, "show mpls ldp binding").get("bindings", []):
            if str(binding.get("localLabel", "")).isdigit():
                uses[int(binding["localLabel"])] = f"LDP binding for {binding['prefix']}"
    if "bgp" not in protocols:
        return uses
    ledger = show_json(router, node, "show bgp labelpool inuse")
    binds, labelled = None, None
    for entry in ledger if isinstance(ledger, list) else []:
        label, owner = int(entry["label"]), str(entry.get("prefix", ""))
        if owner == "VRF":
            uses[label] = "VPN label of a VRF"
        elif owner == "l3vpn-bind":
            if binds is None:
                binds = {int(m[3]): (m[1], m[2], int(m[4])) for line in show_text(
                    router, node, "show bgp mplsvpn-nh-label-bind detail").splitlines()
                    if (m := NEXT_HOP_BIND.match(line))}
            next_hop, received, paths = binds.get(label, ("?", "?", 0))
            uses[label] = (f"swap to {received} via {next_hop} ({paths} paths)" if paths
                           else "")
        elif "/" in owner:
            if labelled is None:
                labelled = set(labeled_unicast_prefixes(router, node))
            uses[label] = f"labelled route {owner}" if owner in labelled else ""
        else:
            uses[label] = owner or "BGP"
    return uses
