"""Option 1 (A) on live routers: the verifier passes, then fails exactly where the lab is
broken on purpose (a verifier that cannot fail is worse than none)."""

from __future__ import annotations

import json

import pytest
from labkit import (
    CONVERGE,
    assert_live_walk,
    failing,
    mplslab,
    running_lab,
    verify_all,
    wait_until_failing,
)
from slides import slide_exercise

from emulator.suites import frr
from emulator.suites.contract import Question
from emulator.verify.families import derive
from emulator.verify.runner import run_checks

# Seconds a check may retry once the break has shown (wait_until_failing): what follows
# from it (withdrawals, a label chain, a ping) within seconds.
BROKEN = 10
BGP_HOLD = 30  # timers bgp 10 30 in the templates
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option1")]


@pytest.fixture(scope="module")
def option1():
    with running_lab("option1") as lab:
        yield lab


def test_verify_passes_with_every_kind(option1, tmp_path):
    report = verify_all("option1", tmp_path)
    assert all(set(c) >= {"name", "kind", "node", "passed", "expected", "observed", "seconds"}
               for c in report["checks"])
    wire = {c["name"]: c["observed"] for c in report["checks"] if c["kind"] == "wire-labels"}
    # The slide's walkthrough: CE-3 to 152.12.4.1, plain IP between the PE-ASBRs.
    path = wire["CE-3 → 152.12.4.1 (VPN-B)"]
    assert path["PE-ASBR-2→PE-ASBR-1"].startswith("0 ")
    assert path["PE-2→P-2"].startswith("2 ") and path["P-1→PE-1"].startswith("1 ")
    junit = (tmp_path / "option1.xml").read_text()
    assert junit.count("<testcase") == len(report["checks"]) and "<failure" not in junit
    # The slide's walk, live: each AS allocates its own label for the prefix.
    told = assert_live_walk("option1", "152.12.4.1")
    assert {h["label_from"] for h in told["holders"]} == {"PE-1", "PE-ASBR-2"}


def test_exec_answers_from_the_live_router(option1):
    answer = mplslab("exec", "option1", "PE-1", "--", "vtysh", "-c", "show bgp summary json")
    assert json.loads(answer.stdout)["ipv4Vpn"]["peers"]["10.1.0.3"]["state"] == "Established"


def test_the_socket_reader_answers_as_vtysh_does(option1):
    """The verifier reads FRR through the daemons' vty sockets (frr_vty.py), many routers in
    one process: its answers are vtysh's, on every daemon it asks."""
    _, runtime = option1
    commands = ["show bgp vrf all summary json", "show mpls ldp neighbor json",
                "show ip ospf neighbor json", "show mpls table json"]
    questions = {node: [Question(frr.NAME, (c,)) for c in commands] for node in ("PE-1", "P-1")}
    read = runtime.read_many(questions)
    for node, asked in questions.items():
        for question, answer in zip(asked, read[node], strict=True):
            told = runtime.exec(node, frr.question_argv(question))
            assert answer.returncode == told.returncode, (question, answer, told)
            if told.returncode == 0:  # (P-1 runs no bgpd: both fail)
                assert json.loads(answer.stdout).keys() == json.loads(told.stdout).keys(), \
                    question
    nonsense = Question(frr.NAME, ("show bgp nonsense json",))
    unknown = runtime.read_many({"PE-1": [nonsense]})["PE-1"][0]
    assert unknown.returncode == 1


def test_the_slide_exercise_is_not_yet_then_solved(option1, tmp_path):
    """Option 1's own exercise (a PE-ASBR stops exporting its VRF's routes into its AS's
    VPNv4: back-to-back VRFs are the only way across): the other AS's PEs lose exactly that
    VPN's routes. (The generic rt-import exercise is unit-tested and in bench/exercises.py.)"""
    model, _ = option1
    slide_exercise("option1", model, tmp_path)


def test_shut_core_link_fails_as1_and_everything_across_it(option1):
    model, runtime = option1
    runtime.exec("P-1", ["ip", "link", "set", "eth2", "down"])
    try:
        # PE-1's iBGP session to PE-ASBR-1 crosses the link: down when its hold timer ends.
        wait_until_failing(model, runtime, {"PE-1 → PE-ASBR-1 (as1-vpnv4)"}, BGP_HOLD + 30)
        report = run_checks(model, runtime, deadline=BROKEN)
        failed = failing(report)
        must_fail = {
            "P-1 → PE-ASBR-1 OSPF on eth2", "PE-ASBR-1 → P-1 OSPF on eth1",
            "P-1 → PE-ASBR-1 LDP on eth2", "PE-ASBR-1 → P-1 LDP on eth1",
            "PE-1 → PE-ASBR-1 (as1-vpnv4)", "PE-ASBR-1 → PE-1 (as1-vpnv4)",
            "CE-3 (VPN-B-2) → CE-2 (VPN-B-1)", "CE-4 (VPN-A-2) → CE-1 (VPN-A-1)",
            "CE-3 → 152.12.4.1 (VPN-B)",
        }
        assert must_fail <= failed, must_fail - failed
        # AS #2's core, the PE-CE sessions, the back-to-back VRF sessions and isolation
        # are untouched.
        for result in report.results:
            if result.kind in ("ldp-session", "igp-adjacency") and "P-1" not in result.name:
                assert result.passed, result.name
            if result.kind == "bgp-session" and "as1-vpnv4" not in result.name:
                assert result.passed, result.name
            if result.kind == "isolation":
                assert result.passed, result.name
    finally:
        runtime.exec("P-1", ["ip", "link", "set", "eth2", "up"])
    assert run_checks(model, runtime, deadline=CONVERGE).passed


def test_stopped_bgpd_on_an_asbr_fails_its_sessions_and_routes(option1):
    model, runtime = option1
    result = runtime.exec("PE-ASBR-2", ["sh", "-c", "kill $(cat /run/frr/option1_PE-ASBR-2/"
                                                    "bgpd.pid)"])
    assert result.returncode == 0, result.stderr
    sessions = {c.name for c in derive(model) if c.kind == "bgp-session"}
    wait_until_failing(model, runtime, {s for s in sessions if "PE-ASBR-2" in s}, BGP_HOLD + 30)
    report = run_checks(model, runtime, deadline=BROKEN)
    failed = failing(report)
    assert sessions == {r.name for r in report.results if r.kind == "bgp-session"}
    asbr_sessions = {s for s in sessions if "PE-ASBR-2" in s}
    assert asbr_sessions <= failed, asbr_sessions - failed
    assert not (sessions - asbr_sessions) & failed
    assert "PE-2: 1:27:152.12.4.0/24" in failed  # learned through PE-ASBR-2
    assert "PE-1: 1:27:152.12.4.0/24" not in failed  # PE-1's own export
    for result in report.results:
        if result.kind in ("ldp-session", "igp-adjacency", "isolation"):
            assert result.passed, result.name
