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
from functools import cache
from pathlib import Path

import jinja2

from emulator.errors import LabError
from emulator.model.topology import Lab, Node
from emulator.paths import templates_dir
from emulator.runtime.netns import namespace
from emulator.suites import bird, bird_probes, frr


@cache
def environment(suite: str = frr.NAME) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / suite)),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )


def render_frr_conf(node: Node) -> str:
    return environment().get_template("frr.conf.j2").render(node=node)


def render_daemons(node: Node) -> str:
    return environment().get_template("daemons.j2").render(
        node=node, all_daemons=frr.DAEMONS_FILE, running=frr.daemons(node.runs(frr.NAME)))


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


def after_ldp_label(node: Node) -> tuple[list[dict], dict[str, str]]:
    """Steps the runtime runs once a route carries a real LDP label (see
    BgpNeighbor.wait_for_ldp_label and Node.ldp_host_routes), and their staged configs."""
    steps, files = [], {}
    for bgp in node.bgp:
        for neighbor in bgp.neighbors:
            if not neighbor.wait_for_ldp_label:
                continue
            adjacent = any(i.scope == "core" and i.peer and i.peer.node == neighbor.peer
                           for i in node.interfaces)
            # One staged file per configuration block, applied in order.
            stage = []
            if node.ldp_host_routes:
                stage.append(("stage_allow_broken_lsp.j2", {}))
            stage.append(("stage_enable_neighbor.j2", {"asn": bgp.asn, "neighbor": neighbor}))
            configs = []
            for template, context in stage:
                name = f"stage-{len(steps)}-{len(configs)}.conf"
                files[name] = environment().get_template(template).render(node=node, **context)
                configs.append(name)
            # An adjacent peer's loopback is legitimately implicit-null (PHP).
            steps.append({"wait": {"labelled_route": f"{neighbor.address}/32",
                                   "implicit_null_ok": adjacent},
                          "suite": frr.NAME, "configs": configs})
    return steps, files


def frr_files(lab: Lab, node: Node) -> tuple[dict[str, str], dict, list[dict]]:
    """FRR's files for one node, its entry in the plan, and its staged steps."""
    steps, staged = after_ldp_label(node)
    files = {"frr.conf": render_frr_conf(node), "daemons": render_daemons(node), **staged}
    entry = {"name": frr.NAME, "daemons": frr.daemons(node.runs(frr.NAME)),
             "config": "frr.conf"}
    if node.external_routes:
        # Applied after frr.conf, to bgpd alone (templates/frr/external_routes.j2 says why).
        files["external-routes.conf"] = environment().get_template(
            "external_routes.j2").render(node=node)
        entry["daemon_configs"] = [{"daemon": "bgpd", "config": "external-routes.conf"}]
    return files, entry, steps


# BIRD's dynamic labels: above FRR's (LDP and BGP allocate upwards from 16) and below the
# platform's label space.
BIRD_LABELS = 50000
# How often a carrier PE's label guard re-reads BIRD's bindings (a new label is refused for
# at most this long after BIRD advertised it).
LABEL_GUARD_SECONDS = 2


def bird_files(lab: Lab, node: Node) -> tuple[dict[str, str], dict, list[dict]]:
    """BIRD's configuration for a node whose BGP it runs (a carrier's PE)."""
    if lab.platform_labels <= BIRD_LABELS + 1000:
        raise LabError(f"{node.name} runs BGP in BIRD, whose labels start at {BIRD_LABELS}: "
                       f"defaults.platform_labels ({lab.platform_labels}) leaves no room",
                       hint=f"set defaults.platform_labels above {BIRD_LABELS + 1000}")
    text = environment(bird.NAME).get_template("bird.conf.j2").render(
        node=node, log_file=bird.RUN / namespace(lab.name, node.name) / "bird.log",
        label_start=BIRD_LABELS, label_length=lab.platform_labels - BIRD_LABELS,
        mpls_table=bird_probes.MPLS_TABLE, vpn_table=bird_probes.VPN_TABLE,
        vrf_prefix=bird_probes.VRF_TABLE_PREFIX)
    files = {"bird.conf": text}
    if node.label_guard:
        context = {"node": node, "table": bird.GUARD_TABLE, "guard": bird.GUARD,
                   "ruleset": bird.GUARD_RULESET, "vrf_prefix": bird_probes.VRF_TABLE_PREFIX,
                   "interval": LABEL_GUARD_SECONDS}
        for name in (bird.GUARD_RULESET, bird.GUARD_SCRIPT):
            files[name] = environment(bird.NAME).get_template(f"{name}.j2").render(**context)
    entry = {"name": bird.NAME,
             "daemons": bird.daemons(node.runs(bird.NAME), guarded=bool(node.label_guard)),
             "config": "bird.conf"}
    return files, entry, []


# Each suite's files for a node: (files, its entry in the plan, its staged steps).
SUITE_FILES = {frr.NAME: frr_files, bird.NAME: bird_files}


def node_plan(lab: Lab, node: Node) -> tuple[dict[str, str], dict]:
    """Every file of one node and its deploy plan (setup.json): the suites its protocols
    select, FRR first (its zebra owns the kernel's routes and labels)."""
    files, entries, steps = {}, [], []
    for name in sorted(set(node.suites.values()), key=lambda s: s != frr.NAME):
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
