"""Booting the micro-VM: virtme-ng's command line, the KVM probe, the wait for the guest.

virtme-ng boots the appliance's own kernel on its root disk (appliance.vm_disk) under QEMU,
with this project's folders shared at their host paths (shared_folders) and the guest's
sshd on a loopback port; KVM only when it really works (kvm_works). The boot's own loop,
which also records the VM and connects to it, is the runtime's (vm.py: VmRuntime.boot).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from emulator.errors import LabError, RuntimeFailure
from emulator.paths import PACKAGE_DIR, PROJECT_DIR, cache_dir, from_checkout, state_dir
from emulator.runtime import appliance
from emulator.runtime.vm_processes import stop_owned

BOOT_DEADLINE = float(os.environ.get("MPLSLAB_VM_BOOT_SECONDS", "300"))
BOOT_ATTEMPTS = 2
# A boot whose console stayed silent this long without SSH answering has stalled (the guest
# froze early in its boot, issue 13: seen right after the kernel's console switch): booted
# again at once rather than after BOOT_DEADLINE. A good boot under emulation writes to its
# console every few seconds until sshd answers, ~15 s after the start.
STALL_SECONDS = float(os.environ.get("MPLSLAB_VM_STALL_SECONDS", "60"))
DEFAULT_VM_MEMORY = "2G"
VM_CPUS = os.environ.get("MPLSLAB_VM_CPUS", "2")
KVM_PROBE_SECONDS = 25
BANNER_PROBES = 4  # connections kept open while waiting for the guest's sshd


def vm_memory() -> str:
    """The guest's memory, in QEMU's words (``-m``): $MPLSLAB_VM_MEMORY, else 2G. Read at
    each boot, so that a command can size the VM (``mplslab class up``)."""
    return os.environ.get("MPLSLAB_VM_MEMORY") or DEFAULT_VM_MEMORY


MEMORY_UNITS = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 * 1024}


def memory_mib(text: str) -> int:
    """A memory size in QEMU's words (``2G``, ``2560M``, ``3072``: MiB without a unit) in
    MiB; a LabError for anything else."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", text.strip(), re.IGNORECASE)
    if not match:
        raise LabError(f"{text!r} is not a memory size",
                       hint="MPLSLAB_VM_MEMORY takes QEMU's sizes: 2G, 2560M, 3072 (MiB)")
    return int(float(match.group(1)) * MEMORY_UNITS[match.group(2).upper()])


