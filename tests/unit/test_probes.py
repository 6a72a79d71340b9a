"""Every check of a lab against what real FRR 10.3 routers answered, without a VM.

tests/unit/fixtures/<lab>.json holds the answers of a live, converged lab to every question
`mplslab verify` asks (scripts/record_fixtures.py refreshes them). Replayed through a
stand-in runtime, every check passes; altered the way a broken router would answer (a
session down, a label missing, another next hop, a leaked route, a different label stack on
the wire), exactly the checks that depend on that answer fail.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest

from emulator import suites
from emulator.model.build import load_lab
from emulator.model.topology import Lab
from emulator.paths import labs_dir
from emulator.runtime.base import ExecResult, Tap
from emulator.suites import bird_probes, frr_probes
from emulator.suites.contract import Question
from emulator.suites.records import ProbeError
from emulator.verify.runner import run_checks

FIXTURES = Path(__file__).parent / "fixtures"


class ReplayRuntime:
    """Answers each question with what the live router answered; an unknown question gets
    the error a router without that daemon would give."""

    def __init__(self, recording: dict):
        self.answers = recording["exec"]
        self.series = {key: list(answers) for key, answers in recording.get("series", {}).items()}
        self.captures = recording["capture"]
        # Answers that change once the routers have been acted on (a ping): a router that
        # re-binds a label after convergence.
        self.after_acts = recording.get("after_acts", {})
        self.acted = False

    def gone(self) -> None:
        return None

    def ask(self, node: str, question: Question) -> ExecResult:
        if question.volatile:  # the recorded series in order, its last answer once spent
            answers = self.series.get(json.dumps([node, *suites.question_argv(question)]))
            if not answers:
                return ExecResult(1, "", f"no recorded answer for {node}: {question}")
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            return ExecResult(answer["returncode"], answer["stdout"], answer["stderr"])
        return self.exec(node, suites.question_argv(question))

    def read_many(self, questions: dict[str, list[Question]]) -> dict[str, list[ExecResult]]:
        return {node: [self.ask(node, question) for question in asked]
                for node, asked in questions.items()}

    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        key = json.dumps([node, *argv])
        if argv[:1] == ["ping"]:
            self.acted = True
        answer = (self.after_acts.get(key) if self.acted else None) or self.answers.get(key)
        if answer is None:
            return ExecResult(1, "", f"no recorded answer for {node}: {argv}")
        return ExecResult(answer["returncode"], answer["stdout"], answer["stderr"])

    def capture(self, taps: list[Tap], node: str, argv: list[str], **kwargs) -> list[str]:
        key = json.dumps([node, *argv, "taps", *[f"{t.node}:{t.interface}" for t in taps]])
        return self.captures[key]


def load(lab: str) -> tuple[Lab, dict]:
    recording = json.loads((FIXTURES / f"{lab}.json").read_text())
    return Lab.model_validate(recording["model"]), recording


@pytest.fixture(autouse=True)
def one_act_at_a_time(monkeypatch):
    """Checks that act run in turn, as when the fixtures were recorded: a counter's series
    of answers is replayed in its order."""
    from emulator.verify import runner
    monkeypatch.setattr(runner, "WORKERS", 1)


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
    # ... and the kernel still holds the label its suite no longer has: a leak.
    leak = "ASBR-1 holds no label for nothing"
    assert leak in failed and all("10.1.0.1/32" in name for name in failed - {leak}), failed
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
    assert frr_probes.ldp_neighbors(router, "P-1") and {
        n.state for n in frr_probes.ldp_neighbors(router, "P-1").values()} == {"OPERATIONAL"}
    assert {n.state for n in frr_probes.ospf_neighbors(router, "P-1", None).values()} == {
        "Full"}
    assert frr_probes.labeled_unicast_prefixes(router, "ASBR-1") == [
        "10.1.0.1/32", "10.1.0.4/32", "10.2.0.1/32", "10.2.0.4/32"]


def test_frr_records_carry_each_session_s_history():
    """How long a session or an adjacency has been up, and how often a BGP session came up
    (bench/soak.py's readings), from the recorded answers."""
    _, recording = load("option3")
    router = ReplayRuntime(recording)
    session = next(s for s in frr_probes.bgp_sessions(router, "RR-1")
                   if (s.vrf, s.family, s.peer) == ("default", "ipv4-vpn", "10.2.0.1"))
    # peerUptimeMsec 3000, connectionsEstablished 1; BIRD's time of day is not FRR's.
    assert (session.uptime, session.times_established, session.last_change) == (3.0, 1, None)
    ldp = frr_probes.ldp_neighbors(router, "P-1")["10.1.0.1"]
    assert (ldp.id, ldp.state, ldp.uptime) == ("10.1.0.1", "OPERATIONAL", 5)  # "00:00:05"
    ospf = frr_probes.ospf_neighbors(router, "P-1", None)["10.1.0.1"]
    assert (ospf.id, ospf.state, ospf.uptime) == ("10.1.0.1", "Full", 14.809)  # upTimeInMsec


@pytest.mark.parametrize(("uptime", "seconds"), [
    ("00:00:05", 5), ("23:59:59", 86399), ("2d03h04m", 2 * 86400 + 3 * 3600 + 4 * 60),
    ("01w2d03h", 7 * 86400 + 2 * 86400 + 3 * 3600)])
def test_ldpd_uptime_past_a_day_and_a_week(uptime, seconds):
    _, recording = load("option3")

    def aged(data):
        data["neighbors"][0]["upTime"] = uptime
    router = ReplayRuntime(edit_json(recording, "P-1", "show mpls ldp neighbor", aged))
    assert frr_probes.ldp_neighbors(router, "P-1")["10.1.0.1"].uptime == seconds


def test_a_session_s_history_is_no_part_of_its_record_s_equality():
    """Two readings of a session in the same state are the same record, however long apart:
    the checks' verdicts never depend on the history bench/soak.py reads."""
    _, recording = load("option3")

    def later(data):
        peer = data["default"]["ipv4Vpn"]["peers"]["10.2.0.1"]
        peer.update(peerUptimeMsec=603000, connectionsEstablished=2)
    first = frr_probes.bgp_sessions(ReplayRuntime(recording), "RR-1")
    second = frr_probes.bgp_sessions(ReplayRuntime(edit_json(
        recording, "RR-1", "show bgp vrf all summary", later)), "RR-1")
    assert [s.uptime for s in first] != [s.uptime for s in second]
    assert first == second and set(first) == set(second)
    ospf = frr_probes.ospf_neighbors(ReplayRuntime(recording), "P-1", None)["10.1.0.1"]
    assert ospf == dataclasses.replace(ospf, uptime=1.0)
    assert ospf != dataclasses.replace(ospf, state="Init")


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


# -- every check kind shown failing, on every lab family --------------------------------------
SHIPPED_LABS = sorted(p.stem for p in labs_dir().glob("*.yml"))
RECORDED = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem in SHIPPED_LABS)


