"""One micro-VM for the whole end-to-end session (`mplslab vm start`): each lab comes up in
it and goes down out of it, without a boot per lab. At the end `mplslab vm stop` must leave
no VM process. On a host whose kernel runs the labs itself, there is no VM to share.

`make test TEST_PROCESSES=2` runs the tests in two processes (pytest-xdist): labs come up
side by side in the one VM, one lab's deploy using the cores while the other's protocols
converge. Each process starts the VM if it is not running yet (`vm start` keeps a running one); the
process that started them (or the only one) stops it once every test has finished. Tests of
one lab name share an `xdist_group`, so that one lab never comes up twice at once.

A guest that stops answering (issue 13's rare hang) must cost one test, not the session:
before each test the guest is asked to run `true`; one that does not answer is powered off
and booted anew (its monitor's last minute and its console printed), and a second such
guest ends the session. Each test has a time limit (pytest-timeout, pyproject.toml), and
the session a budget (MPLSLAB_TEST_BUDGET_MINUTES, 80 by default, under CI's 90): past it
no further test starts and the session ends red with its summary printed, rather than being
killed with none."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from labkit import guest_silence, in_vm, mplslab, tail

from emulator.classroom.copies import classes
from emulator.paths import state_dir
from emulator.runtime.vm_pin import pinned_runtime
from emulator.runtime.vm_processes import owned_pids, owner_tag
from emulator.runtime.vm_shared import SHARED, shared_vm, vm_alive, vm_users

GUEST_MONITOR = Path(__file__).parent / "guestmon.sh"
GUEST_LOG = state_dir() / "guestmon.log"  # in the folder the guest shares

# Two labs at once, a containerlab one among them (Docker and a dozen containers): more
# than the 2 GB a single lab is given.
os.environ.setdefault("MPLSLAB_VM_MEMORY", "3G")

SESSION_STARTED = time.monotonic()
BUDGET_SECONDS = 60 * float(os.environ.get("MPLSLAB_TEST_BUDGET_MINUTES", "80"))
restarts: list[str] = []  # the tests before which the guest was booted anew


def in_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def down_what_tests_left() -> list[str]:
    """Classes, then labs, that failed tests left up in the VM, taken down; the labs."""
    for lab in classes():  # a class keeps the VM up under a user of its own
        mplslab("class", "down", lab, check=False)
    left = [u for u in vm_users() if not u.startswith("_")]
    for lab in left:
        mplslab("down", "--force", lab, check=False)
    return left


def start_vm_and_witness() -> None:
    mplslab("vm", "start")
    # Its witness, started by the first process (a new VM: the last session's log goes).
    result = pinned_runtime(shared_vm()).run(
        "kill -0 $(cat /run/guestmon.pid 2>/dev/null) 2>/dev/null || "
        f"{{ rm -f {GUEST_LOG}; nohup sh {GUEST_MONITOR} {GUEST_LOG} > /dev/null 2>&1 & "
        "echo $! > /run/guestmon.pid; }")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session", autouse=True)
def shared_micro_vm():
    if in_vm():
        start_vm_and_witness()
    yield


@pytest.fixture(autouse=True)
def answering_guest(request: pytest.FixtureRequest):
    """Before each test: the session's budget is not spent, and the guest answers (else it
    is booted anew, once a session)."""
    spent = time.monotonic() - SESSION_STARTED
    if spent > BUDGET_SECONDS:
        pytest.exit(f"the test session's budget of {BUDGET_SECONDS / 60:.0f} min is spent "
                    f"({spent / 60:.0f} min): {request.node.nodeid} and the tests after it "
                    "did not run (MPLSLAB_TEST_BUDGET_MINUTES raises it)", returncode=1)
    if not in_vm():
        yield
        return
    silence = guest_silence()
    if silence:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        say = reporter.write_line if reporter else print
        say(f"\nthe micro-VM's guest stopped answering before {request.node.nodeid}: "
            f"{silence}")
        say(f"its monitor's last minute ({GUEST_LOG}):")
        for line in tail(GUEST_LOG, 36):
            say(f"  {line}")
        console = shared_vm().get("console")
        say(f"its console's last lines ({console}):")
        for line in tail(console, 30):
            say(f"  {line}")
        if restarts or in_worker(request.config):
            pytest.exit(f"the guest stopped answering again (first before {restarts[0]})"
                        if restarts else "the guest stopped answering (in a worker: the "
                        "other process's lab shares it)", returncode=1)
        restarts.append(request.node.nodeid)
        down_what_tests_left()
        mplslab("vm", "stop", check=False)
        start_vm_and_witness()
        say("booted the micro-VM anew; the tests go on")
    yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the last test of every process: labs a failed test left behind go down, the VM
    stops, and nothing of it may survive (else the session fails)."""
    if in_worker(session.config) or not (vm_users() or vm_alive(shared_vm())):
        return
    # A test that failed half-way may leave a lab registered: take it down, so that the VM
    # stops whatever happened (and the check below still reports it).
    left = down_what_tests_left()
    mplslab("vm", "stop")
    problems = [f"labs left registered with the micro-VM: {left}"] if left else []
    if vm_users():
        problems.append(f"labs still registered with the micro-VM: {vm_users()}")
    if owned_pids(owner_tag(SHARED)):
        problems.append("`mplslab vm stop` left the micro-VM running")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if session.exitstatus != 0 and GUEST_LOG.is_file() and reporter:
        reporter.write_line(f"the guest's last minute, by tests/e2e/guestmon.sh ({GUEST_LOG}):")
        for line in GUEST_LOG.read_text(errors="replace").splitlines()[-48:]:
            reporter.write_line(f"  {line}")
    if problems:
        for problem in problems:
            if reporter:
                reporter.write_line(f"e2e session: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A failure's traceback as soon as it happens, not only in the summary at the end: a CI
    run killed at its time limit prints no summary, and the next failures may bury it."""
    if not report.failed:
        return
    reporter = TERMINAL.get("reporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("-", f"failed now ({report.when}): {report.nodeid}")
        reporter.write_line(report.longreprtext[-6000:])


TERMINAL: dict = {}


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    TERMINAL["reporter"] = config.pluginmanager.get_plugin("terminalreporter")
