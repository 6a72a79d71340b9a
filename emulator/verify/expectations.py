"""The checks a lab must pass, derived from its model and its option's semantics."""

from __future__ import annotations

import itertools
from types import ModuleType

from emulator.model.topology import Lab, Node
from emulator.runtime.base import CaptureFailed, Runtime, Tap
from emulator.suites import probes
from emulator.suites.records import IMPLICIT_NULL, LfibEntry, ProbeError, Route
from emulator.verify.checks import Check, kernel_mpls_routes, label_stack, ping
from emulator.verify.semantics import Hop, Semantics, VpnView, semantics_for


def suite(lab: Lab, node: str, protocol: str) -> ModuleType:
    """The probes of the suite that speaks ``protocol`` (bgp, igp, ldp) on ``node``: the
    checks ask every suite the same questions and read the same neutral records."""
    return probes(lab.node(node).suites.get(protocol, "frr"))


def derive(lab: Lab) -> list[Check]:
    semantics = semantics_for(lab)
    checks = [
        *bgp_session_checks(lab),
        *ldp_session_checks(lab),
        *igp_adjacency_checks(lab),
        *vpnv4_route_checks(lab, semantics),
        *vrf_route_checks(lab),
        *mpls_lfib_checks(lab, semantics),
        *host_route_checks(lab),
        *label_chain_checks(lab, semantics),
        *labeled_unicast_checks(lab, semantics),
        *ping_checks(lab),
        *isolation_checks(lab),
        *wire_label_checks(lab, semantics),
    ]
    # Carrier supporting carrier's own checks (its module builds on this one's probes).
    from emulator.verify.carrier import carrier_checks
    checks += carrier_checks(lab, semantics)
    return checks + steady_label_checks(checks)


def steady_label_checks(checks: list[Check]) -> list[Check]:
    """Every label chain read again at the very end, after pings and captures: a label a
    router pushes must still be an installed in-label of the router that allocated it. A
    router that re-binds a label after convergence without telling its neighbour (FRR 10.3
    on an Option B ASBR, docs/labs/option2.md) fails here with what it holds now."""
    return [Check(name=f"still: {c.name}", kind="label-steady", node=c.node,
                  expected=c.expected, probe=c.probe)
            for c in checks if c.kind == "label-chain"]


# -- sessions and adjacencies ------------------------------------------------------------
def bgp_session_checks(lab: Lab) -> list[Check]:
    checks = []
    for node in lab.nodes:
        for instance in node.bgp:
            vrf = instance.vrf or "default"
            for neighbor in instance.neighbors:
                families = list(neighbor.families)
                checks.append(Check(
                    name=f"{node.name} → {neighbor.peer} ({neighbor.session})",
                    kind="bgp-session", node=node.name,
                    expected={"peer": str(neighbor.address), "vrf": vrf,
                              "state": {f: "Established" for f in families}},
                    probe=_bgp_session_probe(suite(lab, node.name, "bgp"), node.name, vrf,
                                             str(neighbor.address), families)))
    return checks


def _bgp_session_probe(asks: ModuleType, node: str, vrf: str, peer: str, families: list[str]):
    def probe(runtime: Runtime):
        held = {(s.vrf, s.family, s.peer): s.state for s in asks.bgp_sessions(runtime, node)}
        state = {f: held.get((vrf, f, peer), "absent") for f in families}
        return all(s == "Established" for s in state.values()), {"state": state}
    return probe


def ldp_session_checks(lab: Lab) -> list[Check]:
    checks = []
    for node in lab.nodes:
        for interface in node.interfaces:
            if interface.ldp and interface.peer:
                peer = lab.node(interface.peer.node)
                checks.append(Check(
                    name=f"{node.name} → {peer.name} LDP on {interface.name}",
                    kind="ldp-session", node=node.name,
                    expected={"neighbor": str(peer.router_id), "state": "OPERATIONAL"},
                    probe=_ldp_probe(suite(lab, node.name, "ldp"), node.name,
                                     str(peer.router_id))))
    return checks


def _ldp_probe(asks: ModuleType, node: str, neighbor_id: str):
    def probe(runtime: Runtime):
        state = asks.ldp_neighbors(runtime, node).get(neighbor_id, "absent")
        return state == "OPERATIONAL", {"neighbor": neighbor_id, "state": state}
    return probe


