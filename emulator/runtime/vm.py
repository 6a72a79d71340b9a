"""The micro-VM runtime: the appliance booted with virtme-ng, namespaces inside it.

The host kernel here has no MPLS forwarding and no VRF devices. virtme-ng boots the
appliance's own Debian kernel over its root filesystem (QEMU; KVM only when it really
works), with the project directory shared at the same path, and an SSH server reachable
on a loopback port. The namespace runtime then runs inside the guest, driven over SSH
(paramiko). The VM lives as long as the lab: ``down`` powers it off.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paramiko

from emulator.errors import LabError, RuntimeFailure
from emulator.paths import PROJECT_DIR, cache_dir
from emulator.runtime import appliance
from emulator.runtime.base import ExecResult, LabState, Progress, Runtime, quote

SSH_KEY = Path.home() / ".cache" / "virtme-ng" / ".ssh" / "id_virtme"
BOOT_DEADLINE = float(os.environ.get("MPLSLAB_VM_BOOT_SECONDS", "300"))
BOOT_ATTEMPTS = 2
VM_MEMORY = os.environ.get("MPLSLAB_VM_MEMORY", "2G")
VM_CPUS = os.environ.get("MPLSLAB_VM_CPUS", "2")
KVM_PROBE_SECONDS = 25
CONNECT_SECONDS = 180.0
HANDSHAKE_SECONDS = 60.0
# While the guest boots, paramiko's transport thread logs every refused banner exchange
# with a traceback; the boot deadline reports what matters.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def patient_transport(sock, **kwargs) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)
    transport.handshake_timeout = HANDSHAKE_SECONDS
    return transport


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


def vng_command(image: appliance.Appliance, *, kvm: bool, extra: list[str]) -> list[str]:
    command = [str(vng_binary()), "--root", str(image.rootfs), "--run", str(image.kernel),
               "--cpus", VM_CPUS, "--memory", VM_MEMORY,
               f"--rwdir={PROJECT_DIR}={PROJECT_DIR}"]
    if not kvm:
        command.append("--disable-kvm")
    return command + extra


def kill_group(pid: int, process: subprocess.Popen | None = None) -> None:
    """SIGTERM, then SIGKILL, to a process group; returns once it is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process is not None:
                process.poll()
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def vng_environment() -> dict:
    env = dict(os.environ)
    # vng starts virtme-run, which sits beside it in the virtual environment.
    env["PATH"] = f"{vng_binary().parent}:{env.get('PATH', '')}"
    return env


