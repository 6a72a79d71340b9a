"""Option 2 (B) on live routers: MP-eBGP VPNv4 between the PE-ASBRs, next hop and label
rewritten at each PE-ASBR, one label across the inter-AS link. (The variant without
next-hop-self runs as containers: tests/e2e/test_containerlab.py.)"""

from __future__ import annotations

import pytest
from labkit import (
    Fault,
    assert_live_walk,
    churn,
    inject,
    run_exercise,
    running_lab,
    verify_all,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option2")]


def test_option2_next_hop_self_rewrites_labels(tmp_path):
    with running_lab("option2", "next-hop-self") as (model, runtime):
        report = verify_all("option2", tmp_path)
        checks = {c["name"]: c for c in report["checks"]}
        # PE-ASBR-2 holds the route with PE-ASBR-1's link address as next hop: rewritten.
        assert checks["PE-ASBR-2: 1:27:152.12.4.0/24"]["observed"]["next_hop"] == "10.255.0.1"
        assert checks["PE-2: 1:27:152.12.4.0/24"]["observed"]["next_hop"] == "10.2.0.1"
        # PE-ASBR-1 swaps L2 onto [LDP label to PE-1, L1] in the kernel.
        swap = checks["PE-ASBR-1: VPN label of 152.12.4.0/24 swaps towards PE-1"]["observed"]
        assert "installed=True" in swap["frr"]
        assert swap["kernel"].endswith(f"/{swap['received']}"), swap
        wire = checks["CE-3 → 152.12.4.1 (VPN-B)"]["observed"]
        assert wire["PE-ASBR-2→PE-ASBR-1"].startswith("1 ")
        # The slide's walk, live: three allocators (PE-1, then each ASBR re-allocates).
        told = assert_live_walk("option2", "152.12.4.1")
        assert {h["label_from"] for h in told["holders"]} == {"PE-1", "PE-ASBR-1",
                                                               "PE-ASBR-2"}
        # The trainer's classic: PE-ASBR-1 without next-hop-self towards PE-1. PE-1 keeps
        # AS 2's routes, with PE-ASBR-2's link address as next hop, which AS 1 cannot reach.
        failed = run_exercise("option2", "next-hop-self", tmp_path)
        assert "PE-1: 1:27:152.12.5.0/24" in failed
        assert "CE-1 (VPN-A-1) → CE-4 (VPN-A-2)" in failed
        assert not any(name.startswith("PE-2:") for name in failed)  # AS 2 is untouched
        # A CE withdraws its prefix: the ASBRs free the labels they bound for it, no label
        # is left held for nothing; announced again, the chain is whole again.
        freed = churn(model, runtime, "CE-1")
        assert set(freed) == {"PE-ASBR-1", "PE-ASBR-2"}, freed
        # The inter-AS link stops taking labelled packets (the kernel's MPLS input off
        # behind FRR): every control-plane check holds, the VPNs across it do not. (`no
        # mpls bgp forwarding` there changes nothing observable on FRR 10.3: it only lets a
        # VRF import routes of a directly connected eBGP peer without a transport label.)
        asbr = next(n for n in model.nodes if n.role == "pe-asbr")
        inter_as = next(i for i in asbr.interfaces if i.scope == "inter-as" and not i.vrf)
        sysctl = f"net.mpls.conf.{inter_as.name}.input"
        inject(model, runtime, Fault(
            "MPLS input off on the inter-AS link",
            [(asbr.name, ["sysctl", "-qw", f"{sysctl}=0"])],
            [(asbr.name, ["sysctl", "-qw", f"{sysctl}=1"])],
            fails={"ping"}, holds={"bgp-session", "vpnv4-route", "label-chain", "mpls-lfib"}))
        verify_all("option2", tmp_path)
