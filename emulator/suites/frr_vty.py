"""FRR's vty protocol, spoken directly to the daemons' vty sockets: many `show` answers from
many routers in one short-lived process.

Under software emulation a `vtysh` costs about a second before it asks anything (it builds
the whole command tree of every daemon); a daemon answers a command on its socket in a few
milliseconds. The protocol is vtysh's own (lib/vty.c, vtysh/vtysh.c): the client writes a
command ending in a NUL byte, the daemon writes the output followed by three NUL bytes and
the command's status. Unix sockets are not per network namespace, so one process reaches
every router's daemons (``/run/frr/<namespace>/<daemon>.vty``).

Run as a script (``python3 -S frr_vty.py``): standard library only and no package imports,
since every module a Python process loads costs time inside the micro-VM. It reads a JSON
list of ``[socket, [command, ...]]`` on standard input and writes, for each socket, a list of
``[exit status, output]`` (the exit status `vtysh -c` would have had).
"""

from __future__ import annotations

import json
import socket
import sys
import threading

# Statuses after which vtysh -c exits 0 (lib/command.h: CMD_SUCCESS, CMD_WARNING,
# CMD_SUCCESS_DAEMON).
SUCCESS = {0, 1, 10}
TIMEOUT = 60.0


def ask(path: str, commands: list[str], timeout: float = TIMEOUT) -> list[tuple[int, str]]:
    """Each command's (exit status, output) from one daemon, over one connection. A daemon
    that cannot be reached answers every command with exit status 1 and the reason."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(path)
            answers = [exchange(connection, command) for command in ["enable", *commands]]
    except OSError as exc:
        return [(1, f"% {path}: {exc}")] * len(commands)
    return answers[1:]


def exchange(connection: socket.socket, command: str) -> tuple[int, str]:
    connection.sendall(command.encode() + b"\0")
    received = bytearray()
    # The output is text (no NUL byte): the answer is complete when it ends with three
    # NUL bytes and the status byte.
    while len(received) < 4 or received[-4:-1] != b"\0\0\0":
        chunk = connection.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        received += chunk
    status = received[-1]
    return (0 if status in SUCCESS else 1), received[:-4].decode(errors="replace")


def main() -> int:
    requests = json.load(sys.stdin)
    answers: list = [None] * len(requests)

    def serve(index: int) -> None:
        path, commands = requests[index]
        answers[index] = ask(path, commands)
    threads = [threading.Thread(target=serve, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump(answers, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