def igp_adjacency_checks(lab: Lab) -> list[Check]:
    checks = []
    for node in lab.nodes:
        for instance in node.ospf:
            for name in instance.interfaces:
                interface = node.interface(name)
                if interface.peer is None or name in instance.passive:
                    continue
                peer = lab.node(interface.peer.node)
                where = f" vrf {instance.vrf}" if instance.vrf else ""
                checks.append(Check(
                    name=f"{node.name} → {peer.name} OSPF on {name}{where}",
                    kind="igp-adjacency", node=node.name,
                    expected={"protocol": "ospf", "neighbor": str(peer.router_id),
                              "state": "Full"},
                    probe=_ospf_probe(suite(lab, node.name, "igp"), node.name, instance.vrf,
                                      str(peer.router_id))))
        for instance in node.rip:
            for name in instance.interfaces:
                interface = node.interface(name)
                if interface.peer is None:
                    continue
                where = f" vrf {instance.vrf}" if instance.vrf else ""
                gateway = str(interface.peer.address.ip)
                checks.append(Check(
                    name=f"{node.name} → {interface.peer.node} RIPv2 on {name}{where}",
                    kind="igp-adjacency", node=node.name,
                    expected={"protocol": "rip", "source": gateway},
                    probe=_rip_probe(suite(lab, node.name, "igp"), node.name, instance.vrf,
                                     gateway)))
    return checks


def _ospf_probe(asks: ModuleType, node: str, vrf: str | None, neighbor_id: str):
    def probe(runtime: Runtime):
        state = asks.ospf_neighbors(runtime, node, vrf).get(neighbor_id, "absent")
        return state == "Full", {"neighbor": neighbor_id, "state": state}
    return probe


def _rip_probe(asks: ModuleType, node: str, vrf: str | None, gateway: str):
    def probe(runtime: Runtime):
        heard = gateway in asks.rip_sources(runtime, node, vrf)
        return heard, {"source": gateway, "heard": heard}
    return probe


# -- VPNv4 and VRF tables -------------------------------------------------------------------
def sites(lab: Lab) -> list[Node]:
    return [n for n in lab.nodes if n.site is not None]


def vpn_route(runtime: Runtime, lab: Lab, view: VpnView) -> Route | None:
    """The best path of a VPNv4 route under the expected RD, or None."""
    return suite(lab, view.holder, "bgp").vpn_routes(runtime, view.holder, view.prefix).get(
        view.rd)


def describe_route(route: Route | None, rd: str) -> dict:
    if route is None:
        return {"route": "absent"}
    return {"rd": rd, "next_hop": route.next_hop, "route_targets": list(route.route_targets),
            "label": route.label}


def vpnv4_route_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    checks = []
    for ce in sites(lab):
        for view in semantics.vpn_views(ce.name):
            expected = {"rd": view.rd, "route_targets": sorted(view.route_targets),
                        "next_hop": (f"{view.next_hop} ({view.next_hop_router})"
                                     if view.next_hop else "local (exported from its VRF)"),
                        "label": f"allocated by {view.allocator}"}
            if view.as_path is not None:
                expected["as_path"] = (
                    f"begins {' '.join(map(str, view.as_path)) or '(local)'}"
                    + (f", never AS {', '.join(map(str, view.never_in_path))}"
                       if view.never_in_path else ""))
            checks.append(Check(
                name=f"{view.holder}: {view.rd}:{view.prefix}", kind="vpnv4-route",
                node=view.holder, expected=expected, probe=_vpnv4_probe(lab, view)))
        for router in semantics.vpn_absent_on():
            checks.append(Check(
                name=f"{router} holds no route to {ce.site.prefix}", kind="vpnv4-route",
                node=router, expected={"route": "absent"},
                probe=_absent_probe(suite(lab, router, "bgp"), router, str(ce.site.prefix))))
    return checks


