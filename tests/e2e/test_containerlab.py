"""The containerlab runtime on live routers: option3 deployed by containerlab as one Docker
container per router inside the micro-VM (`--runtime clab` on a host without Docker), the
same `mplslab verify` passing, and `down` leaving no container, container mount or veth.
And the native `clab` runtime, as on a user's Linux host with Docker, containerlab and the
MPLS modules: the micro-VM's guest is such a host, and mplslab itself runs there."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from labkit import (
    CONVERGE,
    E2E_LABS,
    assert_no_container_left,
    capture_during_ping,
    captures_left,
    echo_request_depths,
    guest_run,
    mplslab,
    running_lab,
    verify_all,
    wire_hop,
)

from emulator.model.build import load_lab
from emulator.paths import PROJECT_DIR, state_dir
from emulator.runtime.clab import ClabVmRuntime, image_tag
from emulator.runtime.containers import BY_HAND_LOG, IMAGE_CHANGES, container
from emulator.runtime.vm_pin import pinned_runtime
from emulator.runtime.vm_shared import shared_vm
from emulator.verify.checks import CARRIER_KINDS, KINDS

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
        # A shell in a router's container reaches its daemons; a capture streams out of
        # the container, and Ctrl-C leaves no tcpdump in it (its own PID namespace).
        source, destination, hop = wire_hop(model)
        pe = model.node(hop.sender)
        said = mplslab("exec", "option3", pe.name, "--", "sh", "-c",
                       "vtysh -c 'show bgp summary'")
        assert f"BGP router identifier {pe.router_id}" in said.stdout
        pcap = tmp_path / "container.pcap"
        status, told, _ = capture_during_ping("option3", f"{hop.sender}:{hop.receiver}",
                                              source, destination, pcap, interrupt=True)
        assert status == 0, told
        assert set(echo_request_depths(pcap, source, destination)) == {hop.depth}
        assert not captures_left(runtime, hop.sender)
    assert report["passed"]



# The guest as a user's host: its own python3 (Debian 13's 3.13) runs mplslab from this
# checkout (shared with the guest), its state in the guest's own /tmp.
GUEST_SITE = state_dir() / "_guest-python"
NATIVE_STATE = "/tmp/mplslab-native"
IMPORTED_IMAGE = "mplslab-router:from-tar"
MINI = str(E2E_LABS / "mini.yml")


def guest_python_site() -> Path:
    """mplslab's dependencies (pyproject.toml's pins, their own at this venv's versions)
    installed for the guest's Python 3.13 into a folder the guest sees: wheels for its
    platform, fetched here (the guest has no network)."""
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    wanted = [d for d in project["dependencies"] if not d.startswith("virtme-ng")]
    marker = GUEST_SITE / ".installed"
    if marker.is_file() and marker.read_text().split("\n") == wanted:
        return GUEST_SITE
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    constraints = GUEST_SITE.with_suffix(".constraints")
    constraints.parent.mkdir(parents=True, exist_ok=True)
    constraints.write_text(frozen)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--upgrade", "--target",
                    str(GUEST_SITE), "--python-version", "3.13", "--implementation", "cp",
                    "--abi", "cp313", "--abi", "abi3", "--abi", "none",
                    "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
                    "--platform", "any", "--only-binary=:all:", "-c", str(constraints),
                    *wanted], check=True, capture_output=True)
    marker.write_text("\n".join(wanted))
    return GUEST_SITE


def in_guest(command: str, timeout: float = 900) -> tuple[int, str]:
    """A shell command in the micro-VM's guest: its exit status and output (both streams)."""
    result = pinned_runtime(shared_vm()).run(f"{{ {command}; }} 2>&1", timeout=timeout)
    return result.returncode, result.stdout


def native_mplslab(*args: str, timeout: float = 900) -> tuple[int, str]:
    """`mplslab ARGS` run by the guest's own python3, as on a user's host."""
    environment = (f"PATH={ClabVmRuntime.guest_bin()}:$PATH "
                   f"PYTHONPATH={PROJECT_DIR}:{GUEST_SITE} MPLSLAB_STATE={NATIVE_STATE} "
                   "COLUMNS=200")
    return in_guest(f"cd / && {environment} python3 -m emulator {shlex.join(args)}", timeout)


@pytest.fixture(scope="module")
def docker_host():
    """The guest as a user's Linux host with Docker (the engine started as the clab-vm
    runtime starts it), containerlab, mplslab's dependencies, and the router image that
    `mplslab image build --tar` writes, imported with `docker import` as its output says:
    as mplslab's own tag (what `render --clab` names) and as IMPORTED_IMAGE (for --image)."""
    guest_python_site()
    tar = state_dir() / "_native" / "router.tar"
    tar.parent.mkdir(parents=True, exist_ok=True)
    built = mplslab("image", "build", "--tar", str(tar))
    said = " ".join(built.stdout.split())  # as printed, wrapped at any width
    assert "docker import" in said and image_tag() in said, said
    ClabVmRuntime.share_containerlab()
    changes = " ".join(f"-c {shlex.quote(change)}" for change in IMAGE_CHANGES)
    rc, said = in_guest(f"cd {PROJECT_DIR} && PYTHONPATH={PROJECT_DIR} python3 -c 'from "
                        "emulator.runtime.containers import start_engine; start_engine(print)'"
                        f" && docker import {changes} {tar} {image_tag()}"
                        f" && docker tag {image_tag()} {IMPORTED_IMAGE}")
    tar.unlink()
    assert rc == 0, said
    yield
    in_guest(f"docker rmi {IMPORTED_IMAGE} {image_tag()}")  # ~230 MB of the guest's memory
    shutil.rmtree(tar.parent, ignore_errors=True)


