"""Carrier supporting carrier without routers: what the model derives for customer carriers,
the checks the verifier derives from it, and the lab-file errors of the new fields."""

import textwrap

import pytest

from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.paths import labs_dir
from emulator.render import node_plan
from emulator.suites.bird_probes import VRF_TABLE_PREFIX
from emulator.verify.carrier import spoof_argv
from emulator.verify.checks import KINDS
from emulator.verify.families import derive

CSC = ["csc-ip", "csc-mpls", "csc-vpn"]
BASE = (labs_dir() / "csc-mpls.yml").read_text()


def error_of(tmp_path, text) -> str:
    path = tmp_path / "lab.yml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(LabError) as info:
        load_lab(str(path))
    return str(info.value)


@pytest.mark.parametrize("name", CSC)
def test_every_kind_of_check_is_derived_each_named_once(name):
    checks = derive(load_lab(name))
    assert {c.kind for c in checks} == set(KINDS)
    names = [c.name for c in checks]
    assert len(names) == len(set(names))  # two carriers may share prefixes, never names


def wire_depths(name: str, check_name: str) -> dict[str, int]:
    check = next(c for c in derive(load_lab(name)) if c.name == check_name)
    return {link: int(what.split()[0]) for link, what in check.expected.items()}


def test_the_slides_label_stacks_per_variant():
    walk = "ASBR-2 → 198.51.100.1 (N behind ASBR-1)"
    assert wire_depths("csc-ip", walk) == {
        "ASBR-2→CSC-CE-2": 0, "CSC-CE-2→PE-2": 1, "PE-2→P-1": 2, "P-1→PE-1": 1,
        "PE-1→CSC-CE-1": 0, "CSC-CE-1→ASBR-1": 0}
    assert wire_depths("csc-mpls", walk) == {
        "ASBR-2→CSC-CE-2": 1, "CSC-CE-2→PE-2": 1, "PE-2→P-1": 2, "P-1→PE-1": 1,
        "PE-1→CSC-CE-1": 1, "CSC-CE-1→ASBR-1": 0}
    assert wire_depths("csc-vpn", "CE-N2 → 198.51.100.1 (VPN-N)") == {
        "I-PE2→CSC-CE-2": 2, "CSC-CE-2→PE-2": 2, "PE-2→P-1": 3, "P-1→PE-1": 2,
        "PE-1→CSC-CE-1": 2, "CSC-CE-1→I-PE1": 1}


@pytest.mark.parametrize("name", CSC)
def test_the_backbone_never_holds_the_carriers_external_routes(name):
    names = {c.name for c in derive(load_lab(name))}
    for router in ("PE-1", "P-1", "PE-2"):
        assert any(n.startswith(f"{router} holds no route to 198.51.100.0/24") for n in names)


@pytest.mark.parametrize("name", CSC)
def test_each_carrier_pe_guards_its_csc_ce_interfaces(name):
    lab = load_lab(name)
    for node in lab.nodes:
        guarded = {(g.interface, g.vrf, g.peer) for g in node.label_guard}
        expected = {(i.name, i.vrf, i.peer.node) for i in node.interfaces
                    if i.peer and lab.node(i.peer.node).role == "csc-ce"
                    and i.vrf is not None}
        assert guarded == expected, node.name
        files, plan = node_plan(lab, node)
        bird = next((s for s in plan["suites"] if s["name"] == "bird"), None)
        assert ("label-guard" in (bird or {}).get("daemons", [])) == bool(guarded)
        assert ("label-guard.nft" in files) == bool(guarded)
        for index, g in enumerate(node.label_guard):
            # Each interface's own set: what BIRD advertised in that interface's VRF.
            assert f'device "{g.interface}"' in files["label-guard.nft"]
            assert f"labels '{VRF_TABLE_PREFIX}{g.vrf}'" in files["label-guard.sh"]
            assert f"labels_{index} {{ $ranges }}" in files["label-guard.sh"]
    assert lab.node("PE-1").label_guard[0].model_dump() == {
        "interface": "eth1", "vrf": "ISP-1", "peer": "CSC-CE-1"}


