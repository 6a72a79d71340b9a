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
    # The slide's L1 (PE-1), L2 (PE-ASBR-1) and L3 (PE-ASBR-2), from the origin's side.
    slide = walkthrough(load_lab("option2", "next-hop-self"), "152.12.4.1")
    assert [(h.router, h.slide) for h in slide.holders] == [
        ("PE-1", "L1"), ("PE-ASBR-1", "L1"), ("PE-ASBR-2", "L2"), ("PE-2", "L3")]
    no_nhs = walkthrough(load_lab("option2", "no-next-hop-self"), "152.12.4.1")
    assert {h.router: h.slide for h in no_nhs.holders}["PE-2"] == "L2"  # passed on as is
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
    # The slide's two labels of 152.12.4.0/24: PE-1's 29 in AS 1, PE-ASBR-2's 92 in AS 2.
    slide = walkthrough(load_lab("option1"), "152.12.4.1")
    assert {(h.label_from, h.slide) for h in slide.holders} == {("PE-1", "29"),
                                                                ("PE-ASBR-2", "92")}


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


# -- every lab explained: the carrier labs, the labelled loopbacks ---------------------------
def destinations(lab) -> list[str]:
    """What a trainee walks: every site prefix and every carrier's external prefix."""
    from emulator.verify.carrier import externals

    return [*(str(ce.site.prefix) for ce in lab.sites()), *(n.name for n in externals(lab))]


@pytest.mark.parametrize("name,variant", list(lab_variants()))
def test_every_lab_tells_its_story_and_walks_every_destination(name, variant):
    lab = load_lab(name, variant)
    told = story(lab)
    assert any(vpn["paths"] for vpn in told["vpns"]), f"{name}: a story without a path"
    walks = [walkthrough(lab, what) for what in destinations(lab)]
    assert walks, f"{name}: nothing to walk"
    for walk in walks:
        assert walk.holders and walk.holders[0].router == walk.origin
        assert walk.links and walk.packet_from
        last = walk.origin if walk.kind == "vpn" else walk.site
        assert walk.links[-1]["link"].endswith(f"→ {last}")
        links = [(*link["link"].split(" → "), link["labels"], link["what"])
                 for link in walk.links]
        assert not php_claims(links), php_claims(links)
        assert walk.as_dict()["route"] and walk.address


def wire(name: str, variant: str | None = None, check: str = "") -> dict[str, int]:
    """The depths `verify` captures on the wire-labels check named ``check``."""
    from emulator.verify.families import derive

    found = next(c for c in derive(load_lab(name, variant)) if c.name == check)
    return {link: int(text.split()[0]) for link, text in found.expected.items()}


def depths(walk) -> dict[str, int]:
    return {link["link"].replace(" → ", "→"): link["labels"] for link in walk.links}


# The slides' walkthroughs, a host behind ASBR-2 to network N behind ASBR-1 (csc-ip: IP in
# the sites, one label CSC-CE → PE, [LDP, VPN] then the VPN label in the backbone, IP again
# from PE-1; csc-mpls: the CSC-CEs' labels too).
SLIDE_STACKS = {
    "csc-ip": [("ASBR-2→CSC-CE-2", 0), ("CSC-CE-2→PE-2", 1), ("PE-2→P-1", 2), ("P-1→PE-1", 1),
               ("PE-1→CSC-CE-1", 0), ("CSC-CE-1→ASBR-1", 0)],
    "csc-mpls": [("ASBR-2→CSC-CE-2", 1), ("CSC-CE-2→PE-2", 1), ("PE-2→P-1", 2),
                 ("P-1→PE-1", 1), ("PE-1→CSC-CE-1", 1), ("CSC-CE-1→ASBR-1", 0)],
}


