"""Lifecycle safety without routers: stale, damaged and foreign state, labs whose routers
are gone, and teardown that never touches what is not the lab's (issue: reliability)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from emulator import lifecycle
from emulator.cli import app
from emulator.errors import LabError, RuntimeFailure
from emulator.paths import PROJECT_DIR
from emulator.runtime import vm_pin, vm_ssh
from emulator.runtime.base import ExecResult, Runtime
from emulator.runtime.vm_processes import owner_tag
from emulator.verify.checks import ProbeError, ping
from emulator.verify.probes import ping_probe

OPTION3 = str(PROJECT_DIR / "labs" / "option3.yml")


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    monkeypatch.setenv("MPLSLAB_STATE", str(folder))
    return folder


def mplslab(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def write_state(state_dir: Path, lab: str, runtime: str, **vm) -> Path:
    folder = state_dir / lab
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({
        "lab": lab, "variant": None, "runtime": runtime, "rendered": str(folder / "rendered"),
        "source": OPTION3, "vm": vm}))
    return folder


@pytest.fixture
def bystander():
    """An unrelated process, as a stale state file might name."""
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def test_down_never_signals_a_process_that_is_not_the_labs_vm(state_dir, bystander):
    folder = write_state(state_dir, "stale", "vm", pid=bystander.pid, ssh_port=1)
    result = mplslab("down", "stale")
    assert result.exit_code == 0, result.output
    time.sleep(0.5)
    assert bystander.poll() is None, "down killed a process that was not its VM"
    assert not folder.exists()


def test_down_force_stops_the_process_that_carries_the_labs_tag(state_dir):
    name, _, value = owner_tag("tagged").partition("=")
    vm = subprocess.Popen(["sleep", "300"], env={**os.environ, name: value},
                          start_new_session=True)
    try:
        result = mplslab("down", "--force", "tagged")
        assert result.exit_code == 0, result.output
        assert "no state folder" in result.output
        assert f"micro-VM process {vm.pid}" in result.output
        assert vm.wait(timeout=10) is not None
    finally:
        vm.kill()


@pytest.mark.parametrize("argument", ["/tmp", "../state", "a/b", "UPPER", "x" * 40, "a_b"])
def test_a_lab_name_is_never_a_path(state_dir, tmp_path, argument):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    for command in (["down", argument], ["down", "--force", argument], ["status", argument]):
        result = mplslab(*command)
        assert result.exit_code == 2, result.output
        assert "is not a lab name" in result.output
    assert (victim / "keep").exists()


@pytest.mark.parametrize("content", ["", '{"lab": "dam', "[1, 2]", '{"foo": 1}',
                                     '{"lab": "other", "runtime": "vm"}', "\xff\xfe"])
def test_a_damaged_state_file_is_reported_and_can_be_taken_down(state_dir, content):
    folder = state_dir / "dam"
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(content, errors="surrogateescape")
    result = mplslab("status", "dam")
    assert result.exit_code == 2 and "is damaged" in result.output, result.output
    result = mplslab("status")
    assert result.exit_code == 2 and "dam" in result.output, result.output
    result = mplslab("down", "dam")
    assert result.exit_code == 0, result.output
    assert not folder.exists()


def test_a_lab_whose_vm_died_is_not_up_for_status_verify_exec(state_dir, bystander):
    write_state(state_dir, "dead", "vm", pid=bystander.pid, ssh_port=1)
    for command in (["status", "dead"], ["verify", "dead"], ["exec", "dead", "PE-1", "--",
                                                             "true"],
                    ["reset", "dead"], ["exercise", "reset", "dead"]):
        started = time.monotonic()
        result = mplslab(*command)
        assert result.exit_code == 2, result.output
        assert "is not running" in result.output and "no longer running" in result.output
        # It says so at once rather than after the SSH connect deadline (not a speed test).
        assert time.monotonic() - started < vm_ssh.CONNECT_SECONDS / 2
    assert "mplslab down dead" in " ".join(result.output.split())


def test_a_netns_lab_without_namespaces_is_not_up(state_dir):
    write_state(state_dir, "nons", "netns")
    result = mplslab("verify", "nons")
    assert result.exit_code == 2 and "namespaces no longer exist" in result.output


def test_up_refuses_an_unknown_runtime_before_anything(state_dir):
    result = mplslab("up", "option3", "--runtime", "docker")
    assert result.exit_code == 2 and "unknown runtime 'docker'" in result.output
    assert not state_dir.exists() or not any(state_dir.iterdir())


class FakeRuntime(Runtime):
    """Routers that are never started: `up` runs ``during_up``, every call is recorded."""

    name = "netns"
    calls: ClassVar[list[str]] = []
    during_up = staticmethod(lambda: None)
    during_reset = staticmethod(lambda: None)

    @classmethod
    def available(cls):
        return True, "a fake"

    @classmethod
    def force_down(cls, lab):
        cls.calls.append(f"force_down {lab}")
        return []

    def up(self, progress):
        self.calls.append("up")
        progress("routers started")
        self.during_up()

    def down(self):
        self.calls.append("down")

    def reset(self, progress):
        self.calls.append("reset")
        progress("routers reset")
        self.during_reset()

    def gone(self):
        return None

    def exec(self, node, argv, timeout=60.0):
        raise AssertionError("no router runs here")

    def capture(self, taps, node, argv, **kwargs):
        raise AssertionError("no router runs here")

    def status(self):
        return {"routers": {}}


@pytest.fixture
def fake_runtime(state_dir, monkeypatch):
    """`up` as root on the fake runtime; SIGTERM's handler is put back afterwards."""
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    monkeypatch.setattr(lifecycle, "choose", lambda requested: ("netns", "a fake"))
    monkeypatch.setattr(lifecycle, "make_runtime", FakeRuntime)
    # What a test sets on the class is undone with these.
    monkeypatch.setattr(FakeRuntime, "calls", [])
    monkeypatch.setattr(FakeRuntime, "during_up", staticmethod(lambda: None))
    monkeypatch.setattr(FakeRuntime, "during_reset", staticmethod(lambda: None))
    handler = signal.getsignal(signal.SIGTERM)
    yield FakeRuntime
    signal.signal(signal.SIGTERM, handler)


