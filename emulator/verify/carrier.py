"""Carrier supporting carrier: the checks of the csc labs, derived from the model's customer
carriers (``carrier_vpn``), their sites and their external routes.

What must hold (the "Carrier's Carrier" slides): the backbone's VPN carries each
site's internal routes (the carrier's loopbacks) and nothing else; the carrier's external
routes (network N) reach its other sites over its own iBGP and are absent from every
backbone router; each PE swaps the VPN label onto the CSC-CE's label, and the CSC-CE's
label onto the VPN label; traffic from one site's external prefix to another's flows, with
the label stack the variant implies on every link.
"""

from __future__ import annotations

import ipaddress
import itertools

from emulator.model.topology import Lab, Node
from emulator.runtime.base import CaptureFailed, Runtime, Tap
from emulator.suites import bird
from emulator.suites.bird_probes import guard_drops
from emulator.suites.records import IMPLICIT_NULL, ProbeError
from emulator.verify.checks import Check, label_stack
from emulator.verify.probes import (
    absent_probe,
    lfib_entry,
    ping_probe,
    suite,
    swap_text,
    vpn_route,
    vpnv4_probe,
    vrf_probe,
    wire_probe_between,
)
from emulator.verify.semantics import CarrierSite, CarrierSupportingCarrier, VpnView


def backbone(lab: Lab) -> list[Node]:
    """The backbone carrier's routers: provider routers of ASes that are not customers."""
    carriers = {a.asn for a in lab.autonomous_systems if a.carrier_vpn or a.customer}
    return [n for n in lab.nodes if n.asn not in carriers]


def externals(lab: Lab) -> list[Node]:
    return [n for n in lab.nodes if n.external is not None]


def external_address(node: Node) -> str:
    return str(node.interface("ext0").address.ip)


# -- the backbone carries the internal routes, and only them ----------------------------------
def internal_route_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    sites = semantics.sites
    checks = []
    for site in sites:
        for prefix in site.internal:
            for view in semantics.internal_views(site, prefix):
                checks.append(Check(
                    name=f"{view.holder}: {view.rd}:{view.prefix}", kind="vpnv4-route",
                    node=view.holder,
                    expected={"rd": view.rd, "route_targets": sorted(view.route_targets),
                              "next_hop": (f"{view.next_hop} ({view.next_hop_router})"
                                           if view.next_hop else
                                           f"local (from {site.csc_ce} in its VRF)"),
                              "label": f"allocated by {view.allocator}"},
                    probe=vpnv4_probe(lab, view)))
    for node in backbone(lab):
        for vrf in node.vrfs:
            present = sorted(p for s in sites if s.vpn == vrf.name for p in s.internal)
            # Another carrier's routes, unless this one uses the same prefix (a VRF table
            # tells prefixes apart, not owners: isolation checks the rest on the wire).
            absent = sorted(({str(n.external) for n in externals(lab)} |
                             {p for s in sites if s.vpn != vrf.name for p in s.internal})
                            - set(present))
            checks.append(Check(
                name=f"{node.name} VRF {vrf.name} holds the carrier's internal routes only",
                kind="vrf-route", node=node.name,
                expected={"present": present, "absent": absent},
                probe=vrf_probe(suite(lab, node.name, "bgp"), node.name, vrf.name, present,
                                 absent)))
    return checks


# -- the external routes: the carrier's own iBGP, never the backbone --------------------------
def external_route_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    sites = semantics.sites
    checks = []
    for origin in externals(lab):
        prefix = str(origin.external)
        for node in backbone(lab):
            checks.append(Check(
                name=f"{node.name} holds no route to {prefix} (external to {origin.asn})",
                kind="vrf-route", node=node.name, expected={"route": "absent"},
                probe=absent_probe(suite(lab, node.name, "bgp"), node.name, prefix)))
        for router in ibgp_elsewhere(lab, semantics, sites, origin):
            checks.append(Check(
                name=f"{router} holds {prefix} from {origin.name}", kind="vrf-route",
                node=router, expected={"route": "installed"},
                probe=_present_probe(lab, router, prefix)))
    return checks


