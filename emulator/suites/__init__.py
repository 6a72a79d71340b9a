"""Routing suites: the software that runs a router's protocols (FRR; BIRD for BGP on
carrier-supporting-carrier PEs).

One driver per suite owns everything about that suite: its daemons, how it starts and takes
its configuration, how a question reaches it (``<suite>.py``), and how it answers the
verifier's questions with the neutral records of ``records.py`` (``<suite>_probes.py``).
``contract.py`` is the typed definition both implement; what a suite renders lives on the
host side (``emulator/render/<suite>.py``). A node's ``suites`` (protocol → suite) select
them.

Drivers use the standard library only: the namespace runtime imports them inside the
micro-VM, where the project's dependencies are absent.
"""

from __future__ import annotations

from typing import NamedTuple

from emulator.suites import bird, bird_probes, frr, frr_probes
from emulator.suites.contract import KERNEL, Question, RoutingSuite, SuiteProbes

SUITES: dict[str, RoutingSuite] = {frr.NAME: frr, bird.NAME: bird}
PROBES: dict[str, SuiteProbes] = {frr_probes.NAME: frr_probes, bird_probes.NAME: bird_probes}


def driver(name: str) -> RoutingSuite:
    return SUITES[name]


def probes(name: str) -> SuiteProbes:
    return PROBES[name]


def pathspace(lab: str, node: str) -> str:
    """Where a router's daemons keep their pid files and sockets (``/run/frr/<pathspace>/``,
    ``/run/bird/<pathspace>/``): two labs never collide. The namespace runtimes give the
    router's network namespace the same name. FRR's pathspace refuses dots and slashes;
    lab and node names never contain "_"."""
    return f"{lab}_{node}"


def question_argv(question: Question) -> list[str]:
    """The command that asks ``question`` inside a router (not yet pointed at its daemons:
    the runtime's ``exec`` does that)."""
    if question.of == KERNEL:
        return list(question.words)
    return SUITES[question.of].question_argv(question)


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