class Told(lifecycle.Watch):
    def __init__(self):
        self.told: list[str] = []

    def runtime_chosen(self, runtime, why):
        self.told.append(f"runtime {runtime}")

    def step(self, seconds, text):
        self.told.append(text)

    def failed(self, lab):
        self.told.append(f"failed {lab}")


def test_up_deploys_and_leaves_the_state_of_the_lab(fake_runtime, state_dir):
    watch = Told()
    deployed = lifecycle.up(OPTION3, None, watch=watch)
    assert deployed.model.name == "option3" and deployed.runtime == "netns"
    assert watch.told == ["runtime netns", "routers started"]
    assert fake_runtime.calls == ["up"]
    assert json.loads((state_dir / "option3" / "state.json").read_text())["runtime"] == "netns"
    assert (state_dir / "option3" / "rendered" / "model.json").is_file()
    with pytest.raises(LabError, match="already up"):
        lifecycle.up(OPTION3, None)


def test_a_failed_up_tears_down_what_it_created(fake_runtime, state_dir):
    def fail():
        raise RuntimeFailure("the deploy broke")
    fake_runtime.during_up = staticmethod(fail)
    watch = Told()
    with pytest.raises(RuntimeFailure, match="the deploy broke"):
        lifecycle.up(OPTION3, None, watch=watch)
    assert watch.told[-1] == "failed option3"
    assert fake_runtime.calls == ["up", "down"]
    assert not (state_dir / "option3").exists()


def test_sigterm_during_up_tears_down_and_says_interrupted(fake_runtime, state_dir):
    fake_runtime.during_up = staticmethod(lambda: os.kill(os.getpid(), signal.SIGTERM))
    with pytest.raises(lifecycle.Interrupted):
        lifecycle.up(OPTION3, None)
    assert fake_runtime.calls == ["up", "down"]
    assert not (state_dir / "option3").exists()