def ibgp_elsewhere(lab: Lab, semantics: CarrierSupportingCarrier, sites: list[CarrierSite],
                   origin: Node) -> list[str]:
    """The routers of the origin's carrier, in its other sites, that its iBGP reaches (the
    others forward on labels)."""
    home = semantics.site_of(origin.name)
    routers = []
    for site in sites:
        if site.asn != origin.asn or site.csc_ce == home.csc_ce:
            continue
        for router in site.routers:
            bgp = lab.node(router).core_bgp
            if bgp and bgp.family("ipv4-unicast"):
                routers.append(router)
    return routers


# -- the scaling point: many external routes, none in the backbone ---------------------------
def external_table_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    """A carrier's many external routes (``external_routes``) all reach its other sites over
    its iBGP; no backbone router holds any of them, in any table (its VRFs hold the
    carrier's internal routes only, however large the carrier's table)."""
    sites = semantics.sites
    checks = []
    for origin in lab.nodes:
        table = origin.external_routes
        if table is None:
            continue
        pool, what = str(table.pool), f"{origin.name}'s {table.count} external routes"
        for router in ibgp_elsewhere(lab, semantics, sites, origin):
            checks.append(Check(
                name=f"{router} holds {what} ({pool})", kind="vrf-route", node=router,
                expected={within(pool, None, [None]): table.count},
                probe=_count_probe(lab, router, pool, [None], table.count)))
        for node in backbone(lab):
            tables = [None, *(v.name for v in node.vrfs)]
            checks.append(Check(
                name=f"{node.name} holds none of {what}", kind="vrf-route", node=node.name,
                expected={within(pool, vrf, tables): 0 for vrf in tables},
                probe=_count_probe(lab, node.name, pool, tables, 0)))
    return checks


def within(pool: str, vrf: str | None, tables: list[str | None]) -> str:
    """How expected and observed name a table's count of routes within ``pool``."""
    return (f"routes within {pool}, {vrf or 'default table'}" if len(tables) > 1 else
            f"routes within {pool}")


def _count_probe(lab: Lab, node: str, pool: str, tables: list[str | None], count: int):
    asks = suite(lab, node, "bgp")

    def probe(runtime: Runtime):
        held = {within(pool, vrf, tables): asks.routes_within(runtime, node, pool, vrf)
                for vrf in tables}
        return all(n == count for n in held.values()), held
    return probe


def _present_probe(lab: Lab, node: str, prefix: str):
    asks = suite(lab, node, "bgp")

    def probe(runtime: Runtime):
        routes = asks.ip_routes(runtime, node, prefix=prefix)
        return bool(routes.get(prefix)), {"route": "installed" if routes.get(prefix) else
                                          ("not installed" if routes else "absent")}
    return probe


# -- the PEs' swaps ---------------------------------------------------------------------------
def egress_lfib_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    """Each internal route's VPN label, at the PE that allocated it: installed (in BIRD's
    table and the kernel's), swapping onto the label its CSC-CE gave, or popping towards it
    for implicit-null."""
    sites = semantics.sites
    checks = []
    for site in sites:
        for prefix in site.internal:
            origin = next(v for v in semantics.internal_views(site, prefix)
                          if v.holder == site.pe)
            checks.append(Check(
                name=f"{site.pe}: VPN label of {prefix} swaps towards {site.csc_ce}",
                kind="mpls-lfib", node=site.pe,
                expected={site.pe: f"installed, swaps to the label from {site.csc_ce} (pops "
                                   "for implicit-null)", "kernel": "installed"},
                probe=_egress_swap_probe(lab, site, origin)))
    return checks


