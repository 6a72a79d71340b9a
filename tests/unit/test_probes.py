"""Every check of a lab against what real FRR 10.3 routers answered, without a VM.

tests/unit/fixtures/<lab>.json holds the answers of a live, converged lab to every question
`mplslab verify` asks (scripts/record_fixtures.py refreshes them). Replayed through a
stand-in runtime, every check passes; altered the way a broken router would answer (a
session down, a label missing, another next hop, a leaked route, a different label stack on
the wire), exactly the checks that depend on that answer fail.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from emulator import suites
from emulator.model.topology import Lab
from emulator.runtime.base import ExecResult, Tap
from emulator.suites import frr_probes
from emulator.suites.contract import Question
from emulator.suites.records import ProbeError
from emulator.verify.runner import run_checks

FIXTURES = Path(__file__).parent / "fixtures"


class ReplayRuntime:
    """Answers each question with what the live router answered; an unknown question gets
    the error a router without that daemon would give."""

    def __init__(self, recording: dict):
        self.answers = recording["exec"]
        self.captures = recording["capture"]

    def gone(self) -> None:
        return None

    def ask(self, node: str, question: Question) -> ExecResult:
        return self.exec(node, suites.question_argv(question))

    def read_many(self, questions: dict[str, list[Question]]) -> dict[str, list[ExecResult]]:
        return {node: [self.ask(node, question) for question in asked]
                for node, asked in questions.items()}

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        answer = self.answers.get(json.dumps([node, *argv]))
        if answer is None:
            return ExecResult(1, "", f"no recorded answer for {node}: {argv}")
        return ExecResult(answer["returncode"], answer["stdout"], answer["stderr"])

    def capture(self, taps: list[Tap], node: str, argv: list[str], **kwargs) -> list[str]:
        key = json.dumps([node, *argv, "taps", *[f"{t.node}:{t.interface}" for t in taps]])
        return self.captures[key]


def load(lab: str) -> tuple[Lab, dict]:
    recording = json.loads((FIXTURES / f"{lab}.json").read_text())
    return Lab.model_validate(recording["model"]), recording


def replay(model: Lab, recording: dict):
    report = run_checks(model, ReplayRuntime(recording), deadline=0)
    return report, {r.name for r in report.results if not r.passed}


def answer_key(recording: dict, node: str, command: str) -> str:
    keys = [k for k in recording["exec"] if json.loads(k)[0] == node and command in k]
    assert len(keys) == 1, (node, command, keys)
    return keys[0]


def edit_json(recording: dict, node: str, command: str, change) -> dict:
    altered = copy.deepcopy(recording)
    key = answer_key(altered, node, command)
    data = json.loads(altered["exec"][key]["stdout"])
    change(data)
    altered["exec"][key]["stdout"] = json.dumps(data)
    return altered


def test_every_check_passes_on_what_the_live_routers_answered():
    model, recording = load("option3")
    report, failed = replay(model, recording)
    assert not failed
    assert {r.kind for r in report.results} >= {"bgp-session", "ldp-session", "igp-adjacency",
                                                "vpnv4-route", "vrf-route", "mpls-lfib",
                                                "label-chain", "ping", "isolation",
                                                "wire-labels", "label-steady"}


def test_a_session_down_fails_that_session_only():
    model, recording = load("option3")

    def down(data):
        data["default"]["ipv4Vpn"]["peers"]["10.2.0.1"]["state"] = "Active"
    _, failed = replay(model, edit_json(recording, "RR-1", "show bgp vrf all summary", down))
    assert failed == {"RR-1 → RR-2 (rr-vpnv4)"}


def test_another_next_hop_fails_that_route():
    model, recording = load("option3")

    def moved(data):
        for path in data["1:27"]["paths"]:
            path["nexthops"][0]["ip"] = "10.2.0.1"
    altered = edit_json(recording, "PE-2", "show bgp ipv4 vpn 152.12.4.0/24", moved)
    _, failed = replay(model, altered)
    assert "PE-2: 1:27:152.12.4.0/24" in failed
    assert all("152.12.4.0/24" in name or "CE-3" in name or "CE-2" in name for name in failed)


def test_a_missing_lfib_entry_fails_the_chain_through_it():
    model, recording = load("option3")
    lu = json.loads(recording["exec"][answer_key(
        recording, "ASBR-2", "show bgp ipv4 labeled-unicast 10.1.0.1/32")]["stdout"])
    label = next(p["remoteLabel"] for p in lu["paths"] if p["bestpath"]["overall"])
    # PE-2 pushes ASBR-2's label for PE-1's loopback: ASBR-2 holds ASBR-1's label L2. Take
    # ASBR-1's entry for L2 away.
    altered = edit_json(recording, "ASBR-1", "show mpls table", lambda d: d.pop(str(label)))
    _, failed = replay(model, altered)
    assert failed and all("10.1.0.1/32" in name for name in failed), failed
    assert "10.1.0.1/32: ASBR-2 pushes ASBR-1's LU label" in failed
    assert "still: 10.1.0.1/32: ASBR-2 pushes ASBR-1's LU label" in failed


def test_a_leaked_route_fails_isolation_of_the_vrf():
    model, recording = load("option3")

    def leak(data):
        data["149.27.2.0/24"] = [{"installed": True, "protocol": "bgp"}]
    _, failed = replay(model, edit_json(recording, "PE-2", "show ip route vrf VPN-B", leak))
    assert failed == {"PE-2 VRF VPN-B"}


@pytest.mark.parametrize("depth", [1, 3])
def test_another_stack_depth_on_the_wire_fails_the_capture(depth):
    model, recording = load("option3")
    altered = copy.deepcopy(recording)
    key = next(k for k in altered["capture"] if "152.12.4.1" in k)
    sections = altered["capture"][key]
    taps = json.loads(key)[json.loads(key).index("taps") + 1:]
    inter_as = next(i for i, tap in enumerate(taps) if tap.startswith("ASBR-2:"))
    labels = ", ".join(f"(label {100 + i}" for i in range(depth))
    sections[inter_as] = "\n".join(
        f"{line.split(' MPLS')[0]} MPLS {labels} IP 152.12.5.1 > 152.12.4.1: ICMP echo request"
        for line in sections[inter_as].splitlines() if "echo request" in line)
    _, failed = replay(model, altered)
    assert failed == {"CE-3 → 152.12.4.1 (VPN-B)"}


def test_a_ping_that_cannot_run_proves_no_isolation():
    model, recording = load("option3")
    altered = copy.deepcopy(recording)
    for key, answer in altered["exec"].items():
        if json.loads(key)[1] == "ping" and answer["returncode"] == 1:
            answer.update(returncode=255, stdout="", stderr="ssh: Connection refused")
    report, failed = replay(model, altered)
    isolation = {r.name for r in report.results if r.kind == "isolation"}
    assert isolation and isolation <= failed


# -- the FRR probes' records, read from the same recording ---------------------------------
def test_frr_answers_become_neutral_records():
    _, recording = load("option3")
    router = ReplayRuntime(recording)
    sessions = {(s.vrf, s.family, s.peer): s for s in frr_probes.bgp_sessions(router, "RR-1")}
    assert sessions[("default", "ipv4-vpn", "10.2.0.1")].established
    routes = frr_probes.vpn_routes(router, "PE-2", "152.12.4.0/24")
    route = routes["1:27"]
    assert route.next_hop == "10.1.0.1" and route.route_targets == ("1:222",)
    assert isinstance(route.label, int) and route.as_path[:1] == ("1",)
    origin = frr_probes.vpn_routes(router, "PE-1", "149.27.2.0/24")["1:27"]
    assert origin.exported_from == "VPN-A" and origin.self_next_hop
    table = frr_probes.lfib(router, "PE-1")
    pops = [e for e in table.values() if any(h.interface == "VPN-A" for h in e.hops)]
    assert pops and all(e.installed for e in pops)
    assert frr_probes.ldp_neighbors(router, "P-1") and set(
        frr_probes.ldp_neighbors(router, "P-1").values()) == {"OPERATIONAL"}
    assert frr_probes.labeled_unicast_prefixes(router, "ASBR-1") == [
        "10.1.0.1/32", "10.1.0.4/32", "10.2.0.1/32", "10.2.0.4/32"]


def test_a_router_that_does_not_answer_is_a_probe_error_naming_it():
    _, recording = load("option3")
    with pytest.raises(ProbeError, match="PE-9: `show mpls table json` failed"):
        frr_probes.lfib(ReplayRuntime(recording), "PE-9")


def test_each_protocol_is_asked_of_the_suite_that_speaks_it_on_that_node(monkeypatch):
    """A node whose BGP is another suite's (BIRD on a carrier PE) has its BGP questions put
    to that suite's probes and its LDP questions to FRR's; every other node's to FRR's."""
    model, recording = load("option3")
    pe2 = model.node("PE-2")
    pe2.suites["bgp"] = "bird"
    asked: list[tuple[str, str]] = []

    class OtherSuite:
        def __getattr__(self, question):
            def answer(router, node, *args, **kwargs):
                asked.append((node, question))
                return getattr(frr_probes, question)(router, node, *args, **kwargs)
            return answer

    monkeypatch.setitem(suites.PROBES, "bird", OtherSuite())
    _, failed = replay(model, recording)
    assert not failed
    assert asked and {node for node, _ in asked} == {"PE-2"}
    assert {q for _, q in asked} >= {"bgp_sessions", "vpn_routes", "ip_routes", "lfib"}
    assert "ldp_neighbors" not in {q for _, q in asked}
