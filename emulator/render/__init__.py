"""Rendering the normalised lab into what routers are told.

Per node, the files of each routing suite it runs (FRR: ``frr.conf`` from one template per
feature, its ``daemons`` file, and the staged configurations applied later) and
``setup.json``, the deploy plan every runtime executes in order: the kernel side (VLANs,
VRF devices, dummies, sysctls), then each suite's daemons and configuration, then the steps
that wait for a condition (a route with an LDP label) before applying a staged
configuration. Per lab: ``lab.json`` (nodes and links) and ``model.json`` (the normalised
model, which `verify` reads back).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from emulator.model.topology import Lab, Node
from emulator.render import bird, frr


def kernel_setup(lab: Lab, node: Node) -> dict:
    """What the kernel must hold before the routing suites start. Addresses are the suites'
    job (frr.conf)."""
    sysctls = {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.default.rp_filter": "0",
    }
    if node.mpls:
        # zebra never sets the label space; without it the kernel drops every labelled packet.
        sysctls["net.mpls.platform_labels"] = str(lab.platform_labels)
        for interface in node.interfaces:
            if interface.mpls:
                sysctls[f"net/mpls/conf/{interface.name}/input"] = "1"
        for vrf in node.vrfs:
            # Labelled packets popped into a VRF are looked up through the VRF device.
            sysctls[f"net/mpls/conf/{vrf.name}/input"] = "1"
    return {
        "modules": ["mpls_router", "mpls_iptunnel", "vrf"] if node.mpls or node.vrfs else [],
        # Before the VLAN sub-interfaces, which take their parent's.
        "mtu": {i.name: i.mtu for i in node.interfaces if i.kind == "veth" and i.mtu != 1500},
        "vrfs": [{"name": v.name, "table": v.table} for v in node.vrfs],
        "interfaces": [
            {"name": i.name, "kind": i.kind, "parent": i.parent, "vlan": i.vlan, "vrf": i.vrf}
            for i in node.interfaces if i.kind in ("vlan", "dummy") or i.vrf
        ],
        "sysctls": sysctls,
    }


def addresses(node: Node) -> dict[str, str]:
    """The addresses the suites' configuration gives each interface: checked in the kernel
    once it is applied."""
    return {i.name: str(i.address) for i in node.interfaces if i.address is not None}


# What a suite renders for a node: its files, its entry in the plan, its staged steps. One
# module per suite (emulator/render/<suite>.py), listed here by the suite's name.
SuiteFiles = Callable[[Lab, Node], tuple[dict[str, str], dict, list[dict]]]
SUITE_FILES: dict[str, SuiteFiles] = {renderer.SUITE: renderer.files for renderer in (frr, bird)}


def node_plan(lab: Lab, node: Node) -> tuple[dict[str, str], dict]:
    """Every file of one node and its deploy plan (setup.json): the suites its protocols
    select, FRR first (its zebra owns the kernel's routes and labels)."""
    files, entries, steps = {}, [], []
    for name in sorted(set(node.suites.values()), key=lambda s: s != frr.SUITE):
        suite_files, entry, suite_steps = SUITE_FILES[name](lab, node)
        files |= suite_files
        entries.append(entry)
        steps += suite_steps
    plan = {"node": node.name, "kernel": kernel_setup(lab, node), "addresses": addresses(node),
            "suites": entries,
            "after_start": steps}
    return files, plan


def lab_description(lab: Lab) -> dict:
    return {
        "lab": lab.name,
        "variant": lab.variant,
        "nodes": [n.name for n in lab.nodes],
        "links": [
            {"name": link.name, "a": link.a.model_dump(), "b": link.b.model_dump()}
            for link in lab.links
        ],
    }


def render_lab(lab: Lab, out: Path) -> list[Path]:
    """Write every node's files under ``out``; returns the frr.conf paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for node in lab.nodes:
        folder = out / node.name
        folder.mkdir(exist_ok=True)
        files, plan = node_plan(lab, node)
        for name, text in files.items():
            (folder / name).write_text(text)
        (folder / "setup.json").write_text(json.dumps(plan, indent=2) + "\n")
        written.append(folder / "frr.conf")
    (out / "lab.json").write_text(json.dumps(lab_description(lab), indent=2) + "\n")
    (out / "model.json").write_text(lab.model_dump_json(indent=2) + "\n")
    return written