def _vpnv4_probe(lab: Lab, view: VpnView):
    def probe(runtime: Runtime):
        route = vpn_route(runtime, lab, view)
        observed = describe_route(route, view.rd)
        if route is None:
            return False, observed
        targets_ok = set(view.route_targets) <= set(route.route_targets)
        label_ok = isinstance(route.label, int)
        if view.next_hop is None:
            next_hop_ok = route.exported_from == view.vpn or route.self_next_hop
        else:
            next_hop_ok = route.next_hop == str(view.next_hop)
        as_path_ok = True
        if view.as_path is not None:
            observed["as_path"] = " ".join(route.as_path) or "(empty)"
            as_path_ok = (list(route.as_path[:len(view.as_path)]) == [str(a) for a in view.as_path]
                          and not {str(a) for a in view.never_in_path} & set(route.as_path))
        return targets_ok and label_ok and next_hop_ok and as_path_ok, observed
    return probe


def _absent_probe(asks: ModuleType, router: str, prefix: str):
    def probe(runtime: Runtime):
        routes = asks.ip_routes(runtime, router, prefix=prefix)
        return not routes, {"route": sorted(routes) or "absent"}
    return probe


def vrf_route_checks(lab: Lab) -> list[Check]:
    checks = []
    for node in lab.nodes:
        if node.role not in ("pe", "pe-asbr", "asbr"):
            continue
        for vrf in node.vrfs:
            present = sorted(str(c.site.prefix) for c in sites(lab) if c.site.vpn == vrf.name)
            absent = sorted(str(c.site.prefix) for c in sites(lab) if c.site.vpn != vrf.name)
            if not present and not absent:
                continue  # no customer site anywhere: nothing to hold or leak (a carrier's
                # VRF is checked by emulator/verify/carrier.py)
            checks.append(Check(
                name=f"{node.name} VRF {vrf.name}", kind="vrf-route", node=node.name,
                expected={"present": present, "absent": absent},
                probe=_vrf_probe(suite(lab, node.name, "bgp"), node.name, vrf.name, present,
                                 absent)))
    return checks


def _vrf_probe(asks: ModuleType, node: str, vrf: str, present: list[str], absent: list[str]):
    def probe(runtime: Runtime):
        table = asks.ip_routes(runtime, node, vrf=vrf)
        observed = {"present": sorted(p for p in present if table.get(p)),
                    "leaked": sorted(p for p in absent if p in table)}
        return observed["present"] == present and not observed["leaked"], observed
    return probe


# -- labels ---------------------------------------------------------------------------------
def held_label(runtime: Runtime, lab: Lab, view: VpnView) -> int | None:
    """The label a router holds for the route: the one it pushes (or, at the origin, the one
    it allocated and advertises)."""
    route = vpn_route(runtime, lab, view)
    return route.label if route else None


def lfib_entry(runtime: Runtime, lab: Lab, node: str, label: int,
               protocol: str = "bgp") -> tuple[LfibEntry | None, dict | None]:
    """The entry for an in-label as the suite that allocated it installed it (``protocol``
    says which: a VPN or labelled-unicast label is BGP's), and the kernel's."""
    table = suite(lab, node, protocol).lfib(runtime, node)
    return table.get(label), kernel_mpls_routes(runtime, node).get(label)


def swap_text(label: int, entry: LfibEntry | None) -> str:
    """An in-label and the stacks its entry pushes, as observed values show it."""
    return f"{label} -> {[list(h.out_labels) for h in entry.hops]}" if entry else "absent"


def describe_entry(entry: LfibEntry | None, kernel: dict | None) -> dict:
    return {"frr": entry.describe() if entry else "absent",
            "kernel": (f"dev {kernel.get('dev')}" + (f" to {kernel['to']}" if 'to' in kernel
                                                     else "")) if kernel else "absent"}


def views_by_holder(semantics: Semantics, ce: Node) -> dict[str, VpnView]:
    return {view.holder: view for view in semantics.vpn_views(ce.name)}


