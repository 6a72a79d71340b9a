"""Option 1 (A): the PE-ASBR to PE-ASBR link may use any supported PE-CE protocol; every
variant passes the same verification."""

from __future__ import annotations

import pytest
from labkit import running_lab, verify_all

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("variant", ["ospf", "rip", "static"])
def test_every_inter_as_protocol_variant_verifies(variant, tmp_path):
    with running_lab("option1", variant):
        assert verify_all("option1", tmp_path)["variant"] == variant
