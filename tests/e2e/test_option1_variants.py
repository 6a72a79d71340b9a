"""Option 1 (A): the PE-ASBR to PE-ASBR link may use any supported PE-CE protocol; every
variant passes the same verification."""

from __future__ import annotations

import pytest
from labkit import run_exercise, running_lab, verify_all

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option1")]


# RIP is left out of the end-to-end run to keep CI inside its time (OSPF covers an IGP
# redistributed into and out of BGP); its configuration goes through FRR's parser in the
# unit tests like every variant's.
@pytest.mark.parametrize("variant", ["ospf", "static"])
def test_every_inter_as_protocol_variant_verifies(variant, tmp_path):
    with running_lab("option1", variant):
        assert verify_all("option1", tmp_path)["variant"] == variant
        if variant == "static":
            # No session crosses the boundary: the exercise shuts VPN-A's inter-AS link.
            failed = run_exercise("option1", "inter-as-link", tmp_path)
            assert "CE-1 (VPN-A-1) → CE-4 (VPN-A-2)" in failed
            assert "CE-2 (VPN-B-1) → CE-3 (VPN-B-2)" not in failed