@pytest.mark.parametrize("name", CSC)
def test_a_csc_ce_may_not_push_another_carriers_label(name):
    spoofing = {c.name: c for c in derive(load_lab(name)) if c.kind == "label-spoofing"}
    # Both carriers attach to both PEs; one pair is left out: every loopback of AS 200's
    # other site is an address CSC-CE-1 holds itself (a spoofed packet would stay local).
    assert sorted(spoofing) == [
        "CSC-CE-2 (AS 100) cannot push CSC-CE-4's label for 10.2.0.1/32 into PE-2",
        "CSC-CE-3 (AS 200) cannot push CSC-CE-1's label for 10.2.0.3/32 into PE-1",
        "CSC-CE-4 (AS 200) cannot push CSC-CE-2's label for 10.2.0.1/32 into PE-2"]
    check = spoofing["CSC-CE-3 (AS 200) cannot push CSC-CE-1's label for 10.2.0.3/32 into PE-1"]
    assert check.node == "PE-1" and "PE-2→CSC-CE-2" in check.expected


def test_the_spoofed_pings_use_a_table_of_their_own():
    argv = spoof_argv("10.2.0.1", "10.2.0.3", 50003, "10.1.1.2", "eth1")
    script = argv[-1]
    assert "encap mpls 50003 via 10.1.1.2 dev eth1 table 4243" in script
    assert "ping -n -c 3 -i 0.3 -W 1 -m 4243 -I 10.2.0.1 10.2.0.3" in script
    # Removed whatever the ping did.
    assert script.index("ip rule del") > script.index("ping") < script.index("flush table")


def test_what_a_csc_ce_is_told():
    lab = load_lab("csc-mpls")
    ce = lab.node("CSC-CE-1")
    towards_pe = next(n for n in ce.core_bgp.neighbors if n.peer == "PE-1")
    assert towards_pe.allowas_in and towards_pe.export_only == "internal"
    assert ce.core_bgp.distance == 20  # iBGP labelled unicast from ASBR-1
    assert [str(p) for p in ce.core_bgp.networks] == [str(ce.loopback.network)]
    # Without MPLS in the site, the CSC-CE originates its site's loopbacks from the IGP and
    # hands the other sites' to it.
    ip = load_lab("csc-ip").node("CSC-CE-1")
    assert {str(p) for p in ip.core_bgp.networks} == {"10.2.0.1/32", "10.2.0.2/32"}
    assert ip.ospf[0].redistribute_internal_bgp and ip.core_bgp.distance is None
    pe = lab.node("PE-1")
    assert pe.suites["bgp"] == "bird" and pe.runs("frr") == ["ospf", "ldp"]
    assert [v.name for v in pe.vrfs] == ["ISP-1", "ISP-2"]


def test_a_csc_ce_needs_a_customer_carrier(tmp_path):
    text = BASE.replace("carrier_vpn: ISP-1}", "}").replace(", external: 203.0.113.0/24", "")
    text = text.replace(", external: 198.51.100.0/24}", "}", 1)
    assert "CSC-CE-1 is a csc-ce, but AS 100 is no customer carrier" in error_of(tmp_path,
                                                                                  text)


def test_bird_runs_bgp_on_a_pe_only(tmp_path):
    text = BASE.replace("P-1:      {role: p, asn: 1}",
                        "P-1:      {role: p, asn: 1, suites: {bgp: bird}}")
    assert "BIRD runs BGP on a carrier's PE only" in error_of(tmp_path, text)


def test_external_routes_belong_to_a_customer_carrier(tmp_path):
    text = BASE.replace("P-1:      {role: p, asn: 1}",
                        "P-1:      {role: p, asn: 1, external: 100.64.0.0/24}")
    assert "originates external routes, but its AS is no customer carrier" in error_of(
        tmp_path, text)


def test_addresses_repeat_only_across_carriers(tmp_path):
    text = BASE.replace("ASBR-2:   {role: asbr, asn: 100, external: 203.0.113.0/24}",
                        "ASBR-2:   {role: asbr, asn: 100, external: 198.51.100.0/24}")
    assert "198.51.100.0/24 is already used" in error_of(tmp_path, text)