@pytest.mark.parametrize("lab", SHIPPED_LABS)
def test_every_shipped_lab_has_a_recording_of_its_model(lab):
    """A fixture is the shipped lab as it deployed: a lab file changed since (a drifted
    fixture) fails here until scripts/record_fixtures.py records it again."""
    assert lab in RECORDED, f"no fixture for {lab}: scripts/record_fixtures.py {lab}"
    model, recording = load(lab)
    shipped = load_lab(lab, recording["variant"])
    ignore = {"source"}
    assert model.model_dump(mode="json", exclude=ignore) == \
        shipped.model_dump(mode="json", exclude=ignore)


@pytest.fixture(scope="module", params=RECORDED)
def baseline(request):
    """A lab's recording replayed untouched: every check passes, with its observations."""
    model, recording = load(request.param)
    from emulator.verify import runner
    workers, runner.WORKERS = runner.WORKERS, 1
    try:
        report, failed = replay(model, recording)
    finally:
        runner.WORKERS = workers
    assert not failed, failed
    return model, recording, {r.name: r for r in report.results}


def frr_key(node: str, command: str) -> str:
    question = Question(frr_probes.NAME, (f"{command} json",))
    return json.dumps([node, *suites.question_argv(question)])


def kernel_key(node: str, *argv: str) -> str:
    return json.dumps([node, *argv])


