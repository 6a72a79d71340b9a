"""A class on one machine: two trainee copies of the mini lab side by side in the one
micro-VM (`mplslab class up`), both verified in one `class check`, and `class down` leaves
nothing of either."""

from __future__ import annotations

import json

import pytest
from labkit import CONVERGE, E2E_LABS, assert_nothing_left, mplslab

from emulator.classroom.copies import ClassRecord
from emulator.runtime.state import LabState
from emulator.runtime.vm_shared import class_user, vm_users

MINI = str(E2E_LABS / "mini.yml")
COPIES = ["mini-t1", "mini-t2"]
# Its own group: the copies' names are not mini's, and the VM has room for both beside
# another lab (conftest starts it with 3G; two copies of mini need ~400 MiB).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("class-mini")]


def test_a_class_of_two_comes_up_passes_check_and_leaves_nothing(tmp_path):
    states: dict[str, LabState] = {}
    try:
        up = mplslab("class", "up", MINI, "--trainees", "2")
        assert "trainee 2/2: mini-t2" in up.stdout and "class mini is up" in up.stdout
        assert ClassRecord.load("mini").trainees == COPIES
        states = {name: LabState.load(name) for name in COPIES}
        if states["mini-t1"].runtime in ("vm", "clab-vm"):
            assert class_user("mini") in vm_users()
        # Each trainee reaches their own copy with the usual commands.
        answer = mplslab("exec", "mini-t2", "PE-A", "--", "vtysh", "-c",
                         "show bgp summary json")
        assert '"ipv4Vpn"' in answer.stdout
        status = mplslab("status", "mini-t1", "--json")
        assert '"P"' in status.stdout and "ldpd" in status.stdout
        report_path, junit_path = tmp_path / "class.json", tmp_path / "class.xml"
        check = mplslab("class", "check", "mini", "--deadline", str(CONVERGE), "--json",
                        str(report_path), "--junit", str(junit_path))
        assert "2 of 2 trainees' copies pass" in check.stdout
        report = json.loads(report_path.read_text())
        assert report["passed"] is True
        assert [(t["lab"], t["verdict"], t["checks_failed"]) for t in report["trainees"]] \
            == [("mini-t1", "passed", 0), ("mini-t2", "passed", 0)]
        assert all(t["checks_passed"] > 0 for t in report["trainees"])
        assert junit_path.read_text().count("<testsuite ") == 2
    finally:
        if ClassRecord.exists("mini"):
            mplslab("class", "down", "mini", check=False)
    assert not ClassRecord.exists("mini")
    assert class_user("mini") not in vm_users()
    for name in COPIES:
        assert_nothing_left(name, states.get(name))