def kvm_works(image: appliance.Appliance) -> bool:
    """/dev/kvm can exist while guests hang (nested KVM): boot once with a short deadline.
    The answer is kept per host boot."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    verdict = cache_dir() / f"kvm-{boot_id}"
    if verdict.exists():
        return verdict.read_text() == "yes"
    probe = subprocess.Popen(vng_command(image, kvm=True, extra=["--exec", "true"]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=vng_environment(),
                             start_new_session=True)
    try:
        works = probe.wait(timeout=KVM_PROBE_SECONDS) == 0
    except subprocess.TimeoutExpired:
        works = False
    finally:
        # vng and the QEMU it started share a session: a hung guest goes with it.
        kill_group(probe.pid, probe)
    verdict.parent.mkdir(parents=True, exist_ok=True)
    verdict.write_text("yes" if works else "no")
    return works


class BootTimeout(RuntimeFailure):
    """The guest never answered SSH: worth one more boot."""


class VmRuntime(Runtime):
    name = "vm"

    def __init__(self, state: LabState):
        super().__init__(state)
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()
        # Set in the process that booted the VM, so that teardown can reap it.
        self._vm: subprocess.Popen | None = None

    # -- up -----------------------------------------------------------------------------
    def up(self, progress: Progress) -> None:
        require_qemu()
        image = appliance.build(progress=lambda line: progress(f"appliance: {line}"))
        # The shared project directory is mounted at the same path inside the guest.
        (image.rootfs / str(PROJECT_DIR).lstrip("/")).mkdir(parents=True, exist_ok=True)
        progress("probing KVM")
        kvm = kvm_works(image)
        # Beside the lab's folder, not in it: a failed bring-up removes the folder, and the
        # console is what the error message sends the user to.
        console = LabState.folder(self.state.lab).parent / f"{self.state.lab}.console.log"
        console.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            try:
                self.boot(image, kvm, console, progress)
                break
            except BootTimeout as exc:
                # A guest sometimes boots without an address on eth0 (virtme-ng-init's
                # one-shot DHCP got no lease), so SSH never answers: one more boot.
                self.down()
                if attempt == BOOT_ATTEMPTS:
                    raise RuntimeFailure(exc.message, hint=exc.hint) from None
                kept = console.with_suffix(f".attempt{attempt}.log")
                console.replace(kept)
                progress(f"{exc.message}; booting it again (console of that boot: {kept})")
        progress("deploying routers inside the VM")
        rc, output = self.stream(
            f"PYTHONPATH={quote([str(PROJECT_DIR)])} python3 -m emulator.runtime.netns up "
            f"{quote([self.state.lab, self.state.rendered])}", progress)
        if rc != 0:
            last = output.strip().splitlines()[-1] if output.strip() else ""
            raise RuntimeFailure(last.removeprefix("error: ")
                                 or f"deploy inside the VM failed (exit {rc})")

    def boot(self, image: appliance.Appliance, kvm: bool, console: Path,
             progress: Progress) -> None:
        port = free_port()
        # --verbose puts the guest kernel's and init's messages in the console log.
        command = vng_command(image, kvm=kvm,
                              extra=["--verbose", "--ssh", str(port), "--ssh-tcp"])
        with open(console, "w") as log:
            vm = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, env=vng_environment(),
                                  start_new_session=True)
        self._vm = vm
        self.state.vm = {"pid": vm.pid, "ssh_port": port, "console": str(console),
                         "kvm": kvm}
        self.state.save()
        progress(f"booting the micro-VM ({'KVM' if kvm else 'software emulation'}), "
                 f"SSH on 127.0.0.1:{port}")
        started = time.monotonic()
        while True:
            if vm.poll() is not None:
                raise RuntimeFailure(f"the micro-VM exited during boot (exit {vm.returncode})",
                                     hint=f"console log: {console}")
            if time.monotonic() - started > BOOT_DEADLINE:
                raise BootTimeout(
                    f"the micro-VM did not answer SSH within {BOOT_DEADLINE:.0f}s",
                    hint=f"console log: {console}; raise MPLSLAB_VM_BOOT_SECONDS on a slow host")
            try:
                self.client(deadline=0).exec_command("true", timeout=60)[1].read()
                return
            except (OSError, paramiko.SSHException, EOFError):
                self._client = None
                time.sleep(2)

    # -- SSH ------------------------------------------------------------------------------
    def client(self, deadline: float = CONNECT_SECONDS) -> paramiko.SSHClient:
        """One SSH connection per process, shared by the verifier's threads."""
        with self._lock:
            started = time.monotonic()
            while self._client is None:
                client = paramiko.SSHClient()
                client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
                try:
                    # An emulated guest on a busy host can take tens of seconds for the key
                    # exchange: paramiko's defaults (10 s here for the whole negotiation,
                    # 15 s for the handshake) would fail every attempt while two guests boot.
                    client.connect("127.0.0.1", port=self.state.vm["ssh_port"],
                                   username="root", key_filename=str(SSH_KEY),
                                   timeout=HANDSHAKE_SECONDS, banner_timeout=HANDSHAKE_SECONDS,
                                   auth_timeout=HANDSHAKE_SECONDS, look_for_keys=False,
                                   allow_agent=False, transport_factory=patient_transport)
                    self._client = client
                except (OSError, paramiko.SSHException, EOFError):
                    client.close()
                    if time.monotonic() - started > deadline:
                        raise
                    time.sleep(2)
            return self._client

    def run(self, command: str, timeout: float = 60.0) -> ExecResult:
        for attempt in (1, 2):
            try:
                _, stdout, stderr = self.client().exec_command(command, timeout=timeout)
                out = stdout.read().decode(errors="replace")
                err = stderr.read().decode(errors="replace")
                return ExecResult(stdout.channel.recv_exit_status(), out, err)
            except TimeoutError:
                return ExecResult(124, "", f"timed out after {timeout:.0f}s")
            except (OSError, paramiko.SSHException, EOFError) as exc:
                with self._lock:
                    transport = self._client.get_transport() if self._client else None
                    if transport is None or not transport.is_active():
                        self._client = None  # reconnect (once) on the next attempt
                if attempt == 2:
                    raise RuntimeFailure(
                        f"cannot reach the micro-VM of lab {self.state.lab}: {exc}",
                        hint=f"console log: {self.state.vm.get('console')}") from None
        raise AssertionError("unreachable")

    def stream(self, command: str, progress: Progress) -> tuple[int, str]:
        """Run a command, passing its 'progress:' lines on as they come."""
        _, stdout, _ = self.client().exec_command(f"{command} 2>&1")
        lines = []
        for line in iter(stdout.readline, ""):
            lines.append(line)
            if line.startswith("progress: "):
                progress(line[len("progress: "):].strip())
        return stdout.channel.recv_exit_status(), "".join(lines)

    # -- the rest -------------------------------------------------------------------------
    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        namespace = f"{self.state.lab}_{node}"
        return self.run(quote(["ip", "netns", "exec", namespace, *argv]), timeout=timeout)

    def status(self) -> dict:
        import json
        result = self.run(f"PYTHONPATH={quote([str(PROJECT_DIR)])} python3 -m "
                          f"emulator.runtime.netns status {quote([self.state.lab])}")
        if result.returncode != 0:
            raise RuntimeFailure(f"status inside the VM failed: {result.stderr.strip()}")
        return {**json.loads(result.stdout), "vm": self.state.vm}

    def down(self) -> None:
        """Power the VM off: everything the lab had lives inside it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        pid = self.state.vm.get("pid")
        if pid:
            kill_group(pid, self._vm)

    def interactive(self, node: str, argv: list[str]) -> int:
        ssh = shutil.which("ssh")
        if ssh is None:
            raise LabError("an interactive session needs the ssh client",
                           hint="apt-get install openssh-client")
        namespace = f"{self.state.lab}_{node}"
        return subprocess.call([
            ssh, "-t", "-p", str(self.state.vm["ssh_port"]), "-i", str(SSH_KEY),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "root@127.0.0.1", quote(["ip", "netns", "exec", namespace,
                                                            *argv])])