@pytest.mark.parametrize("name", ["csc-ip", "csc-mpls"])
def test_the_carrier_walk_is_the_slides_from_a_site_to_network_n(name):
    lab = load_lab(name)
    walk = walkthrough(lab, "198.51.100.1")
    assert (walk.kind, walk.prefix, walk.site, walk.packet_from) == (
        "carrier", "198.51.100.0/24", "ASBR-1", "ASBR-2")
    # Two carriers use 198.51.100.0/24: the first is walked, the other is named.
    assert walk.also == [{"router": "CSC-CE-3", "asn": 200, "prefix": "198.51.100.0/24"}]
    assert list(depths(walk).items()) == SLIDE_STACKS[name]
    # The verifier's own semantics: the very path its wire-labels check captures.
    assert depths(walk) == wire(name, check="ASBR-2 → 198.51.100.1 (N behind ASBR-1)")
    # The backbone holds the carrier's loopback (N's next hop) as a VPNv4 route, PE-1's label.
    assert walk.route == "1:100:10.2.0.1/32" and walk.vpn == "ISP-1"
    assert [(h.router, h.next_hop, h.label_from) for h in walk.holders] == [
        ("PE-1", "itself (from CSC-CE-1 in its VRF ISP-1)", "PE-1"),
        ("PE-2", "10.1.0.1 (PE-1)", "PE-1")]
    assert walk.external["next_hop"] == "10.2.0.1 (ASBR-1)"
    assert walk.external["absent_on"] == walk.absent_on == ["PE-1", "P-1", "PE-2"]
    level = walk.loopback
    assert (level.kind, level.prefix, level.router) == ("carrier", "10.2.0.1/32", "ASBR-1")
    by_router = {h.router: h for h in level.holders}
    assert by_router["PE-2"].table == "vpnv4" and by_router["PE-2"].label_from == "PE-1"
    assert by_router["CSC-CE-2"].label_from == "PE-2"
    assert ("PE-2 swaps the label it gave CSC-CE-2 (the slide's 2) onto PE-1's VPN label "
            "(the slide's 1), under LDP to PE-1") in level.swaps
    what = {link["link"]: link["what"] for link in walk.links}
    assert what["CSC-CE-2 → PE-2"] == "PE-2's label for 10.2.0.1/32"
    assert what["P-1 → PE-1"] == "PE-1's VPN label, after PHP at P-1"
    if name == "csc-ip":
        assert what["ASBR-2 → CSC-CE-2"] == what["CSC-CE-1 → ASBR-1"] == \
            "IP (the site runs no MPLS)"
        assert by_router["ASBR-2"].label_from is None  # OSPF: IP in the site
        assert "PE-1 pops its VPN label: CSC-CE-1 advertised implicit-null" in level.swaps
        assert walk.external["ibgp"][1:] == [
            {"router": r, "next_hop": "10.2.0.1 (ASBR-1)"}
            for r in ("CSC-CE-1", "CSC-CE-2", "ASBR-2")]  # CSC-CE RRs, next hop unchanged
    else:
        assert by_router["ASBR-2"].label_from == "CSC-CE-2"
        assert "PE-1 swaps its VPN label onto CSC-CE-1's label" in level.swaps
        assert what["CSC-CE-1 → ASBR-1"].startswith("IP (CSC-CE-1 pops its LU label")
        assert "PHP" not in what["ASBR-2 → CSC-CE-2"]  # one hop: nothing pops


