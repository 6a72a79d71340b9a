"""Routing suites: the software that runs a router's protocols (FRR; BIRD for BGP on
carrier-supporting-carrier PEs).

One driver per suite owns everything about that suite: its daemons, the files it renders
(templates under ``templates/<suite>/``), how it starts and takes its configuration
(``<suite>.py``), and how it answers the verifier's questions with the neutral records of
``records.py`` (``<suite>_probes.py``). A node's ``suites`` (protocol → suite) select them.

Drivers use the standard library only: the namespace runtime imports them inside the
micro-VM, where the project's dependencies are absent.
"""

from __future__ import annotations

from types import ModuleType

from emulator.suites import bird, bird_probes, frr, frr_probes

SUITES = {frr.NAME: frr, bird.NAME: bird}
PROBES = {frr_probes.NAME: frr_probes, bird_probes.NAME: bird_probes}


def driver(name: str) -> ModuleType:
    return SUITES[name]


def probes(name: str) -> ModuleType:
    return PROBES[name]