def test_an_interrupted_up_exits_130_with_nothing_left(fake_runtime, state_dir):
    def interrupt():
        raise KeyboardInterrupt
    fake_runtime.during_up = staticmethod(interrupt)
    result = mplslab("up", "option3")
    assert result.exit_code == 130, result.output
    assert "bring-up failed, tearing down" in result.output
    assert "interrupted: nothing is left behind" in result.output
    assert not (state_dir / "option3").exists()


def test_an_interrupted_vm_start_unpins_only_what_it_pinned(monkeypatch):
    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    unpinned = []
    monkeypatch.setattr(vm_pin, "unpin", lambda: unpinned.append(True) or ([], []))

    def interrupted(progress):
        raise KeyboardInterrupt
    monkeypatch.setattr(vm_pin, "pin", interrupted)
    try:
        for earlier, expected in ((False, [True]), (True, [])):
            unpinned.clear()
            monkeypatch.setattr(vm_pin, "pinned", lambda earlier=earlier: earlier)
            with pytest.raises(lifecycle.Interrupted):
                lifecycle.keep_vm_running()
            assert unpinned == expected
    finally:
        signal.signal(signal.SIGTERM, handler)


class FakePing:
    """Stands in for the runtime's exec of iputils ping: each case is ping's real output."""

    def __init__(self, returncode: int, stdout: str, stderr: str = ""):
        self.result = ExecResult(returncode, stdout, stderr)

    def exec(self, node, argv, timeout=60.0):
        assert argv[0] == "ping"
        return self.result


@pytest.mark.parametrize(("returncode", "stdout", "stderr", "verdict"), [
    (0, "3 packets transmitted, 3 received, 0% packet loss, time 601ms", "", True),
    (1, "3 packets transmitted, 0 received, 100% packet loss, time 2034ms", "", False),
    (2, "", "ping: connect: Network is unreachable", False),
    (1, "From 10.1.1.2 icmp_seq=1 Destination Host Unreachable\n"
        "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2034ms", "",
     False),
    # Nothing sent: no evidence that the destination is unreachable.
    (1, "0 packets transmitted, 0 received", "", None),
    (2, "", "ping: bind: Cannot assign requested address", None),
    (2, "", "ping: unknown iface: Network is unreachable (no connect)", None),
    (255, "", "ssh: connect to host 127.0.0.1 port 2222: Connection refused", None),
    (1, "", 'Cannot open network namespace "x_CE-1": No such file or directory', None),
    (124, "", "timed out after 30s", None),
])
def test_ping_tells_no_reply_from_no_ping(returncode, stdout, stderr, verdict):
    replied, evidence = ping(FakePing(returncode, stdout, stderr), "CE-1", "10.0.0.1",
                             "10.0.0.2")
    assert replied is verdict
    if verdict is False:
        assert evidence.startswith(("sent 3 echo requests from 10.0.0.1",
                                    "the kernel sent nothing: no route to 10.0.0.2"))


def test_an_isolation_check_without_a_ping_is_not_a_pass():
    probe = ping_probe("CE-1", "10.0.0.1", "10.0.0.2", should_reply=False)
    assert probe(FakePing(1, "3 packets transmitted, 0 received, 100% packet loss"))[0]
    with pytest.raises(ProbeError, match="did not run"):
        probe(FakePing(255, "", "Connection refused"))


