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
