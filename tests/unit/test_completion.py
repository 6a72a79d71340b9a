"""Shell completion (typer's, as `mplslab --install-completion` sets it up): the words a
shell gets back for what was typed so far, through the completion machinery itself
(`_MPLSLAB_COMPLETE`, bash's COMP_WORDS and COMP_CWORD)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.model.build import load_lab
from emulator.paths import labs_dir
from emulator.training.exercises import exercises


def complete(typed: str) -> list[str]:
    """What bash offers after ``typed`` (its last word, if any, being completed)."""
    words = typed.split()
    current = len(words) if typed.endswith(" ") else len(words) - 1
    result = CliRunner().invoke(app, [], prog_name="mplslab", env={
        "_MPLSLAB_COMPLETE": "complete_bash", "COMP_WORDS": typed,
        "COMP_CWORD": str(current)})
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_lab_names_are_the_shipped_labs_and_the_users(tmp_path, monkeypatch):
    (tmp_path / "mylab.yml").write_text((labs_dir() / "option3.yml").read_text()
                                        .replace("name: option3", "name: mylab"))
    monkeypatch.setenv("MPLSLAB_USER_LABS", str(tmp_path))
    assert complete("mplslab up opt") == ["option1", "option2", "option3", "option4"]
    assert complete("mplslab validate my") == ["mylab"]
    assert "csc-ip" in complete("mplslab graph ")


def test_a_running_lab_is_offered_where_one_is_needed(deploy):
    assert complete("mplslab down ") == []
    deploy("option3")
    assert complete("mplslab down ") == ["option3"]
    assert complete("mplslab verify opt") == ["option3"]


def test_routers_and_their_links_by_their_ends(deploy):
    deploy("option3")
    assert complete("mplslab exec option3 P") == ["PE-1", "P-1", "P-2", "PE-2"]
    assert complete("mplslab capture option3 PE-2:") == ["PE-2:P-2", "PE-2:CE-3", "PE-2:CE-4"]
    assert complete("mplslab capture option3 PE-2:C") == ["PE-2:CE-3", "PE-2:CE-4"]
    # The lab by its file's path, as the commands take it.
    assert complete(f"mplslab exec {labs_dir() / 'option3.yml'} CE") == \
        ["CE-1", "CE-2", "CE-3", "CE-4"]


def test_a_routers_interfaces_by_name_then_by_peer(deploy):
    deploy("option3")
    assert complete("mplslab capture option3 PE-2 eth") == ["eth1", "eth2", "eth3"]
    assert complete("mplslab capture option3 PE-2 C") == ["CE-3", "CE-4"]
    assert complete("mplslab capture option3 PE-2:P-2 ") == []


def test_save_and_diff_offer_the_routers_not_yet_named(deploy):
    deploy("option3")
    assert complete("mplslab diff option3 PE-1 PE") == ["PE-2"]
    assert len(complete("mplslab save option3 ")) == len(load_lab("option3").nodes)


def test_exercise_names_are_the_labs_own():
    names = [e.name for e in exercises(load_lab("option3"))]
    assert complete("mplslab exercise start option3 ") == names
    assert complete("mplslab exercise start option3 rt-") == \
        [n for n in names if n.startswith("rt-")]


@pytest.mark.parametrize("typed", ["mplslab exec nolab ", "mplslab capture option3 PE-9 ",
                                   "mplslab exercise start ../nothing.yml ",
                                   "mplslab save option3 "])
def test_a_completion_offers_nothing_rather_than_fail(typed):
    assert complete(typed) == []
