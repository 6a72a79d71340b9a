"""The commands engineers reach for on a running lab, without routers: `exec` on a link named
by its ends, and (in their own tests) `capture`, `save` and `diff`. The lab is deployed on a
runtime that records what it is asked to run and answers as it is told."""

from __future__ import annotations

import pytest
from recorded import Recorded
from typer.testing import CliRunner

from emulator import lifecycle
from emulator.cli import app
from emulator.paths import PROJECT_DIR
from emulator.runtime.base import ExecResult
from emulator.runtime.netns import router_argv
from emulator.runtime.state import LabState

FRR_RELOAD = PROJECT_DIR / "tests" / "unit" / "data" / "frr-reload"


def drift_answer() -> str:
    """PE-2 changed by hand, as frr.DRIFT answers (tests/unit/data/frr-reload/)."""
    from emulator.suites import frr

    return ((FRR_RELOAD / "test.txt").read_text() + f"{frr.RUNNING_MARK}\n"
            + (FRR_RELOAD / "running.conf").read_text())


@pytest.fixture
def option3(deploy):
    return deploy("option3")


def mplslab(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def inner(argv: list[str]) -> list[str]:
    """The user's command inside `mplslab exec`'s wrapping (the router's tools first on
    PATH: router_shell.with_tools)."""
    assert argv[:2] == ["sh", "-c"] and argv[3].endswith("/bin"), argv
    return argv[4:]


def test_exec_runs_the_command_with_the_routers_tools(option3):
    result = mplslab("exec", "option3", "PE-2", "--", "sh", "-c", "vtysh -c 'show bgp summary'")
    assert result.exit_code == 0, result.output
    [(node, argv)] = option3.ran
    assert node == "PE-2" and argv[3] == "/run/mplslab/option3/PE-2/bin"
    assert inner(argv) == ["sh", "-c", "vtysh -c 'show bgp summary'"]


def test_exec_on_a_link_by_its_ends_runs_on_its_router_and_names_the_interface(option3):
    """`exec LAB PE-2:P-2`: on PE-2, the interface to P-2 in the command's environment; and
    a word naming one of the router's links becomes its interface name. What each is, is
    said on standard error, with both names."""
    model = lifecycle.deployed_model(LabState.load("option3"))
    end = model.link_end("PE-2:P-2")
    ce = model.link_end("PE-2:CE-3")
    result = mplslab("exec", "option3", "PE-2:P-2", "--", "tcpdump", "-ni", "PE-2:CE-3",
                     "host", "PE-2:P-9")
    assert result.exit_code == 0, result.output
    [(node, argv)] = option3.ran
    assert node == "PE-2"
    assert inner(argv) == ["env", f"MPLSLAB_INTERFACE={end.interface}", "MPLSLAB_PEER=P-2",
                           "tcpdump", "-ni", ce.interface, "host", "PE-2:P-9"]
    assert f"PE-2:P-2 is {end}" in result.output and f"PE-2:CE-3 is {ce}" in result.output


def test_exec_on_a_link_that_is_not_there_names_the_routers_links(option3):
    result = mplslab("exec", "option3", "PE-2:PE-1", "--", "true")
    assert result.exit_code == 2
    assert "PE-2 has no link to PE-1 (its links: PE-2:P-2, PE-2:CE-3, PE-2:CE-4)" in \
        result.output
    assert not option3.ran


def test_a_router_runs_what_the_namespace_runtime_gives_it(option3):
    """What the runtime's exec receives goes into the router as its argument list (the
    namespace runtime's own prefix in front of it)."""
    mplslab("exec", "option3", "PE-2", "--", "vtysh")
    [(_, argv)] = option3.ran
    assert router_argv("option3", "PE-2", argv)[:4] == ["ip", "netns", "exec", "option3_PE-2"]
    assert inner(argv) == ["vtysh", "-N", "option3_PE-2"]


PCAP = [b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", b"\r\n\x00packet"]
LISTENING = "tcpdump: listening on eth1, link-type EN10MB (Ethernet), snapshot length 262144"


def test_capture_writes_the_pcap_file_of_a_link_named_by_its_ends(option3, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(Recorded, "recording", (PCAP, [LISTENING, "2 packets captured"], 0))
    path = tmp_path / "pe2.pcap"
    result = mplslab("capture", "option3", "PE-2:P-2", "-w", str(path), "--count", "2",
                     "--filter", "mpls")
    assert result.exit_code == 0, result.output
    end = lifecycle.deployed_model(LabState.load("option3")).link_end("PE-2:P-2")
    assert option3.recorded == [("PE-2", end.interface, 2, "mpls")]
    assert path.read_bytes() == b"".join(PCAP)
    assert f"capturing on {end} of option3 into {path}" in result.output
    assert LISTENING in result.output and "2 packets captured" in result.output


@pytest.mark.parametrize("named", [["PE-2", "P-2"], ["PE-2", "eth1"]])
def test_capture_to_standard_output_for_wireshark(option3, monkeypatch, named):
    """No -w and standard output no terminal (a pipe): the pcap goes there, byte for byte,
    and every message to standard error."""
    monkeypatch.setattr(Recorded, "recording", (PCAP, [LISTENING], 0))
    result = CliRunner().invoke(app, ["capture", "option3", *named])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"".join(PCAP)
    assert "capturing on PE-2 eth1 (to P-2" in result.stderr
    assert option3.recorded == [("PE-2", "eth1", None, None)]


def test_capture_on_an_interface_the_router_lacks_names_its_interfaces(option3, tmp_path):
    result = mplslab("capture", "option3", "PE-2", "eth7", "-w", str(tmp_path / "x.pcap"))
    assert result.exit_code == 2
    assert "PE-2 has no interface 'eth7' (its interfaces: lo, eth1 (to P-2" in result.output
    assert not option3.recorded


def test_a_tcpdump_that_cannot_start_is_one_error_with_its_words(option3, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(Recorded, "recording",
                        ([], ["tcpdump: syntax error in filter expression"], 1))
    result = mplslab("capture", "option3", "PE-2:P-2", "-w", str(tmp_path / "x.pcap"),
                     "--filter", "nonsense")
    assert result.exit_code == 1
    assert "error: tcpdump on PE-2 eth1 (to P-2" in result.output
    assert result.output.count("syntax error in filter expression") == 1


def test_a_capture_to_a_terminal_is_refused(option3, monkeypatch):
    monkeypatch.setattr("emulator.cli.routers.terminal", lambda: True)
    result = mplslab("capture", "option3", "PE-2:P-2")
    assert result.exit_code == 2
    assert "wireshark -k -i -" in result.output and not option3.recorded


def test_save_writes_every_routers_running_configuration(option3, tmp_path):
    option3.answers[("PE-2", "vtysh")] = ExecResult(0, "frr version 10.3\nhostname PE-2\n", "")
    folder = tmp_path / "saved"
    result = mplslab("save", "option3", "--out", str(folder))
    assert result.exit_code == 0, result.output
    model = lifecycle.deployed_model(LabState.load("option3"))
    assert sorted(p.parent.name for p in folder.glob("*/frr.conf")) == \
        sorted(n.name for n in model.nodes)
    assert (folder / "PE-2" / "frr.conf").read_text() == "frr version 10.3\nhostname PE-2\n"
    assert f"saved {len(model.nodes)} running configurations of option3 in {folder}" in \
        result.output
    asked = {node: argv for node, argv in option3.ran}
    assert asked["PE-2"] == ["vtysh", "-N", "option3_PE-2", "-c",
                             "show running-config no-header"]


def test_save_by_default_writes_beside_the_labs_state_a_folder_each_time(option3):
    from emulator.paths import state_dir

    result = mplslab("save", "option3", "PE-2", "P-2")
    assert result.exit_code == 0, result.output
    [folder] = (state_dir() / "option3.saved").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["P-2", "PE-2"]
    assert str(folder) in result.output.replace("\n", "")
    assert "option3.saved" not in LabState.names()


def test_diff_shows_what_changed_and_exits_1_as_diff_does(option3):
    option3.answers[("PE-2", "sh")] = ExecResult(0, drift_answer(), "")
    result = CliRunner().invoke(app, ["diff", "option3"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("--- PE-2/frr.conf (deployed: ")
    assert "-  rt vpn both 1:222\n+  rt vpn both 1:999\n" in result.stdout
    assert "hostname" not in result.stdout
    drifted = [argv for node, argv in option3.ran if node == "PE-2"]
    assert drifted[0][3:] == ["option3_PE-2",
                              f"{LabState.load('option3').rendered}/PE-2/frr.conf"]


def test_diff_of_an_unchanged_lab_exits_0_and_says_so(option3):
    result = CliRunner().invoke(app, ["diff", "option3", "PE-1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "no router of option3 changed since deploy" in result.stderr
    assert [node for node, _ in option3.ran] == ["PE-1"]


def test_a_router_that_does_not_answer_is_named_after_the_others(option3):
    option3.answers[("PE-2", "sh")] = ExecResult(0, drift_answer(), "")
    option3.answers[("P-1", "sh")] = ExecResult(
        1, "", "Exiting: failed to connect to any daemons.\n")
    result = CliRunner().invoke(app, ["diff", "option3"])
    assert result.exit_code == 2
    assert "rt vpn both 1:999" in result.stdout
    assert ("could not read P-1 (frr): Exiting: failed to connect to any daemons."
            in result.stderr)


def test_diff_of_a_router_the_lab_lacks_names_the_routers(option3):
    result = mplslab("diff", "option3", "PE-7")
    assert result.exit_code == 2 and "lab option3 has no router 'PE-7'" in result.output
    assert not option3.ran


def test_diff_says_which_routers_bird_is_not_compared_on(deploy):
    """csc-ip's backbone PEs run BIRD: their FRR is compared, BIRD is said not to be."""
    deploy("csc-ip")
    result = CliRunner().invoke(app, ["diff", "csc-ip"])
    assert result.exit_code == 0, result.output
    model = lifecycle.deployed_model(LabState.load("csc-ip"))
    birds = [n.name for n in model.nodes if "bird" in n.suites.values()]
    assert birds and f"{', '.join(birds)}: not compared: BIRD runs the file" in \
        result.stderr.replace("\n", " ")


def test_ctrl_c_stops_a_capture_started_with_sigint_ignored():
    """A background job of a non-interactive shell (`mplslab capture ... &` in a script, a
    CI job) starts with SIGINT ignored; the capture listens to Ctrl-C and SIGTERM anyway."""
    import signal
    import subprocess
    import sys

    code = ("import os, signal, time\n"
            "from emulator import lifecycle\n"
            "lifecycle.stop_on_interrupt()\n"
            "for stop in (signal.SIGINT, signal.SIGTERM):\n"
            "    try:\n"
            "        os.kill(os.getpid(), stop)\n"
            "        time.sleep(10)\n"
            "    except KeyboardInterrupt:\n"
            "        print('stopped by', stop.name)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert result.stdout.split("\n")[:2] == ["stopped by SIGINT", "stopped by SIGTERM"], (
        result.stdout + result.stderr)