def label_swap_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    """For each internal route and each other site of the carrier: the remote PE swaps the
    label it gave its CSC-CE onto the VPN label, and the origin PE swaps that VPN label onto
    the label its CSC-CE gave (or pops towards it, for implicit-null)."""
    sites = semantics.sites
    checks = []
    for origin, other in itertools.permutations(sites, 2):
        if origin.asn != other.asn or origin.pe == other.pe:
            continue
        for prefix in origin.internal:
            views = {v.holder: v for v in semantics.internal_views(origin, prefix)}
            if other.pe not in views:
                continue
            checks.append(Check(
                name=f"{prefix}: {other.pe} swaps {other.csc_ce}'s label onto "
                     f"{origin.pe}'s VPN label", kind="label-chain", node=other.pe,
                expected={"pushed by " + other.csc_ce: f"an installed in-label of {other.pe}",
                          other.pe: f"swaps to the VPN label from {origin.pe}"},
                probe=_ingress_swap_probe(lab, other, views[other.pe])))
            checks.append(Check(
                name=f"{prefix} ({origin.vpn}): {other.pe} pushes {origin.pe}'s VPN label",
                kind="label-chain", node=other.pe,
                expected={"pushed": f"the VPN label {origin.pe} advertises, an installed "
                                    f"in-label of {origin.pe}"},
                probe=_vpn_label_probe(lab, views[other.pe], views[origin.pe])))
    return checks


def _ingress_swap_probe(lab: Lab, site: CarrierSite, view: VpnView):
    prefix = str(view.prefix)

    def probe(runtime: Runtime):
        route = suite(lab, site.csc_ce, "bgp").labeled_unicast_route(runtime, site.csc_ce,
                                                                      prefix)
        pushed = route.label if route else None
        vpn = vpn_route(runtime, lab, view)
        observed: dict = {f"{site.csc_ce} pushes": pushed,
                          f"{site.pe} holds VPN label": vpn.label if vpn else None}
        if pushed in (None, IMPLICIT_NULL) or vpn is None:
            return False, observed
        entry, kernel = lfib_entry(runtime, lab, site.pe, pushed)
        observed[site.pe] = swap_text(pushed, entry)
        return bool(entry and kernel and entry.swaps_to(vpn.label)), observed
    return probe


def _egress_swap_probe(lab: Lab, site: CarrierSite, origin: VpnView):
    prefix = str(origin.prefix)

    def probe(runtime: Runtime):
        advertised = vpn_route(runtime, lab, origin)
        towards_ce = suite(lab, site.pe, "bgp").vrf_route(runtime, site.pe, site.vpn, prefix)
        observed: dict = {f"{site.pe} advertises": advertised.label if advertised else None,
                          f"{site.csc_ce}'s label": towards_ce.label if towards_ce else None}
        if advertised is None or towards_ce is None:
            return False, observed
        entry, kernel = lfib_entry(runtime, lab, site.pe, advertised.label)
        observed[site.pe] = swap_text(advertised.label, entry)
        observed["kernel"] = "installed" if kernel else "absent"
        return bool(entry and kernel and entry.swaps_to(towards_ce.label)), observed
    return probe


def _vpn_label_probe(lab: Lab, remote: VpnView, origin: VpnView):
    def probe(runtime: Runtime):
        pushed = vpn_route(runtime, lab, remote)
        advertised = vpn_route(runtime, lab, origin)
        observed: dict = {"pushed": pushed.label if pushed else None,
                          f"{origin.holder} advertises": advertised.label if advertised
                          else None}
        if pushed is None or advertised is None:
            return False, observed
        entry, _ = lfib_entry(runtime, lab, origin.holder, pushed.label)
        observed[origin.holder] = "installed" if entry and entry.installed else "absent"
        return pushed.label == advertised.label and bool(entry and entry.installed), observed
    return probe


# -- the data plane ---------------------------------------------------------------------------
def external_pairs(lab: Lab, semantics: CarrierSupportingCarrier) -> list[tuple[Node, Node]]:
    """Routers with external prefixes in different sites of one carrier."""
    return [(a, b) for a, b in itertools.permutations(externals(lab), 2)
            if a.asn == b.asn and semantics.site_of(a.name) != semantics.site_of(b.name)]


def external_ping_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    return [Check(
        name=f"{a.name} ({a.external}) → {b.name} ({b.external})", kind="ping", node=a.name,
        expected={"from": external_address(a), "to": external_address(b), "replies": True},
        probe=ping_probe(a.name, external_address(a), external_address(b), True))
        for a, b in external_pairs(lab, semantics)]


