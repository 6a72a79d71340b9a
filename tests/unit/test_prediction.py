"""Broken labs caught before deploy (issue 28): emulator/verify/prediction.py predicts from the
model alone whether every site reaches the others of its VPN, and names the missing link.

Every shipped lab in every variant predicts nothing; each broken lab below is a shipped lab
with one edit of its YAML text, and predicts exactly the problems listed, one per ordered
pair of sites (traffic from the first site to the second)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.model.build import load_all_variants, load_lab
from emulator.model.topology import Lab
from emulator.paths import labs_dir
from emulator.verify.prediction import Problem, SiteEnd, predict

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
import labgen  # noqa: E402

SHIPPED = sorted(p.stem for p in labs_dir().glob("*.yml"))
# Every option and variant of the generator several times (labgen.COMBOS: 12 seeds cover them).
GENERATED_SEEDS = range(48)


def edited(tmp_path: Path, lab: str, edits: dict[str, str], variant: str | None = None) -> Lab:
    """A shipped lab with each ``old`` text of ``edits`` replaced by its ``new`` one."""
    text = (labs_dir() / f"{lab}.yml").read_text()
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / f"{lab}.yml"
    path.write_text(text)
    return load_lab(str(path), variant)


def predicted(model: Lab) -> dict[tuple[str, str], str]:
    """(from site, to site) -> what is missing."""
    problems = predict(model)
    found = {(p.sites[0].node, p.sites[1].node): p.missing for p in problems}
    assert len(found) == len(problems), "one problem per ordered pair"
    return found


# -- what works predicts nothing -----------------------------------------------------------
@pytest.mark.parametrize("lab", SHIPPED)
def test_every_shipped_lab_in_every_variant_predicts_no_problem(lab):
    for model in load_all_variants(lab):
        assert predict(model) == [], (lab, model.variant, [str(p) for p in predict(model)])


@pytest.mark.parametrize("seed", GENERATED_SEEDS)
def test_generated_labs_predict_no_problem(seed, tmp_path):
    """The generator's labs (options 1-3, every variant, sites of one VPN on one PE behind
    different attachment protocols included) predict nothing. They once did: a PE-CE OSPF
    or RIP redistributed only BGP, so a site on the same PE behind a static route or the
    other IGP was unreachable once deployed (Builder.towards_sites)."""
    for size, lab in (("", labgen.generate(seed)), ("small-", labgen.generate(seed, small=True))):
        path = tmp_path / f"{size}{lab.name}.yml"
        path.write_text(lab.text)
        for variant in lab.variants:
            model = load_lab(str(path), variant)
            assert predict(model) == [], ([str(p) for p in predict(model)], lab.replay)


def test_a_problem_names_the_pair_its_vpn_and_what_is_missing():
    problem = Problem((SiteEnd("CE-3", "152.12.5.0/24"), SiteEnd("CE-2", "152.12.4.0/24")),
                      "VPN-B", "PE-2 (AS 2) never receives 152.12.4.0/24 (VPN-B): ...")
    assert str(problem) == ("VPN-B: CE-3 (152.12.5.0/24) → CE-2 (152.12.4.0/24): "
                            "PE-2 (AS 2) never receives 152.12.4.0/24 (VPN-B): ...")


# -- broken labs -------------------------------------------------------------------------------
A1, A2 = "149.27.2.0/24 (VPN-A)", "149.27.3.0/24 (VPN-A)"  # behind CE-1, CE-4
B1, B2 = "152.12.4.0/24 (VPN-B)", "152.12.5.0/24 (VPN-B)"  # behind CE-2, CE-3


def both_ways(to_first: str, to_second: str) -> dict[tuple[str, str], str]:
    """Problems of the two VPNs of an inter-AS lab, both ways: ``to_first`` is why AS 1's
    PE lacks the far site's route (format field: the route), ``to_second`` AS 2's."""
    return {("CE-1", "CE-4"): to_first.format(route=A2),
            ("CE-2", "CE-3"): to_first.format(route=B2),
            ("CE-3", "CE-2"): to_second.format(route=B1),
            ("CE-4", "CE-1"): to_second.format(route=A1)}


def test_option3_without_the_multihop_vpnv4_session_between_the_rrs(tmp_path):
    model = edited(tmp_path, "option3", {
        "  - name: rr-vpnv4\n    between: [RR-1, RR-2]\n    families: [ipv4-vpn]\n"
        "    multihop: true\n    next_hop_unchanged: [RR-1, RR-2]\n": ""})
    assert predicted(model) == both_ways(
        "PE-1 (AS 1) never receives {route}: nothing carries it into AS 1: it stops at RR-2 "
        "(AS 2), which has no VPNv4 session into AS 1",
        "PE-2 (AS 2) never receives {route}: nothing carries it into AS 2: it stops at RR-1 "
        "(AS 1), which has no VPNv4 session into AS 2")


def test_option3_without_the_asbrs_labelled_unicast_session(tmp_path):
    """The RRs' multihop session needs each RR's route to the other's loopback, which only
    the ASBRs' labelled-unicast session carries across."""
    model = edited(tmp_path, "option3", {
        "  - {name: inter-as-lu, between: [ASBR-1, ASBR-2], families: "
        "[ipv4-labeled-unicast]}\n": ""})
    both = ("the VPNv4 session rr-vpnv4 between RR-1 and RR-2 cannot come up: RR-1 has no "
            "route to RR-2's loopback 10.2.0.1 (nothing carries it into AS 1: it stops at "
            "ASBR-2 (AS 2), which has no labelled-unicast session into AS 1); and RR-2 none to "
            "RR-1's loopback 10.1.0.4 (nothing carries it into AS 2: it stops at ASBR-1 (AS 1), "
            "which has no labelled-unicast session into AS 2)")
    assert predicted(model) == both_ways(f"PE-1 (AS 1) never receives {{route}}: {both}",
                                         f"PE-2 (AS 2) never receives {{route}}: {both}")


