"""The namespace runtime's `ip -batch` helper: a failure names the command that failed.
Runs the host's own `ip` (root), creating nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from emulator.runtime.netns import StepFailed, batch

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="needs root and iproute2")


def test_batch_failure_names_the_failing_command_and_the_kernels_reason():
    with pytest.raises(StepFailed) as failed:
        batch(["link show lo", "link add mplslab-probe type no-such-kind", "link show lo"],
              "PE-1: kernel set-up")
    message = str(failed.value)
    assert message.startswith("PE-1: kernel set-up: `ip link add mplslab-probe type "
                              "no-such-kind`: ")
    assert "Command failed" not in message


def test_batch_of_valid_commands_passes():
    batch(["link show lo"], "probe")


def test_the_vrf_probe_has_a_name_the_kernel_takes():
    """A name over IFNAMSIZ-1 characters is refused ("Attribute failed policy validation") on
    a kernel with VRF devices too, and every host looked VRF-less (the native runtimes were
    never chosen)."""
    from emulator.runtime.netns import VRF_PROBE

    assert 0 < len(VRF_PROBE.encode()) <= 15
    result = subprocess.run(["unshare", "--net", "ip", "link", "add", VRF_PROBE, "type",
                             "veth", "peer", "name", "probe-peer"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_a_file_for_one_daemon_goes_to_that_daemon_after_the_whole_configuration(tmp_path):
    """csc-mpls's scale variant: ASBR-1's external routes reach bgpd alone (`vtysh -d
    bgpd -f`), after frr.conf, each step with a time-out sized for its file."""
    from emulator.model.build import load_lab
    from emulator.render import render_lab
    from emulator.runtime.netns import NetnsLab

    render_lab(load_lab("csc-mpls", "scale"), tmp_path)
    applied = []

    class Recorder(NetnsLab):
        def nsexec(self, node, argv, **kwargs):
            applied.append((argv, kwargs["timeout"]))
            return subprocess.CompletedProcess(argv, 0, "", "")

    Recorder("csc-mpls", tmp_path).configure_suites("ASBR-1")
    (whole, whole_seconds), (routes, routes_seconds) = applied
    assert whole == ["vtysh", "-N", "csc-mpls_ASBR-1", "-f", str(tmp_path / "ASBR-1/frr.conf")]
    assert routes == ["vtysh", "-N", "csc-mpls_ASBR-1", "-d", "bgpd", "-f",
                      str(tmp_path / "ASBR-1/external-routes.conf")]
    assert routes_seconds > whole_seconds  # 2000 lines against some hundred


def test_up_fails_when_the_configuration_left_an_interface_without_its_address(
        tmp_path, monkeypatch):
    """The 1M-route lab's first run: mgmtd ended its part of a huge frr.conf early, ASBR-1's
    interfaces got no address, and `up` reported success. The plan's addresses are checked
    in the kernel's own listing (`ip -o address`)."""
    from emulator.model.build import load_lab
    from emulator.render import render_lab
    from emulator.runtime import netns

    render_lab(load_lab("option1", None), tmp_path)
    plan = json.loads((tmp_path / "PE-ASBR-1" / "setup.json").read_text())
    wanted = plan["addresses"]
    assert wanted and all("/" in address for address in wanted.values())
    listing = [f"{n}: {name}{'@eth9' if '.' in name else ''}    inet {address} scope global "
               f"{name}\\       valid_lft forever preferred_lft forever"
               for n, (name, address) in enumerate(wanted.items(), start=2)]

    class Kernel(netns.NetnsLab):
        def nsexec(self, node, argv, **kwargs):
            assert argv == ["ip", "-4", "-o", "address", "show"]
            return subprocess.CompletedProcess(argv, 0, "\n".join(listing) + "\n", "")

    Kernel("option1", tmp_path).check_addresses("PE-ASBR-1")
    monkeypatch.setattr(netns, "ADDRESS_SECONDS", 0.0)
    name, address = listing.pop().split()[1].split("@")[0], list(wanted.values())[-1]
    with pytest.raises(netns.StepFailed, match=f"PE-ASBR-1: no {address} on {name}"):
        Kernel("option1", tmp_path).check_addresses("PE-ASBR-1")