def changed(recording: dict, key: str, change) -> dict:
    """The recording with one answer's JSON changed by ``change`` (in place)."""
    altered = copy.deepcopy(recording)
    data = json.loads(altered["exec"][key]["stdout"])
    change(data)
    altered["exec"][key]["stdout"] = json.dumps(data)
    return altered


def first(results: dict, kind: str, where=lambda result: True):
    return next((r for r in results.values() if r.kind == kind and where(r)), None)


def frr_bgp(model: Lab, node: str | None) -> bool:
    return node is not None and model.node(node).suites["bgp"] == "frr"


def session_down(model, recording, results):
    check = first(results, "bgp-session", lambda r: frr_bgp(model, r.node))
    if check is None:
        return None
    family = next(iter(check.expected["state"]))
    key = next(k for k, f in frr_probes.FAMILIES.items() if f == family)

    def down(data):
        data[check.expected["vrf"]][key]["peers"][check.expected["peer"]]["state"] = "Idle"
    return changed(recording, frr_key(check.node, "show bgp vrf all summary"), down), \
        {check.name}


def ldp_down(model, recording, results):
    check = first(results, "ldp-session")
    if check is None:
        return None

    def down(data):
        for neighbor in data["neighbors"]:
            if neighbor["neighborId"] == check.expected["neighbor"]:
                neighbor["state"] = "INITIALIZED"
    return changed(recording, frr_key(check.node, "show mpls ldp neighbor"), down), \
        {check.name}


def ospf_down(model, recording, results):
    check = first(results, "igp-adjacency", lambda r: r.expected["protocol"] == "ospf"
                  and " vrf " not in r.name)
    if check is None:
        return None

    def down(data):
        data["neighbors"][check.expected["neighbor"]][0]["nbrState"] = "Init/DROther"
    return changed(recording, frr_key(check.node, "show ip ospf neighbor"), down), \
        {check.name}


def bird_key(node: str, *words: str) -> str:
    return json.dumps([node, "birdc", *words])


def text_changed(recording: dict, key: str, change) -> dict:
    """The recording with one answer's text changed by ``change`` (text in, text out)."""
    altered = copy.deepcopy(recording)
    altered["exec"][key]["stdout"] = change(altered["exec"][key]["stdout"])
    return altered


def targets_moved(model, recording, results):
    """A holder's VPNv4 route carries another route target."""
    check = first(results, "vpnv4-route", lambda r: "rd" in r.expected)
    if check is None:
        return None
    if not frr_bgp(model, check.node):  # BIRD: its one VPNv4 table, every route in it
        same = {r.name for r in results.values() if r.kind == "vpnv4-route"
                and r.node == check.node and "rd" in r.expected}
        return text_changed(recording, bird_key(check.node, "show", "route", "table",
                                                 bird_probes.VPN_TABLE, "all"),
                            lambda text: re.sub(r"\(rt, [^)]+\)", "(rt, 9, 9)", text)), same
    prefix = check.name.rsplit(":", 1)[1]

    def moved(data):
        for path in data[check.expected["rd"]]["paths"]:
            path["extendedCommunity"] = {"string": "RT:9:9"}
    return changed(recording, frr_key(check.node, f"show bgp ipv4 vpn {prefix}"), moved), \
        {check.name}


def vrf_leak(model, recording, results):
    """A route of another VPN in a VRF's kernel table (the suite's table clean)."""
    check = first(results, "vrf-route", lambda r: bool(r.expected.get("absent"))
                  and " VRF " in r.name)
    if check is None:
        return None
    vrf = check.name.split(" VRF ")[1].split()[0]
    leaked = check.expected["absent"][0]
    key = kernel_key(check.node, "ip", "-j", "-4", "route", "show", "vrf", vrf)
    # Every check of that VRF's table that must not hold the prefix sees the leak.
    same = {r.name for r in results.values() if r.kind == "vrf-route" and r.node == check.node
            and " VRF " in r.name and r.name.split(" VRF ")[1].split()[0] == vrf
            and leaked in r.expected.get("absent", [])}
    return changed(recording, key, lambda data: data.append({"dst": leaked, "dev": vrf})), same


