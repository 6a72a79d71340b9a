"""Exercises derived from the lab model: which labs get which, what they tell FRR (checked
by FRR 10.3's own parser on top of the router's configuration), and their bookkeeping."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from shipped import lab_variants
from typer.testing import CliRunner

from emulator.cli import app
from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.render.frr import render_frr_conf
from emulator.runtime.appliance import check_config
from emulator.training import carrier_exercises, inter_as_exercises
from emulator.training import exercises as ex
from emulator.verify.checks import KINDS
from emulator.verify.families import derive

sys.path.insert(0, str(Path(__file__).parent.parent))
import labgen

OPTION1 = {"vlan-vrf", "asbr-import", "asbr-export"}
OPTION2 = {"next-hop-self", "asbr-label-switching", "inter-as-mpls", "retain-route-targets"}
OPTION3 = {"inter-as-mpls", "retain-route-targets", "rr-next-hop-self", "lu-next-hop-self",
           "rr-loopback"}
CARRIER = {"carrier-session", "allowas-in", "label-spoofing", "external-leak"}
# What each shipped lab and variant gets (docs/training.md, "Exercises per slide").
EXERCISES = {
    ("option1", "ebgp"): {"rt-import", "inter-as-session", *OPTION1},
    **{("option1", v): {"rt-import", "inter-as-link", *OPTION1, "vrf-redistribute"}
       for v in ("ospf", "rip", "static")},
    ("option2", "next-hop-self"): {"rt-import", "inter-as-session", *OPTION2},
    ("option2", "no-next-hop-self"): {"rt-import", "inter-as-session", *OPTION2, "host-route"},
    ("option3", None): {"rt-import", "inter-as-session", *OPTION3},
    ("option4", "distinct-as"): {"rt-import", "inter-as-session", *OPTION3,
                                 "transit-next-hop-self"},
    ("option4", "same-as"): {"rt-import", "inter-as-session", *OPTION3,
                             "transit-next-hop-self", "as-override"},
    ("csc-ip", None): {*CARRIER, "site-igp", "site-route-reflector"},
    **{("csc-mpls", v): {*CARRIER, "csc-next-hop-self", "ce-mpls"} for v in ("n", "scale")},
    ("csc-vpn", None): {"rt-import", *CARRIER, "csc-next-hop-self", "ce-mpls"},
}


def test_every_shipped_lab_and_variant_is_listed():
    assert set(lab_variants()) == set(EXERCISES)


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_every_lab_gets_three_exercises_of_its_slides(lab_name, variant):
    lab = load_lab(lab_name, variant)
    found = ex.exercises(lab)
    names = [e.name for e in found]
    assert len(names) == len(set(names))
    assert set(names) == EXERCISES[(lab_name, variant)]
    # Beside the generic ones, at least three that only this option's slides explain.
    assert len(set(names) - set(ex.GENERIC)) >= 3
    slides = [*inter_as_exercises.DERIVERS, *carrier_exercises.DERIVERS]
    assert len({d.__name__.replace("_", "-") for d in slides} & set(names)) >= 3


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_each_exercise_is_told_and_graded_by_checks_the_lab_has(lab_name, variant):
    """A symptom, a hint and a solution; kinds of checks this lab has, in the order verify
    runs them; typed configuration only for routers whose BGP is FRR's (BIRD takes none)."""
    lab = load_lab(lab_name, variant)
    kinds = {check.kind for check in derive(lab)}
    for exercise in ex.exercises(lab):
        assert exercise.symptom and exercise.hint and exercise.why and exercise.title
        assert exercise.fails and set(exercise.fails) <= kinds, exercise.name
        assert exercise.fails == sorted(exercise.fails, key=KINDS.index), exercise.name
        for change in [*exercise.breaks, *exercise.fixes]:
            assert bool(change.lines) != bool(change.command), exercise.name
            if change.lines:
                assert lab.node(change.router).suites.get("bgp", "frr") == "frr", exercise.name


