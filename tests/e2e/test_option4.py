"""Option 4 on live routers: two VPN providers' route reflectors exchange VPNv4 across a
non-VPN MPLS transit provider, which carries only labelled loopbacks and never enters the
VPN routes' AS path."""

from __future__ import annotations

import json

import pytest
from labkit import Fault, inject, mplslab, running_lab, verify_all
from slides import slide_exercise

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option4")]


def test_option4_crosses_the_transit_with_next_hop_label_and_as_path_unchanged(tmp_path):
    with running_lab("option4") as (model, runtime):
        report = verify_all("option4", tmp_path)
        checks = {c["name"]: c for c in report["checks"]}
        seen = [checks[f"{router}: 1:27:152.12.4.0/24"]["observed"]
                for router in ("PE-1", "RR-1", "RR-2", "PE-2")]
        assert {s["label"] for s in seen} == {seen[0]["label"]}
        assert [s["next_hop"] for s in seen[1:]] == ["10.1.0.1"] * 3
        assert seen[-1]["as_path"].split()[0] == "1" and "2" not in seen[-1]["as_path"].split()
        for transit in ("ASBR-2", "P-T", "ASBR-3"):
            assert checks[f"{transit} holds no route to 152.12.4.0/24"]["passed"]
        wire = checks["CE-3 → 152.12.4.1 (VPN-B)"]["observed"]
        depths = {link: int(stack.split()[0]) for link, stack in wire.items()}
        assert depths == {"PE-2→P-2": 3, "P-2→ASBR-4": 2, "ASBR-4→ASBR-3": 2,
                          "ASBR-3→P-T": 3, "P-T→ASBR-2": 2, "ASBR-2→ASBR-1": 2,
                          "ASBR-1→P-1": 2, "P-1→PE-1": 1}
        # The slide's walk, live: explain shows the labels the routers hold now (the ones
        # verify saw, labels do not move in a converged lab) and a capture of the path.
        told = json.loads(mplslab("explain", "option4", "152.12.4.1", "--json").stdout)
        assert told["live"]["labels"] == {router: s["label"] for router, s in
                                          zip(("PE-1", "RR-1", "RR-2", "PE-2"), seen,
                                              strict=True)}
        assert {link: int(stack.split()[0]) for link, stack in
                told["live"]["stacks"].items()} == depths
        # A label route nobody needs, left in a transit router's kernel (a daemon that died
        # without cleaning up, a hand-made test): only the label-leak check sees it.
        transit = next(n for n in model.nodes if n.role == "p" and any(
            a.transit and a.asn == n.asn for a in model.autonomous_systems))
        stray = str(model.platform_labels - 1)
        inject(model, runtime, Fault(
            "a label route left in the kernel",
            [(transit.name, ["ip", "-f", "mpls", "route", "add", stray, "dev", "lo"])],
            [(transit.name, ["ip", "-f", "mpls", "route", "del", stray])],
            fails={"label-leak"}, holds={"mpls-lfib", "label-chain", "ping"}))
        # Option 4's own exercise: the transit's ASBR stops setting itself as next hop
        # towards the other side: provider 1's loopbacks stop in the transit (the generic
        # inter-as-session exercise is unit-tested and in bench/exercises.py). It comes
        # after the fault: once this one is mended, ASBR-3 was seen to keep two labelled-
        # unicast swap entries no route needs (zebra's table and the kernel's), which
        # label-leak reports (docs/labs/option4.md).
        slide_exercise("option4", model, tmp_path)


def test_option4_same_as_both_providers_in_as_1(tmp_path):
    """The slides' other numbering: both providers are AS 1. The RRs' VPNv4 session is
    MP-iBGP across the transit, the VPN routes carry no AS path at all, and the labelled
    loopbacks cross AS 2 back into AS 1 (as-override on ASBR-2 and ASBR-3)."""
    with running_lab("option4", "same-as") as (model, _):
        report = verify_all("option4", tmp_path)
        assert report["variant"] == "same-as"
        checks = {c["name"]: c for c in report["checks"]}
        seen = [checks[f"{router}: 1:27:152.12.4.0/24"]["observed"]
                for router in ("PE-1", "RR-1", "RR-2", "PE-2")]
        assert {s["label"] for s in seen} == {seen[0]["label"]}
        assert [s["next_hop"] for s in seen[1:]] == ["10.1.0.1"] * 3
        # Only the customer's AS: iBGP between the regions adds none, the transit none.
        assert seen[-1]["as_path"] == str(model.node("CE-2").asn)
        answer = mplslab("exec", "option4", "RR-2", "--", "vtysh", "-c",
                         "show bgp ipv4 vpn summary json")
        peers = json.loads(answer.stdout)["peers"]
        assert peers["10.1.0.4"]["remoteAs"] == peers["10.1.0.4"]["localAs"] == 1