def vng_binary() -> Path:
    candidate = Path(sys.executable).parent / "vng"
    if candidate.exists():
        return candidate
    found = shutil.which("vng")
    if not found:
        raise LabError("virtme-ng (vng) is not installed", hint="make setup installs it")
    return Path(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_qemu() -> None:
    if shutil.which("qemu-system-x86_64") is None:
        raise LabError("QEMU is not installed",
                       hint="apt-get install qemu-system-x86 (make setup does it)")


# What virtme-ng accepts in a shared folder's path (virtme/commands/run.py: _SAFE_PATH_PATTERN).
SHAREABLE_PATH = re.compile(r"^[a-zA-Z0-9_+ /.-]+$")


def shared_folders() -> list[tuple[Path, bool]]:
    """Host folders the guest mounts at the same path, and whether it may write there.

    The guest runs ``python3 -m emulator.runtime.netns`` with PYTHONPATH=PROJECT_DIR and
    reads the rendered files where the host wrote them (under the state folder). From a
    checkout, the checkout holds both: it is shared read-write, as it always was. Installed
    (pip, pipx), PROJECT_DIR is site-packages: only the `emulator` package is shared, read
    only (the guest's python3 sees none of the host's other packages), and the state folder
    read-write. A state folder elsewhere (MPLSLAB_STATE) is shared on its own either way.
    """
    shares = [(PROJECT_DIR, True)] if from_checkout() else [(PACKAGE_DIR, False)]
    state = Path(os.path.abspath(state_dir()))
    if not any(writable and state.is_relative_to(folder) for folder, writable in shares):
        shares.append((state, True))
    for folder, _ in shares:
        if not SHAREABLE_PATH.match(str(folder)):
            raise LabError(f"the micro-VM cannot share {folder}: virtme-ng takes only letters, "
                           "digits, spaces and _+/.- in a shared folder's path",
                           hint="set MPLSLAB_STATE to a plain path (or install mplslab there)")
    return shares


def vng_command(image: appliance.Appliance, disk: Path, *, kvm: bool,
                extra: list[str], memory: str | None = None) -> list[str]:
    """virtme-ng booting the appliance's kernel on ``disk`` (appliance.vm_disk), with
    ``memory`` (QEMU's words; default: vm_memory())."""
    command = [str(vng_binary()), "--root-disk", str(disk), "--root-fstype", "ext4",
               "--run", str(image.kernel), "--cpus", VM_CPUS,
               "--memory", memory or vm_memory()]
    command += [f"--{'rwdir' if writable else 'rodir'}={folder}={folder}"
                for folder, writable in shared_folders()]
    if not kvm:
        command.append("--disable-kvm")
    # 9p, without first trying virtio-fs: virtme-ng needs the Rust virtiofsd, and with
    # another (Debian 12 ships QEMU's C one) it waits 3 s per shared folder before falling
    # back to 9p, a dozen seconds of every boot. 9p is what the appliance was proven on.
    command.append("--force-9p")
    # No kernel-memory or socket accounting in memory cgroups: the first container's cgroup
    # would switch them on, and the kernel patches its own code live to do so, which under
    # QEMU's multi-threaded emulation sometimes left the other vCPU on a stale breakpoint
    # ("Oops: int3" in kmem_cache_free as runc started, then a kernel panic: the guest that
    # stopped answering SSH in containerlab runs).
    command.append("--append=cgroup.memory=nokmem,nosocket")
    return command + extra


def vng_environment(tag: str) -> dict:
    """vng's environment: this one, with the owner ``tag`` (vm_processes.owner_tag) that
    teardown finds the VM's processes by."""
    env = dict(os.environ)
    # vng starts virtme-run, which sits beside it in the virtual environment.
    env["PATH"] = f"{vng_binary().parent}:{env.get('PATH', '')}"
    name, _, value = tag.partition("=")
    env[name] = value
    return env


def kvm_works(image: appliance.Appliance, disk: Path) -> bool:
    """/dev/kvm can exist while guests hang (nested KVM): boot once with a short deadline.
    The answer is kept per host boot."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    verdict = cache_dir() / f"kvm-{boot_id}"
    if verdict.exists():
        return verdict.read_text() == "yes"
    tag = f"MPLSLAB_VM={state_dir().resolve()}/kvm-probe-{os.getpid()}"
    probe = subprocess.Popen(vng_command(image, disk, kvm=True, extra=["--exec", "true"]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=vng_environment(tag),
                             start_new_session=True)
    try:
        works = probe.wait(timeout=KVM_PROBE_SECONDS) == 0
    except subprocess.TimeoutExpired:
        works = False
    finally:
        # A hung guest goes with its vng.
        stop_owned(tag, probe)
    verdict.parent.mkdir(parents=True, exist_ok=True)
    verdict.write_text("yes" if works else "no")
    return works


def banner_seen(port: int, until: float, alive: Callable[[], bool]) -> bool:
    """Wait for the guest's sshd banner on QEMU's forwarded port, opening a new connection
    every second and keeping the last few open. QEMU accepts at once and its user network
    (slirp) sends the guest a SYN, retried with exponential back-off while the guest has no
    address yet: one connection opened early in the boot sees the banner up to ~9 s after
    sshd listens; a fresh one sees it at once, and an older one still answers a guest too
    busy to answer quickly. False when ``alive`` says the VM is gone or ``until`` passes."""
    pending: list[socket.socket] = []
    try:
        with selectors.DefaultSelector() as waiting:
            next_open = 0.0
            while time.monotonic() < until and alive():
                if time.monotonic() >= next_open:
                    next_open = time.monotonic() + 1.0
                    try:
                        sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                    except OSError:  # QEMU not listening yet
                        sock = None
                    if sock is not None:
                        pending.append(sock)
                        waiting.register(sock, selectors.EVENT_READ)
                        if len(pending) > BANNER_PROBES:
                            waiting.unregister(oldest := pending.pop(0))
                            oldest.close()
                for key, _ in waiting.select(timeout=0.2):
                    sock = key.fileobj
                    try:
                        if sock.recv(4) == b"SSH-":
                            return True
                    except OSError:
                        pass
                    # Closed before a banner: slirp gave up on the guest, or the guest's
                    # port is not open yet.
                    waiting.unregister(sock)
                    pending.remove(sock)
                    sock.close()
            return False
    finally:
        for sock in pending:
            sock.close()


def console_silent_for(console: Path) -> float:
    """Seconds since the VM's console log last grew."""
    try:
        return time.time() - console.stat().st_mtime
    except OSError:
        return 0.0


class BootTimeout(RuntimeFailure):
    """The guest never answered SSH: worth one more boot."""