def test_option3_without_the_labelled_loopbacks_to_pe_2(tmp_path):
    """PE-2's loopback is carried nowhere, and PE-2 cannot resolve PE-1's."""
    model = edited(tmp_path, "option3", {
        "  - {name: as2-lu-pe, between: [ASBR-2, PE-2], families: [ipv4-labeled-unicast], "
        "next_hop_self: [ASBR-2]}\n": ""})
    assert predicted(model) == both_ways(
        "PE-1 (AS 1) never receives {route}: RR-1 drops it: its next hop 10.2.0.4 (PE-2's "
        "loopback) is unreachable from RR-1 (nothing carries it into AS 1: it stops at "
        "ASBR-2 (AS 2), which has no labelled-unicast session into AS 1)",
        "PE-2 (AS 2) cannot use {route}: its next hop 10.1.0.1 (PE-1's loopback) is "
        "unreachable from PE-2 (ASBR-2's labelled-unicast session to PE-2 is missing)")


def test_option3_with_pe_2s_loopbacks_learned_without_labels(tmp_path):
    """IPv4 unicast instead of labelled unicast towards PE-2: PE-2 reaches PE-1 but has no
    label for it (and its own loopback is no longer originated into labelled unicast)."""
    model = edited(tmp_path, "option3", {
        "{name: as2-lu-pe, between: [ASBR-2, PE-2], families: [ipv4-labeled-unicast]":
        "{name: as2-lu-pe, between: [ASBR-2, PE-2], families: [ipv4-unicast]"})
    assert predicted(model) == both_ways(
        "PE-1 (AS 1) never receives {route}: RR-1 drops it: its next hop 10.2.0.4 (PE-2's "
        "loopback) is unreachable from RR-1 (nothing carries it into AS 1: it stops at "
        "ASBR-2 (AS 2), which has no labelled-unicast session into AS 1)",
        "PE-2's next hop for {route}, 10.1.0.1 (PE-1's loopback), has no label-switched "
        "path: PE-2 learns 10.1.0.1 from ASBR-2 without a label (session as2-lu-pe: IPv4)")


def test_option2_without_the_pe_asbrs_vpnv4_session_in_as_2(tmp_path):
    model = edited(tmp_path, "option2", {
        "  - {name: as2-vpnv4, between: [PE-ASBR-2, PE-2], families: [ipv4-vpn], "
        "next_hop_self: [PE-ASBR-2]}\n": ""})
    assert predicted(model) == both_ways(
        "PE-1 (AS 1) never receives {route}: nothing carries it into AS 1: it stops at PE-2 "
        "(AS 2), which has no VPNv4 session into AS 1",
        "PE-2 (AS 2) never receives {route}: PE-ASBR-2's VPNv4 session to PE-2 is missing")


def test_option2_with_pe_1s_vpnv4_session_to_a_dead_end(tmp_path):
    """P-1 holds no VRF and has no VPNv4 session onward."""
    model = edited(tmp_path, "option2", {
        "between: [PE-1, PE-ASBR-1], families: [ipv4-vpn], next_hop_self: [PE-ASBR-1]":
        "between: [PE-1, P-1], families: [ipv4-vpn]"})
    assert predicted(model) == both_ways(
        "PE-1 (AS 1) never receives {route}: PE-ASBR-1's VPNv4 session to PE-1 is missing",
        "PE-2 (AS 2) never receives {route}: nothing carries it into AS 2: it stops at P-1 "
        "(AS 1), which has no VPNv4 session into AS 2")


