"""The normalised model: defaults, deterministic addressing, derived protocol facts."""

import ipaddress
import os
import subprocess
import sys

import pytest

from emulator.model.build import load_lab
from emulator.paths import labs_dir

LABS = sorted(p.stem for p in labs_dir().glob("*.yml"))


def all_addresses(lab):
    for node in lab.nodes:
        for interface in node.interfaces:
            if interface.address is not None:
                yield node.name, interface.name, interface.address


@pytest.mark.parametrize("name", LABS)
def test_addresses_do_not_overlap(name):
    """Inside one address space: the backbone's, or a customer carrier's own (which may
    reuse another's: its routes live in its VRF)."""
    lab = load_lab(name)
    carriers = {a.asn for a in lab.autonomous_systems if a.carrier_vpn}
    seen = {}
    for node, ifname, address in all_addresses(lab):
        asn = lab.node(node).asn
        interface = lab.node(node).interface(ifname)
        space = asn if asn in carriers and interface.scope != "attachment" else None
        key = (space, address.ip)
        assert key not in seen, f"{node} {ifname} reuses {address} of {seen[key]}"
        seen[key] = (node, ifname)


def test_a_second_carrier_reuses_the_first_ones_addresses_in_its_own_space():
    lab = load_lab("csc-mpls")
    assert lab.node("CSC-CE-3").loopback == lab.node("ASBR-1").loopback
    assert lab.node("CSC-CE-3").external == lab.node("ASBR-1").external


@pytest.mark.parametrize("name", LABS)
def test_allocation_is_deterministic(name):
    """The same file gives the same model in another process, whatever Python's hash seed
    (set and dict ordering must never leak into addresses or names)."""
    program = ("import sys; from emulator.model.build import load_lab; "
               f"sys.stdout.write(load_lab({name!r}).model_dump_json())")
    here = load_lab(name).model_dump_json()
    for seed in ("1", "2"):
        other = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                               env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        assert other == here


def test_reasons_are_neutral_facts_and_old_models_still_load():
    """A reason names the derived setting, its protocol and parameters, never a suite's
    command; a model written when reasons were FRR's text (a lab deployed before) loads
    without them."""
    from emulator.model.topology import Lab

    lab = load_lab("option2", "no-next-hop-self")
    asbr = lab.node("PE-ASBR-2")
    assert [(r.key, r.protocol) for r in asbr.reasons] == [
        ("ldp-host-route", "ldp"), ("staged-session", "bgp"), ("l3vpn-switching", "bgp"),
        ("fec-nexthop-resolution", "ldp")]
    assert asbr.reasons[2].params == {"interfaces": ["eth1", "eth2"]}
    assert not [r for n in lab.nodes for r in n.reasons if "mpls" in r.why + str(r.params)]
    old = lab.model_dump(mode="json")
    old["nodes"][3]["reasons"] = [{"setting": "no bgp network import-check", "why": "old"}]
    assert Lab.model_validate(old).nodes[3].reasons == []


def test_option1_defaults_fill_what_the_file_leaves_out():
    lab = load_lab("option1")
    pe1 = lab.node("PE-1")
    assert pe1.loopback == ipaddress.IPv4Interface("10.1.0.1/32")
    assert pe1.router_id == ipaddress.IPv4Address("10.1.0.1")
    assert [i.name for i in pe1.interfaces] == ["lo", "eth1", "eth2", "eth3"]
    assert lab.node("PE-2").loopback.ip in ipaddress.IPv4Network("10.2.0.0/24")
    # CE-facing interfaces sit in the CE's VPN; the core link runs OSPF and LDP.
    assert pe1.interface("eth1").vrf == "VPN-A"
    assert pe1.interface("eth2").vrf == "VPN-B"
    core = pe1.interface("eth3")
    assert (core.vrf, core.igp, core.ldp, core.mpls) == (None, True, True, True)
    assert core.address.network.prefixlen == 30
    assert core.peer.node == "P-1"
    # Customer edges get private ASNs in file order and their site on a dummy interface.
    assert [lab.node(c).asn for c in ("CE-1", "CE-2", "CE-3", "CE-4")] == [
        65001, 65002, 65003, 65004]
    assert lab.node("CE-2").site.address == ipaddress.IPv4Interface("152.12.4.1/24")
    assert pe1.protocols == ["bgp", "ospf", "ldp"]
    assert lab.node("P-1").protocols == ["ospf", "ldp"]
    assert lab.node("CE-1").protocols == ["bgp"]


