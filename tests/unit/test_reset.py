"""`mplslab reset` without routers: the configuration each router is put back to (what the
deploy left, staged steps and files for one daemon included), the commands each suite's
driver runs for it, and the kernel's part, idempotent on a router whose devices exist."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from shipped import lab_variants

from emulator.model.build import load_lab
from emulator.render import node_plan, render_lab
from emulator.render.frr import DEPLOYED
from emulator.runtime import netns
from emulator.suites import bird, frr


def test_frr_resets_by_its_own_reload_of_the_deployed_configuration():
    config = Path("/state/option2/rendered/PE-ASBR-2/frr-deployed.conf")
    assert frr.reset_argvs("option2_PE-ASBR-2", config) == [[
        "python3", "/usr/lib/frr/frr-reload.py", "--reload", "--stdout",
        "--log-level", "warning", "--pathspace", "option2_PE-ASBR-2", "--confdir", "/etc/frr",
        "--rundir", "/run/frr/option2_PE-ASBR-2", str(config)]]


def test_the_vtysh_conf_frr_reload_reads_is_the_one_the_router_has():
    """frr-reload with -N checks <confdir>/<pathspace>/vtysh.conf, and its vtysh (given
    --config_dir) reads the same: the file ``prepare`` makes."""
    argv = frr.reset_argvs("lab_R", Path("frr.conf"))[0]
    confdir, pathspace = argv[argv.index("--confdir") + 1], argv[argv.index("--pathspace") + 1]
    assert Path(confdir) / pathspace == frr.state_dirs("lab_R")[1]


def test_bird_rereads_its_file_enables_every_protocol_and_turns_the_guard_back_on():
    config = Path("/state/csc-ip/rendered/PE-1/bird.conf")
    socket = "/run/bird/csc-ip_PE-1/bird.ctl"
    assert bird.reset_argvs("csc-ip_PE-1", config) == [
        ["birdc", "-s", socket, "configure", f'"{config}"'],
        ["birdc", "-s", socket, "enable", "all"],
        ["rm", "-f", str(bird.guard_switch("csc-ip_PE-1"))]]


def test_bird_disables_no_protocol_of_its_own():
    """`birdc enable all` puts back exactly what the configuration enables."""
    lab = load_lab("csc-ip")
    for node in lab.nodes:
        files, _ = node_plan(lab, node)
        assert "disabled" not in files.get("bird.conf", "")


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("!")]


@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_the_deployed_configuration_is_frr_conf_once_the_deploy_has_finished(lab_name,
                                                                            variant):
    """What a reset reloads is frr.conf with each staged step done (its lines in, the lines
    it negates out) and each file for one daemon in; a router with neither reloads frr.conf
    itself."""
    lab = load_lab(lab_name, variant)
    for node in lab.nodes:
        files, plan = node_plan(lab, node)
        for entry in plan["suites"]:
            if entry["name"] != frr.NAME:
                assert entry["deployed"] == entry["config"]
                continue
            staged = [config for step in plan["after_start"] for config in step["configs"]]
            extra = [d["config"] for d in entry.get("daemon_configs", [])]
            if not staged and not extra:
                assert entry["deployed"] == "frr.conf" and DEPLOYED not in files
                continue
            assert entry["deployed"] == DEPLOYED
            expected = Counter(commands(files["frr.conf"]))
            for name in staged:  # "context\n command\nexit": the commands are indented
                for line in commands(files[name]):
                    if not line.startswith(" "):
                        continue
                    if line.startswith(" no "):
                        negated = f" {line.removeprefix(' no ')}"
                        assert expected[negated], (node.name, name, line)
                        expected[negated] = 0
                    else:
                        expected[line] = 1
            for name in extra:
                expected.update(commands(files[name]))
            deployed = Counter(commands(files[DEPLOYED]))
            assert +deployed == +expected, (node.name, +deployed - +expected,
                                            +expected - +deployed)


def test_option_b_reloads_its_staged_session_up_and_allow_broken_lsp_in():
    lab = load_lab("option2", "no-next-hop-self")
    files, _ = node_plan(lab, lab.node("PE-ASBR-2"))
    deployed = files[DEPLOYED]
    assert "neighbor 10.2.0.3 shutdown" in files["frr.conf"]
    assert "neighbor 10.2.0.3 shutdown" not in deployed
    ldp = deployed[deployed.index("mpls ldp"):]
    assert ldp.index(" install allow-broken-lsp") < ldp.index(" address-family ipv4")
    # The end of the file is FRR's `end`: nothing may follow it (a reader would leave
    # configuration mode there).
    lab = load_lab("csc-mpls", "scale")
    files, _ = node_plan(lab, lab.node("ASBR-1"))
    assert files[DEPLOYED].rstrip().endswith("exit\nend")
    assert "  network 100.64.0.0/24" in files[DEPLOYED]


def kernel_plan(lab_name: str, node: str, variant: str | None = None):
    lab = load_lab(lab_name, variant)
    _, plan = node_plan(lab, lab.node(node))
    links = [end["interface"] for link in lab.links for end in (link.a.model_dump(),
                                                                link.b.model_dump())
             if end["node"] == node]
    return plan["kernel"], links


def test_a_deploy_creates_the_devices_and_a_reset_only_puts_them_back():
    setup, links = kernel_plan("option1", "PE-ASBR-1")
    deploy = netns.kernel_commands(setup, links)
    assert "link add VPN-A type vrf table 10" in deploy
    assert "link add link eth2 name eth2.101 type vlan id 101" in deploy
    present = frozenset({"lo", *links, "VPN-A", "VPN-B", "eth2.101", "eth2.102"})
    reset = netns.kernel_commands(setup, links, present)
    assert not [line for line in reset if line.startswith("link add")]
    # The exercise vlan-vrf binds eth2.101 to VPN-B: the reset binds it back; a core link
    # bound to a VRF by hand is taken out of it.
    assert "link set eth2.101 master VPN-A" in reset
    assert "link set eth1 nomaster" in reset and "link set eth1 up" in reset
    assert "link set eth2 nomaster" in reset  # the VLANs' parent sits in no VRF
    assert [line for line in deploy if not line.startswith("link add")] == reset


def test_every_device_of_the_plan_is_created_before_it_is_used():
    for lab_name, variant in lab_variants():
        lab = load_lab(lab_name, variant)
        for node in lab.nodes:
            setup, links = kernel_plan(lab_name, node.name, variant)
            made = {"lo", *links}
            for line in netns.kernel_commands(setup, links):
                words = line.split()
                if words[:2] == ["link", "add"]:
                    made.add(words[words.index("name") + 1] if "name" in words else words[2])
                    continue
                assert words[2] in made, (lab_name, node.name, line)
                if "master" in words:
                    assert words[words.index("master") + 1] in made, (node.name, line)


class Recorded(netns.NetnsLab):
    """A lab whose routers answer without running anything: every command is recorded."""

    def __init__(self, lab: str, rendered: Path, running: dict[str, list[str]] | None = None,
                 fails: str | None = None):
        super().__init__(lab, rendered)
        self.commands: list[tuple[str, list[str]]] = []
        self.batches: list[tuple[str, list[str]]] = []
        self.running = running
        self.fails = fails

    def status(self) -> dict:
        if self.running is not None:
            return {"lab": self.lab, "routers": self.running}
        return {"lab": self.lab, "routers": {
            node: [d for suite in self.plan(node)["suites"] for d in suite["daemons"]]
            for node in self.description()["nodes"]}}

    def load_modules(self, modules: list[str]) -> None:
        self.commands.append(("*", ["modprobe", "-a", *modules]))

    def nsexec(self, node, argv, **kwargs):
        self.commands.append((node, argv))
        if argv == ["ip", "-j", "link", "show"]:  # every device the deploy made
            kernel = self.plan(node)["kernel"]
            names = ["lo", *self.link_interfaces(node), *(v["name"] for v in kernel["vrfs"]),
                     *(i["name"] for i in kernel["interfaces"])]
            return subprocess.CompletedProcess(
                argv, 0, json.dumps([{"ifname": name} for name in names]), "")
        failed = node == self.fails and "frr-reload.py" in " ".join(argv)
        return subprocess.CompletedProcess(argv, int(failed), "",
                                           "% Unknown command\nreload failed" if failed else "")


@pytest.fixture
def batches(monkeypatch, tmp_path):
    sent: list[tuple[str, list[str]]] = []
    # A reset writes each router's tools folder again: here, not in this host's /run.
    monkeypatch.setattr(netns, "RUN_ROOT", tmp_path / "run")
    monkeypatch.setattr(netns, "batch", lambda commands, step, argv=None: sent.append(
        (step, commands)))
    return sent


def test_a_reset_puts_each_router_s_kernel_and_suites_back_in_that_order(tmp_path, batches):
    render_lab(load_lab("csc-ip"), tmp_path)
    lab = Recorded("csc-ip", tmp_path)
    told: list[str] = []
    lab.reset(log=told.append)
    assert told == ["putting 9 routers back to their deployed configuration"]
    assert {step for step, _ in batches} == {f"{n}: kernel set-up" for n in
                                             lab.description()["nodes"]}
    pe = [argv for node, argv in lab.commands if node == "PE-1"]
    assert pe[0] == ["ip", "-j", "link", "show"]
    assert pe[1][:3] == ["sysctl", "-q", "-w"]
    reload_, configure, enable, switch = pe[2:]
    assert "frr-reload.py" in reload_[1] and reload_[-1] == str(tmp_path / "PE-1/frr.conf")
    assert configure[-2:] == ["configure", f'"{tmp_path / "PE-1/bird.conf"}"']
    assert enable[-2:] == ["enable", "all"] and switch[:2] == ["rm", "-f"]
    # Nothing is started or created: no daemon, namespace or link.
    everything = " ".join(" ".join(argv) for _, argv in lab.commands)
    assert "netns add" not in everything and " -d " not in everything
    assert not [c for _, batch in batches for c in batch if c.startswith("link add")]


def test_a_router_whose_reload_fails_is_named_and_the_others_are_reset(tmp_path, batches):
    render_lab(load_lab("option2", "no-next-hop-self"), tmp_path)
    lab = Recorded("option2", tmp_path, fails="PE-ASBR-2")
    with pytest.raises(netns.StepFailed) as failed:
        lab.reset()
    assert str(failed.value) == ("PE-ASBR-2: resetting frr failed: % Unknown command | "
                                 "reload failed")
    reloaded = {node for node, argv in lab.commands if "frr-reload.py" in " ".join(argv)}
    assert reloaded == set(lab.description()["nodes"])
    asbr = next(argv for node, argv in lab.commands
                if node == "PE-ASBR-2" and "frr-reload.py" in " ".join(argv))
    assert asbr[-1] == str(tmp_path / "PE-ASBR-2" / DEPLOYED)


def test_a_reset_restarts_no_daemon_it_says_which_one_stopped(tmp_path, batches):
    render_lab(load_lab("option1"), tmp_path)
    lab = Recorded("option1", tmp_path, running={"PE-1": ["mgmtd", "zebra", "staticd"]})
    with pytest.raises(netns.StepFailed, match=r"PE-1: ospfd, ldpd, bgpd.*restarts no daemon"):
        lab.reset()
    assert not [argv for _, argv in lab.commands if "frr-reload.py" in " ".join(argv)]


def test_a_plan_rendered_before_reset_existed_is_refused(tmp_path, batches):
    render_lab(load_lab("option1"), tmp_path)
    plan = tmp_path / "PE-1" / "setup.json"
    old = json.loads(plan.read_text())
    del old["suites"][0]["deployed"]
    plan.write_text(json.dumps(old))
    with pytest.raises(netns.StepFailed, match="PE-1: its plan predates `mplslab reset`"):
        Recorded("option1", tmp_path).reset()


def test_the_guest_side_module_resets_a_lab(tmp_path, monkeypatch):
    """`python3 -m emulator.runtime.netns reset LAB RENDERED`, as the VM runtime runs it."""
    done = []
    monkeypatch.setattr(netns.NetnsLab, "reset", lambda self, log: done.append(
        (self.lab, self.rendered)))
    assert netns.main(["reset", "option1", str(tmp_path)]) == 0
    assert done == [("option1", tmp_path)]