def carrier_endpoints(lab: Lab, semantics: CarrierSupportingCarrier
                      ) -> list[tuple[Node, str, int]]:
    """Where a carrier's traffic starts and ends: (router, address, carrier AS) for its
    external prefixes and for the sites of its own VPN customers (csc-vpn)."""
    carriers = {a.asn for a in lab.autonomous_systems if a.carrier_vpn}
    ends = [(n, external_address(n), n.asn) for n in externals(lab)]
    for ce in lab.nodes:
        if ce.site is not None and semantics.lab.pe_of(ce.name).asn in carriers:
            ends.append((ce, str(ce.site.address.ip), semantics.lab.pe_of(ce.name).asn))
    return ends


def carrier_isolation_checks(lab: Lab,
                             semantics: CarrierSupportingCarrier) -> list[Check]:
    """From each carrier's endpoints, another carrier's addresses that its own network does
    not also use must stay unreachable (the backbone keeps the carriers in separate VRFs;
    an address both use is the sender's own)."""
    ends = carrier_endpoints(lab, semantics)
    owned: dict[int, list[ipaddress.IPv4Network]] = {}
    for node in lab.nodes:
        owned.setdefault(node.asn, []).extend(node.internal_routes)
    for node, _, asn in ends:
        owned.setdefault(asn, []).append(
            node.external if node.external else node.site.prefix)
    checks = []
    for (a, source, a_asn), (b, target, b_asn) in itertools.permutations(ends, 2):
        if a_asn == b_asn or any(ipaddress.IPv4Address(target) in network
                                 for network in owned[a_asn]):
            continue
        checks.append(Check(
            name=f"{a.name} (AS {a_asn}) ↛ {b.name} (AS {b_asn}) {target}", kind="isolation",
            node=a.name, expected={"from": source, "to": target, "replies": False},
            probe=ping_probe(a.name, source, target, False), retry=False))
    return checks


def external_wire_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    """One captured path per carrier: from its last external prefix to the first one in
    another site (the slides' walkthrough: a host behind ASBR-2 to network N)."""
    checks = []
    done: set[int] = set()
    for a, b in reversed(external_pairs(lab, semantics)):
        if a.asn in done:
            continue
        done.add(a.asn)
        hops = semantics.external_path(a.name, b.name)
        checks.append(Check(
            name=f"{a.name} → {external_address(b)} (N behind {b.name})", kind="wire-labels",
            node=a.name,
            expected={f"{h.sender}→{h.receiver}": f"{h.depth} ({h.note})" for h in hops},
            probe=wire_probe_between(a.name, external_address(a), external_address(b),
                                      hops)))
    return checks


# -- label spoofing ---------------------------------------------------------------------------
def label_spoofing_checks(lab: Lab, semantics: CarrierSupportingCarrier) -> list[Check]:
    """On each PE that two customer carriers share: a CSC-CE of one pushes a label the PE
    advertised to the other's CSC-CE (for a loopback of the other's remote site); the packet
    must not come out of the backbone at that site. The slides: the PE checks that the labels
    a CE uses are those of its own VRF (here: the label guard, Node.label_guard)."""
    sites = semantics.sites
    checks = []
    for spoofer, victim in itertools.permutations(sites, 2):
        if spoofer.pe != victim.pe or spoofer.asn == victim.asn:
            continue
        target = next(((prefix, remote) for remote in sites
                       if remote.asn == victim.asn and remote.pe != victim.pe
                       for prefix in remote.internal
                       if not any(str(i.address.ip) == prefix.split("/")[0]
                                  for i in lab.node(spoofer.csc_ce).interfaces if i.address)),
                      None)
        if target is None:
            continue
        prefix, remote = target
        checks.append(Check(
            name=f"{spoofer.csc_ce} (AS {spoofer.asn}) cannot push {victim.csc_ce}'s label "
                 f"for {prefix} into {victim.pe}",
            kind="label-spoofing", node=spoofer.pe,
            expected={f"pushed by {spoofer.csc_ce}": f"the label {victim.pe} advertised to "
                                                    f"{victim.csc_ce} for {prefix}",
                      f"{remote.pe}→{remote.csc_ce}": "no echo request",
                      f"{victim.pe}'s label guard": "on, its drop counter rises by at least "
                                                    "the number sent"},
            probe=_spoofing_probe(lab, spoofer, victim, remote, prefix)))
    return checks


