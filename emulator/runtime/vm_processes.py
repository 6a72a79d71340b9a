"""The micro-VM's host processes: which are whose, and stopping them.

Every VM process (vng and the QEMU it starts) carries an owner tag in its environment
(``MPLSLAB_VM=<state dir>/<owner>``); teardown finds processes by that tag in /proc and
signals nothing that does not carry it, so a stale state file can never make ``down`` kill
anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from emulator.paths import state_dir


def owner_tag(lab: str) -> str:
    """Written into the environment of the VM's processes (vng and the QEMU it starts), so
    that teardown can prove a process is this lab's VM before signalling it."""
    return f"MPLSLAB_VM={state_dir().resolve()}/{lab}"


def owned_pids(tag: str) -> list[int]:
    """Processes whose environment carries ``tag``."""
    wanted = tag.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            found.append(int(proc.name))
    return found


def stop_owned(tag: str, process: subprocess.Popen | None = None) -> list[int]:
    """SIGTERM, then SIGKILL, to every process carrying ``tag``; returns once they are gone
    (the pids it found). Nothing else is ever signalled."""
    pids = owned_pids(tag)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in owned_pids(tag):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process is not None:
                process.poll()  # reap our own child, or it lingers as a zombie
            if not [p for p in owned_pids(tag) if not is_zombie(p)]:
                return pids
            time.sleep(0.2)
    return pids


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
