"""The micro-VM's boot path without booting one: its root disk (a real mkfs.ext4 of a small
tree, read back with debugfs) and the wait for the guest's SSH banner (real sockets)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from emulator.runtime import appliance, vm_boot


def disk_listing(disk: Path, folder: str) -> list[str]:
    out = subprocess.run(["debugfs", "-R", f"ls -p {folder}", str(disk)], capture_output=True,
                         text=True, check=True).stdout
    return [fields[4] for line in out.splitlines()
            if len(fields := line.strip("/").split("/")) > 4 and fields[4] not in (".", "..")]


@pytest.fixture
def tiny_appliance(tmp_path) -> appliance.Appliance:
    rootfs = tmp_path / "appliance" / "rootfs"
    (rootfs / "usr" / "lib" / "frr").mkdir(parents=True)
    (rootfs / "usr" / "lib" / "frr" / "zebra").write_bytes(b"\x7fELF" + b"\0" * 5000)
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "hostname").write_text("appliance\n")
    return appliance.Appliance(rootfs)


def test_the_root_disk_holds_the_tree_and_the_mount_points(tiny_appliance, tmp_path):
    project = tmp_path / "work" / "checkout"
    disk = appliance.vm_disk(tiny_appliance, [project])
    assert disk_listing(disk, "/usr/lib/frr") == ["zebra"]
    assert disk_listing(disk, "/etc") == ["hostname"]
    # The shared folder is mounted at its host path in the guest: the point must be there.
    assert disk_listing(disk, str(project.parent)) == ["checkout"]


def test_the_root_disk_is_made_again_only_for_a_new_mount_point(tiny_appliance, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    disk = appliance.vm_disk(tiny_appliance, [first])
    made = disk.stat().st_ino
    assert appliance.vm_disk(tiny_appliance, [first]).stat().st_ino == made
    steps: list[str] = []
    appliance.vm_disk(tiny_appliance, [second], steps.append)
    assert disk.stat().st_ino != made and steps
    # The earlier point stays: another checkout's VM may be booted from it next.
    assert sorted(disk_listing(disk, str(tmp_path))) == ["one", "two"]


def banner_server(delay: float, banner: bytes | None) -> tuple[int, threading.Thread]:
    """A port that answers every connection after ``delay`` with ``banner`` (None: closes
    it without a word, as QEMU does when the guest refuses)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            listener.settimeout(5)
            try:
                while True:
                    conn, _ = listener.accept()
                    time.sleep(delay)
                    if banner is not None:
                        conn.sendall(banner)
                        time.sleep(0.5)
                    conn.close()
                    if banner is not None:
                        return
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def test_the_banner_is_seen_on_a_connection_that_waited():
    port, _ = banner_server(delay=1.5, banner=b"SSH-2.0-OpenSSH\r\n")
    assert vm_boot.banner_seen(port, until=time.monotonic() + 10, alive=lambda: True)


def test_no_banner_is_no_answer():
    port, _ = banner_server(delay=0, banner=None)
    started = time.monotonic()
    assert not vm_boot.banner_seen(port, until=started + 2, alive=lambda: True)
    assert time.monotonic() - started >= 2


def test_a_vm_gone_ends_the_wait():
    port, _ = banner_server(delay=0, banner=None)
    started = time.monotonic()
    assert not vm_boot.banner_seen(port, until=started + 60, alive=lambda: False)
    assert time.monotonic() - started < 5


def test_a_console_silent_since_its_last_write_is_measured_from_it(tmp_path):
    """The stall guard of a boot (vm.py): seconds since the console log last grew."""
    console = tmp_path / "console.log"
    console.write_text("[    2.0] printk: legacy bootconsole [earlyser0] disabled\n")
    os.utime(console, (time.time() - 90, time.time() - 90))
    assert 89 < vm_boot.console_silent_for(console) < 100
    with console.open("a") as log:
        log.write("virtme-ng init\n")
    assert vm_boot.console_silent_for(console) < 5
    assert vm_boot.console_silent_for(tmp_path / "not-yet") == 0.0