def test_csc_vpn_walks_the_backbone_level_under_the_customers_vpn():
    lab = load_lab("csc-vpn")
    walk = walkthrough(lab, "198.51.100.1")
    assert (walk.kind, walk.vpn, walk.site, walk.packet_from) == ("vpn", "VPN-N", "CE-N1",
                                                                  "CE-N2")
    assert [(h.router, h.label_from, h.slide) for h in walk.holders] == [
        ("I-PE1", "I-PE1", "12"), ("I-PE2", "I-PE1", "12")]  # the slide's Label=12
    assert depths(walk) == wire("csc-vpn", check="CE-N2 → 198.51.100.1 (VPN-N)") == {
        "I-PE2→CSC-CE-2": 2, "CSC-CE-2→PE-2": 2, "PE-2→P-1": 3, "P-1→PE-1": 2,
        "PE-1→CSC-CE-1": 2, "CSC-CE-1→I-PE1": 1}
    level = walk.loopback
    assert (level.kind, level.prefix, level.router, level.rd) == ("carrier", "10.2.0.1/32",
                                                                  "I-PE1", "1:100")
    assert [(h.router, h.table, h.label_from) for h in level.holders] == [
        ("I-PE1", "origin", None), ("CSC-CE-1", "lu", "I-PE1"), ("PE-1", "vrf", "CSC-CE-1"),
        ("PE-2", "vpnv4", "PE-1"), ("CSC-CE-2", "lu", "PE-2"), ("I-PE2", "lu", "CSC-CE-2")]
    assert "CSC-CE-1 pops its label: I-PE1 advertised implicit-null for its own loopback" \
        in level.swaps
    what = {link["link"]: link["what"] for link in walk.links}
    # Where nothing pops, nothing says so; the VPN label is no "IP".
    assert "PHP" not in what["I-PE2 → CSC-CE-2"] and "PHP" not in what["CSC-CE-1 → I-PE1"]
    assert what["CSC-CE-1 → I-PE1"].startswith("I-PE1's VPN label (CSC-CE-1 pops its LU "
                                                "label")
    assert what["PE-2 → P-1"] == "LDP + PE-1's VPN label + I-PE1's VPN label"
    # The second carrier's own traffic, and a carrier's loopback by address.
    other = walkthrough(lab, "CSC-CE-3")
    assert (other.kind, other.packet_from, other.vpn) == ("carrier", "CSC-CE-4", "ISP-2")
    assert depths(other) == wire("csc-vpn", check="CSC-CE-4 → 198.51.100.1 (N behind CSC-CE-3)")
    loopback = walkthrough(lab, "10.2.0.1")
    assert (loopback.kind, loopback.site, loopback.prefix, loopback.external) == (
        "carrier", "I-PE1", "10.2.0.1/32", None)
    assert loopback.also == [{"router": "CSC-CE-3", "asn": 200, "prefix": "10.2.0.1/32"}]


@pytest.mark.parametrize("name,allocators", [
    ("option3", {"ASBR-2": ("ASBR-1", "L2"), "PE-2": ("ASBR-2", "L3"),
                 "RR-2": ("ASBR-2", "L3")}),
    ("option4", {"ASBR-2": ("ASBR-1", "L2"), "ASBR-3": ("ASBR-2", "L3"),
                 "ASBR-4": ("ASBR-3", "L4"), "PE-2": ("ASBR-4", "L5"),
                 "RR-2": ("ASBR-4", "L5")})])
def test_options_3_and_4_walk_the_labelled_loopback_and_name_its_allocators(name, allocators):
    """The slides: "Network=PE-1 NH=ASBR-1 Label=(L2)", "NH=ASBR-2 Label=(L3)" (and L4, L5
    across the transit): who allocates each labelled-unicast label for PE-1's loopback."""
    from emulator.verify.expectations import labeled_unicast_checks
    from emulator.verify.semantics import semantics_for

    lab = load_lab(name)
    walk = walkthrough(lab, "152.12.4.1")
    assert {h.slide for h in walk.holders} == {"L1"}  # PE-1's VPN label, everywhere
    level = walk.loopback
    assert (level.kind, level.prefix, level.router) == ("labelled-unicast", "10.1.0.1/32",
                                                        "PE-1")
    by_router = {h.router: h for h in level.holders}
    assert by_router["PE-1"].table == "origin" and by_router["PE-1"].label_from is None
    assert by_router["ASBR-1"].label_from == "PE-1"
    assert "implicit-null" in by_router["ASBR-1"].label
    for router, (allocator, slide) in allocators.items():
        assert by_router[router].label_from == allocator
        assert by_router[router].label.startswith(f"{slide} ({allocator}'s)")
    assert by_router["ASBR-2"].next_hop == "10.255.0.1 (ASBR-1)"
    assert "under LDP to" in by_router["PE-2"].label
    assert level.swaps[:2] == [
        "ASBR-1 allocates L2 and swaps it onto the LDP label to PE-1 (PE-1 gave implicit-null)",
        "ASBR-2 allocates L3 and swaps it onto L2 (ASBR-1's)"]
    # The verifier's labelled-unicast chain: the same holders and allocators.
    semantics = semantics_for(lab)
    names = {c.name for c in labeled_unicast_checks(lab, semantics)}
    for holder in level.holders[1:]:
        assert f"10.1.0.1/32: {holder.router} pushes {holder.label_from}'s LU label" in names
    told = story(lab)["labelled_loopbacks"]
    pe1 = next(t for t in told if t["router"] == "PE-1")
    assert [a["slide"] for a in pe1["allocators"]] == [f"L{n}" for n in
                                                       range(2, 2 + len(pe1["allocators"]))]


