"""One micro-VM for the whole end-to-end session (`mplslab vm start`): each lab comes up in
it and goes down out of it, without a boot per lab. At the end `mplslab vm stop` must leave
no VM process. On a host whose kernel runs the labs itself, there is no VM to share."""

from __future__ import annotations

import pytest
from labkit import mplslab

from emulator.runtime.registry import choose
from emulator.runtime.vm import SHARED, owned_pids, owner_tag, vm_users


@pytest.fixture(scope="session", autouse=True)
def shared_micro_vm():
    if choose("auto")[0] != "vm":
        yield
        return
    mplslab("vm", "start")
    try:
        yield
    finally:
        # A test that failed half-way may leave a lab registered: take it down, so that the
        # VM stops whatever happened (and the assertion below still reports it).
        left = [u for u in vm_users() if not u.startswith("_")]
        for lab in left:
            mplslab("down", "--force", lab, check=False)
        mplslab("vm", "stop")
        assert not left, f"labs left registered with the micro-VM: {left}"
        assert not vm_users(), f"labs left registered with the micro-VM: {vm_users()}"
        assert not owned_pids(owner_tag(SHARED)), "`mplslab vm stop` left the micro-VM running"
