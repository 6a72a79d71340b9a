"""The containerlab runtime on live routers: option3 deployed by containerlab as one Docker
container per router inside the micro-VM (`--runtime clab` on a host without Docker), the
same `mplslab verify` passing, and `down` leaving no container, container mount or veth."""

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


def test_option2_staged_session_comes_up_in_containers(tmp_path):
    """Option B's staged step (the PE-ASBRs' eBGP session enabled once LDP labels the route
    to the PE) runs inside the containers as in namespaces."""
    with running_lab("option2", "next-hop-self", runtime="clab") as (model, runtime):
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
    assert report["passed"]
