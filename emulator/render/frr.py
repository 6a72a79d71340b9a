"""What FRR is told: ``frr.conf`` from one template per feature (``templates/frr/``), its
``daemons`` file, the staged configurations the runtime applies once a route carries a
label, and where they change it, the configuration the router holds once deployed
(``DEPLOYED``, what `mplslab reset` reloads)."""

from __future__ import annotations

from emulator.model.topology import BgpNeighbor, Lab, Node
from emulator.render.templates import environment
from emulator.suites import frr

SUITE = frr.NAME


# The file that holds a router's whole configuration once the deploy has finished, where it
# differs from frr.conf (staged steps, files for one daemon): what `mplslab reset` reloads.
DEPLOYED = "frr-deployed.conf"


def render_frr_conf(lab: Lab, node: Node, *, deployed: bool = False) -> str:
    """frr.conf as the deploy applies it; with ``deployed``, the configuration the router
    holds once the deploy has finished: its staged steps done (after_ldp_label) and its
    files for one daemon applied (the external routes)."""
    return environment(frr.NAME).get_template("frr.conf.j2").render(
        node=node, timers=lab.timers, deployed=deployed,
        allow_broken_lsp=allows_broken_lsp(node))


def waiting_neighbors(node: Node) -> list[tuple[int, BgpNeighbor]]:
    """The BGP sessions that start shut down until LDP labels the route to the peer, with
    the AS of their instance."""
    return [(bgp.asn, neighbor) for bgp in node.bgp for neighbor in bgp.neighbors
            if neighbor.wait_for_ldp_label]


def allows_broken_lsp(node: Node) -> bool:
    """Whether a staged step gives LDP `install allow-broken-lsp` (an ASBR whose /32 host
    routes LDP labels, Node.ldp_host_routes, before its staged session comes up)."""
    return bool(node.ldp_host_routes and waiting_neighbors(node))


def render_daemons(node: Node) -> str:
    return environment(frr.NAME).get_template("daemons.j2").render(
        node=node, all_daemons=frr.DAEMONS_FILE, running=frr.daemons(node.runs(frr.NAME)))


def after_ldp_label(node: Node) -> tuple[list[dict], dict[str, str]]:
    """Steps the runtime runs once a route carries a real LDP label (see
    BgpNeighbor.wait_for_ldp_label and Node.ldp_host_routes), and their staged configs."""
    steps, files = [], {}
    for asn, neighbor in waiting_neighbors(node):
        adjacent = any(i.scope == "core" for i in node.towards(neighbor.peer))
        # One staged file per configuration block, applied in order.
        stage = []
        if allows_broken_lsp(node):
            stage.append(("stage_allow_broken_lsp.j2", {}))
        stage.append(("stage_enable_neighbor.j2", {"asn": asn, "neighbor": neighbor}))
        configs = []
        for template, context in stage:
            name = f"stage-{len(steps)}-{len(configs)}.conf"
            files[name] = environment(frr.NAME).get_template(template).render(
                node=node, **context)
            configs.append(name)
        # An adjacent peer's loopback is legitimately implicit-null (PHP).
        steps.append({"wait": {"labelled_route": f"{neighbor.address}/32",
                               "implicit_null_ok": adjacent},
                      "suite": frr.NAME, "configs": configs})
    return steps, files


def files(lab: Lab, node: Node) -> tuple[dict[str, str], dict, list[dict]]:
    """FRR's files for one node, its entry in the plan, and its staged steps."""
    steps, staged = after_ldp_label(node)
    files = {"frr.conf": render_frr_conf(lab, node), "daemons": render_daemons(node), **staged}
    entry = {"name": frr.NAME, "daemons": frr.daemons(node.runs(frr.NAME)),
             "config": "frr.conf", "deployed": "frr.conf"}
    if node.external_routes:
        # Applied after frr.conf, to bgpd alone (templates/frr/external_routes.j2 says why).
        files["external-routes.conf"] = environment(frr.NAME).get_template(
            "external_routes.j2").render(node=node)
        entry["daemon_configs"] = [{"daemon": "bgpd", "config": "external-routes.conf"}]
    if steps or node.external_routes:
        files[DEPLOYED] = render_frr_conf(lab, node, deployed=True)
        entry["deployed"] = DEPLOYED
    return files, entry, steps
