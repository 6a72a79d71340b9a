"""What BIRD is told: ``bird.conf`` (``templates/bird/``) and, on a PE that two customer
carriers share, its label guard's filter and script."""

from __future__ import annotations

from emulator.errors import LabError
from emulator.model.topology import Lab, Node
from emulator.render.templates import environment
from emulator.suites import bird, bird_probes, pathspace

SUITE = bird.NAME


# BIRD's dynamic labels: above FRR's (LDP and BGP allocate upwards from 16) and below the
# platform's label space.
BIRD_LABELS = 50000
# How often a carrier PE's label guard re-reads BIRD's bindings (a new label is refused for
# at most this long after BIRD advertised it).
LABEL_GUARD_SECONDS = 2


def files(lab: Lab, node: Node) -> tuple[dict[str, str], dict, list[dict]]:
    """BIRD's configuration for a node whose BGP it runs (a carrier's PE)."""
    if lab.platform_labels <= BIRD_LABELS + 1000:
        raise LabError(f"{node.name} runs BGP in BIRD, whose labels start at {BIRD_LABELS}: "
                       f"defaults.platform_labels ({lab.platform_labels}) leaves no room",
                       hint=f"set defaults.platform_labels above {BIRD_LABELS + 1000}")
    text = environment(bird.NAME).get_template("bird.conf.j2").render(
        node=node, timers=lab.timers,
        log_file=bird.RUN / pathspace(lab.name, node.name) / "bird.log",
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
             "config": "bird.conf", "deployed": "bird.conf"}
    return files, entry, []