def kernel_label_gone(model, recording, results):
    """A label the suite installed, missing from the kernel's MPLS table."""
    check = first(results, "mpls-lfib", lambda r: any(isinstance(v, int) and v > 15
                                                       for v in r.observed.values()))
    if check is None:
        return None
    label = next(v for v in check.observed.values() if isinstance(v, int) and v > 15)
    same = {r.name for r in results.values() if r.kind == "mpls-lfib" and r.node == check.node
            and next((v for v in r.observed.values() if isinstance(v, int) and v > 15),
                     None) == label}
    key = kernel_key(check.node, "ip", "-j", "-f", "mpls", "route", "show")
    return changed(recording, key, lambda data: data.remove(
        next(e for e in data if e["dst"] == str(label)))), same


CHAIN = re.compile(r"^(?P<prefix>\S+)(?: \(\S+\))?: (?P<holder>\S+) pushes (?P<allocator>\S+)'s "
                   r"(?:VPN )?label$")


def pushed_label_moved(model, recording, results):
    """The ingress PE (a holder no other router takes its label from) pushes a label its
    next router never allocated."""
    chains = {name: m for name in results if (m := CHAIN.match(name))}
    allocators = {(m["prefix"], m["allocator"]) for m in chains.values()}
    check = first(results, "label-chain", lambda r: r.name in chains
                  and (chains[r.name]["prefix"], r.node) not in allocators
                  and isinstance(r.observed.get("pushed"), int) and r.observed["pushed"] > 15)
    if check is None:
        return None
    prefix = chains[check.name]["prefix"]
    pushed = check.observed["pushed"]
    if not frr_bgp(model, check.node):
        # BIRD's VPNv4 table: the route's label stack ends in the pushed label; what the
        # PE swaps its CSC-CE's label onto is that label too.
        # The route is the carrier VPN's (carriers may share addresses: the RD tells).
        vpn = re.search(r" \((\S+)\):", check.name)[1]
        carrier = {a.asn for a in model.autonomous_systems if a.carrier_vpn == vpn}
        rd = model.vpn(vpn).rd
        swapping = re.compile(rf"^{re.escape(prefix)}: \S+ swaps (\S+)'s label")
        same = {r.name for r in results.values() if r.kind == "label-chain"
                and r.node == check.node and (r.name.startswith(f"{prefix} ({vpn}):") or (
                    (m := swapping.match(r.name)) and model.node(m[1]).asn in carrier))}

        def relabelled(text: str) -> str:
            """Only in the route's own block (BIRD's labels are per router: another
            route's local label may have the same number)."""
            lines, ours = [], False
            for line in text.splitlines():
                if not line.startswith("\t"):
                    ours = line.startswith(f"{rd} {prefix} ")
                elif ours and ("\tvia " in line or "mpls_label_stack" in line):
                    line = re.sub(rf"(\d+/|: |mpls ){pushed}$", rf"\g<1>{pushed + 5000}", line)
                lines.append(line)
            return "\n".join(lines) + "\n"
        return text_changed(recording, bird_key(check.node, "show", "route", "table",
                                                 bird_probes.VPN_TABLE, "all"), relabelled), \
            same | {f"still: {name}" for name in same}

    def moved(data):
        for entry in data.values():
            for path in entry.get("paths", []) if isinstance(entry, dict) else []:
                if path.get("remoteLabel") == pushed:
                    path["remoteLabel"] = pushed + 5000
    # An Option B ASBR's swap is checked on the label the holder pushes into it, too.
    swaps = {r.name for r in results.values() if r.kind == "mpls-lfib"
             and r.node == chains[check.name]["allocator"] and r.observed.get("in") == pushed}
    return changed(recording, frr_key(check.node, f"show bgp ipv4 vpn {prefix}"), moved), \
        {check.name, f"still: {check.name}", *swaps}


