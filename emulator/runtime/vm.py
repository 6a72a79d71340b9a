"""The micro-VM runtime: the appliance booted with virtme-ng, namespaces inside it.

The host kernel here has no MPLS forwarding and no VRF devices. virtme-ng boots the
appliance's own Debian kernel on a read-only disk image of its root filesystem
(appliance.vm_disk; QEMU, KVM only when it really works), with the `emulator` package and
the state folder shared at the same paths (see vm_boot.shared_folders), and an SSH server
reachable on a loopback port. The namespace runtime then runs inside the guest, driven
over SSH (paramiko, vm_ssh.py). One VM serves every lab that is up; the last ``down`` powers it off.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from emulator.errors import LabError, RuntimeFailure
from emulator.paths import PROJECT_DIR, state_dir
from emulator.runtime import appliance
from emulator.runtime.base import ExecResult, Progress, Runtime, quote
from emulator.runtime.capture import ShellCaptures
from emulator.runtime.netns import (
    NamespaceRouters,
    router_argv,
)
from emulator.runtime.state import LabState
from emulator.runtime.vm_boot import (
    BOOT_ATTEMPTS,
    BOOT_DEADLINE,
    STALL_SECONDS,
    BootTimeout,
    banner_seen,
    console_silent_for,
    free_port,
    kvm_works,
    require_qemu,
    shared_folders,
    vm_memory,
    vng_command,
    vng_environment,
)
from emulator.runtime.vm_processes import is_zombie, owned_pids, owner_tag, stop_owned
from emulator.runtime.vm_shared import (
    SHARED,
    record_vm,
    register,
    shared_lock,
    shared_vm,
    stop_shared_vm,
    unregister,
    vm_alive,
    vm_users,
)
from emulator.runtime.vm_ssh import SSH_ERRORS, SSH_KEY, GuestSsh


class VmRuntime(NamespaceRouters, ShellCaptures, GuestSsh, Runtime):
    name = "vm"
    preference = 50
    # How routers live inside the guest: the module that deploys them there (python3 -m),
    # and how a program runs inside one (namespaces here; containers in clab.py).
    GUEST_MODULE = "emulator.runtime.netns"
    inside = staticmethod(router_argv)

    def __init__(self, state: LabState):
        super().__init__(state)
        # Set in the process that booted the VM, so that teardown can reap it.
        self._vm: subprocess.Popen | None = None
        # The guest's memory when this runtime boots the VM (QEMU's words); None:
        # vm_boot.vm_memory(). `mplslab class up` sizes it to the class (vm_pin.pin).
        self.memory: str | None = None

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if shutil.which("qemu-system-x86_64") is None:
            return False, "QEMU is not installed (make setup installs it)"
        return True, "routers run in the micro-VM"

    @classmethod
    def force_down(cls, lab: str) -> list[str]:
        # A VM of this lab's own (before VMs were shared), then the lab's share of the
        # shared VM: its namespaces inside, its registration, the VM if nobody else uses it.
        removed = [f"micro-VM process {pid}" for pid in stop_owned(owner_tag(lab))]
        with shared_lock():
            record = shared_vm()
            others = [u for u in vm_users() if u != lab]
            unregister(lab)
            if vm_alive(record) and others:
                state = LabState(lab=lab, variant=None, runtime=cls.name, rendered="",
                                 source="", vm=record)
                with contextlib.suppress(LabError):
                    cls(state).remove_namespaces()
                    removed.append(f"lab {lab}'s namespaces in the shared micro-VM")
            elif record or owned_pids(owner_tag(SHARED)):
                removed += [f"micro-VM process {pid}" for pid in stop_shared_vm()]
        return removed

    @property
    def tag(self) -> str:
        if self.state.vm.get("tag"):
            return self.state.vm["tag"]
        # An `up` killed before it wrote the VM into the lab's state still registered it.
        return owner_tag(SHARED) if self.state.lab in vm_users() else owner_tag(self.state.lab)

    # -- up -----------------------------------------------------------------------------
    def up(self, progress: Progress) -> None:
        """Start the lab's routers in the shared VM, booting it if none runs."""
        with shared_lock():
            record = shared_vm()
            if vm_alive(record) and self.answers(record):
                self.state.vm = record
                self.state.save()
                progress(f"reusing the running micro-VM (SSH on 127.0.0.1:"
                         f"{record['ssh_port']}; also used by: "
                         f"{', '.join(vm_users()) or 'nobody'})")
            else:
                users = [u for u in vm_users() if u != self.state.lab]
                if vm_alive(record) and users:
                    raise RuntimeFailure(
                        f"the running micro-VM (used by {', '.join(users)}) does not answer SSH",
                        hint=f"console log: {record.get('console')}; `mplslab status` tells "
                             "whether its labs still run")
                if record or owned_pids(owner_tag(SHARED)):
                    stop_shared_vm()  # a VM that no longer answers and nobody uses
                register(self.state.lab)
                self.start_vm(progress)
            register(self.state.lab)
        self.state.save()
        self.deploy(progress)

    @staticmethod
    def answers(record: dict) -> bool:
        """The guest's sshd sends its banner (QEMU's port forward alone accepts connections
        even when the guest is hung)."""
        try:
            with socket.create_connection(("127.0.0.1", int(record["ssh_port"])),
                                          timeout=10) as sock:
                sock.settimeout(20)
                return sock.recv(4) == b"SSH-"
        except (OSError, KeyError, ValueError):
            return False

    def start_vm(self, progress: Progress) -> None:
        require_qemu()
        image = appliance.build(progress=lambda line: progress(f"appliance: {line}"))
        # The shared folders are mounted at the same paths inside the guest.
        state_dir().mkdir(parents=True, exist_ok=True)
        disk = appliance.vm_disk(image, [folder for folder, _ in shared_folders()], progress)
        progress("probing KVM")
        kvm = kvm_works(image, disk)
        # Beside the labs' folders, not in them: a failed bring-up removes its lab's folder,
        # and the console is what the error message sends the user to.
        console = state_dir() / f"{SHARED}.console.log"
        console.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            try:
                self.boot(image, disk, kvm, console, progress)
                break
            except BootTimeout as exc:
                # A guard only: the guest sets its own address (guest/sshd), so every boot
                # of the stall probe answered the first time.
                self.close()
                stop_shared_vm(self._vm)
                register(self.state.lab)
                if attempt == BOOT_ATTEMPTS:
                    raise RuntimeFailure(exc.message, hint=exc.hint) from None
                kept = console.with_suffix(f".attempt{attempt}.log")
                console.replace(kept)
                progress(f"{exc.message}; booting it again (console of that boot: {kept})")

    def deploy(self, progress: Progress) -> None:
        progress("deploying routers inside the VM")
        self.guest_action("up", [self.state.rendered, *self.deploy_options()], "deploy",
                          progress)

    def reset(self, progress: Progress) -> None:
        """The guest-side module's reset of this lab's routers, where they run."""
        self.guest_action("reset", [self.state.rendered], "reset", progress)

    def guest_action(self, action: str, args: list[str], what: str,
                     progress: Progress) -> None:
        """The guest-side module's ``action``, its progress passed on; failed, its last line
        (the module's `error: ...`) is the error."""
        rc, output = self.stream(f"{self.guest_command(action)} {quote(args)}", progress)
        if rc != 0:
            last = output.strip().splitlines()[-1] if output.strip() else ""
            raise RuntimeFailure(last.removeprefix("error: ")
                                 or f"{what} inside the VM failed (exit {rc})")

    def guest_command(self, action: str) -> str:
        """The guest-side deploy module's ``action`` for this lab, as a shell command."""
        return (f"PYTHONPATH={quote([str(PROJECT_DIR)])} python3 -m {self.GUEST_MODULE} "
                f"{action} {quote([self.state.lab])}")

    def deploy_options(self) -> list[str]:
        return []

    def boot(self, image: appliance.Appliance, disk: Path, kvm: bool, console: Path,
             progress: Progress, tag: str | None = None) -> None:
        """Boot a VM and wait for its SSH answer. Without ``tag``, the shared VM (recorded in
        .mplslab/_vm/); with one, a VM of the caller's own (bench/boot_probe.py)."""
        port = free_port()
        # --verbose puts the guest kernel's and init's messages in the console log.
        memory = self.memory or vm_memory()
        command = vng_command(image, disk, kvm=kvm, memory=memory,
                              extra=["--verbose", "--ssh", str(port), "--ssh-tcp"])
        shared = tag is None
        tag = tag or owner_tag(SHARED)
        with open(console, "w") as log:
            vm = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, env=vng_environment(tag),
                                  start_new_session=True)
        self._vm = vm
        self.state.vm = {"pid": vm.pid, "ssh_port": port, "console": str(console),
                         "kvm": kvm, "tag": tag, "memory": memory}
        if shared:
            # Recorded before it answers: an interrupted boot is still found and powered off.
            record_vm(self.state.vm)
        progress(f"booting the micro-VM ({'KVM' if kvm else 'software emulation'}), "
                 f"SSH on 127.0.0.1:{port}")
        started = time.monotonic()
        while True:
            banner_seen(port, until=started + BOOT_DEADLINE,
                        alive=lambda: vm.poll() is None
                        and console_silent_for(console) < STALL_SECONDS)
            if vm.poll() is not None:
                raise RuntimeFailure(f"the micro-VM exited during boot (exit {vm.returncode})",
                                     hint=f"console log: {console}")
            if console_silent_for(console) >= STALL_SECONDS:
                raise BootTimeout(
                    f"the micro-VM's boot stalled: no SSH answer and its console silent for "
                    f"{STALL_SECONDS:.0f}s", hint=f"console log: {console}; raise "
                    "MPLSLAB_VM_STALL_SECONDS on a slow host")
            if time.monotonic() - started > BOOT_DEADLINE:
                raise BootTimeout(
                    f"the micro-VM did not answer SSH within {BOOT_DEADLINE:.0f}s",
                    hint=f"console log: {console}; raise MPLSLAB_VM_BOOT_SECONDS on a slow host")
            try:
                self.client(deadline=0)
                self.run_once("true", timeout=60)
                return
            except SSH_ERRORS:
                self.close()  # nothing else uses it while the guest boots
                time.sleep(2)

    # -- the rest -------------------------------------------------------------------------
    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        return self.run(quote(self.inside(self.state.lab, node, argv)), timeout=timeout)

    def run_reader(self, script: Path, request: str) -> ExecResult:
        return self.run(f"printf %s {quote([request])} | python3 -S {quote([str(script)])}",
                        timeout=120)

    def run_script(self, script: str, timeout: float) -> ExecResult:
        return self.run(quote(["sh", "-c", script]), timeout=timeout)

    def status(self) -> dict:
        result = self.run(self.guest_command("status"))
        if result.returncode != 0:
            raise RuntimeFailure(f"status inside the VM failed: {result.stderr.strip()}")
        return {**json.loads(result.stdout), "vm": self.state.vm}

    def down(self) -> None:
        """Remove the lab's routers; power the VM off when no other lab (or `vm start`)
        uses it."""
        with shared_lock():
            record = shared_vm()
            registered = self.state.lab in vm_users()
            others = [u for u in vm_users() if u != self.state.lab]
            shared = self.tag == owner_tag(SHARED)
            # First hang up a deploy still streaming (its guest side gets SIGHUP).
            self.close()
            if shared and registered and others and vm_alive(record):
                try:
                    self.remove_namespaces()
                finally:
                    # A lab whose routers outlive their removal stays registered (and its
                    # state kept, the caller's part): a `down` that says so, not success.
                    self.close()
            unregister(self.state.lab)
            if shared and not others:
                # Also when an interrupted boot never wrote its record: the tag finds it.
                stop_shared_vm(self._vm)
            elif not shared:
                stop_owned(self.tag, self._vm)  # a VM of this lab's own

    def remove_namespaces(self) -> None:
        """Total teardown of this lab inside a VM that stays up for others."""
        result = self.run(self.guest_command("down"), timeout=300)
        if result.returncode != 0:
            raise RuntimeFailure(f"removing lab {self.state.lab} inside the VM failed: "
                                 f"{result.stderr.strip()[-300:]}",
                                 hint=f"`mplslab down {self.state.lab}` again; `mplslab vm "
                                      "stop` ends the VM and every lab in it")

    def gone(self) -> str | None:
        if not [pid for pid in owned_pids(self.tag) if not is_zombie(pid)]:
            return f"its micro-VM (pid {self.state.vm.get('pid', '?')}) is no longer running"
        if self.tag == owner_tag(SHARED) and self.state.lab not in vm_users():
            return "it is not registered with the running micro-VM"
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
            quote(self.inside(self.state.lab, node, argv))])