def test_the_cli_module_runs_as_a_program(state_dir):
    result = subprocess.run([sys.executable, "-m", "emulator", "down", "/"], capture_output=True,
                            text=True, env={**os.environ, "MPLSLAB_STATE": str(state_dir)},
                            check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_verify_refuses_an_unknown_check_kind_before_anything(state_dir):
    result = mplslab("verify", "option1", "--kind", "ping", "--kind", "pong")
    assert result.exit_code == 2, result.output
    assert "unknown check kind 'pong'" in result.output and "label-steady" in result.output


@pytest.mark.parametrize("command", [["reset"], ["exercise", "reset"]])
def test_reset_of_a_lab_that_is_not_up_says_so_in_one_line(state_dir, command):
    result = mplslab(*command, "option3")
    assert result.exit_code == 2, result.output
    assert result.output.strip() == ("error: lab option3 is not up (start it: mplslab up "
                                     "option3)")


def test_reset_refuses_an_unknown_check_kind_before_anything(fake_runtime, state_dir):
    lifecycle.up(OPTION3, None)
    result = mplslab("reset", "option3", "--kind", "pong")
    assert result.exit_code == 2 and "unknown check kind 'pong'" in result.output
    assert fake_runtime.calls == ["up"]


def passing(passed: bool):
    """run_checks standing in for the verifier: a report that passes, or not."""
    from emulator.verify.checks import Report, Result

    def run_checks(model, runtime, **kwargs):
        result = Result("PE-1 → RR-1", "bgp-session", "PE-1", passed, "Established",
                        "Established" if passed else "Idle", 0.1)
        return Report(model.name, model.variant, passed, 0.1, [result])
    return run_checks


@pytest.mark.parametrize("command", [["reset"], ["exercise", "reset"]])
def test_reset_puts_the_routers_back_ends_the_exercise_and_verifies(
        fake_runtime, state_dir, monkeypatch, command):
    from emulator.training.exercises import EXERCISE_FILE

    lifecycle.up(OPTION3, None)
    exercise = state_dir / "option3" / EXERCISE_FILE
    exercise.write_text(json.dumps({"name": "rr-loopback"}))
    monkeypatch.setattr("emulator.verify.runner.run_checks", passing(True))
    result = mplslab(*command, "option3")
    assert result.exit_code == 0, result.output
    assert fake_runtime.calls == ["up", "reset"]
    assert "option3 is reset" in result.output and "routers reset" in result.output
    assert "exercise rr-loopback ended" in result.output
    assert "PASSED" in result.output and not exercise.exists()
    # Without an exercise, and a check that fails: verify's exit status.
    monkeypatch.setattr("emulator.verify.runner.run_checks", passing(False))
    result = mplslab(*command, "option3")
    assert result.exit_code == 1 and "FAILED" in result.output
    assert "ended" not in result.output


def test_a_failed_reset_says_where_keeps_the_exercise_and_verifies_nothing(
        fake_runtime, state_dir, monkeypatch):
    from emulator.training.exercises import EXERCISE_FILE

    def fail():
        raise RuntimeFailure("PE-2: resetting frr failed: % Unknown command")
    lifecycle.up(OPTION3, None)
    exercise = state_dir / "option3" / EXERCISE_FILE
    exercise.write_text(json.dumps({"name": "rr-loopback"}))
    fake_runtime.during_reset = staticmethod(fail)
    monkeypatch.setattr("emulator.verify.runner.run_checks", passing(True))
    result = mplslab("reset", "option3")
    assert result.exit_code == 1, result.output
    assert "error: PE-2: resetting frr failed" in result.output
    assert "PASSED" not in result.output and exercise.exists()


def test_stopping_an_interrupted_deploy_stops_what_it_started(tmp_path, monkeypatch):
    """`down` while a deploy still runs stops the deploy and its children (a `containerlab
    deploy` would go on creating containers after the sweep), never a foreign process."""
    from emulator.runtime import netns

    monkeypatch.setattr(netns, "RUN_ROOT", tmp_path)
    # A stand-in deploy: its command line names the module, as `python3 -m ...` does.
    deploy = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait", netns.NetnsLab.MODULE],
                              start_new_session=True)
    foreign = subprocess.Popen(["sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        while len(netns.descendants(deploy.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = netns.descendants(deploy.pid)
        assert len(children) == 2
        lab = netns.NetnsLab("stopped", tmp_path)
        lab.deploy_pid.write_text(str(deploy.pid))
        lab.stop_deploy()
        deploy.wait(timeout=10)
        assert not [pid for pid in children if netns.alive(pid)]
        assert not lab.deploy_pid.exists()
        assert foreign.poll() is None
    finally:
        for process in (deploy, foreign):
            process.kill()
            process.wait()
