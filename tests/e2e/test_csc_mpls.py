"""Carrier supporting carrier, the customer ISP running MPLS, on live routers: BIRD on the
backbone's PEs (BGP), FRR everywhere else. The backbone carries the ISP's loopbacks as VPNv4
routes and never its external network N; a packet from a host behind ASBR-2 to N is label
switched from ASBR-2 to CSC-CE-1; a second ISP with the same addresses stays apart. Run in
the `scale` variant (the lab plus 2000 external routes behind ASBR-1): the ISP's table
grows, the backbone's VRFs do not."""

from __future__ import annotations

import pytest
from labkit import run_exercise, running_lab, verify_all

pytestmark = pytest.mark.e2e


def test_csc_mpls_label_switches_site_to_site_and_keeps_n_out_of_the_backbone(tmp_path):
    with running_lab("csc-mpls", "scale") as (model, _):
        report = verify_all("csc-mpls", tmp_path)
        assert report["variant"] == "scale"
        checks = {c["name"]: c for c in report["checks"]}
        # The scaling point: all 2000 external routes at site 2, none in the backbone (in
        # its default tables or its VRFs, which hold the ISP's four loopbacks).
        table = "ASBR-1's 2000 external routes"
        assert checks[f"ASBR-2 holds {table} (100.64.0.0/10)"]["observed"] == {
            "routes within 100.64.0.0/10": 2000}
        for router in ("PE-1", "P-1", "PE-2"):
            assert set(checks[f"{router} holds none of {table}"]["observed"].values()) == {0}
        assert checks["PE-1 VRF ISP-1 holds the carrier's internal routes only"]["passed"]
        # ASBR-1's loopback (the BGP next hop of N) as a VPNv4 route: exported by PE-1 with
        # a label of its own, held by PE-2 with next hop PE-1 and that label.
        asbr1 = str(model.node("ASBR-1").loopback.network)
        origin = checks[f"PE-1: 1:100:{asbr1}"]["observed"]
        remote = checks[f"PE-2: 1:100:{asbr1}"]["observed"]
        assert remote["next_hop"] == str(model.node("PE-1").loopback.ip)
        assert remote["label"] == origin["label"]
        # N never enters the backbone: not in the VRFs, not on any backbone router.
        for router in ("PE-1", "P-1", "PE-2"):
            assert checks[f"{router} holds no route to 198.51.100.0/24 (external to 100)"][
                "passed"]
        assert checks["ASBR-2 holds 198.51.100.0/24 from ASBR-1"]["passed"]
        # The slide's walk from a host behind ASBR-2 to N: labels on both attachment links
        # (the CSC-CEs' and the PE's), [LDP, VPN] then the VPN label in the backbone.
        wire = checks["ASBR-2 → 198.51.100.1 (N behind ASBR-1)"]["observed"]
        depths = {link: int(stack.split()[0]) for link, stack in wire.items()}
        assert depths == {"ASBR-2→CSC-CE-2": 1, "CSC-CE-2→PE-2": 1, "PE-2→P-1": 2,
                          "P-1→PE-1": 1, "PE-1→CSC-CE-1": 1, "CSC-CE-1→ASBR-1": 0}
        # The second ISP reuses 198.51.100.0/24 and ASBR-1's loopback: it reaches its own.
        assert checks["CSC-CE-4 (192.0.2.0/24) → CSC-CE-3 (198.51.100.0/24)"]["passed"]
        assert checks["CSC-CE-4 (AS 200) ↛ ASBR-2 (AS 100) 203.0.113.1"]["passed"]
        # The sites share AS 100: without allowas-in, CSC-CE-2 drops the other site's
        # loopbacks (its own AS in the path) although every session stays up.
        failed = run_exercise("csc-mpls", "allowas-in", tmp_path)
        assert "ASBR-2 (203.0.113.0/24) → ASBR-1 (198.51.100.0/24)" in failed
        assert not [name for name in failed if "CSC-CE-3" in name or "CSC-CE-4" in name]
