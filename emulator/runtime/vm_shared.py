"""The one micro-VM every lab that is up shares: its record, its users, its lock.

The record lives in the state folder's ``_vm/``: ``vm.json`` (pid, SSH port, console, owner
tag, memory) and ``users/<lab>`` for each lab (and a `mplslab vm start` pin, and a class of
`mplslab class up`) that uses the VM.
Whoever boots, reuses or powers the VM off holds ``shared_lock`` meanwhile.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
from pathlib import Path

from emulator.paths import state_dir
from emulator.runtime.vm_processes import is_zombie, owned_pids, owner_tag, stop_owned

SHARED = "_vm"  # never a lab name: lab names start with a letter
PINNED = "_pinned"  # the user of `mplslab vm start` (vm_pin.py)
CLASS_USER = "_class-"  # + a lab's name: the user of `mplslab class up` (emulator/classroom)


def class_user(lab: str) -> str:
    """The user that keeps the VM up for a class of ``lab``'s copies, between its copies'
    ``up`` and ``down``."""
    return CLASS_USER + lab


def shared_folder() -> Path:
    return state_dir() / SHARED


@contextlib.contextmanager
def shared_lock():
    """One process at a time decides whether to boot, reuse or power off the VM."""
    state_dir().mkdir(parents=True, exist_ok=True)
    with open(state_dir() / f"{SHARED}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def shared_vm() -> dict:
    """The running VM's record (pid, SSH port, console, owner tag), or {}."""
    try:
        record = json.loads((shared_folder() / "vm.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and "tag" in record else {}


def record_vm(record: dict) -> None:
    """Write the VM's record (the caller holds the lock)."""
    shared_folder().mkdir(parents=True, exist_ok=True)
    (shared_folder() / "vm.json").write_text(json.dumps(record, indent=2) + "\n")


def register(user: str) -> None:
    """``user`` (a lab, or PINNED) uses the VM: it stays up until every user is gone."""
    users = shared_folder() / "users"
    users.mkdir(parents=True, exist_ok=True)
    (users / user).touch()


def unregister(user: str) -> None:
    (shared_folder() / "users" / user).unlink(missing_ok=True)


def vm_users() -> list[str]:
    """The labs (and a `vm start` pin) that use the running VM."""
    folder = shared_folder() / "users"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def described(users: list[str]) -> list[str]:
    """Users as `mplslab vm status` names them: labs, `mplslab vm start`, classes."""
    return ["`mplslab vm start`" if user == PINNED
            else f"class {user.removeprefix(CLASS_USER)}" if user.startswith(CLASS_USER)
            else user for user in users]


def vm_alive(record: dict) -> bool:
    return bool(record) and any(not is_zombie(p) for p in owned_pids(record["tag"]))


def stop_shared_vm(process: subprocess.Popen | None = None) -> list[int]:
    """Power the shared VM off and forget it (the caller holds the lock)."""
    pids = stop_owned(owner_tag(SHARED), process)
    shutil.rmtree(shared_folder(), ignore_errors=True)
    return pids
