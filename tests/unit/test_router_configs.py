"""`mplslab diff`'s reading of FRR's own comparison (frr-reload.py --test, recorded in
tests/unit/data/frr-reload/) into neutral changes, and their unified diff."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emulator.router_configs import Reading, SuiteFiles, unified
from emulator.suites import bird, frr
from emulator.suites.records import ConfigChange

DATA = Path(__file__).parent / "data" / "frr-reload"
VPN_B = ("router bgp 2 vrf VPN-B", "address-family ipv4 unicast")


def answer() -> str:
    """What frr.DRIFT prints: the comparison, the mark, the running configuration."""
    return ((DATA / "test.txt").read_text() + f"{frr.RUNNING_MARK}\n"
            + (DATA / "running.conf").read_text())


def test_every_line_typed_or_removed_is_a_change_on_its_side():
    assert frr.drift(answer()) == [
        ConfigChange((), "router ospf vrf VPN-A", True),
        ConfigChange(VPN_B, "rt vpn both 1:999", True),
        ConfigChange((), "ip route 10.99.0.0/24 Null0", True),
        ConfigChange(("router bgp 2",), "neighbor 10.2.0.2 timers connect 5", False),
        ConfigChange(("router bgp 2 vrf VPN-A",), "no bgp default ipv4-unicast", False),
        ConfigChange(VPN_B, "rt vpn both 1:222", False),
        ConfigChange((), "ip prefix-list TRAINEE seq 5 permit 10.99.0.0/24", True),
    ]


def test_a_deployed_router_differs_in_nothing_but_what_frr_retypes():
    """What frr-reload reports on a router as deployed (tests/e2e/test_option1.py's reset):
    the host's name and vtysh's own line. No change."""
    said = ("\nLines To Delete\n===============\nno hostname virtme-ng\n"
            "\nLines To Add\n============\nhostname PE-1\nservice integrated-vtysh-config\n"
            f"{frr.RUNNING_MARK}\nfrr version 10.3\nhostname virtme-ng\n")
    assert frr.drift(said) == []
    assert frr.drift(f"{frr.RUNNING_MARK}\nfrr version 10.3\n") == []


def test_a_no_line_the_deployed_file_holds_is_not_taken_for_a_removal():
    """A top-level `no ...` among the lines to add is the running router's line that a
    reload removes only when the running configuration holds it; else it is deployed."""
    said = ("\nLines To Add\n============\nno ip forwarding\n"
            f"{frr.RUNNING_MARK}\nip route 10.0.0.0/8 Null0\n")
    assert frr.drift(said) == [ConfigChange((), "no ip forwarding", False)]


def test_the_lines_are_read_with_their_blocks_and_without_exits():
    printed = ("router bgp 2\n address-family ipv4 vpn\n  no neighbor 10.2.0.1 activate\n"
               " exit\nexit\nrouter bgp 2\n address-family ipv4 unicast\n exit\nexit\n"
               "no router ospf\n")
    assert frr.reload_lines(printed) == [
        (("router bgp 2", "address-family ipv4 vpn"), "no neighbor 10.2.0.1 activate"),
        (("router bgp 2",), "address-family ipv4 unicast"),
        ((), "no router ospf"),
    ]


def test_the_diff_shows_each_block_with_what_was_deployed_and_what_runs():
    files = SuiteFiles("PE-2", "frr", Path("/r/PE-2/frr.conf"), Path("/r/PE-2/frr.conf"))
    lines = unified(Reading(files, changes=frr.drift(answer())))
    assert lines[:2] == ["--- PE-2/frr.conf (deployed: /r/PE-2/frr.conf)",
                         "+++ PE-2/frr.conf (running)"]
    text = "\n".join(lines[2:])
    assert ("@@ router bgp 2 vrf VPN-B / address-family ipv4 unicast @@\n"
            " router bgp 2 vrf VPN-B\n"
            "  address-family ipv4 unicast\n"
            "-  rt vpn both 1:222\n"
            "+  rt vpn both 1:999\n") in text + "\n"
    assert ("@@ @@\n+router ospf vrf VPN-A\n+ip route 10.99.0.0/24 Null0\n"
            "+ip prefix-list TRAINEE seq 5 permit 10.99.0.0/24") in text
    assert "@@ router bgp 2 @@\n router bgp 2\n- neighbor 10.2.0.2 timers connect 5" in text
    assert unified(Reading(files)) == []


def test_bird_says_why_it_is_not_compared_and_saves_the_file_it_runs():
    with pytest.raises(NotImplementedError, match="takes no typed configuration"):
        bird.drift_argv("csc-ip_PE-1", Path("/r/PE-1/bird.conf"))
    assert bird.running_config_argv("csc-ip_PE-1", Path("/r/PE-1/bird.conf")) == \
        ["cat", "/r/PE-1/bird.conf"]


def test_the_comparison_runs_frrs_reload_on_the_routers_own_daemons():
    argv = frr.drift_argv("option3_PE-2", Path("/r/PE-2/frr-deployed.conf"))
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["option3_PE-2", "/r/PE-2/frr-deployed.conf"]
    assert f'python3 {frr.RELOAD} --test' in argv[2] and '--pathspace "$0"' in argv[2]
    assert frr.running_config_argv("option3_PE-2", Path("/r/PE-2/frr.conf")) == \
        ["vtysh", "-N", "option3_PE-2", "-c", "show running-config no-header"]


@pytest.mark.parametrize("vtysh_fails", [False, True])
def test_the_comparison_script_reads_the_running_configuration_once(tmp_path, vtysh_fails):
    """frr.DRIFT with stand-ins: vtysh's running configuration goes to frr-reload's --input
    and after its answer; a vtysh that cannot reach the daemons is the script's failure."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (bin_dir / "vtysh").write_text(
        "#!/bin/sh\n" + ("echo 'Exiting: failed to connect to any daemons.' >&2; exit 1\n"
                         if vtysh_fails else 'echo "frr version 10.3"; echo "args: $*"\n'))
    (bin_dir / "python3").write_text(
        '#!/bin/sh\nwhile [ "$1" != --input ]; do shift; done\n'
        'echo "compared $3 with:"; cat "$2"\nexit 0\n')
    for stand_in in bin_dir.iterdir():
        stand_in.chmod(0o755)
    argv = frr.drift_argv("option3_PE-2", Path("/r/PE-2/frr.conf"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "TMPDIR": str(scratch)}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert not list(scratch.iterdir())
    if vtysh_fails:
        assert result.returncode == 1 and result.stdout == ""
        assert "failed to connect" in result.stderr
        return
    running = ("frr version 10.3\nargs: -N option3_PE-2 -c show running-config no-header\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"compared /r/PE-2/frr.conf with:\n{running}"
                             f"{frr.RUNNING_MARK}\n{running}")