def mpls_lfib_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """Every VPN label a router allocated is installed, in its suite and in the kernel:
    popping into the VRF at the origin, swapping to the label it received where it rewrote
    the next hop (an Option B ASBR)."""
    checks = []
    seen = set()
    for ce in sites(lab):
        views = views_by_holder(semantics, ce)
        for view in views.values():
            allocator = views[view.allocator]
            key = (view.allocator, view.prefix)
            if key in seen or (view.holder == view.allocator and allocator.next_hop):
                continue
            seen.add(key)
            if allocator.next_hop is None:
                checks.append(Check(
                    name=f"{view.allocator}: VPN label of {view.prefix} pops into {view.vpn}",
                    kind="mpls-lfib", node=view.allocator,
                    expected={"frr": f"installed, out interface {view.vpn}",
                              "kernel": f"dev {view.vpn}"},
                    probe=_pop_probe(lab, allocator)))
            else:
                checks.append(Check(
                    name=f"{view.allocator}: VPN label of {view.prefix} swaps towards "
                         f"{allocator.next_hop_router}",
                    kind="mpls-lfib", node=view.allocator,
                    expected={"in": f"the label {view.holder} pushes",
                              "out": f"stack ending in the label from "
                                     f"{allocator.allocator}", "kernel": "installed"},
                    probe=_swap_probe(lab, view, allocator)))
    return checks


def host_route_checks(lab: Lab) -> list[Check]:
    """Option B without next-hop-self: the ASBR's LDP label for its /32 host route to the
    eBGP neighbour is installed and pops towards that neighbour."""
    checks = []
    for node in lab.nodes:
        for host in node.ldp_host_routes:
            checks.append(Check(
                name=f"{node.name}: LDP label for {host} pops towards {host.network_address}",
                kind="mpls-lfib", node=node.name,
                expected={"frr": f"an LDP entry, out label implicit-null via "
                                 f"{host.network_address}", "kernel": "installed"},
                probe=_host_route_probe(lab, node.name, str(host.network_address))))
    return checks


def _host_route_probe(lab: Lab, node: str, neighbor: str):
    def probe(runtime: Runtime):
        table = suite(lab, node, "ldp").lfib(runtime, node)
        kernel = kernel_mpls_routes(runtime, node)
        for label, entry in table.items():
            for hop in entry.hops:
                if hop.source == "LDP" and hop.via == neighbor:
                    out = hop.out_labels[0] if hop.out_labels else None
                    ok = hop.installed and out == IMPLICIT_NULL and label in kernel
                    return ok, {"label": label, "out": out,
                                "kernel": "installed" if label in kernel else "absent"}
        return False, {"entry": f"no LDP entry via {neighbor}"}
    return probe


def _pop_probe(lab: Lab, origin: VpnView):
    def probe(runtime: Runtime):
        label = held_label(runtime, lab, origin)
        if label is None:
            return False, {"label": "no VPN route at the origin"}
        entry, kernel = lfib_entry(runtime, lab, origin.holder, label)
        ok = bool(entry and entry.installed
                  and origin.vpn in [h.interface for h in entry.hops]
                  and kernel and kernel.get("dev") == origin.vpn)
        return ok, {"label": label, **describe_entry(entry, kernel)}
    return probe


def _swap_probe(lab: Lab, view: VpnView, allocator: VpnView):
    def probe(runtime: Runtime):
        pushed = held_label(runtime, lab, view)
        received = held_label(runtime, lab, allocator)
        if pushed is None or received is None:
            return False, {"in": pushed, "received": received}
        entry, kernel = lfib_entry(runtime, lab, view.allocator, pushed)
        ok = bool(entry and kernel and entry.swaps_to(received))
        return ok, {"in": pushed, "received": received, **describe_entry(entry, kernel)}
    return probe


def label_chain_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """Hop by hop from the origin: the label a router pushes is an installed in-label of the
    router that allocated it, and that router's entry pushes the label it received in turn
    (the pattern of FRR's bgp_vpnv4_asbr topotest)."""
    checks = []
    for ce in sites(lab):
        views = views_by_holder(semantics, ce)
        for view in views.values():
            if view.holder == view.allocator:
                continue
            allocator = views[view.allocator]
            rewrites = allocator.next_hop is not None
            checks.append(Check(
                name=f"{view.prefix}: {view.holder} pushes {view.allocator}'s label",
                kind="label-chain", node=view.holder,
                expected={"pushed": f"an in-label of {view.allocator}",
                          view.allocator: (f"swaps to the label from {allocator.allocator}"
                                           if rewrites else "pops into the VRF")},
                probe=_chain_probe(lab, view, allocator)))
    return checks


