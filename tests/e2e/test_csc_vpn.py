"""Carrier supporting carrier, the customer ISP running its own MPLS VPN, on live routers:
hierarchical VPNs. The ISP's PEs exchange VPNv4 for their customer's network N across the
backbone, which carries only the ISP's loopbacks; three labels in the backbone core."""

from __future__ import annotations

import pytest
from labkit import run_exercise, running_lab, verify_all

pytestmark = pytest.mark.e2e


def test_csc_vpn_carries_the_isps_vpn_label_under_the_backbones(tmp_path):
    with running_lab("csc-vpn") as (model, _):
        report = verify_all("csc-vpn", tmp_path)
        checks = {c["name"]: c for c in report["checks"]}
        # The ISP's VPNv4 route for N: I-PE2 holds it with next hop I-PE1 and I-PE1's label.
        origin = checks["I-PE1: 100:1:198.51.100.0/24"]["observed"]
        remote = checks["I-PE2: 100:1:198.51.100.0/24"]["observed"]
        assert remote["next_hop"] == str(model.node("I-PE1").loopback.ip)
        assert remote["label"] == origin["label"]
        # The backbone and the CSC-CEs never learn N.
        for router in ("PE-1", "P-1", "PE-2", "CSC-CE-1", "CSC-CE-2"):
            assert checks[f"{router} holds no route to 198.51.100.0/24"]["passed"]
        # The slide's walk: the ISP's VPN label at the bottom everywhere, three labels in
        # the backbone core (LDP, the backbone's VPN label, the ISP's VPN label).
        wire = checks["CE-N2 → 198.51.100.1 (VPN-N)"]["observed"]
        stacks = {link: stack.split(" ", 1) for link, stack in wire.items()}
        assert {link: int(depth) for link, (depth, _) in stacks.items()} == {
            "I-PE2→CSC-CE-2": 2, "CSC-CE-2→PE-2": 2, "PE-2→P-1": 3, "P-1→PE-1": 2,
            "PE-1→CSC-CE-1": 2, "CSC-CE-1→I-PE1": 1}
        bottoms = {stack.strip("[]").split(", ")[-1] for _, stack in stacks.values()}
        assert bottoms == {str(origin["label"])}
        # Label spoofing: each PE drops the labels it did not advertise to the CE that
        # pushes them (the spoofed echo requests never leave the backbone)...
        spoofing = {c["name"]: c for c in report["checks"] if c["kind"] == "label-spoofing"}
        assert len(spoofing) == 3 and all(c["passed"] for c in spoofing.values())
        attack = "CSC-CE-3 (AS 200) cannot push CSC-CE-1's label for 10.2.0.3/32 into PE-1"
        assert spoofing[attack]["observed"]["PE-2→CSC-CE-2"] == "no echo request"
        assert spoofing[attack]["observed"]["PE-1's label guard on eth3"].startswith("on, ")
        # ...and with PE-1's guard off, the second ISP's CSC-CE-3 reaches into the first
        # ISP's site 2 with a label PE-1 gave CSC-CE-1; nothing else changes.
        assert run_exercise("csc-vpn", "label-spoofing", tmp_path) == {attack}
