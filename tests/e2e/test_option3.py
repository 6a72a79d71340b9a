"""Option 3 (C) on live routers: VPNv4 between the route reflectors with next hop and label
unchanged, labelled loopbacks between the ASBRs, [LU, VPN] across the inter-AS link."""

from __future__ import annotations

import pytest
from labkit import running_lab, verify_all

pytestmark = pytest.mark.e2e


def test_option3_verifies_with_next_hop_and_label_unchanged(tmp_path):
    with running_lab("option3"):
        report = verify_all("option3", tmp_path)
        checks = {c["name"]: c for c in report["checks"]}
        # The slide's three identical "VPN-v4 update" boxes: PE-1's next hop and label.
        seen = [checks[f"{router}: 1:27:152.12.4.0/24"]["observed"]
                for router in ("PE-1", "RR-1", "RR-2", "PE-2")]
        assert {s["label"] for s in seen} == {seen[0]["label"]}
        assert [s["next_hop"] for s in seen[1:]] == ["10.1.0.1"] * 3
        wire = checks["CE-3 → 152.12.4.1 (VPN-B)"]["observed"]
        assert wire["PE-2→P-2"].startswith("3 ")
        assert wire["ASBR-2→ASBR-1"].startswith("2 ")
        for asbr in ("ASBR-1", "ASBR-2"):
            assert checks[f"{asbr} holds no route to 152.12.4.0/24"]["passed"]
