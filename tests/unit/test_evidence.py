"""What a check needs to see before it passes: each rule here made a check pass on thin
evidence before (a moved label that was consistent again, a label guard that dropped
nothing, an absence read from a suite that lost track of a kernel route)."""

from __future__ import annotations

import json

import pytest

from emulator.model.build import load_lab
from emulator.runtime.base import ExecResult
from emulator.suites.records import ProbeError
from emulator.verify.checks import Check
from emulator.verify.expectations import steady_label_checks
from emulator.verify.families import derive
from emulator.verify.probes import absent_probe, vrf_probe


# -- label-steady: the labels of the end are those the chain saw --------------------------
def chain_reading(labels: list[dict]):
    """A label chain's probe that holds on every reading (consistent labels each time),
    answering ``labels`` in turn."""
    answers = iter(labels)

    def probe(runtime):
        return True, dict(next(answers))
    return probe


def test_a_label_that_moved_after_convergence_fails_even_when_consistent_again():
    chain = Check("10.1.0.0/24: PE-1 pushes ASBR-1's label", "label-chain", "PE-1", {},
                  chain_reading([{"pushed": 17, "ASBR-1 holds": 17, "ASBR-1": "installed"},
                                 {"pushed": 18, "ASBR-1 holds": 18, "ASBR-1": "installed"}]))
    [steady] = steady_label_checks([chain])
    assert chain.probe(None)[0]
    passed, observed = steady.probe(None)
    assert not passed and not steady.retry
    assert observed["moved"] == {"pushed (PE-1)": "17 → 18", "ASBR-1 holds": "17 → 18"}


def test_labels_that_stayed_put_pass():
    same = {"pushed": 17, "ASBR-1 holds": 17}
    chain = Check("c", "label-chain", "PE-1", {}, chain_reading([same, same]))
    [steady] = steady_label_checks([chain])
    chain.probe(None)
    assert steady.probe(None) == (True, same)


def test_a_chain_that_never_held_has_no_steady_labels():
    chain = Check("c", "label-chain", "PE-1", {}, lambda runtime: (False, {"pushed": None}))
    [steady] = steady_label_checks([chain])
    chain.probe(None)
    passed, observed = steady.probe(None)
    assert not passed and observed["labels"] == "the label chain never held"


# -- label-spoofing: the spoof was sent with the victim's label, and the guard dropped it --
SPOOFED_LABEL = 50021


class SpoofingRouters:
    """Stand-in routers for one spoofing check: the victim CSC-CE's labelled route, the
    guard's drop counters (read before and after), the two captures."""

    def __init__(self, interface: str, drops: list[int], sent_label: int | None,
                 leaked: bool = False):
        self.interface, self.drops, self.sent_label, self.leaked = (interface, iter(drops),
                                                                    sent_label, leaked)
        self.source = self.target = ""

    def ask(self, node, question):
        if question.words[0] == "nft":
            assert question.volatile  # a counter read twice must be read twice
            counter = {"counter": {"packets": next(self.drops)}}
            ruleset = {"nftables": [{"chain": {"name": "from_0", "dev": self.interface}},
                                    {"rule": {"chain": "from_0", "expr": [counter]}}]}
            return ExecResult(0, json.dumps(ruleset), "")
        path = {"bestpath": {"overall": True}, "remoteLabel": SPOOFED_LABEL,
                "nexthops": [{"ip": "10.255.0.9"}]}
        return ExecResult(0, json.dumps({"paths": [path]}), "")

    def capture(self, taps, node, argv, **kwargs):
        ping = argv[-1].split("ping ")[1].split()
        source, target = ping[ping.index("-I") + 1], ping[ping.index("-I") + 2].rstrip(";")
        request = f"IP {source} > {target}: ICMP echo request, id 7, seq 1, length 64"
        label = f"MPLS (label {self.sent_label}, tc 0, [S], ttl 64) " if self.sent_label else ""
        sent = "\n".join(f"12:00:0{i}.000000 {label}{request}" for i in range(3))
        return [sent, f"12:00:01.000000 {request}" if self.leaked else ""]


