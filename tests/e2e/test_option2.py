"""Option 2 (B) on live routers: MP-eBGP VPNv4 between the PE-ASBRs, next hop and label
rewritten at each PE-ASBR, one label across the inter-AS link."""

from __future__ import annotations

import json

import pytest
from labkit import mplslab, running_lab

from emulator.verify.checks import KINDS

CONVERGE = 180
pytestmark = pytest.mark.e2e


def test_option2_verifies_and_rewrites_labels(tmp_path):
    with running_lab("option2"):
        path = tmp_path / "r.json"
        mplslab("verify", "option2", "--json", str(path), "--deadline", str(CONVERGE))
        report = json.loads(path.read_text())
        assert report["passed"]
        assert {c["kind"] for c in report["checks"]} == set(KINDS)
        checks = {c["name"]: c for c in report["checks"]}
        # PE-ASBR-2 holds the route with PE-ASBR-1's link address as next hop: rewritten.
        assert checks["PE-ASBR-2: 1:27:152.12.4.0/24"]["observed"]["next_hop"] == "10.255.0.1"
        assert checks["PE-2: 1:27:152.12.4.0/24"]["observed"]["next_hop"] == "10.2.0.1"
        # Each PE-ASBR has an installed swap from the label it advertised to the one it got.
        swap = checks["PE-ASBR-1: VPN label of 152.12.4.0/24 swaps towards PE-1"]["observed"]
        assert swap["in"] != swap["received"] or "installed=True" in swap["frr"]
        wire = checks["CE-3 → 152.12.4.1 (VPN-B)"]["observed"]
        assert wire["PE-ASBR-2→PE-ASBR-1"].startswith("1 ")
