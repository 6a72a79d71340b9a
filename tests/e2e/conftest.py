"""One micro-VM for the whole end-to-end session (`mplslab vm start`): each lab comes up in
it and goes down out of it, without a boot per lab. At the end `mplslab vm stop` must leave
no VM process. On a host whose kernel runs the labs itself, there is no VM to share.

`make test TEST_PROCESSES=2` runs the tests in two processes (pytest-xdist): labs come up
side by side in the one VM, one lab's deploy using the cores while the other's protocols
converge. Each process starts the VM if it is not running yet (`vm start` keeps a running one); the
process that started them (or the only one) stops it once every test has finished. Tests of
one lab name share an `xdist_group`, so that one lab never comes up twice at once."""

from __future__ import annotations

import os

import pytest
from labkit import mplslab

from emulator.runtime.registry import choose
from emulator.runtime.vm import SHARED, owned_pids, owner_tag, shared_vm, vm_alive, vm_users

# Two labs at once, a containerlab one among them (Docker and a dozen containers): more
# than the 2 GB a single lab is given.
os.environ.setdefault("MPLSLAB_VM_MEMORY", "3G")


def in_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.fixture(scope="session", autouse=True)
def shared_micro_vm():
    if choose("auto")[0] == "vm":
        mplslab("vm", "start")
    yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the last test of every process: labs a failed test left behind go down, the VM
    stops, and nothing of it may survive (else the session fails)."""
    if in_worker(session.config) or not (vm_users() or vm_alive(shared_vm())):
        return
    # A test that failed half-way may leave a lab registered: take it down, so that the VM
    # stops whatever happened (and the check below still reports it).
    left = [u for u in vm_users() if not u.startswith("_")]
    for lab in left:
        mplslab("down", "--force", lab, check=False)
    mplslab("vm", "stop")
    problems = [f"labs left registered with the micro-VM: {left}"] if left else []
    if vm_users():
        problems.append(f"labs still registered with the micro-VM: {vm_users()}")
    if owned_pids(owner_tag(SHARED)):
        problems.append("`mplslab vm stop` left the micro-VM running")
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for problem in problems:
            if reporter:
                reporter.write_line(f"e2e session: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
