"""The runtime: clear errors, Ctrl-C and SIGTERM during `up`, a hung guest told from a busy
one. (Labs side by side in the one VM: tests/e2e/test_class.py, two copies of mini, each
verified with every kind.) (A lab in a state folder of its own booting its own micro-VM,
which its `down` powers off, is tests/e2e/test_option3.py, run from the installed wheel.)"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from labkit import (
    E2E_LABS,
    MPLSLAB,
    assert_nothing_left,
    guest_run,
    guest_silence,
    in_vm,
    mplslab,
)

from emulator.runtime.state import LabState
from emulator.runtime.vm_processes import owned_pids
from emulator.runtime.vm_shared import shared_vm

MINI = str(E2E_LABS / "mini.yml")
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("mini")]


def test_already_up_and_not_up_are_clear_errors():
    result = mplslab("down", "mini", check=False)
    assert result.returncode == 2 and "lab mini is not up" in result.stderr
    assert "Traceback" not in result.stderr
    result = mplslab("exec", "mini", "PE-A", "--", "true", check=False)
    assert result.returncode == 2 and "not up" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_up_leaves_nothing(signum):
    # A user's Ctrl-C: the child starts with SIGINT at its default even when this run
    # inherited it ignored (a CI harness started with `nohup ... &` ignores SIGINT, and Python
    # then installs no KeyboardInterrupt handler).
    process = subprocess.Popen([*MPLSLAB, "up", MINI], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    output = []
    deadline = time.monotonic() + 600
    assert process.stdout is not None
    try:
        for line in process.stdout:
            output.append(line)
            # Interrupt once the VM (or the routers) exist: the worst moment to stop.
            if "booting the micro-VM" in line or "starting the routing daemons" in line:
                time.sleep(3)
                break
            assert time.monotonic() < deadline, "".join(output)
        state = LabState.load("mini")
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=120)
        output.append(rest)
        assert process.returncode == 130, "".join(output)
        assert "nothing is left behind" in "".join(output)
        assert_nothing_left("mini", state)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if LabState.path("mini").exists():  # the test failed: leave nothing to later tests
            mplslab("down", "mini", check=False)


def test_a_frozen_guest_is_found_silent_and_answers_once_thawed():
    """The e2e session's guard (conftest.answering_guest) boots the guest anew when it stops
    answering: it must tell a hung guest from a busy one. QEMU stopped (SIGSTOP) is a guest
    that answers nothing; continued, it answers again."""
    if not in_vm():
        pytest.skip("no micro-VM: this kernel runs the labs itself")
    assert guest_silence() is None
    qemu = owned_pids(shared_vm()["tag"])
    for pid in qemu:
        os.kill(pid, signal.SIGSTOP)
    try:
        silence = guest_silence()
    finally:
        for pid in qemu:
            os.kill(pid, signal.SIGCONT)
    assert silence and "banner" in silence, silence
    deadline = time.monotonic() + 120
    while (silence := guest_silence()) and time.monotonic() < deadline:
        time.sleep(2)
    assert silence is None


def test_the_guest_keeps_timestamps_and_the_ingress_hook_on_from_boot_and_reaps_orphans():
    """The guest holds, before anything else runs, an SO_TIMESTAMP socket (mplslab-keeper)
    and a netdev ingress chain (guest/sshd), so that a verify's pings and captures and the
    label guard's tables never make the kernel patch its own code under emulation (a kernel
    panic: "Oops: int3"); and an orphan is waited for, not left a zombie of virtme-ng-init
    (in a container's PID namespace, one such zombie keeps Docker from removing it)."""
    if not in_vm():
        pytest.skip("no micro-VM: this kernel runs the labs itself")
    # The keeper runs and holds its socket (an unbound one, which `ss` does not list).
    assert "socket:" in guest_run("ls -l /proc/$(pgrep -x mplslab-keeper)/fd")
    orphan = guest_run("sh -c 'sleep 1 & echo $!'").strip()
    deadline = time.monotonic() + 30
    while (left := guest_run(f"cat /proc/{orphan}/stat 2>/dev/null || true").strip()) \
            and time.monotonic() < deadline:
        time.sleep(1)
    assert not left, f"the orphan {orphan} outlived its end: {left}"
    assert "hook ingress" in guest_run("nft list table netdev mplslab_keep")