def _chain_probe(lab: Lab, view: VpnView, allocator: VpnView):
    def probe(runtime: Runtime):
        pushed = held_label(runtime, lab, view)
        received = held_label(runtime, lab, allocator)
        observed = {"pushed": pushed, f"{view.allocator} holds": received}
        if pushed is None or received is None:
            return False, observed
        entry, _ = lfib_entry(runtime, lab, view.allocator, pushed)
        installed = bool(entry and entry.installed)
        if allocator.next_hop is None:
            # The allocator originated the route: the label it advertises is the one pushed.
            observed[view.allocator] = "installed" if installed else "absent"
            return pushed == received and installed, observed
        observed[view.allocator] = swap_text(pushed, entry)
        return bool(entry and entry.swaps_to(received)), observed
    return probe


def lu_label(runtime: Runtime, lab: Lab, node: str, prefix: str) -> int | None:
    """The label a router holds for a labelled loopback (best path), or None."""
    route = suite(lab, node, "bgp").labeled_unicast_route(runtime, node, prefix)
    return route.label if route else None


def labeled_unicast_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """The labelled-loopback chain (Option C): each router pushes the BGP-LU label of the
    router that advertised the loopback to it, which has it installed, swapping to the label
    it received in turn; the originating router advertises implicit-null. And the ASBRs'
    labeled-unicast tables hold those loopbacks, never a customer prefix."""
    checks = []
    origins = semantics.labelled_loopbacks()
    for origin in origins:
        prefix = str(origin.loopback.network)
        held = semantics.spread(origin, "ipv4-labeled-unicast")
        for holder, (_, _, allocator) in held.items():
            if holder == origin.name:
                continue
            from_origin = allocator == origin.name
            received_from = held[allocator][2]
            checks.append(Check(
                name=f"{prefix}: {holder} pushes {allocator}'s LU label", kind="label-chain",
                node=holder,
                expected={"pushed": "implicit-null (3)" if from_origin
                          else f"an installed in-label of {allocator}",
                          allocator: "originates it" if from_origin else
                          ("swaps onto the LDP path to it" if received_from == origin.name
                           else f"swaps to the LU label from {received_from}")},
                probe=_lu_chain_probe(lab, holder, allocator, prefix, from_origin)))
    loopbacks = sorted(str(o.loopback.network) for o in origins)
    for node in lab.nodes if origins else []:
        if node.role == "asbr" and node.core_bgp and node.core_bgp.family(
                "ipv4-labeled-unicast"):
            checks.append(Check(
                name=f"{node.name} labeled-unicast holds the BGP next hops only",
                kind="label-chain", node=node.name, expected={"routes": loopbacks},
                probe=_lu_table_probe(suite(lab, node.name, "bgp"), node.name, loopbacks)))
    return checks


def _lu_chain_probe(lab: Lab, holder: str, allocator: str, prefix: str, from_origin: bool):
    def probe(runtime: Runtime):
        pushed = lu_label(runtime, lab, holder, prefix)
        observed: dict = {"pushed": pushed}
        if pushed is None:
            return False, observed
        if from_origin:
            return pushed == IMPLICIT_NULL, observed
        entry, kernel = lfib_entry(runtime, lab, allocator, pushed)
        observed[allocator] = swap_text(pushed, entry)
        installed = bool(entry and entry.installed and kernel)
        received = lu_label(runtime, lab, allocator, prefix)
        observed[f"{allocator} holds"] = received
        if received in (None, IMPLICIT_NULL):
            # The allocator got the loopback from its origin: it swaps onto LDP (or pops).
            return installed and received == IMPLICIT_NULL, observed
        return installed and bool(entry and entry.swaps_to(received)), observed
    return probe


def _lu_table_probe(asks: ModuleType, node: str, loopbacks: list[str]):
    def probe(runtime: Runtime):
        routes = asks.labeled_unicast_prefixes(runtime, node)
        return routes == loopbacks, {"routes": routes}
    return probe


# -- data plane -----------------------------------------------------------------------------
def site_pairs(lab: Lab, same_vpn: bool) -> list[tuple[Node, Node]]:
    return [(a, b) for a, b in itertools.permutations(sites(lab), 2)
            if (a.site.vpn == b.site.vpn) == same_vpn]


