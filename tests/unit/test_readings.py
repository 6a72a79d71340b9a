"""Reading many routers at once: several programs in one shell (each one's status, output
and errors kept apart), and FRR's vty protocol spoken straight to daemon sockets (framing as
lib/vty.c writes it: output, three NUL bytes, the status). The live routers' answers are
compared with vtysh's own in the end-to-end tests (test_option1)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

from emulator.runtime.base import ExecResult, shell_batch, split_batch
from emulator.suites import frr, frr_vty
from emulator.suites.contract import Question


def run_shell(argv: list[str]) -> ExecResult:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return ExecResult(done.returncode, done.stdout, done.stderr)


def test_a_shell_batch_keeps_each_programs_status_output_and_errors_apart():
    argvs = [["echo", "one"], ["sh", "-c", "echo out; echo oops >&2; exit 3"],
             ["printf", "no newline"], ["true"], ["printf", "two\\n\\nlines\\n\\n"]]
    answers = split_batch(run_shell(shell_batch(argvs)).stdout, len(argvs))
    assert answers == [ExecResult(0, "one\n", ""), ExecResult(3, "out\n", "oops\n"),
                       ExecResult(0, "no newline", ""), ExecResult(0, "", ""),
                       ExecResult(0, "two\n\nlines\n\n", "")]


def test_a_batch_cut_short_is_no_answer():
    output = run_shell(shell_batch([["echo", "a"], ["echo", "b"]])).stdout
    assert split_batch(output, 2) is not None
    assert split_batch(output[:output.rindex("@@mplslab")], 2) is None
    assert split_batch("", 1) is None


class VtyDaemon:
    """A unix socket answering as an FRR daemon frames its answers: each command's output
    (sent in small pieces, as a busy daemon may), then three NUL bytes and the status."""

    def __init__(self, path: Path, answers: dict[str, tuple[str, int]]):
        self.path, self.answers, self.heard = path, answers, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        connection, _ = self.server.accept()
        pending = b""
        while chunk := connection.recv(4096):
            pending += chunk
            while b"\0" in pending:
                command, pending = pending.split(b"\0", 1)
                self.heard.append(command.decode())
                text, status = self.answers.get(command.decode(), ("% Unknown command\n", 2))
                framed = text.encode() + b"\0\0\0" + bytes([status])
                for start in range(0, len(framed), 7):
                    connection.sendall(framed[start:start + 7])
        connection.close()


def test_the_vty_reader_frames_answers_as_vtysh_would(tmp_path):
    table = json.dumps({"16": {"inLabel": 16, "installed": True}}, indent=2) + "\n"
    daemon = VtyDaemon(tmp_path / "zebra.vty", {"enable": ("", 0),
                                               "show mpls table json": (table, 0),
                                               "show ip route json": ("{}\n", 1)})
    answers = frr_vty.ask(str(daemon.path), ["show mpls table json", "show ip route json",
                                             "show nonsense"], timeout=10)
    assert answers == [(0, table), (0, "{}\n"), (1, "% Unknown command\n")]
    assert daemon.heard == ["enable", "show mpls table json", "show ip route json",
                            "show nonsense"]
    assert frr_vty.ask(str(tmp_path / "absent.vty"), ["show x"])[0][0] == 1


def test_the_vty_reader_as_a_script_answers_every_socket(tmp_path):
    daemons = [VtyDaemon(tmp_path / f"{name}.vty", {"enable": ("", 0),
                                                   f"show {name} json": (f'"{name}"\n', 0)})
               for name in ("bgpd", "ldpd")]
    request = json.dumps([[str(d.path), [f"show {d.path.stem} json"]] for d in daemons])
    done = subprocess.run([sys.executable, "-S", str(frr.READER)], input=request,
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [[[0, '"bgpd"\n']], [[0, '"ldpd"\n']]]


def test_a_question_goes_to_the_socket_of_the_one_daemon_that_answers_it():
    ldp = Question(frr.NAME, ("show mpls ldp neighbor json",))
    assert frr.socket_request("lab_P-1", ldp) == ("/run/frr/lab_P-1/ldpd.vty",
                                                  "show mpls ldp neighbor json")
    assert frr.question_argv(ldp) == ["vtysh", "-d", "ldpd", "-c",
                                      "show mpls ldp neighbor json"]
    table = Question(frr.NAME, ("show mpls table json",))
    assert frr.socket_request("lab_P-1", table)[0] == "/run/frr/lab_P-1/zebra.vty"


class ReaderHost:
    """A runtime whose routers' FRR sockets are under ``root`` and whose other programs
    answer with their own argv; ``reader_runs`` says whether the reader script works."""

    def __init__(self, root: Path, reader_runs: bool = True):
        self.root, self.reader_runs, self.executed = root, reader_runs, []

    def make(self):
        from emulator.runtime.base import Runtime
        host = self

        class Host(Runtime):
            name = "test"
            available = force_down = up = down = reset = gone = capture = status = None

            def exec(self, node, argv, timeout=60.0):
                host.executed.append((node, tuple(argv)))
                return ExecResult(0, f"{node} ran {' '.join(argv)}", "")

            def exec_many(self, node, argvs, timeout=120.0):
                return [self.exec(node, argv) for argv in argvs]

            def reader_pathspace(self, node):
                return f"lab_{node}"

            def run_reader(self, script, request):
                if not host.reader_runs:
                    return ExecResult(127, "", "python3: not found")
                return run_shell_input([sys.executable, "-S", str(script)], request)
        return Host.__new__(Host)


def run_shell_input(argv: list[str], text: str) -> ExecResult:
    done = subprocess.run(argv, input=text, capture_output=True, text=True, check=False)
    return ExecResult(done.returncode, done.stdout, done.stderr)


def test_read_many_sends_frr_questions_to_sockets_and_the_rest_to_each_router(
        tmp_path, monkeypatch):
    monkeypatch.setattr(frr, "RUN", tmp_path)
    for node, label in (("P-1", "16"), ("P-2", "17")):
        (tmp_path / f"lab_{node}").mkdir()
        VtyDaemon(tmp_path / f"lab_{node}" / "zebra.vty",
                  {"enable": ("", 0), "show mpls table json": (f'{{"{label}": {{}}}}\n', 0)})
    host = ReaderHost(tmp_path)
    kernel = Question.kernel("ip", "-j", "-f", "mpls", "route", "show")
    lfib = Question(frr.NAME, ("show mpls table json",))
    answers = host.make().read_many({"P-1": [kernel, lfib], "P-2": [lfib]})
    assert answers["P-1"][0].stdout == f"P-1 ran {kernel}"
    assert answers["P-1"][1] == ExecResult(0, '{"16": {}}\n', "")
    assert answers["P-2"] == [ExecResult(0, '{"17": {}}\n', "")]
    assert host.executed == [("P-1", tuple(kernel.words))]


def test_without_a_reader_every_question_goes_to_its_router(tmp_path, monkeypatch):
    monkeypatch.setattr(frr, "RUN", tmp_path)
    host = ReaderHost(tmp_path, reader_runs=False)
    lfib = Question(frr.NAME, ("show mpls table json",))
    answers = host.make().read_many({"P-1": [lfib]})
    assert answers["P-1"][0].stdout == f"P-1 ran {' '.join(frr.question_argv(lfib))}"


class BirdControl:
    """A unix socket answering as BIRD's control socket does: a greeting, then for each
    command line its reply lines (code and '-' or ' ', or a leading space)."""

    def __init__(self, path: Path, replies: dict[str, list[str]]):
        self.path, self.replies, self.heard = path, replies, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        connection, _ = self.server.accept()
        lines = connection.makefile("rwb")
        lines.write(b"0001 BIRD 2.17.6 ready.\n")
        lines.flush()
        while command := lines.readline():
            self.heard.append(command.decode().rstrip("\n"))
            reply = self.replies.get(self.heard[-1], ["9001 syntax error"])
            lines.write("".join(f"{line}\n" for line in reply).encode())
            lines.flush()
        connection.close()


def test_the_bird_reader_prints_what_birdc_prints(tmp_path):
    from emulator.suites import bird, bird_ctl
    control = BirdControl(tmp_path / "bird.ctl", {
        "show route table mtab": ["1007-Table mtab:", "1007-16 unicast [l3vpn 01:00] * (80)",
                                  " \tvia 10.1.1.2 on eth1 mpls 17", "0000 "],
        "show route table vrf_x 10.9.9.9/32": ["8001 Network not found"]})
    answers = bird_ctl.ask(str(control.path), ["show route table mtab",
                                               "show route table vrf_x 10.9.9.9/32"])
    assert answers == [
        (0, "BIRD 2.17.6 ready.\nTable mtab:\n16 unicast [l3vpn 01:00] * (80)\n"
            "\tvia 10.1.1.2 on eth1 mpls 17\n"),
        (1, "BIRD 2.17.6 ready.\nNetwork not found\n")]
    mtab = Question(bird.NAME, ("show", "route", "table", "mtab"))
    assert bird.socket_request("lab_PE-1", mtab) == ("/run/bird/lab_PE-1/bird.ctl",
                                                     "show route table mtab")
    assert bird.question_argv(mtab) == ["birdc", "show", "route", "table", "mtab"]
    assert bird_ctl.ask(str(tmp_path / "absent.ctl"), ["show status"])[0][0] == 1


def test_the_readers_and_the_routers_own_programs_are_asked_at_the_same_time(
        tmp_path, monkeypatch):
    """A pass of readings costs the slowest of its ways, not their sum: the FRR reader only
    answers once the kernel's question has been put to the router (a stand-in that would
    wait in vain were they asked one after the other)."""
    import threading

    monkeypatch.setattr(frr, "RUN", tmp_path)
    (tmp_path / "lab_P-1").mkdir()
    VtyDaemon(tmp_path / "lab_P-1" / "zebra.vty",
              {"enable": ("", 0), "show mpls table json": ('{"16": {}}\n', 0)})
    host = ReaderHost(tmp_path)
    runtime = host.make()
    kernel_asked = threading.Event()
    read = type(runtime).run_reader
    run_many = type(runtime).exec_many

    def reader_after_the_kernel(self, script, request):
        if not kernel_asked.wait(timeout=10):
            return ExecResult(1, "", "the kernel's question was not asked meanwhile")
        return read(self, script, request)

    def exec_many(self, node, argvs, timeout=120.0):
        kernel_asked.set()
        return run_many(self, node, argvs, timeout)
    monkeypatch.setattr(type(runtime), "run_reader", reader_after_the_kernel)
    monkeypatch.setattr(type(runtime), "exec_many", exec_many)
    kernel = Question.kernel("ip", "-j", "-f", "mpls", "route", "show")
    lfib = Question(frr.NAME, ("show mpls table json",))
    answers = runtime.read_many({"P-1": [kernel, lfib]})
    assert answers["P-1"][1] == ExecResult(0, '{"16": {}}\n', "")
    assert host.executed == [("P-1", tuple(kernel.words))]  # not again, after the reader