def test_option1_back_to_back_vrfs_use_one_vlan_per_vpn():
    lab = load_lab("option1")
    asbr = lab.node("PE-ASBR-1")
    vlans = {i.name: (i.vlan, i.vrf, i.mpls) for i in asbr.interfaces if i.kind == "vlan"}
    assert vlans == {"eth2.101": (101, "VPN-A", False), "eth2.102": (102, "VPN-B", False)}
    assert [v.name for v in asbr.vrfs] == ["VPN-A", "VPN-B"]
    assert all(v.rd == "1:27" for v in asbr.vrfs)
    assert [v.import_targets for v in asbr.vrfs] == [["1:231"], ["1:222"]]
    vrf_bgp = {b.vrf: [n.remote_as for n in b.neighbors] for b in asbr.bgp if b.vrf}
    assert vrf_bgp == {"VPN-A": [2], "VPN-B": [2]}
    # No MPLS, no IGP, no LDP across the inter-AS link.
    inter_as = [i for i in asbr.interfaces if i.scope == "inter-as"]
    assert not any(i.igp or i.ldp or i.mpls for i in inter_as)


@pytest.mark.parametrize("variant,redistributed", [
    ("ospf", ["ospf"]), ("rip", ["rip"]), ("static", ["static"]), ("ebgp", [])])
def test_option1_variants_change_only_the_inter_as_protocol(variant, redistributed):
    lab = load_lab("option1", variant)
    asbr = lab.node("PE-ASBR-2")
    assert [v.redistribute for v in asbr.vrfs] == [redistributed, redistributed]
    # PE-CE stays eBGP in every variant.
    pe = lab.node("PE-2")
    assert all(len(b.neighbors) == 1 for b in pe.bgp if b.vrf)


def test_option1_static_variant_routes_the_far_sites():
    asbr = load_lab("option1", "static").node("PE-ASBR-1")
    routes = {(str(r.prefix), r.vrf) for r in asbr.static_routes}
    assert routes == {("149.27.3.0/24", "VPN-A"), ("152.12.5.0/24", "VPN-B")}


def test_option2_asbrs_switch_vpn_labels_without_vrfs():
    lab = load_lab("option2")
    asbr = lab.node("PE-ASBR-1")
    assert asbr.vrfs == []
    inter_as = next(i for i in asbr.interfaces if i.scope == "inter-as")
    assert (inter_as.mpls, inter_as.mpls_bgp_forwarding, inter_as.l3vpn_switching,
            inter_as.igp, inter_as.ldp) == (True, True, True, False, False)
    core = next(i for i in asbr.interfaces if i.scope == "core")
    assert core.l3vpn_switching and not core.mpls_bgp_forwarding
    ebgp = next(n for n in asbr.core_bgp.neighbors if n.ebgp)
    assert (ebgp.remote_as, ebgp.families, ebgp.update_source) == (2, ["ipv4-vpn"], None)
    assert ebgp.address == inter_as.peer.address.ip
    ibgp = next(n for n in asbr.core_bgp.neighbors if not n.ebgp)
    assert ibgp.next_hop_self and ibgp.update_source == "lo"
    # The PE is a plain L3VPN PE: no switching knobs.
    assert not any(i.l3vpn_switching for i in lab.node("PE-1").interfaces)


def test_sessions_list_every_bgp_session_once():
    lab = load_lab("option1")
    names = [s.name for s in lab.sessions]
    assert len(names) == len(set(names))
    assert "as1-vpnv4" in names
    assert "PE-ASBR-1--PE-ASBR-2@VPN-B" in names
    assert "PE-1--CE-2" in names


def test_option3_asbrs_carry_labelled_loopbacks_only():
    lab = load_lab("option3")
    asbr = lab.node("ASBR-1")
    assert asbr.vrfs == [] and not asbr.core_bgp.import_check
    assert asbr.fec_nexthop_resolution
    assert {n.peer: n.families for n in asbr.core_bgp.neighbors} == {
        "PE-1": ["ipv4-labeled-unicast"], "RR-1": ["ipv4-labeled-unicast"],
        "ASBR-2": ["ipv4-labeled-unicast"]}
    inter_as = next(i for i in asbr.interfaces if i.scope == "inter-as")
    assert inter_as.mpls and inter_as.mpls_bgp_forwarding and not inter_as.l3vpn_switching
    pe = lab.node("PE-1")
    assert [str(n) for n in pe.core_bgp.networks] == ["10.1.0.1/32"]
    rr = lab.node("RR-1")
    to_rr2 = next(n for n in rr.core_bgp.neighbors if n.peer == "RR-2")
    assert (to_rr2.ebgp, to_rr2.ebgp_multihop, to_rr2.next_hop_unchanged,
            to_rr2.update_source) == (True, 255, True, "lo")
    to_pe = next(n for n in rr.core_bgp.neighbors if n.peer == "PE-1")
    assert to_pe.rr_client and to_pe.families == ["ipv4-vpn"]


def test_option2_asbr_enables_ibgp_only_after_ldp_labels():
    lab = load_lab("option2")
    asbr = lab.node("PE-ASBR-2")
    waiting = {n.peer: n.wait_for_ldp_label for n in asbr.core_bgp.neighbors}
    assert waiting == {"PE-ASBR-1": False, "PE-2": True}
    assert not any(n.wait_for_ldp_label for n in lab.node("PE-2").core_bgp.neighbors)
    assert not any(n.wait_for_ldp_label for node in load_lab("option1").nodes
                   for b in node.bgp for n in b.neighbors)
