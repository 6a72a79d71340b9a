"""The containerlab runtime on live routers: option3 deployed by containerlab as one Docker
container per router inside the micro-VM (`--runtime clab` on a host without Docker), the
same `mplslab verify` passing, and `down` leaving no container, container mount or veth;
option2 without next-hop-self (a staged step) the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labkit import guest_run, mplslab, running_lab, verify_all

pytestmark = pytest.mark.e2e


def test_option3_as_containerlab_containers_verifies_like_namespaces(tmp_path):
    with running_lab("option3", runtime="clab") as (model, runtime):
        assert runtime.name == "clab-vm"  # no Docker engine on this host: inside the VM
        # One running container per router, made by containerlab for this lab.
        listed = guest_run("docker ps --filter label=containerlab=option3 "
                           "--format '{{json .}}'")
        running = {json.loads(line)["Names"] for line in listed.splitlines()}
        assert running == {f"clab-option3-{node.name}" for node in model.nodes}
        # The daemons live inside the containers: PE-1's bgpd is in the container's PID
        # namespace (its first process is the image's init), not in the VM's.
        inside = runtime.exec("PE-1", ["sh", "-c", "cat /proc/1/comm; pgrep -x bgpd"])
        assert inside.returncode == 0, inside.stderr
        first, *bgpd = inside.stdout.split()
        assert first == "tini" and bgpd, inside.stdout
        # And the routers have no management network: the lab's links only.
        links = runtime.exec("CE-1", ["ip", "-o", "link", "show"]).stdout
        assert "eth0" not in links and "eth1" in links
        report = verify_all("option3", tmp_path)
    assert report["passed"]


@pytest.mark.xdist_group("option2")  # the lab name of tests/e2e/test_option2.py
def test_option2_without_next_hop_self_keeps_the_lsp_to_the_far_asbr_in_containers(tmp_path):
    """Option B without next-hop-self (AS 2 keeps PE-ASBR-1's link address as next hop) as
    containers: its staged step (the PE-ASBRs' eBGP session enabled once LDP labels the route
    to the PE) runs inside the containers as in namespaces."""
    with running_lab("option2", "no-next-hop-self", runtime="clab") as (model, runtime):
        assert runtime.name == "clab-vm"
        staged = [node.name for node in model.nodes
                  if json.loads((Path(runtime.state.rendered) / node.name / "setup.json")
                                .read_text())["after_start"]]
        assert staged, "option2 has no staged step any more: pick another lab here"
        report = verify_all("option2", tmp_path)
        # `status` tells each router's daemons and its container's state (containerlab's).
        told = json.loads(mplslab("status", "option2", "--json").stdout)["labs"][0]
        assert set(told["containers"].values()) == {"running"}, told
        assert set(told["containers"]) == set(told["routers"]) == {n.name for n in model.nodes}
        assert "bgpd" in told["routers"]["PE-ASBR-1"]
    checks = {c["name"]: c for c in report["checks"]}
    # PE-2 sees PE-ASBR-1's link address and PE-ASBR-1's label L2.
    route = checks["PE-2: 1:27:152.12.4.0/24"]["observed"]
    assert route["next_hop"] == "10.255.0.1"
    assert route["label"] == checks["PE-ASBR-2: 1:27:152.12.4.0/24"]["observed"]["label"]
    assert checks["PE-ASBR-2: LDP label for 10.255.0.1/32 pops towards 10.255.0.1"]["passed"]
    wire = checks["CE-3 → 152.12.4.1 (VPN-B)"]["observed"]
    # A real label for the /32 (no PHP) up to PE-ASBR-2, then L2 alone.
    assert wire["P-2→PE-ASBR-2"].startswith("2 ")
    assert wire["PE-ASBR-2→PE-ASBR-1"].startswith("1 ")
