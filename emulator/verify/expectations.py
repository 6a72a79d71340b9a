"""The check families of every lab with customer sites (inter-AS options 1 to 4, and the
carrier labs' own customers): sessions and adjacencies, VPNv4 and VRF tables, label
forwarding and chains, pings, isolation and the label stack on the wire. Each family is a
function of the model and the option's semantics (``semantics.py``) registered in
``families.py``; the probes they use are ``probes.py``'s."""

from __future__ import annotations

import itertools

from emulator.model.topology import Lab, Node
from emulator.verify.checks import Check
from emulator.verify.probes import (
    absent_probe,
    bgp_session_probe,
    chain_probe,
    host_route_probe,
    label_leak_probe,
    ldp_probe,
    lu_chain_probe,
    lu_table_probe,
    ospf_probe,
    ping_probe,
    pop_probe,
    rip_probe,
    suite,
    swap_probe,
    vpnv4_probe,
    vrf_probe,
    wire_probe,
)
from emulator.verify.semantics import Hop, Semantics, VpnView


def steady_label_checks(checks: list[Check]) -> list[Check]:
    """Every label chain read again at the very end, after pings and captures, once and
    without retrying: the labels it reads must be the ones the label-chain phase saw when
    the chain held. A router that re-binds a label after convergence (FRR 10.3 on an
    Option B ASBR, docs/labs/option2.md) fails here, even if the new labels are consistent
    again, with the old and the new value side by side."""
    steady = []
    for chain in [c for c in checks if c.kind == "label-chain"]:
        seen: dict = {}
        probe = chain.probe
        chain.probe = remembering(probe, seen)
        steady.append(Check(name=f"still: {chain.name}", kind="label-steady", node=chain.node,
                            expected={"labels": "as the label chain saw them", **chain.expected},
                            probe=unmoved(probe, seen, chain.node), retry=False,
                            asks_like=chain.name))
    return steady


def labels_of(observed: dict) -> dict[str, int]:
    """The labels a chain probe observed (its integer values, by what they are)."""
    return {key: value for key, value in observed.items()
            if isinstance(value, int) and not isinstance(value, bool)}


def remembering(probe, seen: dict):
    """The chain's probe, keeping the labels of its last observation that held (under
    "labels"; a chain check may observe none, a table's contents)."""
    def remembered(runtime):
        passed, observed = probe(runtime)
        if passed:
            seen["labels"] = labels_of(observed)
        return passed, observed
    return remembered


def unmoved(probe, seen: dict, holder: str | None):
    """The chain's probe once more, passing only if it holds with the labels seen before."""
    def probe_again(runtime):
        passed, observed = probe(runtime)
        if "labels" not in seen:
            observed = {**observed, "labels": "the label chain never held"}
            return False, observed
        now = labels_of(observed)
        moved = {f"{key} ({holder})" if key == "pushed" else key: f"{old} → {now.get(key)}"
                 for key, old in seen["labels"].items() if now.get(key) != old}
        if moved:
            observed = {**observed, "moved": moved}
        return passed and not moved, observed
    return probe_again


# -- sessions and adjacencies ------------------------------------------------------------
def bgp_session_checks(lab: Lab, semantics: Semantics) -> list[Check]:
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
                    probe=bgp_session_probe(suite(lab, node.name, "bgp"), node.name, vrf,
                                             str(neighbor.address), families)))
    return checks


def ldp_session_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    checks = []
    for node in lab.nodes:
        for interface in node.interfaces:
            if interface.ldp and interface.peer:
                peer = lab.node(interface.peer.node)
                checks.append(Check(
                    name=f"{node.name} → {peer.name} LDP on {interface.name}",
                    kind="ldp-session", node=node.name,
                    expected={"neighbor": str(peer.router_id), "state": "OPERATIONAL"},
                    probe=ldp_probe(suite(lab, node.name, "ldp"), node.name,
                                     str(peer.router_id))))
    return checks


def igp_adjacency_checks(lab: Lab, semantics: Semantics) -> list[Check]:
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
                    probe=ospf_probe(suite(lab, node.name, "igp"), node.name, instance.vrf,
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
                    probe=rip_probe(suite(lab, node.name, "igp"), node.name, instance.vrf,
                                     gateway)))
    return checks


# -- VPNv4 and VRF tables -------------------------------------------------------------------
def vpnv4_route_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    checks = []
    for ce in lab.sites():
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
                node=view.holder, expected=expected, probe=vpnv4_probe(lab, view)))
        for router in semantics.vpn_absent_on():
            checks.append(Check(
                name=f"{router} holds no route to {ce.site.prefix}", kind="vpnv4-route",
                node=router, expected={"route": "absent"},
                probe=absent_probe(suite(lab, router, "bgp"), router, str(ce.site.prefix))))
    return checks