SPOOF_TABLE = 4243  # a routing table and firewall mark of the spoofer's, for the probe only


def spoof_argv(source: str, target: str, label: int, via: str, interface: str) -> list[str]:
    """Echo requests from ``source`` to ``target`` with ``label`` pushed, sent by a router
    to its neighbour ``via``: a route in a table of its own, chosen by a mark only these
    pings carry, removed afterwards."""
    table = SPOOF_TABLE
    return ["sh", "-c",
            f"ip route replace {target}/32 encap mpls {label} via {via} dev {interface} "
            f"table {table} && ip rule add fwmark {table} table {table} priority {table} && "
            f"ping -n -c 3 -i 0.3 -W 1 -m {table} -I {source} {target}; "
            f"ip rule del fwmark {table} table {table} priority {table}; "
            f"ip route flush table {table}"]


def _spoofing_probe(lab: Lab, spoofer: CarrierSite, victim: CarrierSite,
                    remote: CarrierSite, prefix: str):
    ce = lab.node(spoofer.csc_ce)
    uplink = ce.towards(spoofer.pe)[0]
    pe_side = lab.node(spoofer.pe).interface(uplink.peer.interface)
    egress = next(i for i in lab.node(remote.pe).interfaces
                  if i.peer and i.peer.node == remote.csc_ce)
    source, target = str(ce.loopback.ip), prefix.split("/")[0]
    taps = [Tap(spoofer.csc_ce, uplink.name), Tap(remote.pe, egress.name)]

    def probe(runtime: Runtime):
        route = suite(lab, victim.csc_ce, "bgp").labeled_unicast_route(runtime,
                                                                       victim.csc_ce, prefix)
        label = route.label if route else None
        observed: dict = {f"{victim.csc_ce}'s label for {prefix}": label}
        if label in (None, IMPLICIT_NULL):
            return False, observed
        guard = f"{spoofer.pe}'s label guard on {pe_side.name}"
        before = guard_drops(runtime, spoofer.pe, bird.GUARD_TABLE, pe_side.name)
        try:
            sent, leaked = runtime.capture(
                taps, spoofer.csc_ce,
                spoof_argv(source, target, label, str(pe_side.address.ip), uplink.name))
        except CaptureFailed as exc:
            raise ProbeError(f"capture failed: {exc}") from None
        after = guard_drops(runtime, spoofer.pe, bird.GUARD_TABLE, pe_side.name)
        request = f"{source} > {target}: ICMP echo request"
        # The evidence that the spoof was tried: echo requests on the uplink carrying the
        # victim's label on top.
        pushed = [line for line in sent.splitlines()
                  if request in line and label_stack(line)[:1] == [label]]
        arrived = [line.split(" ", 1)[-1] for line in leaked.splitlines() if request in line]
        observed[f"pushed by {spoofer.csc_ce}"] = (
            f"{len(pushed)} echo requests, label {label}" if pushed else
            f"no echo request with label {label} on {uplink.name}")
        observed[f"{remote.pe}→{remote.csc_ce}"] = (
            f"{len(arrived)} echo requests leaked into AS {victim.asn} ({arrived[0]})"
            if arrived else "no echo request")
        if before is None or after is None:
            observed[guard] = "off (no filter loaded)"
            return False, observed
        dropped = after - before
        observed[guard] = f"on, {dropped} packets dropped of {len(pushed)} sent"
        return bool(pushed) and not arrived and dropped >= len(pushed), observed
    return probe


# The carrier labs' own families, in the order reports list them (families.py registers them
# for CarrierSupportingCarrier).
FAMILIES = [internal_route_checks, external_route_checks, external_table_checks,
            egress_lfib_checks, label_swap_checks, external_ping_checks,
            carrier_isolation_checks, external_wire_checks, label_spoofing_checks]