def test_the_scaling_point_counts_the_external_table_at_site_2_and_in_the_backbone():
    lab = load_lab("csc-mpls", "scale")
    asbr = lab.node("ASBR-1")
    assert asbr.external_routes.count == 2000 and not asbr.core_bgp.import_check
    prefixes = list(asbr.external_routes.prefixes())
    assert len(prefixes) == 2000 and str(prefixes[-1]) == "100.71.207.0/24"
    counts = {c.name: c.expected for c in derive(lab) if "external routes" in c.name}
    assert counts["ASBR-2 holds ASBR-1's 2000 external routes (100.64.0.0/10)"] == {
        "routes within 100.64.0.0/10": 2000}
    # Every table of every backbone router: the PEs' VRFs too.
    assert counts["PE-1 holds none of ASBR-1's 2000 external routes"] == {
        "routes within 100.64.0.0/10, default table": 0,
        "routes within 100.64.0.0/10, ISP-1": 0, "routes within 100.64.0.0/10, ISP-2": 0}
    assert set(counts) == {"ASBR-2 holds ASBR-1's 2000 external routes (100.64.0.0/10)",
                           *(f"{r} holds none of ASBR-1's 2000 external routes"
                             for r in ("PE-1", "P-1", "PE-2"))}
    # Originated into the ISP's iBGP only: the labelled sessions take the loopbacks alone.
    # A file of their own, handed to bgpd alone once frr.conf is in (mgmtd and zebra never
    # take part in a read that long).
    files, plan = node_plan(lab, asbr)
    assert files["external-routes.conf"].count("\n  network 100.") == 2000
    assert files["external-routes.conf"].splitlines()[1:3] == [
        "router bgp 100", " address-family ipv4 unicast"]
    assert "network 100." not in files["frr.conf"]
    assert "no bgp network import-check" in files["frr.conf"]
    [frr_entry] = plan["suites"]
    assert frr_entry["daemon_configs"] == [{"daemon": "bgpd",
                                            "config": "external-routes.conf"}]
    assert "daemon_configs" not in node_plan(lab, lab.node("ASBR-2"))[1]["suites"][0]
    assert not [c for c in derive(load_lab("csc-mpls")) if "external routes" in c.name]


def test_an_external_table_must_fit_its_pool(tmp_path):
    text = BASE.replace("ASBR-1:   {role: asbr, asn: 100, external: 198.51.100.0/24}",
                        "ASBR-1:   {role: asbr, asn: 100, external_routes: "
                        "{count: 300, pool: 100.64.0.0/16}}")
    message = error_of(tmp_path, text)
    assert "external_routes" in message and "holds 256 prefixes of length /24" in message
    text = BASE.replace("CSC-CE-3: {role: csc-ce, asn: 200, external: 198.51.100.0/24}",
                        "CSC-CE-3: {role: ce, site: {name: S, vpn: ISP-2, prefix: "
                        "192.0.2.0/24}, external_routes: {count: 1, pool: 10.0.0.0/8}}")
    assert "external routes are originated by a provider router" in error_of(tmp_path, text)


def test_links_grow_towards_the_backbone_so_every_label_stack_fits():
    """A full-size packet gains labels at each level: a site's (1500), a customer carrier's
    links (4000), the backbone's (9000). Found by the scale variant: the ISP's iBGP updates
    (full-size TCP segments) were dropped in the backbone core at 1500."""
    lab = load_lab("csc-vpn")

    def mtu(a: str, b: str) -> int:
        return next(i.mtu for i in lab.node(a).interfaces if i.peer and i.peer.node == b)
    assert mtu("CE-N1", "I-PE1") == mtu("I-PE1", "CE-N1") == 1500
    assert mtu("I-PE1", "CSC-CE-1") == mtu("CSC-CE-1", "I-PE1") == 4000
    assert mtu("CSC-CE-1", "PE-1") == mtu("PE-1", "P-1") == 9000
    _, plan = node_plan(lab, lab.node("CSC-CE-1"))
    assert plan["kernel"]["mtu"] == {"eth1": 4000, "eth2": 9000}
    option1 = load_lab("option1")
    edge = next(i for i in option1.node("PE-1").interfaces if i.peer and i.peer.node == "CE-1")
    inter_as = [i for i in option1.node("PE-ASBR-1").interfaces if i.scope == "inter-as"]
    assert edge.mtu == 1500 and {i.mtu for i in inter_as} == {9000}  # VLANs and parent