def vrf_route_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    checks = []
    for node in lab.nodes:
        if node.role not in ("pe", "pe-asbr", "asbr"):
            continue
        for vrf in node.vrfs:
            present = sorted(str(c.site.prefix) for c in lab.sites() if c.site.vpn == vrf.name)
            absent = sorted(str(c.site.prefix) for c in lab.sites() if c.site.vpn != vrf.name)
            if not present and not absent:
                continue  # no customer site anywhere: nothing to hold or leak (a carrier's
                # VRF is checked by emulator/verify/carrier.py)
            checks.append(Check(
                name=f"{node.name} VRF {vrf.name}", kind="vrf-route", node=node.name,
                expected={"present": present, "absent": absent},
                probe=vrf_probe(suite(lab, node.name, "bgp"), node.name, vrf.name, present,
                                 absent)))
    return checks


# -- labels ---------------------------------------------------------------------------------
def views_by_holder(semantics: Semantics, ce: Node) -> dict[str, VpnView]:
    return {view.holder: view for view in semantics.vpn_views(ce.name)}


def mpls_lfib_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """Every VPN label a router allocated is installed, in its suite and in the kernel:
    popping into the VRF at the origin, swapping to the label it received where it rewrote
    the next hop (an Option B ASBR)."""
    checks = []
    seen = set()
    for ce in lab.sites():
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
                    probe=pop_probe(lab, allocator)))
            else:
                checks.append(Check(
                    name=f"{view.allocator}: VPN label of {view.prefix} swaps towards "
                         f"{allocator.next_hop_router}",
                    kind="mpls-lfib", node=view.allocator,
                    expected={"in": f"the label {view.holder} pushes",
                              "out": f"stack ending in the label from "
                                     f"{allocator.allocator}", "kernel": "installed"},
                    probe=swap_probe(lab, view, allocator)))
    return checks


def host_route_checks(lab: Lab, semantics: Semantics) -> list[Check]:
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
                probe=host_route_probe(lab, node.name, str(host.network_address))))
    return checks


def label_chain_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """Hop by hop from the origin: the label a router pushes is an installed in-label of the
    router that allocated it, and that router's entry pushes the label it received in turn
    (the pattern of FRR's bgp_vpnv4_asbr topotest)."""
    checks = []
    for ce in lab.sites():
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
                probe=chain_probe(lab, view, allocator)))
    return checks


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
                probe=lu_chain_probe(lab, holder, allocator, prefix, from_origin)))
    loopbacks = sorted(str(o.loopback.network) for o in origins)
    for node in lab.nodes if origins else []:
        if node.role == "asbr" and node.core_bgp and node.core_bgp.family(
                "ipv4-labeled-unicast"):
            checks.append(Check(
                name=f"{node.name} labeled-unicast holds the BGP next hops only",
                kind="label-chain", node=node.name, expected={"routes": loopbacks},
                probe=lu_table_probe(suite(lab, node.name, "bgp"), node.name, loopbacks)))
    return checks


# -- data plane -----------------------------------------------------------------------------
def site_pairs(lab: Lab, same_vpn: bool) -> list[tuple[Node, Node]]:
    return [(a, b) for a, b in itertools.permutations(lab.sites(), 2)
            if (a.site.vpn == b.site.vpn) == same_vpn]


def ping_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    return [Check(
        name=f"{a.name} ({a.site.name}) → {b.name} ({b.site.name})", kind="ping", node=a.name,
        expected={"from": str(a.site.address.ip), "to": str(b.site.address.ip),
                  "replies": True},
        probe=ping_probe(a.name, str(a.site.address.ip), str(b.site.address.ip), True))
        for a, b in site_pairs(lab, same_vpn=True)]


def isolation_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    return [Check(
        name=f"{a.name} ({a.site.vpn}) ↛ {b.name} ({b.site.vpn})", kind="isolation",
        node=a.name, expected={"from": str(a.site.address.ip), "to": str(b.site.address.ip),
                               "replies": False},
        probe=ping_probe(a.name, str(a.site.address.ip), str(b.site.address.ip), False),
        retry=False)
        for a, b in site_pairs(lab, same_vpn=False)]


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
            probe=wire_probe(source, destination, hops)))
    return checks


def wire_pair(semantics: Semantics, members: list[Node]) -> tuple[Node, Node, list[Hop]] | None:
    """The (source, destination, hops) to capture for one VPN, or None when all its sites
    hang off one PE."""
    if len(members) < 2:
        return None
    source = members[-1]
    ingress = semantics.lab.pe_of(source.name)
    candidates = [m for m in members[:-1] if semantics.lab.pe_of(m.name).name != ingress.name]
    candidates.sort(key=lambda m: semantics.lab.pe_of(m.name).asn == ingress.asn)  # stable
    for destination in candidates:
        hops = semantics.wire_path(source.name, destination.name)
        if hops:
            return source, destination, hops
    return None




# -- labels held after convergence ----------------------------------------------------------
def label_leak_checks(lab: Lab, semantics: Semantics) -> list[Check]:
    """On every router with MPLS: no label is held for nothing (a route withdrawn, a
    binding gone) in its suites' tables or the kernel's."""
    return [Check(name=f"{node.name} holds no label for nothing", kind="label-leak",
                  node=node.name,
                  expected={"suite": "every label backs a current LDP binding, VPN label or "
                                     "labelled route", "kernel": "every label is a suite's"},
                  probe=label_leak_probe(lab, node))
            for node in lab.nodes if node.mpls]
