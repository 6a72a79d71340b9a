"""GuestSsh against a real SSH server (paramiko's server side, in this process, on a loopback
port): a command's output, error output and exit status come back, the program reads
end-of-file on its stdin, a progress line streams as it comes, and no command ever gets a
paramiko stdin file (whose collection in the transport thread deadlocked a CI run)."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import paramiko
import pytest

from emulator.runtime import vm_ssh
from emulator.runtime.vm_ssh import GuestSsh

# What the stand-in guest does for each command: (stdout, stderr, exit status).
ANSWERS = {
    "hello": (b"out\n", b"err\n", 3),
    "deploy": (b"progress: creating 2 namespaces\nprogress: starting daemons\ndone\n", b"", 0),
}


class Guest(paramiko.ServerInterface):
    """Accepts any key, runs ``ANSWERS``; records whether each program saw EOF on stdin."""

    def __init__(self):
        self.eof_seen: dict[str, bool] = {}

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL

    def get_allowed_auths(self, username):
        return "publickey"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED

    def check_channel_pty_request(self, *args):
        return True

    def check_channel_exec_request(self, channel, command):
        threading.Thread(target=self.answer, args=(channel, command.decode()),
                         daemon=True).start()
        return True

    def answer(self, channel: paramiko.Channel, command: str) -> None:
        name = command.split()[0]
        out, err, status = ANSWERS[name]
        if name == "deploy":  # on a pty: nothing closes its input
            time.sleep(0.3)  # answer once the request's reply has reached the client
        else:
            channel.settimeout(5)
            try:
                self.eof_seen[name] = channel.recv(10) == b""
            except TimeoutError:
                self.eof_seen[name] = False
        channel.sendall(out)
        channel.sendall_stderr(err)
        channel.send_exit_status(status)
        channel.close()


@pytest.fixture
def guest(tmp_path, monkeypatch):
    key = paramiko.RSAKey.generate(1024)
    key.write_private_key_file(str(tmp_path / "id"))
    monkeypatch.setattr(vm_ssh, "SSH_KEY", tmp_path / "id")
    server = Guest()
    listener = socket.create_server(("127.0.0.1", 0))
    transports = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(connection)
            transport.add_server_key(key)
            transport.start_server(server=server)
            transports.append(transport)

    threading.Thread(target=serve, daemon=True).start()
    ssh = GuestSsh()
    ssh.state = SimpleNamespace(lab="lab1", vm={"ssh_port": listener.getsockname()[1],
                                                "console": "console.log"})
    ssh.tag = "test"
    yield ssh, server
    ssh.close()
    listener.close()
    for transport in transports:
        transport.close()


def test_a_command_gives_its_output_error_output_and_exit_status(guest, monkeypatch):
    ssh, server = guest

    def refused(*args, **kwargs):
        raise AssertionError("a stdin file deadlocks when collected in the transport thread")

    monkeypatch.setattr(paramiko.Channel, "makefile_stdin", refused)
    result = ssh.run("hello world")
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert server.eof_seen["hello"]
    # The connection is shared: a second command uses it again.
    assert ssh.run("hello again").returncode == 3


def test_a_streamed_command_passes_its_progress_lines_on(guest):
    ssh, _ = guest
    said: list[str] = []
    status, output = ssh.stream("deploy lab1", said.append)
    assert status == 0
    assert said == ["creating 2 namespaces", "starting daemons"]
    assert output.replace("\r\n", "\n").endswith("done\n")
