"""The micro-VM runtime: the appliance booted with virtme-ng, namespaces inside it.

The host kernel here has no MPLS forwarding and no VRF devices. virtme-ng boots the
appliance's own Debian kernel over its root filesystem (QEMU; KVM only when it really
works), with the project directory shared at the same path, and an SSH server reachable
on a loopback port. The namespace runtime then runs inside the guest, driven over SSH
(paramiko). The VM lives as long as the lab: ``down`` powers it off.
"""

from __future__ import annotations

import contextlib
import json
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
from emulator.paths import PROJECT_DIR, cache_dir, state_dir
from emulator.runtime import appliance
from emulator.runtime.base import CaptureFailed, ExecResult, Progress, Runtime, Tap, quote
from emulator.runtime.netns import StepFailed, capture_script, router_argv, split_capture
from emulator.runtime.state import LabState

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


def vng_environment(tag: str) -> dict:
    env = dict(os.environ)
    # vng starts virtme-run, which sits beside it in the virtual environment.
    env["PATH"] = f"{vng_binary().parent}:{env.get('PATH', '')}"
    name, _, value = tag.partition("=")
    env[name] = value
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
    tag = f"MPLSLAB_VM={state_dir().resolve()}/kvm-probe-{os.getpid()}"
    probe = subprocess.Popen(vng_command(image, kvm=True, extra=["--exec", "true"]),
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


class BootTimeout(RuntimeFailure):
    """The guest never answered SSH: worth one more boot."""


class VmRuntime(Runtime):
    name = "vm"
    preference = 50

    def __init__(self, state: LabState):
        super().__init__(state)
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()
        # Set in the process that booted the VM, so that teardown can reap it.
        self._vm: subprocess.Popen | None = None

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if shutil.which("qemu-system-x86_64") is None:
            return False, "QEMU is not installed (make setup installs it)"
        return True, "routers run in the micro-VM"

    @classmethod
    def force_down(cls, lab: str) -> list[str]:
        return [f"micro-VM process {pid}" for pid in stop_owned(owner_tag(lab))]

    @property
    def tag(self) -> str:
        return owner_tag(self.state.lab)

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
        console = LabState.console(self.state.lab)
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
                                  stderr=subprocess.STDOUT, env=vng_environment(self.tag),
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
                except (OSError, paramiko.SSHException, EOFError) as exc:
                    client.close()
                    if time.monotonic() - started > deadline:
                        raise
                    if deadline and not owned_pids(self.tag):
                        # Nothing will ever answer: say so now rather than after minutes.
                        raise RuntimeFailure(
                            f"the micro-VM of lab {self.state.lab} is no longer running "
                            f"({exc})", hint=f"mplslab down --force {self.state.lab}") from None
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
        return self.run(quote(router_argv(self.state.lab, node, argv)), timeout=timeout)

    def capture(self, taps: list[Tap], node: str, argv: list[str], *, packets: int = 40,
                bpf: str = "icmp or mpls") -> list[str]:
        script = capture_script(self.state.lab, [(t.node, t.interface) for t in taps], node,
                                argv, packets, bpf)
        result = self.run(quote(["sh", "-c", script]), timeout=120)
        try:
            return split_capture(result.stdout, len(taps))
        except StepFailed as exc:
            raise CaptureFailed(f"{exc}: {result.stderr.strip()[-200:]}") from None

    def status(self) -> dict:
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
        stop_owned(self.tag, self._vm)

    def gone(self) -> str | None:
        if not [pid for pid in owned_pids(self.tag) if not is_zombie(pid)]:
            return f"its micro-VM (pid {self.state.vm.get('pid', '?')}) is no longer running"
        port = self.state.vm.get("ssh_port")
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
        except (OSError, TypeError, ValueError) as exc:
            return f"its micro-VM does not accept SSH on 127.0.0.1:{port} ({exc})"
        return None

    def interactive(self, node: str, argv: list[str]) -> int:
        ssh = shutil.which("ssh")
        if ssh is None:
            raise LabError("an interactive session needs the ssh client",
                           hint="apt-get install openssh-client")
        return subprocess.call([
            ssh, "-t", "-p", str(self.state.vm["ssh_port"]), "-i", str(SSH_KEY),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "root@127.0.0.1",
            quote(router_argv(self.state.lab, node, argv))])
