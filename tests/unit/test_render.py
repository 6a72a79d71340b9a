"""Rendered files: golden configs (reviewed once by eye) and the kernel set-up description.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1.
"""

import json
import os
from pathlib import Path

import pytest
from shipped import lab_variants

from emulator.model.build import load_lab
from emulator.render import kernel_setup, node_plan, render_lab
from emulator.render.frr import render_daemons, render_frr_conf
from emulator.suites import driver, reason_words

GOLDEN = Path(__file__).parent / "golden"
CASES = [("option1", None), ("option1", "ospf"), ("option1", "rip"), ("option1", "static"),
         ("option2", None), ("option2", "no-next-hop-self"), ("option3", None)]


@pytest.mark.parametrize("lab_name,variant", CASES)
def test_golden_frr_conf(lab_name, variant):
    lab = load_lab(lab_name, variant)
    folder = GOLDEN / (lab_name + (f"-{variant}" if variant else ""))
    for node in lab.nodes:
        rendered = render_frr_conf(lab, node)
        golden = folder / f"{node.name}.conf"
        if os.environ.get("UPDATE_GOLDEN"):
            folder.mkdir(parents=True, exist_ok=True)
            golden.write_text(rendered)
        assert rendered == golden.read_text(), f"{golden} differs (UPDATE_GOLDEN=1 to accept)"


def test_daemons_file_enables_only_what_runs():
    node = load_lab("option1").node("P-1")
    lines = dict(line.split("=", 1) for line in render_daemons(node).splitlines()
                 if "=" in line and not line.startswith("#"))
    assert lines["ospfd"] == "yes" and lines["ldpd"] == "yes"
    assert lines["bgpd"] == "no" and lines["ripd"] == "no"


def test_kernel_setup_has_vlans_vrfs_and_mpls_sysctls():
    lab = load_lab("option1")
    setup = kernel_setup(lab, lab.node("PE-ASBR-1"))
    assert setup["vrfs"] == [{"name": "VPN-A", "table": 10}, {"name": "VPN-B", "table": 11}]
    vlan = next(i for i in setup["interfaces"] if i["name"] == "eth2.101")
    assert vlan == {"name": "eth2.101", "kind": "vlan", "parent": "eth2", "vlan": 101,
                    "vrf": "VPN-A"}
    assert setup["sysctls"]["net.mpls.platform_labels"] == "100000"
    assert setup["sysctls"]["net/mpls/conf/eth1/input"] == "1"
    assert "net/mpls/conf/eth2.101/input" not in setup["sysctls"]
    ce = kernel_setup(lab, lab.node("CE-1"))
    assert "net.mpls.platform_labels" not in ce["sysctls"]
    assert ce["interfaces"] == [{"name": "site0", "kind": "dummy", "parent": None,
                                 "vlan": None, "vrf": None}]


def test_render_lab_writes_every_node(tmp_path):
    lab = load_lab("option2")
    written = render_lab(lab, tmp_path)
    assert len(written) == len(lab.nodes)
    links = json.loads((tmp_path / "lab.json").read_text())["links"]
    assert len(links) == len(lab.links)
    for node in lab.nodes:
        for name in ("frr.conf", "daemons", "setup.json"):
            assert (tmp_path / node.name / name).is_file()


def test_option_b_plan_stages_the_ibgp_session_after_ldp():
    lab = load_lab("option2", "no-next-hop-self")
    files, plan = node_plan(lab, lab.node("PE-ASBR-2"))
    assert [s["name"] for s in plan["suites"]] == ["frr"]
    assert plan["suites"][0]["daemons"][:2] == ["mgmtd", "zebra"]
    [step] = plan["after_start"]
    assert step["wait"] == {"labelled_route": "10.2.0.3/32", "implicit_null_ok": False}
    first, second = (files[name] for name in step["configs"])
    assert "install allow-broken-lsp" in first
    assert "router bgp 2" in second and "no neighbor 10.2.0.3 shutdown" in second
    frr_conf = files["frr.conf"]
    assert "neighbor 10.2.0.3 shutdown" in frr_conf
    assert "allow-broken-lsp" not in frr_conf
    # Nodes without the Option B swap have nothing staged.
    assert node_plan(lab, lab.node("P-2"))[1]["after_start"] == []


def test_a_staged_config_is_applied_as_the_commands_an_operator_would_type(tmp_path):
    from emulator.suites import frr

    lab = load_lab("option2", "no-next-hop-self")
    files, plan = node_plan(lab, lab.node("PE-ASBR-2"))
    staged = tmp_path / "stage.conf"
    staged.write_text(files[plan["after_start"][0]["configs"][1]])
    assert frr.change_argv("option2_PE-ASBR-2", staged) == [
        "vtysh", "-N", "option2_PE-ASBR-2", "-c", "configure terminal", "-c", "router bgp 2",
        "-c", "no neighbor 10.2.0.3 shutdown", "-c", "exit"]


# Lines the builder derives from the scenario (no lab file states them): each must come with
# the builder's reason, in the words of the suite that renders it, so that `mplslab explain`
# can say why it is there.
DERIVED_LINES = ["mpls bgp l3vpn-multi-domain-switching", "no bgp suppress-duplicates",
                 "no bgp network import-check",
                 "mpls fec nexthop-resolution", "install allow-broken-lsp",
                 # carrier supporting carrier (a CSC-CE)
                 "allowas-in 1", "set as-path replace", "distance bgp 20 20 20",
                 "redistribute bgp route-map CSC-INTERNAL"]


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_every_derived_setting_comes_with_its_reason(lab_name, variant):
    lab = load_lab(lab_name, variant)
    for node in lab.nodes:
        files, plan = node_plan(lab, node)
        text = "\n".join(files.values())
        for reason in node.reasons:  # every reason in its suite's own words
            assert reason.key in driver(node.suites[reason.protocol]).SETTING_WORDS, (
                node.name, reason.key, node.suites[reason.protocol])
        settings = " / ".join(words.setting for reason in node.reasons
                              for words in reason_words(node, reason))
        for line in DERIVED_LINES:
            said = line.removeprefix("install ") in settings
            assert (line in text) == said, (node.name, line, settings)
        assert bool(plan["after_start"]) == ("enabled only once" in settings), node.name
        for host in node.ldp_host_routes:
            assert f"static route {host}" in settings
