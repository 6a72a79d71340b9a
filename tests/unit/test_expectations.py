"""Expectation derivation without any router: which checks, on which routers, with which
fixed facts (who advertises, who allocates the label, how deep the stack is per link)."""

from collections import Counter

import pytest
from shipped import lab_variants

from emulator.model.build import load_lab
from emulator.verify.checks import CARRIER_KINDS, KINDS, label_stack
from emulator.verify.families import derive
from emulator.verify.semantics import semantics_for


def views(lab_name, ce):
    lab = load_lab(lab_name)
    return {v.holder: (str(v.next_hop) if v.next_hop else None, v.next_hop_router, v.allocator)
            for v in semantics_for(lab).vpn_views(ce)}


def depths(lab_name, source, destination):
    lab = load_lab(lab_name)
    return [(h.sender, h.receiver, h.depth)
            for h in semantics_for(lab).wire_path(source, destination)]


@pytest.mark.parametrize("lab_name", ["option1", "option2", "option3"])
def test_every_kind_is_derived(lab_name):
    kinds = Counter(c.kind for c in derive(load_lab(lab_name)))
    assert set(kinds) == set(KINDS) - set(CARRIER_KINDS)
    assert kinds["ping"] == 4 and kinds["isolation"] == 8 and kinds["wire-labels"] == 2


def test_option1_each_as_re_originates_the_other_as_sites():
    assert views("option1", "CE-2") == {
        "PE-1": (None, "PE-1", "PE-1"),
        "PE-ASBR-1": ("10.1.0.1", "PE-1", "PE-1"),
        # AS #2 learns the prefix in PE-ASBR-2's VRF and exports it with its own label.
        "PE-ASBR-2": (None, "PE-ASBR-2", "PE-ASBR-2"),
        "PE-2": ("10.2.0.1", "PE-ASBR-2", "PE-ASBR-2"),
    }
    assert depths("option1", "CE-3", "CE-2") == [
        ("PE-2", "P-2", 2), ("P-2", "PE-ASBR-2", 1), ("PE-ASBR-2", "PE-ASBR-1", 0),
        ("PE-ASBR-1", "P-1", 2), ("P-1", "PE-1", 1)]


def test_option2_asbrs_rewrite_next_hop_and_label():
    assert views("option2", "CE-2") == {
        "PE-1": (None, "PE-1", "PE-1"),
        "PE-ASBR-1": ("10.1.0.1", "PE-1", "PE-1"),               # L1
        "PE-ASBR-2": ("10.255.0.1", "PE-ASBR-1", "PE-ASBR-1"),   # L2, the link address
        "PE-2": ("10.2.0.1", "PE-ASBR-2", "PE-ASBR-2"),          # L3, next-hop-self
    }
    assert depths("option2", "CE-3", "CE-2") == [
        ("PE-2", "P-2", 2), ("P-2", "PE-ASBR-2", 1), ("PE-ASBR-2", "PE-ASBR-1", 1),
        ("PE-ASBR-1", "P-1", 2), ("P-1", "PE-1", 1)]


def test_option2_lfib_has_a_swap_on_each_asbr():
    names = {c.name for c in derive(load_lab("option2")) if c.kind == "mpls-lfib"}
    assert "PE-ASBR-1: VPN label of 152.12.4.0/24 swaps towards PE-1" in names
    assert "PE-ASBR-2: VPN label of 152.12.4.0/24 swaps towards PE-ASBR-1" in names
    assert "PE-1: VPN label of 152.12.4.0/24 pops into VPN-B" in names


def test_option3_next_hop_and_label_unchanged_end_to_end():
    assert views("option3", "CE-2") == {
        holder: ("10.1.0.1", "PE-1", "PE-1") for holder in ("RR-1", "RR-2", "PE-2")
    } | {"PE-1": (None, "PE-1", "PE-1")}
    assert depths("option3", "CE-3", "CE-2") == [
        ("PE-2", "P-2", 3), ("P-2", "ASBR-2", 2), ("ASBR-2", "ASBR-1", 2),
        ("ASBR-1", "P-1", 2), ("P-1", "PE-1", 1)]


def test_option3_vpn_routes_stay_off_asbrs_and_p_routers():
    names = {c.name for c in derive(load_lab("option3")) if c.kind == "vpnv4-route"}
    for router in ("ASBR-1", "ASBR-2", "P-1", "P-2"):
        assert f"{router} holds no route to 152.12.4.0/24" in names
    assert "ASBR-1: 1:27:152.12.4.0/24" not in names


def test_label_stack_parsing():
    line = ("18:42:38.267868 MPLS (label 17, tc 0, ttl 63) (label 144, tc 0, [S], ttl 63) "
            "IP 152.12.5.1 > 152.12.4.1: ICMP echo request")
    assert label_stack(line) == [17, 144]
    assert label_stack("IP 152.12.5.1 > 152.12.4.1: ICMP echo request") == []


