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
from typing import NamedTuple

from emulator.suites import bird, bird_probes, frr, frr_probes

SUITES = {frr.NAME: frr, bird.NAME: bird}
PROBES = {frr_probes.NAME: frr_probes, bird_probes.NAME: bird_probes}


def driver(name: str) -> ModuleType:
    return SUITES[name]


def probes(name: str) -> ModuleType:
    return PROBES[name]


class Words(NamedTuple):
    """A derived setting as a suite says it, and why it is there."""

    setting: str
    why: str


def reason_words(node, reason) -> list[Words]:
    """One of a node's reasons (a setting the model derived: ``topology.Reason``) in the
    words of the suite that runs its protocol on that node (its driver's SETTING_WORDS):
    a (setting, why) per line the suite needs for it. Without words of that suite, the
    neutral fact. Duck-typed (``node.suites``; the reason's key, protocol, params, why):
    the drivers never import the model."""
    suite = driver(node.suites[reason.protocol])
    fields = {name: ", ".join(map(str, value)) if isinstance(value, list) else value
              for name, value in reason.params.items()}
    words = suite.SETTING_WORDS.get(reason.key)
    if words is None:
        said = "; ".join(f"{name} {value}" for name, value in fields.items())
        return [Words(f"{reason.key} ({said})" if said else reason.key, reason.why)]
    lines = [(words, "{why}")] if isinstance(words, str) else words
    return [Words(setting.format(**fields), why.format(**fields, why=reason.why))
            for setting, why in lines]