def test_option2_with_an_as_that_distributes_no_labels(tmp_path):
    model = edited(tmp_path, "option2", {
        '{asn: 2, name: "AS #2", igp: ospf, label_distribution: [ldp]}':
        '{asn: 2, name: "AS #2", igp: ospf, label_distribution: []}'})
    assert predicted(model) == both_ways(
        "PE-ASBR-2's next hop for {route}, 10.2.0.3 (PE-2's loopback), has no label-switched "
        "path: PE-ASBR-2 reaches 10.2.0.3 over OSPF from P-2, but the link between P-2 and "
        "PE-ASBR-2 runs no LDP",
        "PE-2's next hop for {route}, 10.2.0.1 (PE-ASBR-2's loopback), has no label-switched "
        "path: PE-2 reaches 10.2.0.1 over OSPF from P-2, but the link between P-2 and PE-2 "
        "runs no LDP")


@pytest.mark.parametrize("variant", ["ebgp", "ospf", "rip", "static"])
def test_option1_without_the_back_to_back_vrf_of_one_vpn(variant, tmp_path):
    """Whatever runs between the PE-ASBRs' VRFs, VPN-B has none on the inter-AS link: each
    PE-ASBR holds the other side's VPN-B routes as VPNv4 routes, with nowhere to go."""
    model = edited(tmp_path, "option1", {"vrfs: {VPN-A: 101, VPN-B: 102}": "vrfs: {VPN-A: 101}"},
                   variant)
    assert predicted(model) == {
        ("CE-2", "CE-3"): f"PE-1 (AS 1) never receives {B2}: nothing carries it into AS 1: it "
                          "stops at PE-ASBR-2 (AS 2), which has no VRF importing 1:222 and no "
                          "VPNv4 session into AS 1",
        ("CE-3", "CE-2"): f"PE-2 (AS 2) never receives {B1}: nothing carries it into AS 2: it "
                          "stops at PE-ASBR-1 (AS 1), which has no VRF importing 1:222 and no "
                          "VPNv4 session into AS 2"}


def test_option1_with_one_customer_as_at_both_sites(tmp_path):
    """A CE drops a route carrying its own AS: nothing in the lab overrides it."""
    model = edited(tmp_path, "option1", {
        "CE-1:      {role: ce, site:": "CE-1:      {role: ce, asn: 64999, site:",
        "CE-4:      {role: ce, site:": "CE-4:      {role: ce, asn: 64999, site:"})
    assert predicted(model) == {
        ("CE-1", "CE-4"): f"CE-1 never learns {A2} from PE-1's VRF VPN-A: CE-1 drops it: its "
                          "own AS 64999 is in the AS path (1 2 64999), with neither allowas-in "
                          "nor as-override",
        ("CE-4", "CE-1"): f"CE-4 never learns {A1} from PE-2's VRF VPN-A: CE-4 drops it: its "
                          "own AS 64999 is in the AS path (2 1 64999), with neither allowas-in "
                          "nor as-override"}


def test_a_vrf_whose_import_target_matches_no_export(tmp_path):
    model = edited(tmp_path, "option3", {
        'VPN-B: {rd: "1:27", route_targets: ["1:222"]}':
        'VPN-B: {rd: "1:27", route_targets: ["1:222"], import_targets: ["1:999"]}'})
    assert predicted(model) == {
        ("CE-2", "CE-3"): f"PE-1 (AS 1) holds {B2} as a VPNv4 route, but its VRF VPN-B imports "
                          "1:999 and the route carries 1:222",
        ("CE-3", "CE-2"): f"PE-2 (AS 2) holds {B1} as a VPNv4 route, but its VRF VPN-B imports "
                          "1:999 and the route carries 1:222"}


