"""Option 1 (A): the PE-ASBR to PE-ASBR link may use any supported PE-CE protocol; every
variant passes the same verification."""

from __future__ import annotations

import json

import pytest
from labkit import mplslab, running_lab

CONVERGE = 180
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("variant", ["ospf", "rip", "static"])
def test_every_inter_as_protocol_variant_verifies(variant, tmp_path):
    with running_lab("option1", variant):
        report_path = tmp_path / "r.json"
        mplslab("verify", "option1", "--json", str(report_path), "--deadline", str(CONVERGE))
        report = json.loads(report_path.read_text())
        assert report["passed"] and report["variant"] == variant
