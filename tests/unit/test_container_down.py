"""`down` of a containerlab lab tells when Docker leaves containers behind (it used to print
"is down" over five surviving containers), and is quiet when they all go."""

from __future__ import annotations

import subprocess

import pytest

from emulator.runtime import containers
from emulator.runtime.containers import ContainerLab
from emulator.runtime.netns import StepFailed

REFUSAL = ('Error response from daemon: cannot remove container "/clab-lab-P-1": could not '
           "kill: tried to kill container, but did not receive an exit event")


@pytest.fixture
def lab(tmp_path, monkeypatch) -> ContainerLab:
    monkeypatch.setattr(containers.shutil, "which", lambda name: None)  # no containerlab
    instance = ContainerLab("lab", tmp_path)
    instance.run_dir = tmp_path / "run"
    instance.deploy_pid = tmp_path / "deploy.pid"
    return instance


def docker(removable: bool, listed: list[str]):
    """A stand-in for `docker rm -f` that removes (or cannot remove) what ``listed`` holds."""
    def run(argv, check=True, **_):
        assert argv[:3] == ["docker", "rm", "-f"]
        if removable:
            listed.remove(argv[3])
            return subprocess.CompletedProcess(argv, 0, argv[3] + "\n", "")
        return subprocess.CompletedProcess(argv, 1, "", REFUSAL + "\n")
    return run


def test_down_fails_naming_the_containers_docker_kept_and_why(lab, monkeypatch):
    listed = ["clab-lab-P-1"]
    monkeypatch.setattr(ContainerLab, "present", lambda self: list(listed))
    monkeypatch.setattr(containers, "run", docker(False, listed))
    with pytest.raises(StepFailed) as failure:
        lab.down()
    assert "clab-lab-P-1" in str(failure.value)
    assert "did not receive an exit event" in str(failure.value)


def test_down_is_quiet_when_docker_removes_every_container(lab, monkeypatch):
    listed = ["clab-lab-P-1", "clab-lab-PE-1"]
    monkeypatch.setattr(ContainerLab, "present", lambda self: list(listed))
    monkeypatch.setattr(containers, "run", docker(True, listed))
    lab.down()
    assert listed == []
