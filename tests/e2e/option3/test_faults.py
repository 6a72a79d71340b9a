"""Faults injected on live routers (issue 28): each one the way real networks break,
including faults that leave every protocol up. For each, the check kinds that must fail do
fail, those that must keep passing do, and once mended the failed kinds pass again; after
all of them a full verify passes. The routers, interfaces and labels are found from the
model and the live routers, never written down: the classes of fault, not this lab's
names, are what is tested. (Option 2, option 4 and a carrier lab have theirs in their own
tests: tests/e2e/test_option2.py, test_option4.py, test_csc_ip.py.)"""

from __future__ import annotations

import json

import pytest
from labkit import (
    Fault,
    inject,
    kernel_label_route,
    verify_all,
    vtysh,
)
from slides import slide_exercise

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option3")]

SESSIONS = {"bgp-session", "ldp-session", "igp-adjacency"}


def vrf_block(node, vrf: str) -> str:
    return f"router bgp {node.bgp_asn} vrf {vrf}"


def pe_pair(model):
    """Two PEs in different ASes, and a VPN both serve."""
    pes = [n for n in model.nodes if n.role == "pe"]
    first = pes[0]
    second = next(p for p in pes if p.asn != first.asn)
    return first, second


def faults(model, runtime) -> list[Fault]:
    first, second = pe_pair(model)
    p = next(n for n in model.nodes if n.role == "p" and n.asn == first.asn)
    towards_pe = p.towards(first.name)[0].name
    asbr = next(n for n in model.nodes if n.role == "asbr" and n.asn == first.asn)
    rr = next(n for n in model.nodes if n.role == "rr" and n.asn == first.asn)
    rr_peer = next(nb for nb in rr.core_bgp.neighbors if nb.ebgp)
    vpn_a, vpn_b = (v.name for v in first.vrfs[:2])
    rt = {v.name: v.export_targets[0] for v in first.vrfs}
    imports = {(node.name, v.name): " ".join(v.import_targets)
               for node in (first, second) for v in node.vrfs}
    rd = {v.name: v.rd for v in first.vrfs}
    # The labelled-unicast label the ASBR gave the first PE for the second PE's loopback.
    loopback = str(second.loopback.network)
    lu = json.loads(runtime.exec(first.name, [
        "vtysh", "-c", f"show bgp ipv4 labeled-unicast {loopback} json"]).stdout)
    asbr_label = next(path["remoteLabel"] for path in lu["paths"]
                      if path.get("bestpath", {}).get("overall"))
    return [
        # The data plane only: the P router drops labelled packets from the PE; every
        # protocol stays up and every table stays right.
        Fault("MPLS input off on a core interface",
              [(p.name, ["sysctl", "-qw", f"net.mpls.conf.{towards_pe}.input=0"])],
              [(p.name, ["sysctl", "-qw", f"net.mpls.conf.{towards_pe}.input=1"])],
              fails={"ping"}, holds=SESSIONS | {"vpnv4-route", "label-chain"}),
        # The kernel loses a label route behind the routing suite's back.
        Fault("a kernel MPLS route deleted behind FRR",
              [(asbr.name, ["ip", "-f", "mpls", "route", "del", str(asbr_label)])],
              [(asbr.name, kernel_label_route(runtime, asbr.name, asbr_label))],
              fails={"label-chain", "ping"}, holds=SESSIONS | {"vpnv4-route"}),
        # A drift from the lab: the routes still flow, under another RD.
        Fault("an RD changed",
              [(first.name, vtysh(vrf_block(first, vpn_a), "address-family ipv4 unicast",
                                  "rd vpn export 9:99"))],
              [(first.name, vtysh(vrf_block(first, vpn_a), "address-family ipv4 unicast",
                                  f"rd vpn export {rd[vpn_a]}"))],
              fails={"vpnv4-route"}, holds=SESSIONS | {"ping"}),
        # Each PE's VRF imports the other VPN's routes: the VRFs leak, and with both
        # directions leaked the VPNs reach each other.
        Fault("a route-target leak in both directions",
              [(first.name, vtysh(vrf_block(first, vpn_b), "address-family ipv4 unicast",
                                  f"rt vpn import {rt[vpn_b]} {rt[vpn_a]}")),
               (second.name, vtysh(vrf_block(second, vpn_a), "address-family ipv4 unicast",
                                   f"rt vpn import {rt[vpn_a]} {rt[vpn_b]}"))],
              [(first.name, vtysh(vrf_block(first, vpn_b), "address-family ipv4 unicast",
                                  "no rt vpn import",
                                  f"rt vpn import {imports[first.name, vpn_b]}")),
               (second.name, vtysh(vrf_block(second, vpn_a), "address-family ipv4 unicast",
                                   "no rt vpn import",
                                   f"rt vpn import {imports[second.name, vpn_a]}"))],
              fails={"vrf-route", "isolation"}, holds=SESSIONS | {"ping"}),
        # Option C's route reflectors must pass the PEs' next hops on unchanged.
        Fault("a route reflector that rewrites the next hop",
              [(rr.name, vtysh(f"router bgp {rr.bgp_asn}", "address-family ipv4 vpn",
                               f"no neighbor {rr_peer.address} attribute-unchanged next-hop"))],
              [(rr.name, vtysh(f"router bgp {rr.bgp_asn}", "address-family ipv4 vpn",
                               f"neighbor {rr_peer.address} attribute-unchanged next-hop"))],
              fails={"vpnv4-route", "ping"}, holds=SESSIONS),
        # The second PE's loopback, the next hop of its VPN routes, leaves labelled unicast.
        Fault("a loopback no longer carried in labelled unicast",
              [(second.name, vtysh(f"router bgp {second.bgp_asn}",
                                   "address-family ipv4 unicast", f"no network {loopback}"))],
              [(second.name, vtysh(f"router bgp {second.bgp_asn}",
                                   "address-family ipv4 unicast", f"network {loopback}"))],
              fails={"label-chain", "ping"}, holds={"igp-adjacency", "ldp-session"}),
        # LDP off on one core link: the IGP still carries the loopbacks, no LSP does.
        Fault("LDP off on one core link",
              [(p.name, vtysh("mpls ldp", "address-family ipv4", f"no interface {towards_pe}"))],
              [(p.name, vtysh("mpls ldp", "address-family ipv4", f"interface {towards_pe}"))],
              fails={"ldp-session", "ping"}, holds={"igp-adjacency", "bgp-session"}),
    ]


def test_faults_on_option3_fail_what_they_break_and_nothing_else(option3, tmp_path):
    model, runtime = option3  # converged (conftest.py); its full verify: test_option3.py
    seen = {}
    for fault in faults(model, runtime):
        seen[fault.name] = inject(model, runtime, fault)
    print(json.dumps({name: {k: sorted(v) for k, v in failed.items()}
                      for name, failed in seen.items()}, indent=1))
    verify_all("option3", tmp_path)


def test_the_option3_slide_exercise_is_not_yet_then_solved(option3, tmp_path):
    """Option 3's own exercise: the ASBR hands its PE the far loopbacks without setting
    itself as next hop (tests/e2e/slides.py)."""
    model, _ = option3
    slide_exercise("option3", model, tmp_path)
