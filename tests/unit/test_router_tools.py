"""A shell on a router reaches its daemons: `mplslab exec` puts the router's tools folder
first on PATH, whose vtysh and birdc add the router's address (emulator/runtime/router_shell.py),
so that a client typed in `sh -c`, a script or an interactive shell finds the router's
daemons rather than the default pathspace ("failed to connect to any daemons"). Run with
stand-in clients that print how they were called."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from emulator.model.build import load_lab
from emulator.render import render_lab
from emulator.runtime import containers, netns, router_shell
from emulator.runtime.state import LabState
from emulator.suites import bird

# A client that says which program it is and what it was given.
STAND_IN = '#!/bin/sh\necho "$(basename "$0") $*"\n'


@pytest.fixture
def router(tmp_path, monkeypatch):
    """This shell as router PE-2 of lab option3: its run folder under tmp_path, and the
    "real" vtysh and birdc stand-ins in a folder of their own on PATH."""
    monkeypatch.setattr(netns, "RUN_ROOT", tmp_path / "run")
    real = tmp_path / "usr-bin"
    real.mkdir()
    for client in ("vtysh", "birdc"):
        (real / client).write_text(STAND_IN)
        (real / client).chmod(0o755)
    router_shell.write_tools(netns.tools_dir("option3", "PE-2"), "option3_PE-2",
                             ["frr", "bird"])
    return {**os.environ, "PATH": f"{real}:{os.environ['PATH']}"}


def in_router(argv: list[str], env: dict) -> str:
    """``argv`` as `mplslab exec option3 PE-2 -- ARGV` runs it once inside the router."""
    result = subprocess.run(netns.with_tools("option3", "PE-2", argv), capture_output=True,
                            text=True, env=env, check=False, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_vtysh_in_sh_c_reaches_the_routers_daemons(router):
    said = in_router(["sh", "-c", "vtysh -c 'show bgp summary'"], router)
    assert said == "vtysh -N option3_PE-2 -c show bgp summary"


def test_birdc_in_a_shell_reaches_the_routers_bird(router):
    said = in_router(["sh", "-c", "birdc show protocols"], router)
    assert said == f"birdc -s {bird.control_socket('option3_PE-2')} show protocols"


def test_vtysh_in_a_script_file_reaches_the_routers_daemons(router, tmp_path):
    script = tmp_path / "show.sh"
    script.write_text("#!/bin/sh\nset -e\nvtysh -c 'show ip route'\n")
    script.chmod(0o755)
    assert in_router([str(script)], router) == "vtysh -N option3_PE-2 -c show ip route"
    assert in_router(["sh", str(script)], router) == "vtysh -N option3_PE-2 -c show ip route"


def test_a_shell_started_by_the_command_passes_the_folder_on(router):
    """An interactive shell (bash) inherits PATH: so do the shells and programs it starts."""
    said = in_router(["sh", "-c", "sh -c 'env | grep -c ^PATH= >/dev/null; vtysh'"], router)
    assert said == "vtysh -N option3_PE-2"


def test_a_bare_client_is_addressed_as_ever(router):
    """The argument list's own vtysh is rewritten too (a lab deployed before routers had
    the folder), and a user's own pathspace still wins: vtysh takes the last -N."""
    assert in_router(["vtysh", "-c", "show version"], router) == \
        "vtysh -N option3_PE-2 -N option3_PE-2 -c show version"
    said = in_router(["sh", "-c", "vtysh -N other_R -c 'show version'"], router)
    assert said == "vtysh -N option3_PE-2 -N other_R -c show version"


def test_the_stand_in_never_calls_itself(router, tmp_path):
    """The real client is the first on PATH outside the tools folder, wherever the folder
    sits on PATH (twice, even); without a real one, the shell's own "not found"."""
    folder = netns.tools_dir("option3", "PE-2")
    env = {**router, "PATH": f"{folder}:{router['PATH']}:{folder}"}
    result = subprocess.run([str(folder / "vtysh"), "-c", "x"], capture_output=True,
                            text=True, env=env, check=False, timeout=30)
    assert result.stdout.strip() == "vtysh -N option3_PE-2 -c x"
    result = subprocess.run([str(folder / "vtysh")], capture_output=True, text=True,
                            env={"PATH": str(folder)}, check=False, timeout=30)
    assert result.returncode == 127 and "not found" in result.stderr


def test_each_router_gets_the_clients_of_its_own_suites(tmp_path, monkeypatch):
    """csc-ip's carrier PEs run BIRD beside FRR: vtysh and birdc; the others vtysh."""
    monkeypatch.setattr(netns, "RUN_ROOT", tmp_path / "run")
    model = load_lab("csc-ip", None)
    render_lab(model, tmp_path / "rendered")
    lab = netns.NetnsLab("csc-ip", tmp_path / "rendered")
    for node in model.nodes:
        lab.write_tools(node.name)
        folder = netns.tools_dir("csc-ip", node.name)
        expected = {"vtysh"} | ({"birdc"} if "bird" in node.suites.values() else set())
        assert {p.name for p in folder.iterdir()} == expected, node.name
        assert all(os.access(p, os.X_OK) for p in folder.iterdir())
    assert any("bird" in node.suites.values() for node in model.nodes)


@pytest.mark.parametrize("runtime_name", ["netns", "vm", "clab", "clab-vm"])
def test_every_runtime_runs_exec_with_the_routers_tools(runtime_name):
    from emulator.runtime.registry import runtime_class

    state = LabState(lab="option3", variant=None, runtime=runtime_name, rendered="/r",
                     source="")
    runtime = runtime_class(runtime_name)(state)
    argv = runtime.with_tools("PE-2", ["sh", "-c", "vtysh"])
    assert argv == ["sh", "-c", router_shell.TOOLS_PATH,
                    str(Path("/run/mplslab/option3/PE-2/bin")), "sh", "-c", "vtysh"]
    entered = runtime.inside("option3", "PE-2", argv)
    prefix = (["ip", "netns", "exec", "option3_PE-2"] if runtime_name in ("netns", "vm")
              else containers.enter_argv("option3", "PE-2"))
    assert entered == [*prefix, *argv]