def ping_checks(lab: Lab) -> list[Check]:
    return [Check(
        name=f"{a.name} ({a.site.name}) → {b.name} ({b.site.name})", kind="ping", node=a.name,
        expected={"from": str(a.site.address.ip), "to": str(b.site.address.ip),
                  "replies": True},
        probe=_ping_probe(a.name, str(a.site.address.ip), str(b.site.address.ip), True))
        for a, b in site_pairs(lab, same_vpn=True)]


def isolation_checks(lab: Lab) -> list[Check]:
    return [Check(
        name=f"{a.name} ({a.site.vpn}) ↛ {b.name} ({b.site.vpn})", kind="isolation",
        node=a.name, expected={"from": str(a.site.address.ip), "to": str(b.site.address.ip),
                               "replies": False},
        probe=_ping_probe(a.name, str(a.site.address.ip), str(b.site.address.ip), False),
        retry=False)
        for a, b in site_pairs(lab, same_vpn=False)]


def _ping_probe(node: str, source: str, destination: str, should_reply: bool):
    def probe(runtime: Runtime):
        replied, summary = ping(runtime, node, source, destination)
        if replied is None:
            # A check passes only on evidence: no ping, no verdict on isolation either.
            raise ProbeError(f"{node}: {summary}")
        return replied == should_reply, {"replies": replied, "summary": summary}
    return probe


def wire_label_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """Label-stack depth on every link of one path per VPN, captured with tcpdump during a
    ping: from the VPN's last site to the first one behind another PE, preferably in another
    AS (like the slides' walkthrough from CE-3 to 152.12.4.1). Two sites on one PE cross no
    labelled link: such a pair is never the one checked."""
    checks = []
    for vpn in lab.vpns:
        members = [lab.node(n) for n in vpn.sites]
        pair = wire_pair(semantics, members)
        if pair is None:
            continue
        source, destination, hops = pair
        checks.append(Check(
            name=f"{source.name} → {destination.site.address.ip} ({vpn.name})",
            kind="wire-labels", node=source.name,
            expected={f"{h.sender}→{h.receiver}": f"{h.depth} ({h.note})" for h in hops},
            probe=_wire_probe(source, destination, hops)))
    return checks


def wire_pair(semantics: Semantics, members: list[Node]) -> tuple[Node, Node, list[Hop]] | None:
    """The (source, destination, hops) to capture for one VPN, or None when all its sites
    hang off one PE."""
    if len(members) < 2:
        return None
    source = members[-1]
    ingress = semantics.pe_of(source.name)
    candidates = [m for m in members[:-1] if semantics.pe_of(m.name).name != ingress.name]
    candidates.sort(key=lambda m: semantics.pe_of(m.name).asn == ingress.asn)  # stable
    for destination in candidates:
        hops = semantics.wire_path(source.name, destination.name)
        if hops:
            return source, destination, hops
    return None


def _wire_probe(source: Node, destination: Node, hops: list[Hop]):
    return _wire_probe_between(source.name, str(source.site.address.ip),
                               str(destination.site.address.ip), hops)


def _wire_probe_between(node: str, src: str, dst: str, hops: list[Hop]):
    """Pings from ``src`` on ``node`` to ``dst`` while every hop's link is captured."""
    taps = [Tap(hop.sender, hop.interface) for hop in hops]
    # Four pings while every link of the path listens.
    ping_argv = ["ping", "-n", "-c", "4", "-i", "0.5", "-W", "2", "-I", src, dst]

    def probe(runtime: Runtime):
        try:
            sections = runtime.capture(taps, node, ping_argv)
        except CaptureFailed as exc:
            raise ProbeError(f"capture failed: {exc}") from None
        observed, ok = {}, True
        for hop, section in zip(hops, sections, strict=False):
            stacks = [label_stack(line) for line in section.splitlines()
                      if f"{src} > {dst}: ICMP echo request" in line]
            key = f"{hop.sender}→{hop.receiver}"
            if not stacks:
                observed[key] = "no echo request seen"
                ok = False
                continue
            depths = sorted({len(s) for s in stacks})
            observed[key] = f"{depths[0]} {stacks[0]}" if len(depths) == 1 else f"mixed {depths}"
            ok = ok and depths == [hop.depth]
        return ok, observed
    return probe
