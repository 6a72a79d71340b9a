"""The containerlab runtime's pure parts: the generated topology (valid against containerlab's
own schema, for every shipped lab and variant and for generated labs), the way a program
enters a router's container, and which runtime `--runtime clab` lands on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import regex
import yaml
from labgen import generate
from shipped import lab_variants

from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.render import render_lab
from emulator.runtime import clab, containers
from emulator.runtime.registry import choose

# containerlab's schema (tests/unit/data/containerlab/README.md says where it comes from).
SCHEMA = json.loads((Path(__file__).parent / "data" / "containerlab" /
                     "clab.schema.json").read_text())


def pattern(validator, expected, instance, schema):
    """The schema's patterns use Unicode classes (\\p{L}) that Python's `re` lacks."""
    if isinstance(instance, str) and not regex.search(expected, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")


Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})


def rendered_topology(tmp_path: Path, name: str, variant: str | None = None,
                      lab=None) -> tuple[dict, object]:
    lab = lab or load_lab(name, variant)
    render_lab(lab, tmp_path)
    return containers.rendered_topology(lab.name, tmp_path, image="mplslab-router:test",
                                        extra_binds=containers.THIN_BINDS), lab


def assert_valid(topology: dict) -> None:
    errors = sorted(Validator(SCHEMA).iter_errors(topology), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("name,variant", list(lab_variants()))
def test_every_shipped_lab_gives_a_valid_topology(tmp_path, name, variant):
    topology, lab = rendered_topology(tmp_path, name, variant)
    assert_valid(topology)
    # And it is the lab: one container per router, one veth per link, nothing else.
    assert set(topology["topology"]["nodes"]) == {n.name for n in lab.nodes}
    assert len(topology["topology"]["links"]) == len(lab.links)


@pytest.mark.parametrize("seed", [3, 17, 42])
def test_generated_labs_give_valid_topologies(tmp_path, seed):
    generated = generate(seed)
    source = tmp_path / f"{generated.name}.yml"
    source.write_text(generated.text)
    lab = load_lab(str(source))
    topology, _ = rendered_topology(tmp_path / "out", lab.name, lab=lab)
    assert_valid(topology)
    assert len(topology["topology"]["links"]) == len(lab.links)


def test_topology_keeps_routers_off_any_management_network(tmp_path):
    topology, _ = rendered_topology(tmp_path, "option3")
    defaults = topology["topology"]["defaults"]
    assert defaults["network-mode"] == "none" and topology["mgmt"]["network"] == "none"
    # A restarted container would come back without its veths; the image is built, not pulled.
    assert defaults["restart-policy"] == "no" and defaults["image-pull-policy"] == "Never"


def test_binds_give_each_router_its_files_and_sockets_at_the_same_paths(tmp_path):
    topology, _ = rendered_topology(tmp_path, "csc-ip")
    nodes = topology["topology"]["nodes"]
    pe = nodes["PE-1"]["binds"]  # a carrier's PE: BIRD beside FRR
    assert f"{tmp_path}:{tmp_path}:ro" in pe
    assert "/run/frr/csc-ip_PE-1:/run/frr/csc-ip_PE-1" in pe
    assert "/run/bird/csc-ip_PE-1:/run/bird/csc-ip_PE-1" in pe
    assert "/run/mplslab/csc-ip/PE-1:/run/mplslab/csc-ip/PE-1" in pe
    assert not any("/run/bird/" in bind for bind in nodes["P-1"]["binds"])
    assert all(containers.THIN_BINDS[0] in node["binds"] for node in nodes.values())


def test_links_name_each_end_as_the_rendered_lab_does(tmp_path):
    topology, _ = rendered_topology(tmp_path, "option2")
    description = json.loads((tmp_path / "lab.json").read_text())
    expected = [[f"{link[end]['node']}:{link[end]['interface']}" for end in ("a", "b")]
                for link in description["links"]]
    assert [link["endpoints"] for link in topology["topology"]["links"]] == expected


def test_render_clab_writes_the_yaml_topology(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "emulator", "render", "option1", "--out",
                             str(out), "--clab"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    topology = yaml.safe_load((out / "option1.clab.yml").read_text())
    assert_valid(topology)
    assert topology["topology"]["defaults"]["image"] == clab.image_tag()
    assert "containerlab deploy -t" in result.stdout and "vtysh" in result.stdout


@pytest.mark.parametrize("name,variant", [("option2", "no-next-hop-self"), ("csc-vpn", None)])
def test_a_topology_deployed_by_hand_starts_every_router_from_inside(tmp_path, name, variant):
    """Without mplslab: each container binds its own rendered files and mplslab's deploy
    code (the start bundle written beside them: tests/unit/test_start_bundle.py), and
    containerlab's `exec:` starts the router's plan in the background."""
    lab = load_lab(name, variant)
    render_lab(lab, tmp_path)
    topology = containers.by_hand_topology(lab.name, tmp_path, image="mplslab-router:test")
    assert_valid(topology)
    nodes = topology["topology"]["nodes"]
    assert set(nodes) == {n.name for n in lab.nodes}
    bundle = tmp_path / "_start" / "emulator"
    assert (bundle / "runtime" / "containers.py").is_file()
    for node, settings in nodes.items():
        assert settings["binds"] == [f"{tmp_path / node}:{tmp_path / node}:ro",
                                     f"{tmp_path}/lab.json:{tmp_path}/lab.json:ro",
                                     f"{bundle}:/opt/mplslab/emulator:ro"]
        assert settings["env"] == {"PYTHONPATH": "/opt/mplslab"}
        [command] = settings["exec"]
        assert command == ("sh -c 'python3 -m emulator.runtime.containers start "
                           f"{lab.name} {tmp_path} {node} > /var/log/mplslab-start.log 2>&1 &'")


def test_the_start_inside_a_container_reads_its_arguments(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(containers.ThisContainer, "start",
                        lambda self, node: started.append((self.lab, self.rendered, node)))
    assert containers.main(["start", "mini", str(tmp_path), "PE-A"]) == 0
    assert started == [("mini", tmp_path, "PE-A")]
    here = containers.ThisContainer("mini", tmp_path)
    assert here.enter("PE-A") == [] and here.ip_batch("PE-A") == ["ip", "-batch", "-"]


def test_entering_a_container_joins_its_cgroup_then_its_namespaces(tmp_path):
    """The ENTER script with a stand-in nsenter: the shell writes itself into the container's
    cgroup and hands the program to nsenter with the container's first pid."""
    entry = tmp_path / "containers" / "PE-1"
    entry.parent.mkdir()
    procs = tmp_path / "cgroup.procs"
    Path(f"{entry}.pid").write_text("4242\n")
    Path(f"{entry}.cgroup").write_text(f"{procs}\n")
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "nsenter").write_text('#!/bin/sh\necho "$@"\n')
    (stub / "nsenter").chmod(0o755)
    argv = ["sh", "-c", containers.ENTER, str(entry), "vtysh", "-c", "show version"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False,
                            env={**os.environ, "PATH": f"{stub}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "-t 4242 -a vtysh -c show version"
    assert procs.read_text().strip().isdigit()


def test_entering_a_container_that_is_gone_fails(tmp_path):
    argv = ["sh", "-c", containers.ENTER, str(tmp_path / "nothing"), "true"]
    assert subprocess.run(argv, capture_output=True, check=False).returncode != 0


def test_container_argv_addresses_the_routers_daemons():
    argv = containers.container_argv("option3", "PE-1", ["vtysh", "-c", "show version"])
    assert argv[:2] == ["sh", "-c"]
    assert argv[3] == str(containers.entry("option3", "PE-1"))
    assert argv[4:] == ["vtysh", "-N", "option3_PE-1", "-c", "show version"]


def test_clab_without_docker_here_runs_in_the_micro_vm(monkeypatch):
    monkeypatch.setattr(clab.ClabRuntime, "available",
                        classmethod(lambda cls: (False, "no Docker engine answers here")))
    monkeypatch.setattr(clab.ClabVmRuntime, "available",
                        classmethod(lambda cls: (True, "containerlab and Docker inside")))
    chosen, why = choose("clab")
    assert chosen == "clab-vm" and "no Docker engine answers here" in why


def test_clab_nowhere_says_what_to_install(monkeypatch):
    monkeypatch.setattr(clab.ClabRuntime, "available",
                        classmethod(lambda cls: (False, "no Docker engine answers here")))
    monkeypatch.setattr(clab.ClabVmRuntime, "available",
                        classmethod(lambda cls: (False, "containerlab is not installed")))
    with pytest.raises(LabError) as caught:
        choose("clab")
    assert "make containerlab" in caught.value.hint


def test_auto_never_picks_containerlab_in_the_vm():
    assert clab.ClabVmRuntime.preference > clab.VmRuntime.preference


def test_the_schema_check_refuses_what_containerlab_would(tmp_path):
    topology, _ = rendered_topology(tmp_path, "option1")
    topology["topology"]["defaults"]["restart-policy"] = "sometimes"
    topology["nodes"] = {}  # a misplaced key
    errors = sorted(str(e.message) for e in Validator(SCHEMA).iter_errors(topology))
    assert len(errors) == 2 and "'sometimes' is not one of" in errors[0]


def test_the_image_tarball_is_the_appliance_without_kernel_and_docker_state(tmp_path,
                                                                              monkeypatch):
    from emulator.runtime import appliance

    rootfs = tmp_path / "rootfs"
    for folder in ("boot", "usr/lib/modules/6.12", "usr/lib/frr", "var/lib/docker/x", "etc",
                   "usr/bin", "usr/sbin"):
        (rootfs / folder).mkdir(parents=True)
    (rootfs / "usr/lib/frr/zebra").write_text("zebra")
    # The VM's own Docker engine is no router's business.
    for program in ("usr/bin/containerd", "usr/bin/containerd-shim-runc-v2", "usr/sbin/dockerd",
                    "usr/bin/vtysh"):
        (rootfs / program).write_text(program)
    (rootfs / "boot/vmlinuz-6.12").write_text("kernel")
    monkeypatch.setattr(appliance, "build", lambda **kwargs: appliance.Appliance(rootfs))
    tarball = clab.write_image_tarball(tmp_path / "router.tar", lambda line: None)
    listed = subprocess.run(["tar", "-tf", str(tarball)], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "./usr/lib/frr/zebra" in listed and "./etc/" in listed
    assert "./usr/bin/vtysh" in listed
    assert not [n for n in listed if n.startswith(("./boot", "./usr/lib/modules",
                                                   "./var/lib/docker", "./usr/bin/containerd",
                                                   "./usr/sbin/dockerd"))]


def test_image_build_without_an_engine_says_what_to_do(monkeypatch):
    from typer.testing import CliRunner

    from emulator.cli import app

    monkeypatch.setattr(clab, "engine_answers", lambda: False)
    result = CliRunner().invoke(app, ["image", "build"])
    assert result.exit_code == 2
    assert "no Docker engine answers here" in result.output and "--tar" in result.output


def test_the_native_runtime_deploys_the_full_image_and_enters_containers(monkeypatch):
    from emulator.runtime.state import LabState

    state = LabState(lab="option3", variant=None, runtime="clab", rendered="/tmp/r",
                     source="")
    runtime = clab.ClabRuntime(state)
    assert runtime.lab.image == clab.image_tag() and not runtime.lab.in_vm
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda argv, **kwargs: ran.append(argv) or
                        subprocess.CompletedProcess(argv, 0, "", ""))
    runtime.exec("PE-1", ["vtysh", "-c", "show version"])
    assert ran[0] == containers.container_argv("option3", "PE-1",
                                               ["vtysh", "-c", "show version"])


def test_the_native_runtime_takes_the_image_it_is_given(monkeypatch):
    from emulator.runtime.state import LabState

    state = LabState(lab="option3", variant=None, runtime="clab", rendered="/tmp/r",
                     source="", image="quay.io/frrouting/frr:10.3.0")
    runtime = clab.ClabRuntime(state)
    assert runtime.lab.image == "quay.io/frrouting/frr:10.3.0"
    monkeypatch.setattr(clab, "containerlab_binary", lambda: Path("/usr/bin/containerlab"))
    monkeypatch.setattr(containers, "image_exists", lambda tag: False)
    monkeypatch.setattr(clab, "build_image", lambda progress: pytest.fail("built an image"))
    with pytest.raises(LabError) as refused:
        runtime.up(lambda line: None)
    assert "quay.io/frrouting/frr:10.3.0 is not in this host's Docker engine" in str(
        refused.value)
    assert "docker pull quay.io/frrouting/frr:10.3.0" in refused.value.hint


def test_whatever_an_image_would_start_its_containers_idle(tmp_path):
    """FRR's own image starts watchfrr and its daemons; the deploy starts the routers'."""
    topology, _ = rendered_topology(tmp_path, "option3")
    assert topology["topology"]["defaults"]["cmd"] == "sleep infinity"


def test_image_is_only_for_containerlab_on_this_host(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from emulator import cli, lifecycle

    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path))
    monkeypatch.setattr(lifecycle, "choose", lambda requested: ("vm", "no MPLS here"))
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    result = CliRunner().invoke(cli.app, ["up", "option3", "--image", "frr:10.3"])
    assert result.exit_code == 2, result.output
    assert "--image is for containerlab on this host" in result.output
    assert not list(tmp_path.iterdir())  # nothing claimed, nothing left


def test_the_vm_runtime_deploys_containers_with_the_guests_engine():
    from emulator.runtime.state import LabState

    state = LabState(lab="option3", variant=None, runtime="clab-vm", rendered="/tmp/r",
                     source="")
    runtime = clab.ClabVmRuntime(state)
    command = runtime.guest_command("up")
    assert "python3 -m emulator.runtime.containers up option3" in command
    assert command.startswith(f"PATH={runtime.guest_bin()}:")
    assert runtime.deploy_options() == ["--in-vm"]