def ping_answered(kind: str, returncode: int, summary: str):
    """A mutation: the first check of ``kind`` (a ping) gets ping's ``summary`` instead."""
    def mutate(model, recording, results):
        check = first(results, kind)
        if check is None:
            return None
        altered = copy.deepcopy(recording)
        key = next(k for k in altered["exec"] if json.loads(k)[:2] == [check.node, "ping"]
                   and json.loads(k)[-2:] == [check.expected["from"], check.expected["to"]])
        altered["exec"][key] = {"returncode": returncode, "stderr": "", "stdout": summary}
        return altered, {check.name}
    return mutate


ping_lost = ping_answered("ping", 1, "3 packets transmitted, 0 received, 100% packet loss")
isolation_broken = ping_answered("isolation", 0,
                                 "3 packets transmitted, 3 received, 0% packet loss")


def wire_deeper(model, recording, results):
    check = first(results, "wire-labels")
    if check is None:
        return None
    altered = copy.deepcopy(recording)
    key = next(k for k in altered["capture"] if json.loads(k)[0] == check.node
               and "ping" in json.loads(k)[1:3])
    sections = altered["capture"][key]
    sections[0] = "\n".join(line.replace(" IP ", " MPLS (label 999, tc 0, [S], ttl 63) IP ", 1)
                            if "echo request" in line else line
                            for line in sections[0].splitlines())
    return altered, {check.name}


def guard_idle(model, recording, results):
    """The label guard's drop counter does not rise while the spoof is sent."""
    check = first(results, "label-spoofing")
    if check is None:
        return None
    altered = copy.deepcopy(recording)
    for key, answers in altered["series"].items():
        if json.loads(key)[0] == check.node:
            altered["series"][key] = [answers[0]]  # the same count before and after
    same_pe = {r.name for r in results.values()
               if r.kind == "label-spoofing" and r.node == check.node}
    return altered, same_pe


def label_moved_late(model, recording, results):
    """After the pings, the ingress PE pushes another label (consistent again at its
    allocator): only the steady reading sees the move."""
    found = pushed_label_moved(model, recording, results)
    if found is None:
        return None
    altered, names = found
    moved = {k: v for k, v in altered["exec"].items() if recording["exec"][k] != v}
    late = copy.deepcopy(recording)
    late["after_acts"] = moved  # ReplayRuntime answers these once a ping has run
    return late, {name for name in names if results[name].kind == "label-steady"}


def stray_kernel_label(model, recording, results):
    check = first(results, "label-leak")
    if check is None:
        return None
    key = kernel_key(check.node, "ip", "-j", "-f", "mpls", "route", "show")
    return changed(recording, key, lambda data: data.append(
        {"dst": "99999", "dev": "lo", "protocol": "static", "flags": []})), {check.name}


MUTATIONS = {"bgp-session": session_down, "ldp-session": ldp_down,
             "igp-adjacency": ospf_down, "vpnv4-route": targets_moved, "vrf-route": vrf_leak,
             "mpls-lfib": kernel_label_gone, "label-chain": pushed_label_moved,
             "ping": ping_lost, "isolation": isolation_broken, "wire-labels": wire_deeper,
             "label-spoofing": guard_idle, "label-steady": label_moved_late,
             "label-leak": stray_kernel_label}


def test_the_mutation_table_covers_every_check_kind():
    from emulator.verify.checks import KINDS
    assert set(MUTATIONS) == set(KINDS)


@pytest.mark.parametrize("kind", list(MUTATIONS))
def test_one_observation_changed_fails_exactly_its_checks(baseline, kind):
    model, recording, results = baseline
    found = MUTATIONS[kind](model, recording, results)
    if found is None:
        assert not any(r.kind == kind for r in results.values()), \
            f"{model.name} has {kind} checks but the mutation found none to change"
        return
    altered, expected = found
    from emulator.verify import runner
    workers, runner.WORKERS = runner.WORKERS, 1
    try:
        _, failed = replay(model, altered)
    finally:
        runner.WORKERS = workers
    assert failed == expected, (model.name, kind)
