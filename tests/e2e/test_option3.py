"""Option 3 (C) on live routers: VPNv4 between the route reflectors with next hop and label
unchanged, labelled loopbacks between the ASBRs, [LU, VPN] across the inter-AS link.

Run as a user who installed the wheel runs it (issue 18): the `mplslab` console script of the
wheel built from this checkout and installed into a fresh virtual environment, from a folder
outside the checkout, with its own state folder, hence its own micro-VM, which its `down`
powers off."""

from __future__ import annotations

import json

import pytest
from labkit import CONVERGE, check_live_walk
from wheelkit import wheel_run

from emulator.runtime.vm_processes import owned_pids
from emulator.verify.checks import CARRIER_KINDS, KINDS

pytestmark = [pytest.mark.e2e, pytest.mark.wheel, pytest.mark.xdist_group("wheel")]


def test_option3_from_the_installed_wheel_verifies_with_next_hop_and_label_unchanged(
        installed_wheel, tmp_path):
    state = installed_wheel["state"]
    report_path = tmp_path / "option3.json"
    try:
        up = wheel_run(installed_wheel, "up", "option3", timeout=900)
        assert "option3 is up" in up.stdout
        assert "booting the micro-VM" in up.stdout  # its own, not the session's
        wheel_run(installed_wheel, "verify", "option3", "--json", str(report_path),
                  "--deadline", str(CONVERGE), timeout=900, check=False)
        told = json.loads(wheel_run(installed_wheel, "explain", "option3", "152.12.4.1",
                                    "--json", timeout=600, check=False).stdout or "{}")
    finally:
        down = wheel_run(installed_wheel, "down", "option3", timeout=300, check=False)
    report = json.loads(report_path.read_text())
    failed = [f"{c['kind']} {c['name']}: expected {c['expected']}, observed {c['observed']}"
              for c in report["checks"] if not c["passed"]]
    assert report["passed"] and not failed, "\n".join(failed)
    assert {c["kind"] for c in report["checks"]} == set(KINDS) - set(CARRIER_KINDS)
    # The slide's walk, live: PE-1's label all the way, three labels leaving PE-2.
    check_live_walk(told)
    assert {h["label_from"] for h in told["holders"]} == {"PE-1"}
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
    # Teardown is total: the lab's folder, and the VM of the installed mplslab's own.
    assert down.returncode == 0 and "option3 is down" in down.stdout, down.stderr
    assert not (state / "option3").exists()
    assert not owned_pids(f"MPLSLAB_VM={state.resolve()}/_vm")
