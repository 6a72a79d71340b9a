"""BIRD's control-socket protocol, spoken directly: many `show` answers from many routers in
one short-lived process (each `birdc` costs a process start under software emulation).

The protocol is birdc's own (BIRD's client/client.c): on connecting, BIRD greets with a
reply line; a command is one text line; each line of the answer starts with a four-digit
code followed by '-' (more follows) or ' ' (the answer's last line), or with a space
(a continuation of the previous line). What this prints is what birdc prints: the text
after the code (none for code 0000), continuations without their space, and the exit
status birdc gives (1 when the answer ends in an error: codes 8000 and up).

Run as a script (``python3 -S bird_ctl.py``): standard library only and no package imports.
It reads a JSON list of ``[socket, [command, ...]]`` on standard input and writes, for each
socket, a list of ``[exit status, output]``.
"""

from __future__ import annotations

import json
import socket
import sys
import threading

TIMEOUT = 60.0
FIRST_ERROR_CODE = 8000


def ask(path: str, commands: list[str], timeout: float = TIMEOUT) -> list[tuple[int, str]]:
    """Each command's (exit status, output), as birdc would print it, over one connection;
    the greeting leads each output, as birdc prints it first."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(path)
            lines = connection.makefile("rwb")
            _, greeting = read_answer(lines)
            answers = []
            for command in commands:
                lines.write(command.encode() + b"\n")
                lines.flush()
                status, text = read_answer(lines)
                answers.append((status, greeting + text))
    except OSError as exc:
        return [(1, f"Unable to connect to server control socket ({path}): {exc}\n")] \
            * len(commands)
    return answers


def read_answer(lines) -> tuple[int, str]:
    printed = []
    while True:
        raw = lines.readline()
        if not raw:
            raise ConnectionError("BIRD closed the connection")
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith("+"):
            printed.append(f">>> {line[1:]}")
        elif line.startswith(" "):
            printed.append(line[1:])
        elif len(line) > 4 and line[:4].isdigit() and line[4] in " -":
            code = int(line[:4])
            if code:
                printed.append(line[5:])
            if line[4] == " ":
                text = "".join(f"{p}\n" for p in printed)
                return (1 if code >= FIRST_ERROR_CODE else 0), text
        else:
            printed.append(f"??? <{line}>")


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
