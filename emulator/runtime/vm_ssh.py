"""SSH to the micro-VM's guest (paramiko): how a VM runtime runs commands there.

QEMU forwards a loopback port to the guest's sshd (vm_boot.vng_command's ``--ssh``);
virtme-ng made the key. An emulated guest on a busy host is slow to answer and sometimes
drops a connection, hence the long handshake and the retries.
"""

from __future__ import annotations

import logging
import select
import shlex
import threading
import time
from pathlib import Path
from typing import Any

import paramiko

from emulator.errors import RuntimeFailure
from emulator.runtime.base import ExecResult, Progress
from emulator.runtime.vm_processes import owned_pids

SSH_KEY = Path.home() / ".cache" / "virtme-ng" / ".ssh" / "id_virtme"
CONNECT_SECONDS = 180.0
HANDSHAKE_SECONDS = 60.0
RUN_ATTEMPTS = 3
# What a lost or refused connection raises.
SSH_ERRORS = (OSError, paramiko.SSHException, EOFError)
# While the guest boots, paramiko's transport thread logs every refused banner exchange
# with a traceback; the boot deadline reports what matters.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def patient_transport(sock, **kwargs) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)
    transport.handshake_timeout = HANDSHAKE_SECONDS
    return transport


class SshStream:
    """A program's output arriving on an SSH channel (``capture.Stream``)."""

    def __init__(self, channel: paramiko.Channel):
        self.channel = channel

    def read(self, seconds: float) -> tuple[bytes, bytes] | None:
        channel = self.channel
        if not (channel.recv_ready() or channel.recv_stderr_ready()):
            # The exit status follows everything the program wrote.
            if channel.exit_status_ready() or channel.closed:
                return None
            select.select([channel], [], [], seconds)
        out = channel.recv(65536) if channel.recv_ready() else b""
        err = channel.recv_stderr(65536) if channel.recv_stderr_ready() else b""
        return out, err

    def close(self) -> int | None:
        status = (self.channel.recv_exit_status() if self.channel.exit_status_ready()
                  else None)
        self.channel.close()
        return status


class GuestSsh:
    """SSH for a runtime whose routers live in the micro-VM: one connection per process,
    shared by the verifier's threads and made anew when the guest drops it. Needs ``state``
    (the lab's name; ``state.vm``: SSH port, console) and ``tag`` (the VM's owner tag)."""

    state: Any
    tag: str

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client: paramiko.SSHClient | None = None
        # Connections given up on while other threads may still be reading from them:
        # closed with the runtime.
        self._retired: list[paramiko.SSHClient] = []
        self._lock = threading.Lock()

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
                except SSH_ERRORS as exc:
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

    def open_channel(self, command: str, timeout: float | None,
                     pty: bool = False) -> paramiko.Channel:
        """``command`` started on a new channel of the shared connection. Not paramiko's
        SSHClient.exec_command: the stdin file it returns shuts the channel's sending side
        when it is garbage-collected, taking the channel's lock; collected in paramiko's
        transport thread while that thread holds the same lock (closing the channel), it
        deadlocks the connection (seen in CI: a verify stalled for minutes on every
        question of that connection until it was given up)."""
        transport = self.client().get_transport()
        if transport is None or not transport.is_active():
            raise paramiko.SSHException("the connection is closed")
        channel = transport.open_session(timeout=timeout)
        try:
            if pty:
                channel.get_pty()
            channel.settimeout(timeout)
            channel.exec_command(command)
        except BaseException:
            channel.close()
            raise
        return channel

    def run(self, command: str, timeout: float = 60.0) -> ExecResult:
        # An emulated guest under load can drop the connection or leave a channel request
        # unanswered (paramiko: "Timeout opening channel"): try again, on a new connection
        # from the second failure on (a new connection is served by a new sshd process).
        for attempt in range(1, RUN_ATTEMPTS + 1):
            try:
                return self.run_once(command, timeout)
            except TimeoutError:
                return ExecResult(124, "", f"timed out after {timeout:.0f}s")
            except SSH_ERRORS as exc:
                with self._lock:
                    transport = self._client.get_transport() if self._client else None
                    if self._client is not None and (
                            transport is None or not transport.is_active() or attempt >= 2):
                        self._retired.append(self._client)
                        self._client = None  # the next attempt connects anew
                if attempt == RUN_ATTEMPTS:
                    raise RuntimeFailure(
                        f"cannot reach the micro-VM of lab {self.state.lab}: {exc}",
                        hint=f"console log: {self.state.vm.get('console')}") from None
                time.sleep(2 * attempt)
        raise AssertionError("unreachable")

    def run_once(self, command: str, timeout: float) -> ExecResult:
        """One attempt: raises what a lost connection or a timeout raises."""
        channel = self.open_channel(command, timeout)
        try:
            # Nothing to send: the program reads end-of-file on its stdin at once.
            channel.shutdown_write()
            out = channel.makefile("rb").read().decode(errors="replace")
            err = channel.makefile_stderr("rb").read().decode(errors="replace")
            return ExecResult(channel.recv_exit_status(), out, err)
        finally:
            channel.close()

    def stream(self, command: str, progress: Progress) -> tuple[int, str]:
        """Run a command, passing its 'progress:' lines on as they come. It runs on a pty, so
        that when this process stops (Ctrl-C, SIGTERM) the guest's side gets SIGHUP rather
        than deploying on alone."""
        try:
            channel = self.open_channel(f"{command} 2>&1", None, pty=True)
            try:
                lines = []
                for line in iter(channel.makefile("r").readline, ""):
                    lines.append(line)
                    if line.startswith("progress: "):
                        progress(line[len("progress: "):].strip())
                return channel.recv_exit_status(), "".join(lines)
            finally:
                channel.close()
        except SSH_ERRORS as exc:
            raise RuntimeFailure(f"lost the micro-VM of lab {self.state.lab}: {exc}",
                                 hint=f"console log: {self.state.vm.get('console')}") from None

    def open_stream(self, argv: list[str]) -> SshStream:
        """A program run in the guest, its output read as it comes, bytes as they are (no
        terminal: nothing rewrites a pcap's line ends)."""
        try:
            # SshStream reads only what is ready: the channel's timeout never applies.
            channel = self.open_channel(shlex.join(argv), HANDSHAKE_SECONDS)
        except SSH_ERRORS as exc:
            raise RuntimeFailure(f"cannot reach the micro-VM of lab {self.state.lab}: {exc}",
                                 hint=f"console log: {self.state.vm.get('console')}") from None
        return SshStream(channel)

    def close(self) -> None:
        for client in [*self._retired, self._client]:
            if client is not None:
                client.close()
        self._retired.clear()
        self._client = None
