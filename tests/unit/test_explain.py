"""`mplslab explain`: the slides' walkthrough from the lab model and its option's rules."""

from __future__ import annotations

import json

import pytest
from shipped import lab_variants
from typer.testing import CliRunner

from emulator.cli import app
from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.training.explain import find_site, story, walkthrough


def test_option3_next_hop_and_label_stay_pe1s_and_three_labels_leave_pe2():
    walk = walkthrough(load_lab("option3"), "152.12.4.1")
    assert (walk.prefix, walk.vpn, walk.rd, walk.origin) == ("152.12.4.0/24", "VPN-B", "1:27",
                                                             "PE-1")
    assert [h.router for h in walk.holders] == ["PE-1", "RR-1", "RR-2", "PE-2"]
    assert {h.label_from for h in walk.holders} == {"PE-1"}
    assert [h.next_hop for h in walk.holders[1:]] == ["10.1.0.1 (PE-1)"] * 3
    assert not any(h.rewrites for h in walk.holders)
    assert {"ASBR-1", "ASBR-2", "P-1", "P-2"} <= set(walk.absent_on)
    assert walk.packet_from == "CE-3"
    assert [link["labels"] for link in walk.links] == [3, 2, 2, 2, 1]
    assert walk.links[0]["link"] == "PE-2 → P-2" and walk.links[-1]["link"] == "P-1 → PE-1"


def test_option2_says_where_and_why_next_hop_and_label_are_rewritten():
    walk = walkthrough(load_lab("option2", "next-hop-self"), "CE-4")
    by_router = {h.router: h for h in walk.holders}
    assert by_router["PE-1"].label_from == "PE-ASBR-1"
    assert by_router["PE-ASBR-1"].label_from == "PE-ASBR-2"
    assert "eBGP to PE-ASBR-1" in by_router["PE-ASBR-1"].rewrites
    assert "next-hop-self towards PE-1" in by_router["PE-1"].rewrites
    assert by_router["PE-2"].rewrites is None
    # The builder's reasons for what it derived on the routers of the walk.
    switching = [r for r in walk.settings["PE-ASBR-1"]
                 if r["setting"].startswith("mpls bgp l3vpn-multi-domain-switching")]
    assert switching and "rewrites the next hop" in switching[0]["why"]
    assert not any(r["setting"].startswith("static route") for r in walk.settings["PE-ASBR-1"])
    no_nhs = walkthrough(load_lab("option2", "no-next-hop-self"), "CE-4")
    assert any(r["setting"].startswith("static route") for r in no_nhs.settings["PE-ASBR-2"])


def test_option1_re_exports_at_the_pe_asbr_of_the_other_as():
    walk = walkthrough(load_lab("option1", "static"), "CE-4")
    by_router = {h.router: h for h in walk.holders}
    assert by_router["PE-ASBR-1"].next_hop.startswith("itself")
    assert "learned it as plain IP in its VRF VPN-A" in by_router["PE-1"].rewrites
    assert [link["labels"] for link in walk.links][2] == 0  # plain IP between the VRFs


def test_option4_shows_the_as_path_without_the_transit():
    walk = walkthrough(load_lab("option4"), "149.27.2.0/24")
    far = next(h for h in walk.holders if h.router == "PE-2")
    assert far.as_path == "1, never AS 2" and far.label_from == "PE-1"


@pytest.mark.parametrize("name,variant", list(lab_variants()))
def test_every_site_of_every_lab_has_a_walk_from_its_sender_to_its_pe(name, variant):
    lab = load_lab(name, variant)
    told = story(lab)
    assert [v["vpn"] for v in told["vpns"]] == [v.name for v in lab.vpns]
    for ce in (n for n in lab.nodes if n.site is not None):
        walk = walkthrough(lab, str(ce.site.prefix))
        assert walk.holders[0].router == walk.origin  # the origin exports it first
        assert walk.links, f"{name}: no path to {ce.name}"
        assert walk.links[-1]["link"].endswith(f"→ {walk.origin}")
        assert all(link["labels"] >= 0 for link in walk.links)


def test_sites_are_found_by_prefix_address_or_ce_and_mistakes_are_named():
    lab = load_lab("option1")
    assert find_site(lab, "CE-3").name == find_site(lab, "152.12.5.7").name == "CE-3"
    with pytest.raises(LabError, match=r"10\.9\.9\.9 is not a site of lab option1"):
        find_site(lab, "10.9.9.9")
    with pytest.raises(LabError, match="is in VPN-A, not VPN-B"):
        walkthrough(lab, "152.12.5.0/24", source="CE-1")


def test_the_cli_prints_the_walk_as_tables_or_json():
    runner = CliRunner()
    result = runner.invoke(app, ["explain", "option3", "152.12.4.1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["links"][0]["labels"] == 3
    result = runner.invoke(app, ["explain", "option3", "152.12.4.1", "--from", "CE-3"])
    assert result.exit_code == 0 and "control plane" in result.output
    result = runner.invoke(app, ["explain", "option3"])
    text = " ".join(result.output.split())  # rich wraps lines at the terminal width
    assert result.exit_code == 0 and "VPN-B" in text and "up to 3 labels" in text
    result = runner.invoke(app, ["explain", "option3", "10.9.9.9"])
    assert result.exit_code == 2 and "not a site of lab option3" in result.output


def php_claims(links: list[tuple[str, str, int, str]]) -> list[str]:
    """The links whose words claim a penultimate-hop pop that the stacks do not show: "after
    PHP at X" must follow a link into X that carried one more label, an LDP label on top."""
    wrong = []
    for index, (sender, receiver, depth, what) in enumerate(links):
        if "PHP" not in what:
            continue
        before = links[index - 1] if index else None
        if not (f"after PHP at {sender}" in what and before is not None
                and before[1] == sender and before[2] == depth + 1
                and before[3].startswith("LDP + ")):
            wrong.append(f"{sender} → {receiver}: {what}")
    return wrong


@pytest.mark.parametrize("name,variant", list(lab_variants()))
def test_the_verifier_names_a_php_only_where_a_penultimate_hop_pops(name, variant):
    from emulator.verify.families import derive

    for check in derive(load_lab(name, variant)):
        if check.kind != "wire-labels":
            continue
        links = []
        for link, text in check.expected.items():
            sender, receiver = link.split("→")
            depth, what = text.split(" ", 1)
            links.append((sender, receiver, int(depth), what[1:-1]))
        assert not php_claims(links), (check.name, php_claims(links))