@pytest.mark.parametrize("seed", range(0, 100, 7))
def test_generated_labs_get_them_too(seed, tmp_path):
    lab = labgen.generate(seed)
    path = tmp_path / f"{lab.name}.yml"
    path.write_text(lab.text)
    model = load_lab(str(path))
    found = {e.name: e for e in ex.exercises(model)}
    assert "rt-import" in found and len(found) >= 2, lab.name
    kinds = {check.kind for check in derive(model)}
    assert all(set(e.fails) <= kinds for e in found.values()), lab.name
    crossing = found.get("inter-as-session") or found["inter-as-link"]
    router = model.node(crossing.breaks[0].router)
    assert any(i.scope == "inter-as" for i in router.interfaces)


def test_the_break_undoes_exactly_what_the_fix_does():
    lab = load_lab("option2", "next-hop-self")
    exercise = ex.find(lab, "next-hop-self")
    assert exercise.breaks[0].router == exercise.fixes[0].router == "PE-ASBR-1"
    assert exercise.breaks[0].lines[-1] == "no " + exercise.fixes[0].lines[-1]
    assert exercise.fixes[0].lines == ["router bgp 1", "address-family ipv4 vpn",
                                       "neighbor 10.1.0.1 next-hop-self"]
    option1 = ex.find(load_lab("option1"), "inter-as-session")
    assert option1.breaks[0].lines == ["router bgp 1 vrf VPN-A", "neighbor 10.255.0.2 shutdown"]


# -- the fix restores what the lab deploys, the break undoes exactly that ---------------------
# Lines a template may type that open a configuration node of their own (vtysh climbs out of
# any other node to reach them), and those that open one inside a `router bgp`.
TOP_NODES = ("router ", "interface ", "mpls ldp", "route-map ", "vrf ")
# What FRR 10.3 holds without a line in the rendered configuration.
DEFAULTS = {"bgp retain route-target all"}


def rendered_statements(text: str) -> set[tuple[tuple[str, ...], str]]:
    """A rendered frr.conf as (the nodes a line sits in, the line), from its indentation."""
    found, stack = set(), []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("!") or line in ("exit", "exit-address-family", "end"):
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        found.add((tuple(text for _, text in stack), line))
        stack.append((indent, line))
    return found


