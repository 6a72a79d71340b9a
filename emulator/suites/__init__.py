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