def test_option4_same_as_without_route_reflector_clients_in_as_3(tmp_path):
    """The RRs speak iBGP across the transit (one AS number): RR-2 must reflect between RR-1
    and PE-2, which it does only for a client."""
    model = edited(tmp_path, "option4", {
        "{name: as3-vpnv4, between: [RR-2, PE-2], families: [ipv4-vpn], rr_clients: [PE-2]}":
        "{name: as3-vpnv4, between: [RR-2, PE-2], families: [ipv4-vpn]}"}, "same-as")
    assert predicted(model) == {
        ("CE-1", "CE-4"): f"PE-1 (AS 1) never receives {A2}: RR-2 learns it over iBGP from "
                          "PE-2 and would have to reflect it to RR-1, but neither is its "
                          "route-reflector client",
        ("CE-2", "CE-3"): f"PE-1 (AS 1) never receives {B2}: RR-2 learns it over iBGP from "
                          "PE-2 and would have to reflect it to RR-1, but neither is its "
                          "route-reflector client",
        ("CE-3", "CE-2"): f"PE-2 (AS 3) never receives {B1}: RR-2 learns it over iBGP from "
                          "RR-1 and would have to reflect it to PE-2, but neither is its "
                          "route-reflector client",
        ("CE-4", "CE-1"): f"PE-2 (AS 3) never receives {A1}: RR-2 learns it over iBGP from "
                          "RR-1 and would have to reflect it to PE-2, but neither is its "
                          "route-reflector client"}
    # The distinct-as variant peers the RRs over eBGP: no reflection needed there.
    model = edited(tmp_path, "option4", {
        "{name: as3-vpnv4, between: [RR-2, PE-2], families: [ipv4-vpn], rr_clients: [PE-2]}":
        "{name: as3-vpnv4, between: [RR-2, PE-2], families: [ipv4-vpn]}"}, "distinct-as")
    assert predicted(model) == {}


def test_csc_mpls_without_one_csc_ces_labelled_session_to_its_pe(tmp_path):
    """The CSC-CE to PE session is derived from their link: without it site 2's loopbacks
    never enter the backbone, and the ISP's iBGP between its sites never comes up."""
    model = edited(tmp_path, "csc-mpls", {"  - {endpoints: [PE-2, CSC-CE-2]}\n": ""})
    site1, site2 = "AS 100's site ASBR-1, CSC-CE-1", "AS 100's site CSC-CE-2, ASBR-2"
    why = ("the IPv4 session isp-ibgp between ASBR-1 and ASBR-2 cannot come up: ASBR-1 has no "
           f"route to ASBR-2's loopback 10.2.0.4 (nothing carries it into {site1}: it stops at "
           f"CSC-CE-2 ({site2}), which has no labelled-unicast session into {site1}); and "
           f"ASBR-2 none to ASBR-1's loopback 10.2.0.1 (nothing carries it into {site2}: it "
           f"stops at PE-2 (AS 1), which has no VRF importing 1:100 and no VPNv4 session into "
           f"{site2})")
    assert predicted(model) == {
        ("ASBR-1", "ASBR-2"): f"ASBR-1 (AS 100) never receives 203.0.113.0/24 (external, AS "
                              f"100): {why}",
        ("ASBR-2", "ASBR-1"): f"ASBR-2 (AS 100) never receives 198.51.100.0/24 (external, AS "
                              f"100): {why}"}


def test_csc_vpn_without_the_labelled_session_between_i_pe1_and_its_csc_ce(tmp_path):
    model = edited(tmp_path, "csc-vpn", {
        "  - {name: site1-lu, between: [I-PE1, CSC-CE-1], families: [ipv4-labeled-unicast], "
        "next_hop_self: [CSC-CE-1]}\n": ""})
    why = ("the VPNv4 session isp-vpnv4 between I-PE1 and I-PE2 cannot come up: I-PE1 has no "
           "route to I-PE2's loopback 10.2.0.4 (CSC-CE-1's labelled-unicast session to I-PE1 "
           "is missing)")
    assert predicted(model) == {
        ("CE-N1", "CE-N2"): f"I-PE1 (AS 100) never receives 203.0.113.0/24 (VPN-N): {why}",
        ("CE-N2", "CE-N1"): f"I-PE2 (AS 100) never receives 198.51.100.0/24 (VPN-N): {why}"}


def test_validate_and_explain_name_the_broken_pairs(tmp_path):
    """`mplslab validate` exits 2 with one error line and each pair below it; `explain`
    tells the same prediction."""
    from typer.testing import CliRunner

    from emulator.cli import app

    edited(tmp_path, "option3", {
        "  - name: rr-vpnv4\n    between: [RR-1, RR-2]\n    families: [ipv4-vpn]\n"
        "    multihop: true\n    next_hop_unchanged: [RR-1, RR-2]\n": ""})
    path = str(tmp_path / "option3.yml")
    result = CliRunner().invoke(app, ["validate", path])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("error: ") and "4 site pair(s) would not reach" in lines[0]
    assert sum("error:" in line for line in lines) == 1
    assert "CE-3 (152.12.5.0/24) → CE-2 (152.12.4.0/24)" in result.output
    assert "which has no VPNv4 session into AS 1" in result.output
    told = CliRunner().invoke(app, ["explain", path])
    assert told.exit_code == 0, told.output
    assert told.output.count("will not work:") == 4
    assert CliRunner().invoke(app, ["validate", "option3"]).exit_code == 0