def typed_statements(lines: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """Lines typed after `configure terminal`, with the nodes each one is typed in."""
    found, stack = [], []
    for line in lines:
        if line.startswith("do "):
            continue  # an operational command (a soft refresh): no configuration
        if line == "exit-address-family":
            stack = stack[:1]
        elif line == "exit":
            stack = stack[:-1]
        elif line.startswith(TOP_NODES):
            stack = [line]
        elif line.startswith("address-family "):
            stack = [*stack[:1], line]
        else:
            found.append((tuple(stack), line))
    return found


def negated(statement: str) -> str:
    if statement in ("mpls enable", "mpls disable"):
        return "mpls disable" if statement == "mpls enable" else "mpls enable"
    return statement.removeprefix("no ") if statement.startswith("no ") else f"no {statement}"


def deployed(config: set, where: tuple[str, ...], statement: str) -> bool:
    if statement in DEFAULTS or (where, statement) in config:
        return True
    # `rt vpn both X` is `rt vpn import X` and `rt vpn export X`.
    for one in ("import", "export"):
        if statement.startswith(f"rt vpn {one} "):
            return (where, statement.replace(f" {one} ", " both ", 1)) in config
    return False


def restores(lab) -> list[str]:
    """Every exercise's FRR changes, against the routers' rendered configuration: each line
    of the fix puts back (or takes out) what the lab deploys (does not), and the break is its
    opposite, line for line. Returns what does not hold."""
    problems = []
    for exercise in ex.exercises(lab):
        assert [c.router for c in exercise.breaks] == [c.router for c in exercise.fixes]
        for broken, fixed in zip(exercise.breaks, exercise.fixes, strict=True):
            assert bool(broken.command) == bool(fixed.command), exercise.name
            if fixed.command:
                continue  # a command of its own (tested on its own)
            config = rendered_statements(render_frr_conf(lab, lab.node(fixed.router)))
            undone = typed_statements(broken.lines)
            redone = typed_statements(fixed.lines)
            for where, statement in redone:
                removal = statement.startswith("no ") or statement == "mpls disable"
                target = negated(statement) if removal else statement
                if deployed(config, where, target) == removal:
                    problems.append(f"{exercise.name} on {fixed.router}: {where} {statement!r} "
                                    "is not what the lab deploys")
                if (where, negated(statement)) not in undone:
                    problems.append(f"{exercise.name} on {fixed.router}: the break does not "
                                    f"undo {where} {statement!r}")
            if len(undone) != len(redone):
                problems.append(f"{exercise.name} on {fixed.router}: the break changes "
                                f"{len(undone)} lines, the fix {len(redone)}")
    return problems


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_each_fix_restores_the_deployed_configuration(lab_name, variant):
    """Including the BGP number the router speaks: option 4's same-as region 2 is AS 3 in
    the lab file and speaks BGP as AS 1."""
    assert restores(load_lab(lab_name, variant)) == []


@pytest.mark.parametrize("seed", range(0, 100, 7))
def test_generated_labs_exercises_restore_their_configuration(seed, tmp_path):
    lab = labgen.generate(seed)
    path = tmp_path / f"{lab.name}.yml"
    path.write_text(lab.text)
    assert restores(load_lab(str(path))) == []


def test_a_vlan_moves_to_another_vpns_vrf_and_back():
    """Linux binds an interface to a VRF in the kernel: the exercise is a command, graded by
    the protocol the PE-ASBRs run across that VLAN."""
    for variant, protocol_kind in [("ebgp", ["bgp-session"]), ("ospf", ["igp-adjacency"]),
                                   ("rip", []), ("static", [])]:
        exercise = ex.find(load_lab("option1", variant), "vlan-vrf")
        bind = ["ip", "link", "set", "dev", "eth2.101", "master"]
        assert [(c.router, c.command) for c in exercise.breaks] == [("PE-ASBR-1",
                                                                     [*bind, "VPN-B"])]
        assert [(c.router, c.command) for c in exercise.fixes] == [("PE-ASBR-1",
                                                                    [*bind, "VPN-A"])]
        assert exercise.fails == [*protocol_kind, "vrf-route", "ping"], variant


def test_option_b_label_switching_breaks_where_the_next_hop_is_rewritten():
    """The receiving ASBR's inter-AS interface (the slide's L3 at PE-ASBR-2); without
    next-hop-self towards PE-2 it binds nothing PE-2 uses: PE-ASBR-1's, towards PE-1."""
    for variant, router, interface in [("next-hop-self", "PE-ASBR-2", "eth1"),
                                       ("no-next-hop-self", "PE-ASBR-1", "eth2")]:
        exercise = ex.find(load_lab("option2", variant), "asbr-label-switching")
        assert [(c.router, c.lines) for c in exercise.breaks] == [
            (router, [f"interface {interface}", "no mpls bgp l3vpn-multi-domain-switching"])]
    host = ex.find(load_lab("option2", "no-next-hop-self"), "host-route")
    assert host.breaks[0].router == "PE-ASBR-2"
    assert host.breaks[0].lines == ["router ospf", "no redistribute static"]


def test_vpn_routes_are_retained_where_no_vrf_imports_them():
    """An Option B ASBR, a route reflector: VPNv4 speakers without a VRF."""
    assert ex.find(load_lab("option2"), "retain-route-targets").breaks[0].router == "PE-ASBR-1"
    for lab in ("option3", "option4"):
        assert ex.find(load_lab(lab), "retain-route-targets").breaks[0].router == "RR-1"


def test_the_pe_loopbacks_only_filter_leaves_the_rrs_out():
    lab = load_lab("option3")
    exercise = ex.find(lab, "rr-loopback")
    pes = {str(n.loopback.network) for n in lab.nodes if n.role == "pe" and n.asn == 1}
    rr = str(lab.node("RR-1").loopback.network)
    permitted = {line.split()[-1] for line in exercise.breaks[0].lines
                 if line.startswith("ip prefix-list PE-LOOPBACKS")}
    assert permitted == pes and rr not in permitted
    assert exercise.breaks[0].lines[-1] == "neighbor 10.255.0.2 prefix-list PE-LOOPBACKS out"
    assert exercise.fixes[0].lines[-1].startswith("no ip prefix-list PE-LOOPBACKS")


def test_same_as_speaks_as_one_in_the_second_region():
    lab = load_lab("option4", "same-as")
    for name in ("rt-import", "lu-next-hop-self"):
        exercise = ex.find(lab, name)
        assert exercise.breaks[0].router in ("PE-2", "ASBR-4")
        assert exercise.breaks[0].lines[0].startswith("router bgp 1"), name
    assert ex.find(lab, "as-override").breaks[0].lines[-1] == \
        "no neighbor 10.255.0.1 as-override"


def test_carrier_exercises_change_the_customer_carriers_routers():
    """BIRD runs the PEs' BGP and takes no typed change: the carrier's own routers do."""
    for lab_name, name, router in [("csc-ip", "external-leak", "CSC-CE-1"),
                                   ("csc-ip", "site-igp", "CSC-CE-2"),
                                   ("csc-ip", "site-route-reflector", "CSC-CE-2"),
                                   ("csc-mpls", "external-leak", "CSC-CE-3"),
                                   ("csc-mpls", "csc-next-hop-self", "CSC-CE-2"),
                                   ("csc-mpls", "ce-mpls", "CSC-CE-1"),
                                   ("csc-vpn", "csc-next-hop-self", "CSC-CE-2"),
                                   ("csc-vpn", "ce-mpls", "CSC-CE-1")]:
        exercise = ex.find(load_lab(lab_name), name)
        assert [c.router for c in exercise.breaks] == [router], (lab_name, name)
    leak = ex.find(load_lab("csc-ip"), "external-leak")
    assert leak.breaks[0].lines[-1] == "no neighbor 10.1.1.2 route-map CSC-INTERNAL out"
    assert leak.fails == ["vrf-route"]


def test_an_unknown_exercise_names_the_ones_there_are():
    with pytest.raises(LabError, match="no exercise 'ldp'") as raised:
        ex.find(load_lab("option3"), "ldp")
    assert "rt-import" in raised.value.hint


def test_the_running_exercise_is_kept_in_the_lab_folder(tmp_path):
    exercise = ex.find(load_lab("option3"), "rt-import")
    ex.save(tmp_path, exercise)
    assert ex.current(tmp_path, "option3") == exercise
    ex.finish(tmp_path)
    with pytest.raises(LabError, match="no exercise is running on lab option3"):
        ex.current(tmp_path, "option3")


def test_the_exercise_commands_need_a_running_lab():
    runner = CliRunner()
    listed = runner.invoke(app, ["exercise", "list", "option4", "--json"])
    assert listed.exit_code == 0 and '"inter-as-session"' in listed.output
    for command in (["start", "option4", "rt-import"], ["check", "option4"],
                    ["solution", "option4"]):
        answer = runner.invoke(app, ["exercise", *command])
        assert answer.exit_code == 2 and "lab option4 is not up" in answer.output, command


def test_the_label_guard_switch_is_a_file_beside_bird():
    exercise = ex.find(load_lab("csc-mpls"), "label-spoofing")
    switch = "/run/bird/csc-mpls_PE-1/label-guard.off"
    assert [(c.router, c.lines, c.command) for c in exercise.breaks] == [
        ("PE-1", [], ["touch", switch])]
    assert [(c.router, c.command) for c in exercise.fixes] == [("PE-1", ["rm", "-f", switch])]
    assert exercise.fails == ["label-spoofing"]


@pytest.mark.frr_parser
@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_frr_10_3_takes_every_break_and_fix(appliance_image, lab_name, variant):
    lab = load_lab(lab_name, variant)
    for exercise in ex.exercises(lab):
        for change in [*exercise.breaks, *exercise.fixes]:
            if change.command:
                continue  # no FRR configuration (the label guard's switch)
            # `do ...` runs an operational command (a soft refresh): no configuration.
            lines = [line for line in change.lines if not line.startswith("do ")]
            config = render_frr_conf(lab, lab.node(change.router)) + "\n".join(lines) + "\n"
            result = check_config(appliance_image, change.router, config)
            assert result.ok, (exercise.name, change, result.output)


# -- grading: the exercise's own kinds first, then a full verify ------------------------------
def graded(tmp_path, monkeypatch, first: list[tuple[bool, dict]], full: list[tuple[bool, dict]],
           *options: str):
    """`exercise check` on a stand-in running lab: the exercise's own kinds observe
    ``first``, a full verify ``full``; returns (the CLI's result, the kinds each run asked)."""
    from emulator import lifecycle
    from emulator.verify import runner
    from emulator.verify.checks import Report, Result

    model = load_lab("option3")
    exercise = ex.find(model, "rt-import")
    ex.save(tmp_path, exercise)
    state = type("State", (), {"lab": "option3"})()
    monkeypatch.setattr(lifecycle, "running_lab", lambda lab: (state, None, model, tmp_path))
    asked = []

    def run_checks(model, runtime, *, deadline, console=None, kinds=None, names=None,
                   budget=None):
        asked.append((kinds, deadline) if budget is None else (kinds, deadline, budget))
        outcomes = first if kinds == set(exercise.fails) else full
        results = [Result(f"check {i}", "vrf-route", "PE-2", passed, {}, observed, 0.0)
                   for i, (passed, observed) in enumerate(outcomes)]
        return Report("option3", None, all(p for p, _ in outcomes), 0.0, results)
    monkeypatch.setattr(runner, "run_checks", run_checks)
    return CliRunner().invoke(app, ["exercise", "check", "option3", *options]), asked


def test_a_wrong_answer_is_told_from_the_exercises_own_kinds_alone(tmp_path, monkeypatch):
    result, asked = graded(tmp_path, monkeypatch, [(False, {"leaked": ["149.27.2.0/24"]})],
                           [(True, {})])
    assert result.exit_code == 1 and "not yet" in result.output and "hint:" in result.output
    # The own kinds' phases share one 15 s budget; no full verify for a wrong answer.
    assert asked == [({"vrf-route", "ping"}, 15.0, 15.0)]


def test_routers_that_do_not_answer_are_no_symptom(tmp_path, monkeypatch):
    result, _ = graded(tmp_path, monkeypatch, [(False, {"error": "PE-2: `show ...` failed"})],
                       [(True, {})])
    assert result.exit_code == 1 and "cannot grade yet" in result.output
    assert "not yet" not in result.output and "hint:" not in result.output


def test_solved_only_after_a_full_verify(tmp_path, monkeypatch):
    result, asked = graded(tmp_path, monkeypatch, [(True, {})], [(False, {"state": "Idle"})])
    assert result.exit_code == 1 and "not yet" in result.output
    assert asked[1] == (None, 90.0)
    (tmp_path / ex.EXERCISE_FILE).unlink(missing_ok=True)
    result, asked = graded(tmp_path, monkeypatch, [(True, {})], [(True, {})])
    assert result.exit_code == 0 and "solved" in result.output
    assert [kinds for kinds, *_ in asked] == [{"vrf-route", "ping"}, None]


def test_a_command_fix_is_told_as_a_command(tmp_path, monkeypatch):
    from emulator import lifecycle

    model = load_lab("option1")
    ex.save(tmp_path, ex.find(model, "vlan-vrf"))
    state = type("State", (), {"lab": "option1"})()
    monkeypatch.setattr(lifecycle, "running_lab", lambda lab: (state, None, model, tmp_path))
    result = CliRunner().invoke(app, ["exercise", "solution", "option1"])
    assert result.exit_code == 0, result.output
    assert "mplslab exec option1 PE-ASBR-1 -- ip link set dev eth2.101 master VPN-A" in \
        " ".join(result.output.split())
    assert "vtysh" not in result.output


def test_a_check_right_after_the_fix_waits_its_deadline(tmp_path, monkeypatch):
    """Given --deadline (the lab reconverges after a fix), the exercise's own checks may
    take all of it before "not yet": only the default look is short."""
    _, asked = graded(tmp_path, monkeypatch, [(True, {})], [(True, {})], "--deadline", "180")
    assert asked == [({"vrf-route", "ping"}, 180.0), (None, 180.0)]
