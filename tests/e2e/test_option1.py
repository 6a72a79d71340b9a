"""Option 1 (A) on live routers: the verifier passes, then fails exactly where the lab is
broken on purpose (a verifier that cannot fail is worse than none)."""

from __future__ import annotations

import json
from pathlib import Path

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

from emulator.runtime.state import LabState
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


def test_reset_puts_every_router_back_and_ends_the_exercise(option1, tmp_path):
    """The trainer's "start again": an exercise that changes the kernel runs (vlan-vrf binds
    PE-ASBR-1's VLAN of VPN-A to VRF VPN-B) and a trainee typed an unrelated change into
    PE-1; `mplslab reset` takes both off without redeploying (the daemons keep their
    processes), ends the exercise and verifies."""
    _, runtime = option1
    typed = "ip prefix-list TRAINEE seq 5 permit 10.99.0.0/24"
    mplslab("exercise", "start", "option1", "vlan-vrf")
    mplslab("exec", "option1", "PE-1", "--", "vtysh", "-c", "configure terminal", "-c", typed)
    assert typed in running_config(runtime, "PE-1")
    assert master(runtime, "PE-ASBR-1", "eth2.101") == "VPN-B"
    daemons = {node: pids(runtime, node) for node in ("PE-1", "PE-ASBR-1")}
    report = tmp_path / "reset.json"
    reset = mplslab("reset", "option1", "--deadline", str(CONVERGE), "--json", str(report))
    assert "option1 is reset" in reset.stdout and "exercise vlan-vrf ended" in reset.stdout
    assert json.loads(report.read_text())["passed"]
    assert typed not in running_config(runtime, "PE-1")
    assert master(runtime, "PE-ASBR-1", "eth2.101") == "VPN-A"
    assert {node: pids(runtime, node) for node in daemons} == daemons
    # Nothing is left for FRR's reload to change on either router: the reset's target is
    # the configuration the routers hold once deployed.
    rendered = Path(LabState.load("option1").rendered)
    for node in daemons:
        [suite] = json.loads((rendered / node / "setup.json").read_text())["suites"]
        [reload] = frr.reset_argvs(f"option1_{node}", rendered / node / suite["deployed"])
        delta = runtime.exec(node, [a if a != "--reload" else "--test" for a in reload])
        assert delta.returncode == 0, delta.stderr
        assert not reload_delta(delta.stdout), delta.stdout
    check = mplslab("exercise", "check", "option1", check=False)
    assert check.returncode == 2 and "no exercise is running" in check.stderr


# Lines frr-reload re-types on every reload, seen on FRR 10.3 in the VM: a router's running
# configuration shows the host's name (the guest's, `virtme-ng`) rather than the rendered
# `hostname`, and `service integrated-vtysh-config` is vtysh's own line. Harmless to retype.
RETYPED = {"hostname", "no hostname", "service integrated-vtysh-config"}


def reload_delta(text: str) -> list[str]:
    """The lines frr-reload --test would delete or add, but for RETYPED."""
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith(("Lines To", "===="))]
    return [line for line in lines
            if line not in RETYPED and " ".join(line.split()[:2]) not in RETYPED
            and line.split()[0] not in RETYPED]


def running_config(runtime, node: str) -> str:
    shown = runtime.exec(node, ["vtysh", "-c", "show running-config"])
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def master(runtime, node: str, interface: str) -> str | None:
    link = runtime.exec(node, ["ip", "-j", "link", "show", "dev", interface])
    return json.loads(link.stdout)[0].get("master")


def pids(runtime, node: str) -> str:
    """The router's daemons and their process ids (from their pid files)."""
    listed = runtime.exec(node, ["sh", "-c", f"grep -H . /run/frr/option1_{node}/*.pid"])
    assert listed.returncode == 0 and listed.stdout, listed.stderr
    return listed.stdout


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
