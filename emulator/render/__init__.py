"""Rendering the normalised lab into what routers are told.

Per node: ``frr.conf`` (FRR's integrated config, from one template per feature),
``daemons`` (FRR's daemons file, only what the node runs) and ``setup.json`` (the kernel
side the runtimes apply before FRR starts: VLANs, VRF devices, dummies, sysctls).
Per lab: ``lab.json`` (nodes, links and the normalised model) for the runtimes.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jinja2

from emulator.model.topology import Lab, Node
from emulator.paths import templates_dir

ALL_DAEMONS = ["bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd",
               "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd",
               "staticd"]


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "frr")),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )


def render_frr_conf(node: Node) -> str:
    return environment().get_template("frr.conf.j2").render(node=node)


def render_daemons(node: Node) -> str:
    return environment().get_template("daemons.j2").render(node=node, all_daemons=ALL_DAEMONS)


def kernel_setup(lab: Lab, node: Node) -> dict:
    """What the kernel must hold before FRR starts. Addresses are FRR's job (frr.conf)."""
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
        "node": node.name,
        "modules": ["mpls_router", "mpls_iptunnel", "vrf"] if node.mpls or node.vrfs else [],
        "vrfs": [{"name": v.name, "table": v.table} for v in node.vrfs],
        "interfaces": [
            {"name": i.name, "kind": i.kind, "parent": i.parent, "vlan": i.vlan, "vrf": i.vrf}
            for i in node.interfaces if i.kind in ("vlan", "dummy") or i.vrf
        ],
        "sysctls": sysctls,
        "daemons": node.daemons,
        "after_ldp_label": after_ldp_label(node),
    }


def after_ldp_label(node: Node) -> list[dict]:
    """vtysh commands the runtime runs once a route carries a real LDP label (see
    BgpNeighbor.wait_for_ldp_label and Node.ldp_host_routes)."""
    steps = []
    for bgp in node.bgp:
        for neighbor in bgp.neighbors:
            if not neighbor.wait_for_ldp_label:
                continue
            adjacent = any(i.scope == "core" and i.peer and i.peer.node == neighbor.peer
                           for i in node.interfaces)
            # One vtysh invocation per configuration block, in order.
            blocks = []
            if node.ldp_host_routes:
                blocks.append(["configure terminal", "mpls ldp", "address-family ipv4",
                               "install allow-broken-lsp"])
            blocks.append(["configure terminal", f"router bgp {bgp.asn}",
                           f"no neighbor {neighbor.address} shutdown"])
            # An adjacent peer's loopback is legitimately implicit-null (PHP).
            steps.append({"route": f"{neighbor.address}/32", "implicit_null_ok": adjacent,
                          "blocks": blocks})
    return steps


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
        (folder / "frr.conf").write_text(render_frr_conf(node))
        (folder / "daemons").write_text(render_daemons(node))
        (folder / "setup.json").write_text(json.dumps(kernel_setup(lab, node), indent=2) + "\n")
        written.append(folder / "frr.conf")
    (out / "lab.json").write_text(json.dumps(lab_description(lab), indent=2) + "\n")
    (out / "model.json").write_text(lab.model_dump_json(indent=2) + "\n")
    return written
