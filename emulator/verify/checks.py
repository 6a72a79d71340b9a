"""Checks: one fact about the live routers, probed through their routing suite's answers
(neutral records, ``emulator.suites.records``) or the kernel's own JSON.

A check's ``probe`` returns ``(passed, observed)``; the runner retries it until it passes or
its deadline passes, then reports expected and observed side by side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.runtime.base import Runtime
from emulator.suites.contract import Question
from emulator.suites.records import ProbeError

KINDS = ["bgp-session", "ldp-session", "igp-adjacency", "vpnv4-route", "vrf-route",
         "mpls-lfib", "label-chain", "ping", "isolation", "wire-labels", "label-spoofing",
         "label-steady", "label-leak"]
# Kinds that only labs with customer carriers have (label spoofing: two carriers on one PE).
CARRIER_KINDS = ["label-spoofing"]
# Checks of a later phase only make sense once the earlier ones hold (a ping before the
# routes exist would fail for the wrong reason, an isolation ping would pass for it).
PHASES = [["bgp-session", "ldp-session", "igp-adjacency"],
          ["vpnv4-route", "vrf-route"],
          ["mpls-lfib", "label-chain"],
          ["ping"],
          ["isolation", "wire-labels", "label-spoofing"],
          ["label-steady", "label-leak"]]

Probe = Callable[[Runtime], tuple[bool, Any]]


@dataclass
class Check:
    name: str
    kind: str
    node: str | None
    expected: Any
    probe: Probe
    # Checks that must hold on the first try (an isolation ping: retrying a failure to
    # reach would be meaningless, retrying a success would hide a leak).
    retry: bool = True
    # The check whose questions this one asks (its name): a check that probes another's
    # facts again (label-steady) has its readings fetched at once, as a retry does.
    asks_like: str | None = None


@dataclass
class Result:
    name: str
    kind: str
    node: str | None
    passed: bool
    expected: Any
    observed: Any
    seconds: float
    attempts: int = 1

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "node": self.node, "passed": self.passed,
                "expected": self.expected, "observed": self.observed,
                "seconds": round(self.seconds, 2)}


@dataclass
class Report:
    lab: str
    variant: str | None
    passed: bool
    seconds: float
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"lab": self.lab, "variant": self.variant, "passed": self.passed,
                "seconds": round(self.seconds, 2), "notes": self.notes,
                "checks": [r.as_dict() for r in self.results]}


def kernel_json(runtime: Runtime, node: str, *argv: str) -> list:
    """A kernel table as `ip -j` gives it. Raises ProbeError."""
    result = runtime.ask(node, Question.kernel(*argv))
    if result.returncode != 0:
        raise ProbeError(f"{node}: `{' '.join(argv)}` failed: {result.stderr.strip()[-200:]}")
    try:
        return json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise ProbeError(f"{node}: `{' '.join(argv)}` gave no JSON: "
                         f"{result.stdout[:120]}") from None


def kernel_mpls_routes(runtime: Runtime, node: str) -> dict[int, dict]:
    return {int(entry["dst"]): entry
            for entry in kernel_json(runtime, node, "ip", "-j", "-f", "mpls", "route", "show")}


PING_RAN_NO_REPLY = 1  # iputils ping: packets sent, none answered
TRANSMITTED = re.compile(r"(\d+) packets transmitted, (\d+) received")
# The kernel refusing to send for want of a route in the sender's table (`ping: connect:`).
NO_ROUTE = ("Network is unreachable", "No route to host")


def ping(runtime: Runtime, node: str, source: str, destination: str, count: int = 3) -> tuple[
        bool | None, str]:
    """Whether ``destination`` answered, on evidence: True (replies), False only when the
    ping ran from ``source`` and sent its echo requests with none answered, or when the
    kernel refused to send for want of a route in the sender's table; None when there is no
    such evidence (no ping ran, nothing was sent). The text says which."""
    result = runtime.exec(node, ["ping", "-n", "-c", str(count), "-i", "0.3", "-W", "2",
                                 "-I", source, destination], timeout=30)
    output = (result.stdout + result.stderr).strip()
    summary = next((line for line in result.stdout.splitlines() if "packet loss" in line),
                   output[-200:])
    sent = TRANSMITTED.search(result.stdout)
    if result.returncode == 0:
        return True, summary
    if result.returncode == PING_RAN_NO_REPLY and sent and int(sent[1]) > 0 \
            and int(sent[2]) == 0:
        return False, f"sent {sent[1]} echo requests from {source}, no reply ({summary})"
    refused = next((reason for reason in NO_ROUTE if f"connect: {reason}" in output), None)
    if refused and not sent:
        return False, (f"the kernel sent nothing: no route to {destination} in {node}'s "
                       f"table ({refused})")
    return None, f"the ping did not run (exit {result.returncode}): {summary}"


LABEL_RE = re.compile(r"\(label (\d+)")


def label_stack(tcpdump_line: str) -> list[int]:
    """The label stack of one decoded packet, outermost first (tcpdump -nn)."""
    return [int(label) for label in LABEL_RE.findall(tcpdump_line)]
