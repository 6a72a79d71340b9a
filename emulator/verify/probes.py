"""How checks observe the routers: readers that put a suite's questions and return neutral
records, and the probe builders every check family uses. A probe is a function of the
runtime returning ``(passed, observed)``; it raises ``ProbeError`` when the router gave no
usable answer (no evidence either way, never a verdict).

Public so that each family of checks (``expectations.py``, ``carrier.py``, ...) builds on
the same probes; this module knows no scenario.
"""

from __future__ import annotations

from emulator.model.topology import Lab, Node
from emulator.runtime.base import CaptureFailed, Runtime, Tap
from emulator.suites import probes
from emulator.suites.contract import SuiteProbes
from emulator.suites.records import IMPLICIT_NULL, LfibEntry, ProbeError, Route
from emulator.verify.checks import kernel_json, kernel_mpls_routes, label_stack, ping
from emulator.verify.semantics import Hop, VpnView


def suite(lab: Lab, node: str, protocol: str) -> SuiteProbes:
    """The probes of the suite that speaks ``protocol`` (bgp, igp, ldp) on ``node``: the
    checks ask every suite the same questions and read the same neutral records."""
    return probes(lab.node(node).suites.get(protocol, "frr"))


def bgp_session_probe(asks: SuiteProbes, node: str, vrf: str, peer: str, families: list[str]):
    def probe(runtime: Runtime):
        held = {(s.vrf, s.family, s.peer): s.state for s in asks.bgp_sessions(runtime, node)}
        state = {f: held.get((vrf, f, peer), "absent") for f in families}
        return all(s == "Established" for s in state.values()), {"state": state}
    return probe


def ldp_probe(asks: SuiteProbes, node: str, neighbor_id: str):
    def probe(runtime: Runtime):
        neighbor = asks.ldp_neighbors(runtime, node).get(neighbor_id)
        state = neighbor.state if neighbor else "absent"
        return state == "OPERATIONAL", {"neighbor": neighbor_id, "state": state}
    return probe


def ospf_probe(asks: SuiteProbes, node: str, vrf: str | None, neighbor_id: str):
    def probe(runtime: Runtime):
        neighbor = asks.ospf_neighbors(runtime, node, vrf).get(neighbor_id)
        state = neighbor.state if neighbor else "absent"
        return state == "Full", {"neighbor": neighbor_id, "state": state}
    return probe


def rip_probe(asks: SuiteProbes, node: str, vrf: str | None, gateway: str):
    def probe(runtime: Runtime):
        heard = gateway in asks.rip_sources(runtime, node, vrf)
        return heard, {"source": gateway, "heard": heard}
    return probe


def vpn_route(runtime: Runtime, lab: Lab, view: VpnView) -> Route | None:
    """The best path of a VPNv4 route under the expected RD, or None."""
    return suite(lab, view.holder, "bgp").vpn_routes(runtime, view.holder, view.prefix).get(
        view.rd)


def describe_route(route: Route | None, rd: str) -> dict:
    if route is None:
        return {"route": "absent"}
    return {"rd": rd, "next_hop": route.next_hop, "route_targets": list(route.route_targets),
            "label": route.label}


def vpnv4_probe(lab: Lab, view: VpnView):
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


def absent_probe(asks: SuiteProbes, router: str, prefix: str):
    """No route to ``prefix`` in the router's default table: neither its routing suite nor
    the kernel holds one (a suite that lost track of a route it installed is no evidence)."""
    def probe(runtime: Runtime):
        routes = asks.ip_routes(runtime, router, prefix=prefix)
        kernel = prefix in kernel_routes(runtime, router, None)
        observed = {"route": sorted(routes) or "absent",
                    "kernel": "installed" if kernel else "absent"}
        return not routes and not kernel, observed
    return probe