def test_a_carrier_walk_from_a_router_of_another_carrier_is_refused():
    lab = load_lab("csc-ip")
    assert walkthrough(lab, "ASBR-1", source="CSC-CE-2").packet_from == "CSC-CE-2"
    with pytest.raises(LabError, match="CSC-CE-3 is no router of AS 100 in another site"):
        walkthrough(lab, "ASBR-1", source="CSC-CE-3")


def test_the_cli_explains_the_carrier_labs():
    runner = CliRunner()
    result = runner.invoke(app, ["explain", "csc-ip"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "N 198.51.100.0/24 behind ASBR-1" in text
    assert "ASBR-2 → 198.51.100.0/24 (ASBR-1): ASBR-2 → CSC-CE-2 → PE-2" in text
    result = runner.invoke(app, ["explain", "csc-ip", "198.51.100.1"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    for words in ("who holds 1:100:10.2.0.1/32", "also 198.51.100.0/24: CSC-CE-3 (AS 200)",
                  "swap: PE-1 pops its VPN label", "data plane: ASBR-2 → 198.51.100.0/24"):
        assert words in text
    told = json.loads(runner.invoke(app, ["explain", "csc-mpls", "ASBR-1", "--json"]).output)
    # The fields a live walk is checked on (tests/e2e/labkit.py check_live_walk), and more.
    assert {"holders", "links", "kind", "loopback", "external"} <= set(told)
    assert told["links"][0] == {"link": "ASBR-2 → CSC-CE-2", "interface": "eth1", "labels": 1,
                                "what": told["links"][0]["what"]}
    result = runner.invoke(app, ["explain", "option4", "152.12.4.1"])
    text = " ".join(result.output.split())
    assert "labelled unicast: who holds 10.1.0.1/32 (PE-1)" in text
    assert "swap: ASBR-4 allocates L5 and swaps it onto L4 (ASBR-3's)" in text


# -- the options compared --------------------------------------------------------------------
def test_the_comparison_follows_the_labs_and_the_slides():
    from emulator.training.compare import LABS, comparison

    rows = {row.lab: row for row in comparison()}
    assert list(rows) == LABS and all(row.trust for row in rows.values())
    # What crosses the boundary: the stack on the links between two provider ASes.
    assert "PE-ASBR-2 → PE-ASBR-1: plain IP (0 labels)" in rows["option1"].boundary
    assert "IPv4 (eBGP between the PE-ASBRs per VRF)" in rows["option1"].boundary
    assert "PE-ASBR-1's VPN label (1 label)" in rows["option2"].boundary
    assert "ASBR-2 → ASBR-1: ASBR-1's LU label + VPN label (2 labels)" in rows["option3"].boundary
    assert "VPNv4 (eBGP between the RRs, multihop)" in rows["option3"].boundary
    assert rows["option4"].boundary.count("(2 labels)") == 2  # two AS boundaries
    assert "PE-1 → CSC-CE-1: plain IP (0 labels)" in rows["csc-ip"].boundary
    assert "PE-1 → CSC-CE-1: CSC-CE-1's LU label (1 label)" in rows["csc-mpls"].boundary
    assert "I-PE1's VPN label (2 labels)" in rows["csc-vpn"].boundary
    # Where the VPN routes live, and what the border routers hold.
    assert "none on the P routers and ASBRs" in rows["option3"].vpn_routes
    assert "the whole transit AS 2" in rows["option4"].vpn_routes
    assert "a VRF and sub-interface per VPN (VPN-A, VPN-B)" in rows["option1"].border_holds
    assert "each with a label of its own and an LFIB swap" in rows["option2"].border_holds
    assert "ASBR-1, ASBR-2: no VPN route, 4 labelled loopbacks" in rows["option3"].border_holds
    assert "internal routes (their loopbacks), nothing else" in rows["csc-ip"].vpn_routes
    assert "a VRF per customer carrier" in rows["csc-mpls"].border_holds
    # The trust column quotes the slides.
    assert "treats the other as a CE" in rows["option1"].trust
    assert "not part of the AS path" in rows["option4"].trust


def test_the_comparison_table_is_on_the_trainers_page():
    from emulator.paths import PROJECT_DIR
    from emulator.training.compare import markdown

    page = (PROJECT_DIR / "docs" / "training.md").read_text()
    assert markdown() in page, ("docs/training.md's table differs from the derived one: "
                                "python -m emulator.training.compare prints it")


@pytest.mark.parametrize("seed", range(12))
def test_explain_walks_every_destination_of_a_users_lab(seed, tmp_path):
    """Labs in the documented format (tests/labgen.py: options 1-3, every variant) are
    explained too, the labelled loopback of Option 3 included."""
    import sys

    from emulator.paths import PROJECT_DIR

    sys.path.insert(0, str(PROJECT_DIR / "tests"))
    import labgen

    generated = labgen.generate(seed)
    path = tmp_path / f"{generated.name}.yml"
    path.write_text(generated.text)
    lab = load_lab(str(path))
    assert story(lab)["vpns"]
    for what in destinations(lab):
        walk = walkthrough(lab, what)
        assert walk.holders[0].router == walk.origin
        assert (walk.loopback is not None) == (generated.option == 3 and bool(walk.links))


@pytest.mark.parametrize(("name", "variant"), lab_variants())
def test_every_link_of_every_lab_is_told_with_the_stacks_its_walks_carry(name, variant):
    """`explain LAB A:B`: both ends by the lab's names, and on every labelled link of a
    walk the depth the verifier expects there (semantics.wire_path's hops)."""
    from emulator.training.links import link_told

    lab = load_lab(name, variant)
    crossed = {}
    for walk in (walkthrough(lab, str(ce.site.prefix)) for ce in lab.sites()
                 if walkthrough_possible(lab, ce)):
        for link in walk.links:
            crossed[(link["link"], walk.packet_from)] = link["labels"]
    compared = 0
    for link in lab.links:
        told = link_told(lab, lab.link_end(f"{link.a.node}:{link.b.node}"))
        assert [(e["router"], e["interface"]) for e in told["ends"]] == \
            [(link.a.node, link.a.interface), (link.b.node, link.b.interface)]
        for stack in told["stacks"]:
            key = (stack["direction"], stack["from"])
            if key in crossed:
                assert crossed[key] == stack["labels"], (link.name, stack)
                compared += 1
    assert compared or not crossed


def walkthrough_possible(lab, ce) -> bool:
    try:
        walkthrough(lab, str(ce.site.prefix))
    except LabError:
        return False
    return True


def test_option3s_core_link_carries_three_labels_towards_the_asbr_one_back():
    from emulator.training.links import link_told

    lab = load_lab("option3")
    told = link_told(lab, lab.link_end("PE-2:P-2"))
    assert told["name"] == "PE-2:P-2" and told["scope"] == "core"
    assert {e["router"]: e["runs"] for e in told["ends"]} == {
        "PE-2": ["OSPF", "LDP", "MPLS"], "P-2": ["OSPF", "LDP", "MPLS"]}
    depths = {(s["from"], s["direction"]): s["labels"] for s in told["stacks"]}
    assert depths[("CE-3", "PE-2 → P-2")] == 3 and depths[("CE-2", "P-2 → PE-2")] == 1
    assert told["sessions"] == []
    inter_as = link_told(lab, lab.link_end("ASBR-2", "ASBR-1"))
    assert [s["session"] for s in inter_as["sessions"]] == ["inter-as-lu"]
    assert {s["labels"] for s in inter_as["stacks"]} == {2}


def test_the_cli_explains_a_link_by_its_ends_or_names_the_links():
    result = CliRunner().invoke(app, ["explain", "option3", "PE-2:P-2"])
    assert result.exit_code == 0, result.output
    assert "PE-2 eth1 10.2.1." in result.output and "P-2 eth3 10.2.1." in result.output
    assert "mplslab capture option3 PE-2:P-2" in result.output
    told = json.loads(CliRunner().invoke(app, ["explain", "option3", "PE-2:P-2", "--json"]
                                         ).stdout)
    assert [e["interface"] for e in told["ends"]] == ["eth1", "eth3"]
    result = CliRunner().invoke(app, ["explain", "option3", "PE-2:PE-1"])
    assert result.exit_code == 2
    assert "PE-2 has no link to PE-1 (its links: PE-2:P-2, PE-2:CE-3, PE-2:CE-4)" in \
        result.output
