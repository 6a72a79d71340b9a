"""Routing suites: the software that runs a router's protocols (FRR; BIRD next).

One driver per suite owns everything about that suite: its daemons, the files it renders
(templates under ``templates/<suite>/``), how it starts and takes its configuration, and how
the verifier asks it questions. A node's ``suites`` select the drivers.

Drivers use the standard library only: the namespace runtime imports them inside the
micro-VM, where the project's dependencies are absent.
"""

from __future__ import annotations

from emulator.suites import frr

SUITES = {frr.NAME: frr}


def driver(name: str):
    return SUITES[name]
