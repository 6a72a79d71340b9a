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
from emulator.training import exercises as ex

sys.path.insert(0, str(Path(__file__).parent.parent))
import labgen


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_every_lab_gets_at_least_two_exercises(lab_name, variant):
    names = [e.name for e in ex.exercises(load_lab(lab_name, variant))]
    assert len(names) >= 2
    carrier = lab_name.startswith("csc-")
    # A carrier's labs: its sites' attachment and AS path; the others: VPN import and the
    # AS boundary.
    assert ("carrier-session" in names) == ("allowas-in" in names) == carrier
    assert ("label-spoofing" in names) == carrier  # two carriers share the PEs
    if carrier:
        return
    assert "rt-import" in names
    assert ("inter-as-session" in names) != ("inter-as-link" in names)
    assert ("inter-as-link" in names) == (variant in ("ospf", "rip", "static"))
    assert ("next-hop-self" in names) == (lab_name == "option2")


@pytest.mark.parametrize("seed", range(0, 100, 7))
def test_generated_labs_get_them_too(seed, tmp_path):
    lab = labgen.generate(seed)
    path = tmp_path / f"{lab.name}.yml"
    path.write_text(lab.text)
    model = load_lab(str(path))
    found = {e.name: e for e in ex.exercises(model)}
    assert "rt-import" in found and len(found) >= 2, lab.name
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
            config = rendered_statements(render_frr_conf(lab.node(fixed.router)))
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
            config = render_frr_conf(lab.node(change.router)) + "\n".join(lines) + "\n"
            result = check_config(appliance_image, change.router, config)
            assert result.ok, (exercise.name, change, result.output)


# -- grading: the exercise's own kinds first, then a full verify ------------------------------
def graded(tmp_path, monkeypatch, first: list[tuple[bool, dict]], full: list[tuple[bool, dict]]):
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

    def run_checks(model, runtime, *, deadline, console=None, kinds=None, names=None):
        asked.append((kinds, deadline))
        outcomes = first if kinds == set(exercise.fails) else full
        results = [Result(f"check {i}", "vrf-route", "PE-2", passed, {}, observed, 0.0)
                   for i, (passed, observed) in enumerate(outcomes)]
        return Report("option3", None, all(p for p, _ in outcomes), 0.0, results)
    monkeypatch.setattr(runner, "run_checks", run_checks)
    return CliRunner().invoke(app, ["exercise", "check", "option3"]), asked


def test_a_wrong_answer_is_told_from_the_exercises_own_kinds_alone(tmp_path, monkeypatch):
    result, asked = graded(tmp_path, monkeypatch, [(False, {"leaked": ["149.27.2.0/24"]})],
                           [(True, {})])
    assert result.exit_code == 1 and "not yet" in result.output and "hint:" in result.output
    assert asked == [({"vrf-route", "ping"}, 15.0)]  # no full verify for a wrong answer


def test_routers_that_do_not_answer_are_no_symptom(tmp_path, monkeypatch):
    result, _ = graded(tmp_path, monkeypatch, [(False, {"error": "PE-2: `show ...` failed"})],
                       [(True, {})])
    assert result.exit_code == 1 and "cannot grade yet" in result.output
    assert "not yet" not in result.output and "hint:" not in result.output


def test_solved_only_after_a_full_verify(tmp_path, monkeypatch):
    result, asked = graded(tmp_path, monkeypatch, [(True, {})], [(False, {"state": "Idle"})])
    assert result.exit_code == 1 and "not yet" in result.output
    assert asked[1] == (None, 90)
    (tmp_path / ex.EXERCISE_FILE).unlink(missing_ok=True)
    result, asked = graded(tmp_path, monkeypatch, [(True, {})], [(True, {})])
    assert result.exit_code == 0 and "solved" in result.output
    assert [kinds for kinds, _ in asked] == [{"vrf-route", "ping"}, None]
