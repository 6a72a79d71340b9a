"""BIRD 2.17.6's answers parsed into the verifier's records, against what real BIRD
instances printed (docs/research/bird/outputs: two carrier PEs with iBGP VPNv4 between their
loopbacks, each with an eBGP labelled-unicast session to its CE inside a VRF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.runtime.base import ExecResult
from emulator.suites import bird_probes as bird
from emulator.suites import question_argv
from emulator.suites.contract import Question
from emulator.suites.records import IMPLICIT_NULL, ProbeError

OUTPUTS = Path(__file__).parent.parent.parent / "docs" / "research" / "bird" / "outputs"


class Recorded:
    """Answers `birdc show ...` with a recorded output: <node>.<command with _>.txt."""

    def __init__(self, **overrides: str):
        self.overrides = overrides

    def ask(self, node: str, question: Question) -> ExecResult:
        assert question.of == bird.NAME and question.words[0] == "show", question
        argv = question_argv(question)
        # A VRF's table is a quoted symbol on the command line; the files are named bare.
        name = f"{node}.show_{'_'.join(word.strip(chr(39)) for word in argv[2:])}"
        if name in self.overrides:
            return ExecResult(0, self.overrides[name], "")
        path = OUTPUTS / f"{name}.txt"
        if not path.exists():
            return ExecResult(1, "", "Unable to connect to server control socket")
        return ExecResult(0, path.read_text(), "")


def test_sessions_per_channel_with_the_vrf_from_the_channel_table():
    sessions = {(s.vrf, s.family, s.peer): s.state
                for s in bird.bgp_sessions(Recorded(), "pe1")}
    assert sessions == {("default", "ipv4-vpn", "10.255.0.2"): "Established",
                        ("cust", "ipv4-labeled-unicast", "10.1.1.1"): "Established"}


def test_a_disabled_session_is_not_established():
    # `birdc disable pe2`, then `show protocols all pe2`.
    recorded = Recorded(**{"pe1.show_protocols_all": (
        OUTPUTS / "pe1.show_protocols_all_pe2_disabled.txt").read_text()})
    states = {(s.family, s.peer): s.state for s in bird.bgp_sessions(recorded, "pe1")}
    assert states == {("ipv4-vpn", "10.255.0.2"): "Down"}


def test_sessions_carry_the_time_of_day_of_their_protocol_s_last_change():
    """BIRD's "since" column (bench/soak.py's reading: a session that came up again has a
    later one), in seconds after midnight; every channel of a protocol shares it."""
    changed = {s.peer: s.last_change for s in bird.bgp_sessions(Recorded(), "pe1")}
    # ce1 ... up 13:49:50.972; pe2 ... up 13:49:51.617
    assert changed == {"10.1.1.1": pytest.approx(13 * 3600 + 49 * 60 + 50.972),
                       "10.255.0.2": pytest.approx(13 * 3600 + 49 * 60 + 51.617)}
    assert all(s.uptime is None and s.times_established is None
               for s in bird.bgp_sessions(Recorded(), "pe1"))


def test_a_change_older_than_bird_shows_as_a_time_has_no_time_of_day():
    # BIRD gives the date instead for a change more than 20 hours ago.
    text = (OUTPUTS / "pe1.show_protocols_all.txt").read_text().replace(
        "13:49:51.617", "2025-01-02  ", 1)
    sessions = bird.bgp_sessions(Recorded(**{"pe1.show_protocols_all": text}), "pe1")
    assert {s.peer: s.last_change for s in sessions}["10.255.0.2"] is None
    assert all(s.established for s in sessions)


def test_vpn_routes_carry_rd_targets_next_hop_and_the_received_label():
    routes = bird.vpn_routes(Recorded(), "pe2", "198.51.100.11/32")
    route = routes["65000:100"]
    assert (route.next_hop, route.label, route.route_targets, route.as_path) == (
        "10.255.0.1", 50001, ("65000:100",), ("65001",))
    assert route.exported_from is None and not route.self_next_hop
    own = bird.vpn_routes(Recorded(), "pe2", "198.51.100.22/32")["65000:100"]
    # Exported here from the VRF: the label is the one this PE advertises.
    assert (own.exported_from, own.self_next_hop, own.label) == ("cust", True, 60007)


def test_the_vrf_table_and_the_label_table():
    table = bird.ip_routes(Recorded(), "pe1", vrf="cust")
    assert {"192.0.2.1/32", "192.0.2.2/32", "198.51.100.11/32"} <= set(table)
    lfib = bird.lfib(Recorded(), "pe1")
    # The VPN label PE-1 advertised for the CE's /32 swaps to the CE's own label (100).
    assert lfib[50001].swaps_to(100) is False  # not in the kernel on that host ("!")
    assert lfib[50001].hops[0].out_labels == (100,) and lfib[50001].hops[0].via == "10.1.1.1"
    # Received with implicit-null from the CE: popped towards it.
    assert lfib[50002].hops[0].out_labels == (IMPLICIT_NULL,)
    assert not any(entry.installed for entry in lfib.values())


def test_an_installed_label_is_one_the_kernel_took():
    text = (OUTPUTS / "pe1.show_route_table_mtab_all.txt").read_text().replace(" ! ", " * ")
    lfib = bird.lfib(Recorded(**{"pe1.show_route_table_mtab_all": text}), "pe1")
    assert lfib[50001].installed and lfib[50001].swaps_to(100)


def test_a_router_without_bird_is_a_probe_error_naming_it():
    with pytest.raises(ProbeError, match="P-9: `show protocols all` failed: Unable to connect"):
        bird.bgp_sessions(Recorded(), "P-9")