def test_option3_labelled_loopback_chain_respects_ibgp_split_horizon():
    checks = {c.name: c.expected for c in derive(load_lab("option3"))
              if c.kind == "label-chain" and "LU" in c.name}
    assert checks["10.1.0.1/32: ASBR-1 pushes PE-1's LU label"]["pushed"] == "implicit-null (3)"
    assert checks["10.1.0.1/32: PE-2 pushes ASBR-2's LU label"]["ASBR-2"] == \
        "swaps to the LU label from ASBR-1"
    assert checks["10.1.0.1/32: ASBR-2 pushes ASBR-1's LU label"]["ASBR-1"] == \
        "swaps onto the LDP path to it"
    # ASBR-1 learned PE-1's loopback over iBGP and is no route reflector: RR-1 never gets it.
    assert "10.1.0.1/32: RR-1 pushes ASBR-1's LU label" not in checks
    tables = [c for c in derive(load_lab("option3"))
              if c.kind == "label-chain" and c.name.endswith("next hops only")]
    assert [c.node for c in tables] == ["ASBR-1", "ASBR-2"]
    assert tables[0].expected == {"routes": ["10.1.0.1/32", "10.1.0.4/32", "10.2.0.1/32",
                                             "10.2.0.4/32"]}


def test_option2_without_next_hop_self_reaches_the_far_asbr_over_a_host_route():
    lab = load_lab("option2", "no-next-hop-self")
    views_seen = {v.holder: (str(v.next_hop) if v.next_hop else None, v.allocator)
                  for v in semantics_for(lab).vpn_views("CE-2")}
    assert views_seen["PE-2"] == ("10.255.0.1", "PE-ASBR-1")  # L2, unchanged by PE-ASBR-2
    assert [str(h) for h in lab.node("PE-ASBR-2").ldp_host_routes] == ["10.255.0.1/32"]
    assert [(h.sender, h.receiver, h.depth)
            for h in semantics_for(lab).wire_path("CE-3", "CE-2")] == [
        ("PE-2", "P-2", 2), ("P-2", "PE-ASBR-2", 2), ("PE-ASBR-2", "PE-ASBR-1", 1),
        ("PE-ASBR-1", "P-1", 2), ("P-1", "PE-1", 1)]
    names = {c.name for c in derive(lab) if c.kind == "mpls-lfib"}
    assert "PE-ASBR-2: LDP label for 10.255.0.1/32 pops towards 10.255.0.1" in names


def test_every_label_chain_is_read_again_at_the_end():
    checks = derive(load_lab("option2"))
    chains = [c for c in checks if c.kind == "label-chain"]
    steady = [c for c in checks if c.kind == "label-steady"]
    assert chains and [c.name for c in steady] == [f"still: {c.name}" for c in chains]
    assert checks[-len(steady):] == steady


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_every_check_has_a_name_of_its_own(lab_name, variant):
    """Reports, `verify --json` and `explain` find a check by its name."""
    names = [c.name for c in derive(load_lab(lab_name, variant))]
    assert len(names) == len(set(names))


def test_option4_same_as_speaks_as_1_in_both_regions():
    """Both providers are AS 1 (region 3 keeps its name in the file): the RRs are iBGP
    peers, the VPN routes carry no AS path anywhere, and the transit's ASBRs replace AS 1
    with their own in the labelled loopbacks they pass on."""
    lab = load_lab("option4", "same-as")
    assert {n.name: n.bgp_asn for n in lab.nodes if n.name in ("RR-2", "ASBR-3", "PE-2")} == {
        "RR-2": 1, "ASBR-3": 2, "PE-2": 1}
    rr1 = lab.node("RR-1").core_bgp
    towards_rr2 = next(n for n in rr1.neighbors if n.peer == "RR-2")
    assert not towards_rr2.ebgp and towards_rr2.remote_as == 1 and rr1.asn == 1
    for transit, provider in (("ASBR-2", "ASBR-1"), ("ASBR-3", "ASBR-4")):
        node = lab.node(transit)
        overridden = {n.peer for n in node.core_bgp.neighbors if n.as_override}
        assert overridden == {provider}, transit
        assert [r.params["peers"] for r in node.reasons if r.key == "as-override"] == [
            [provider]]
    assert not [n for n in lab.nodes if n.asn != 2 for b in n.bgp for x in b.neighbors
                if x.as_override or x.allowas_in]
    assert not [n for n in load_lab("option4").nodes for b in n.bgp for x in b.neighbors
                if x.as_override]
    paths = {c.name: c.expected["as_path"] for c in derive(lab) if c.kind == "vpnv4-route"
             and "as_path" in c.expected}
    assert paths["PE-2: 1:27:152.12.4.0/24"] == "begins (local), never AS 2"
    assert paths["RR-1: 1:27:152.12.5.0/24"] == "begins (local), never AS 2"
    distinct = {c.name: c.expected["as_path"] for c in derive(load_lab("option4"))
                if c.kind == "vpnv4-route" and "as_path" in c.expected}
    assert distinct["PE-2: 1:27:152.12.4.0/24"] == "begins 1, never AS 2"
    # The same label stacks on the wire as with distinct numbers.
    same = [(h.sender, h.receiver, h.depth)
            for h in semantics_for(lab).wire_path("CE-3", "CE-2")]
    assert same == depths("option4", "CE-3", "CE-2") and len(same) == 8