@pytest.fixture(scope="module")
def spoofing():
    lab = load_lab("csc-mpls")
    check = next(c for c in derive(lab) if c.kind == "label-spoofing")
    spoofer = lab.node(check.name.split()[0])
    uplink = spoofer.towards(check.node)[0]
    return check, uplink.peer.interface


def test_a_guard_that_dropped_nothing_is_no_pass(spoofing):
    check, interface = spoofing
    passed, observed = check.probe(SpoofingRouters(interface, [5, 5], SPOOFED_LABEL))
    assert not passed
    assert observed[f"{check.node}'s label guard on {interface}"] == \
        "on, 0 packets dropped of 3 sent"


def test_the_spoof_passes_when_the_guard_dropped_every_packet_sent(spoofing):
    check, interface = spoofing
    passed, observed = check.probe(SpoofingRouters(interface, [5, 8], SPOOFED_LABEL))
    assert passed, observed


def test_a_spoof_not_carrying_the_victims_label_proves_nothing(spoofing):
    check, interface = spoofing
    passed, observed = check.probe(SpoofingRouters(interface, [5, 8], None))
    assert not passed
    assert "no echo request with label" in next(v for k, v in observed.items()
                                                if k.startswith("pushed by"))


def test_a_leak_fails_whatever_the_guard_counted(spoofing):
    check, interface = spoofing
    assert not check.probe(SpoofingRouters(interface, [5, 8], SPOOFED_LABEL, leaked=True))[0]


def test_a_guard_that_is_off_fails(spoofing):
    check, interface = spoofing
    routers = SpoofingRouters("eth99", [0, 0], SPOOFED_LABEL)  # no chain on the uplink
    passed, observed = check.probe(routers)
    assert not passed and "off" in observed[f"{check.node}'s label guard on {interface}"]


# -- absence: the kernel's tables too ------------------------------------------------------
class Tables:
    """A suite that holds nothing, and a kernel whose table may still hold a route."""

    def __init__(self, kernel: list[dict], kernel_fails: bool = False):
        self.kernel, self.kernel_fails = kernel, kernel_fails

    def ask(self, node, question):
        if question.of == "kernel":
            if self.kernel_fails:
                return ExecResult(1, "", "Cannot open network namespace")
            return ExecResult(0, json.dumps(self.kernel), "")
        return ExecResult(0, "{}", "")


def frr_asks():
    from emulator.suites import frr_probes
    return frr_probes


def test_an_absent_route_that_the_kernel_still_holds_fails():
    probe = absent_probe(frr_asks(), "P-1", "152.12.4.0/24")
    assert probe(Tables([{"dst": "10.0.0.0/8"}]))[0]
    passed, observed = probe(Tables([{"dst": "152.12.4.0/24", "dev": "eth1"}]))
    assert not passed and observed == {"route": "absent", "kernel": "installed"}


def test_a_host_route_in_a_vrf_table_of_the_kernel_is_a_leak():
    probe = vrf_probe(frr_asks(), "PE-1", "VPN-A", present=[], absent=["10.2.0.1/32"])
    passed, observed = probe(Tables([{"dst": "10.2.0.1", "dev": "eth2"}]))
    assert not passed and observed["leaked"] == ["10.2.0.1/32"]


def test_an_unreadable_kernel_table_is_no_evidence_of_absence():
    probe = absent_probe(frr_asks(), "P-1", "152.12.4.0/24")
    with pytest.raises(ProbeError):
        probe(Tables([], kernel_fails=True))


def test_a_chain_check_that_observes_no_label_is_steady_when_it_still_holds():
    table = {"routes": ["10.1.0.1/32", "10.2.0.1/32"]}
    chain = Check("ASBR-1 labeled-unicast holds the BGP next hops only", "label-chain",
                  "ASBR-1", {}, chain_reading([table, table]))
    [steady] = steady_label_checks([chain])
    chain.probe(None)
    assert steady.probe(None) == (True, table)
