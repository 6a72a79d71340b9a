"""Carrier supporting carrier, the customer ISP without MPLS, on live routers: labels only on
the CSC-CE to PE links and in the backbone; the ISP's sites forward IP, its CSC-CEs reflect
its external routes to each other over iBGP, never through the backbone."""

from __future__ import annotations

import re

import pytest
from labkit import Fault, inject, mplslab, running_lab, verify_all
from slides import slide_exercise

from emulator.suites import bird
from emulator.suites.contract import Question

pytestmark = pytest.mark.e2e


def route_times(birdc_output: str) -> str:
    """BIRD prints a route's time converted from its monotonic clock at each call: two calls
    a moment apart may differ by a millisecond. The routes are what is compared."""
    return re.sub(r"\b\d\d:\d\d:\d\d\.\d{3}\b", "hh:mm:ss.mmm", birdc_output)


def test_csc_ip_carries_n_labelled_across_the_backbone_only(tmp_path):
    with running_lab("csc-ip") as (model, runtime):
        report = verify_all("csc-ip", tmp_path)
        # The verifier reads BIRD through its control socket (bird_ctl.py): what birdc says.
        for words in (("show", "route", "table", "mtab"),
                      ("show", "route", "table", "vpntab", "all"),
                      ("show", "route", "table", "mtab", "10.255.255.255/32")):
            command = Question(bird.NAME, words)
            read = runtime.read_many({"PE-1": [command]})["PE-1"][0]
            told = runtime.exec("PE-1", bird.question_argv(command))
            assert (read.returncode, route_times(read.stdout)) == \
                (told.returncode, route_times(told.stdout)), command
        # A shell on a carrier PE reaches both its suites' daemons: BIRD's and FRR's.
        shell = mplslab("exec", "csc-ip", "PE-1", "--", "sh", "-c",
                        "birdc show status && vtysh -c 'show version'")
        assert "Daemon is up and running" in shell.stdout
        assert "FRRouting 10.3" in shell.stdout
        checks = {c["name"]: c for c in report["checks"]}
        # The slide's walk from a host behind ASBR-2 to N: IP inside the sites, PE-2's label
        # from CSC-CE-2, [LDP, VPN] then the VPN label in the backbone, IP again from PE-1
        # (CSC-CE-1 gave ASBR-1's loopback implicit-null, having it from OSPF).
        wire = checks["ASBR-2 → 198.51.100.1 (N behind ASBR-1)"]["observed"]
        depths = {link: int(stack.split()[0]) for link, stack in wire.items()}
        assert depths == {"ASBR-2→CSC-CE-2": 0, "CSC-CE-2→PE-2": 1, "PE-2→P-1": 2,
                          "P-1→PE-1": 1, "PE-1→CSC-CE-1": 0, "CSC-CE-1→ASBR-1": 0}
        # The CSC-CEs hold N (the ISP's iBGP between them); the backbone does not.
        assert checks["CSC-CE-2 holds 198.51.100.0/24 from ASBR-1"]["passed"]
        assert checks["P-1 holds no route to 198.51.100.0/24 (external to 100)"]["passed"]
        assert model.node("CSC-CE-1").ospf[0].redistribute_internal_bgp
        # csc-ip's own exercise: CSC-CE-2's OSPF no longer carries the other site's
        # loopbacks into its site (a site without MPLS learns the BGP next hops of N from
        # its IGP): ASBR-2 loses N, the backbone is untouched.
        slide_exercise("csc-ip", model, tmp_path)
        # A PE stops taking labelled packets from a CSC-CE (the kernel's MPLS input off on
        # that interface, behind FRR and BIRD): every control-plane check holds, the
        # carrier's traffic through that PE does not. (A BIRD label route deleted behind
        # BIRD is no stable fault: BIRD may put it back before any check looks.)
        ce = next(n for n in model.nodes if n.role == "csc-ce")
        uplink = next(i for i in ce.interfaces if i.peer and model.node(i.peer.node).role == "pe")
        sysctl = f"net.mpls.conf.{uplink.peer.interface}.input"
        inject(model, runtime, Fault(
            "MPLS input off on a PE's CSC-CE-facing interface",
            [(uplink.peer.node, ["sysctl", "-qw", f"{sysctl}=0"])],
            [(uplink.peer.node, ["sysctl", "-qw", f"{sysctl}=1"])],
            fails={"ping"}, holds={"bgp-session", "vrf-route", "mpls-lfib"}))