def vrf_probe(asks: SuiteProbes, node: str, vrf: str, present: list[str], absent: list[str]):
    """A VRF holds its VPN's prefixes and none of the others, in its suite's table and in
    the kernel's VRF table."""
    def probe(runtime: Runtime):
        table = asks.ip_routes(runtime, node, vrf=vrf)
        kernel = kernel_routes(runtime, node, vrf)
        observed = {"present": sorted(p for p in present if table.get(p)),
                    "leaked": sorted(p for p in absent if p in table or p in kernel)}
        return observed["present"] == present and not observed["leaked"], observed
    return probe


def kernel_routes(runtime: Runtime, node: str, vrf: str | None) -> set[str]:
    """The prefixes of a kernel routing table (a VRF's, or the main one), as prefixes
    (the kernel writes a host route without its /32)."""
    where = ("vrf", vrf) if vrf else ("table", "main")
    routes = kernel_json(runtime, node, "ip", "-j", "-4", "route", "show", *where)
    return {route["dst"] if "/" in route["dst"] or route["dst"] == "default"
            else f"{route['dst']}/32" for route in routes if "dst" in route}


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


def host_route_probe(lab: Lab, node: str, neighbor: str):
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


def pop_probe(lab: Lab, origin: VpnView):
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


def swap_probe(lab: Lab, view: VpnView, allocator: VpnView):
    def probe(runtime: Runtime):
        pushed = held_label(runtime, lab, view)
        received = held_label(runtime, lab, allocator)
        if pushed is None or received is None:
            return False, {"in": pushed, "received": received}
        entry, kernel = lfib_entry(runtime, lab, view.allocator, pushed)
        ok = bool(entry and kernel and entry.swaps_to(received))
        return ok, {"in": pushed, "received": received, **describe_entry(entry, kernel)}
    return probe


def chain_probe(lab: Lab, view: VpnView, allocator: VpnView):
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


def lu_chain_probe(lab: Lab, holder: str, allocator: str, prefix: str, from_origin: bool):
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


def lu_table_probe(asks: SuiteProbes, node: str, loopbacks: list[str]):
    def probe(runtime: Runtime):
        routes = asks.labeled_unicast_prefixes(runtime, node)
        return routes == loopbacks, {"routes": routes}
    return probe


def ping_probe(node: str, source: str, destination: str, should_reply: bool):
    def probe(runtime: Runtime):
        replied, summary = ping(runtime, node, source, destination)
        if replied is None:
            # A check passes only on evidence: no ping, no verdict on isolation either.
            raise ProbeError(f"{node}: {summary}")
        return replied == should_reply, {"replies": replied, "evidence": summary}
    return probe


def wire_probe(source: Node, destination: Node, hops: list[Hop]):
    return wire_probe_between(source.name, str(source.site.address.ip),
                               str(destination.site.address.ip), hops)


def wire_probe_between(node: str, src: str, dst: str, hops: list[Hop]):
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


def label_leak_probe(lab: Lab, node: Node):
    """Every label in the router's label tables is needed: each suite's entries by a
    current LDP binding, VPN label or labelled route (``label_uses``), each label of the
    kernel's MPLS table by a suite's entry."""
    runs = {name: node.runs(name) for name in dict.fromkeys(node.suites.values())
            if node.runs(name)}

    def probe(runtime: Runtime):
        held: dict[int, str] = {}  # every suite's entries (two suites may show one label)
        needed: set[int] = set()
        for name, protocols in runs.items():
            asks = probes(name)
            needed |= {label for label, use in asks.label_uses(
                runtime, node.name, protocols).items() if use}
            for label, entry in asks.lfib(runtime, node.name).items():
                held.setdefault(label, f"{name}: {entry.describe()}")
        unused = {str(label): what for label, what in sorted(held.items())
                  if label not in needed}
        kernel = kernel_mpls_routes(runtime, node.name)
        stray = {str(label): f"dev {route.get('dev')}" + (f" to {route['to']}"
                                                          if "to" in route else "")
                 for label, route in sorted(kernel.items()) if label not in held}
        observed: dict = {"labels": len(held), "kernel": len(kernel)}
        if unused:
            observed["needed by nothing"] = unused
        if stray:
            observed["in the kernel only"] = stray
        return not unused and not stray, observed
    return probe