@pytest.mark.xdist_group("option2")  # the lab name of tests/e2e/test_option2.py
def test_option2_with_its_staged_step_on_a_linux_host_with_docker_natively(docker_host):
    """`--runtime clab` where Docker, containerlab and the MPLS modules are on the host itself
    (a user's Linux machine), mplslab run by the host's own python3, with `--image`. The lab
    is Option B without next-hop-self (AS 2 keeps PE-ASBR-1's link address as next hop): its
    staged step (the PE-ASBRs' eBGP session enabled once LDP labels the route to the PE)
    runs inside the containers as in namespaces."""
    try:
        rc, said = native_mplslab("up", "option2", "--variant", "no-next-hop-self",
                                  "--runtime", "clab", "--image", IMPORTED_IMAGE)
        assert rc == 0, said
        # containerlab on this host itself, not inside a micro-VM.
        assert "runtime: clab (Docker, containerlab and a kernel with MPLS" in said, said
        report_path = f"{NATIVE_STATE}/option2.report.json"
        rc, said = native_mplslab("verify", "option2", "--json", report_path,
                                  "--deadline", str(CONVERGE))
        assert rc == 0, said
        report = json.loads(guest_run(f"cat {report_path}"))
        assert report["passed"] is True
        assert {c["kind"] for c in report["checks"]} == set(KINDS) - set(CARRIER_KINDS)
        # `status` tells each router's daemons and its container's state (containerlab's).
        rc, said = native_mplslab("status", "option2", "--json")
        assert rc == 0, said
        told = json.loads(said)["labs"][0]
        assert told["runtime"] == "clab"
        assert set(told["containers"].values()) == {"running"}, told
        assert set(told["containers"]) == set(told["routers"])
        assert "bgpd" in told["routers"]["PE-ASBR-1"]
        # The routers run the image given, not one mplslab made.
        images = guest_run("docker ps --filter label=containerlab=option2 "
                           "--format '{{.Image}}'").split()
        assert set(images) == {IMPORTED_IMAGE}, images
    finally:
        down_rc, down_said = native_mplslab("down", "option2")
        in_guest(f"rm -rf {NATIVE_STATE}")
    assert down_rc == 0, down_said
    assert_no_container_left("option2")
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


def start_logs(model) -> dict[str, str]:
    """What each router's start (containerlab's `exec:`) has logged so far, read through
    the containers' root file systems (one `docker inspect`, not a `docker exec` each)."""
    names = {container("mini", node.name): node.name for node in model.nodes}
    _, said = in_guest("docker inspect -f '{{.Name}} {{.State.Pid}}' "
                        f"{' '.join(names)} | while read name pid; do echo \"== $name\"; "
                        f"cat /proc/$pid/root{BY_HAND_LOG}; done")
    logs: dict[str, str] = {}
    for part in said.split("== /")[1:]:
        name, _, log = part.partition("\n")
        logs[names[name]] = log
    return logs


@pytest.mark.xdist_group("option2")  # shares the docker_host fixture
def test_a_topology_rendered_for_containerlab_deploys_by_hand_into_working_routers(
        docker_host):
    """`mplslab render --clab`, then containerlab alone, as a user deploying by hand: every
    router starts its own plan from inside its container, a VPN ping crosses the P router
    (the one way between the sites is labelled), and plain `vtysh` answers in a router."""
    out = state_dir() / "_native" / "mini"  # shared with the guest
    mplslab("render", MINI, "--out", str(out), "--clab")
    topology = out / "mini.clab.yml"
    model = load_lab(MINI)
    ce_a, ce_b = (node for node in model.nodes if node.site is not None)
    clab = f"PATH={ClabVmRuntime.guest_bin()}:$PATH CLAB_VERSION_CHECK=disable containerlab"
    # As the recipe says: containers cannot load the kernel's modules.
    rc, deployed = in_guest(f"modprobe -a mpls_router mpls_iptunnel vrf && {clab} deploy -t "
                            f"{topology}")
    try:
        assert rc == 0, deployed
        ping = (f"docker exec {container('mini', ce_a.name)} ping -c 1 -W 2 -I "
                f"{ce_a.site.address.ip} {ce_b.site.address.ip}")
        deadline = time.monotonic() + CONVERGE
        while (answer := in_guest(ping))[0] != 0 and time.monotonic() < deadline:
            if any("error:" in log for log in start_logs(model).values()):
                break  # a router failed to start: no use waiting
            time.sleep(3)
        logs = start_logs(model)
        assert answer[0] == 0, (answer[1], logs)
        assert all(log.strip().endswith(f"{name} is up") for name, log in logs.items()), logs
        rc, said = in_guest(f"docker exec {container('mini', 'PE-A')} vtysh -c "
                            "'show bgp ipv4 vpn summary json'")
        assert rc == 0, said
        peers = json.loads(said)["peers"]
        assert [p["state"] for p in peers.values()] == ["Established"], peers
    finally:
        destroyed = in_guest(f"{clab} destroy -t {topology} --cleanup --yes")
        shutil.rmtree(out, ignore_errors=True)
    assert destroyed[0] == 0, destroyed[1]
    assert_no_container_left("mini")
