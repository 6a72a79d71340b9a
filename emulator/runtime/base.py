"""What every runtime offers: where routers live, how a command or a capture runs in them.

A runtime module subclasses ``Runtime`` and is listed in ``registry.py``; nothing outside
``emulator/runtime`` knows how a runtime names or reaches its routers.
"""

from __future__ import annotations

import json
import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from emulator.runtime.state import LabState
from emulator.suites import SUITES, question_argv
from emulator.suites.contract import Question, RoutingSuite

if TYPE_CHECKING:
    from emulator.runtime.frr_check import Verdict

Progress = Callable[[str], None]


@dataclass
class ExecResult:
    returncode: int
    stdout: str
    stderr: str


class CaptureFailed(Exception):
    """A capture returned less than asked for (a tcpdump that never started, say)."""


@dataclass(frozen=True)
class Tap:
    """A packet capture on one router's interface, packets it sends."""

    node: str
    interface: str


class Runtime(ABC):
    name: ClassVar[str]
    # What `mplslab up --runtime auto` prefers first (lower first).
    preference: ClassVar[int] = 100

    def __init__(self, state: LabState):
        self.state = state

    @classmethod
    @abstractmethod
    def available(cls) -> tuple[bool, str]:
        """Whether routers can run this way on this host, and why (not)."""

    @classmethod
    @abstractmethod
    def force_down(cls, lab: str) -> list[str]:
        """Remove whatever this runtime holds of ``lab``, found by name alone (the state file
        may be gone or damaged); return what was removed."""

    @classmethod
    def resolve_request(cls) -> tuple[str, str]:
        """The runtime that serves an explicit ``--runtime <name>`` here, and why (itself)."""
        return cls.name, "asked for"

    @classmethod
    def bgpd_verdict(cls, image: str | None) -> tuple[str, Verdict]:
        """Which bgpd the routers will run (words for a message) and whether it carries the
        fix for FRR's label-bind defect (emulator/runtime/frr_check.py). Here: the
        appliance's, fixed when it was built (nothing to read before it is built: the build
        makes the fix, or records why it could not). Runtimes on another FRR override it."""
        from emulator.runtime import appliance

        return appliance.routers_bgpd_verdict()

    @abstractmethod
    def up(self, progress: Progress) -> None: ...

    @abstractmethod
    def down(self) -> None: ...

    @abstractmethod
    def reset(self, progress: Progress) -> None:
        """Put every router back to the configuration its deploy left (kernel set-up and
        each suite's deployed configuration, ``netns.NetnsLab.reset``), recreating nothing:
        the routers, links and daemons stay as they run."""

    @abstractmethod
    def gone(self) -> str | None:
        """None while the lab's routers exist; otherwise why they do not (quickly)."""

    @abstractmethod
    def exec(self, node: str, argv: list[str], timeout: float = 60.0) -> ExecResult:
        """Run a program inside a router. ``vtysh`` reaches that router's FRR."""

    def addressed(self, node: str, argv: list[str]) -> list[str]:
        """``argv`` as ``exec`` runs it inside the router (a suite's client pointed at that
        router's daemons, where the runtime needs it)."""
        return argv

    def with_tools(self, node: str, argv: list[str]) -> list[str]:
        """``argv`` as `mplslab exec` runs it: a suite client (vtysh, birdc) that it runs,
        or a shell, a script or any program it starts runs, reaches that router's daemons
        (where the runtime needs to point them there)."""
        return argv

    def exec_many(self, node: str, argvs: list[list[str]],
                  timeout: float = 120.0) -> list[ExecResult]:
        """Several programs run one after the other inside a router, in one ``exec`` (under
        software emulation each exec costs a round trip and a process start)."""
        result = self.exec(node, shell_batch([self.addressed(node, a) for a in argvs]),
                           timeout=timeout)
        answers = split_batch(result.stdout, len(argvs))
        if answers is None:  # the batch itself did not run to its end: one at a time
            return [self.exec(node, argv, timeout=timeout) for argv in argvs]
        return answers

    def ask(self, node: str, question: Question) -> ExecResult:
        """One reading, by the suite's client inside the router."""
        return self.exec(node, question_argv(question))

    def read_many(self, questions: dict[str, list[Question]]) -> dict[str, list[ExecResult]]:
        """The answers to many routers' readings (nothing changes on them). Where this
        process's runtime reaches the routers' daemons' sockets (``reader_pathspace``), a
        suite's ``READER`` answers all its questions in one process; the rest run in one
        ``exec_many`` per router. All of these at once: each is mostly a round trip and a
        process start under emulation. What a reader could not answer goes the ``exec_many``
        way afterwards."""
        answers: dict[str, list[ExecResult | None]] = {
            node: [None] * len(asked) for node, asked in questions.items()}
        readers = {suite.NAME for suite in SUITES.values()}
        direct = {node: [i for i, question in enumerate(asked)
                         if question.of not in readers or self.reader_pathspace(node) is None]
                  for node, asked in questions.items()}
        with ThreadPoolExecutor(max_workers=4 + len(SUITES)) as pool:
            reading = [pool.submit(self.read_through_sockets, suite, questions, answers)
                       for suite in SUITES.values()]
            self.exec_questions(questions, direct, answers, pool)
            for read in reading:
                read.result()
            left = {node: [i for i, answer in enumerate(answers[node]) if answer is None]
                    for node in questions}
            self.exec_questions(questions, left, answers, pool)
        return answers  # type: ignore[return-value]

    def exec_questions(self, questions: dict[str, list[Question]],
                       indices: dict[str, list[int]],
                       answers: dict[str, list[ExecResult | None]],
                       pool: ThreadPoolExecutor) -> None:
        """``questions[node][i]`` for each i of ``indices[node]``, by the suites' clients and
        the kernel's tools inside the routers, one ``exec_many`` per router in parallel."""
        nodes = [node for node, chosen in indices.items() if chosen]
        asked = pool.map(lambda node: self.exec_many(
            node, [question_argv(questions[node][i]) for i in indices[node]]), nodes)
        for node, results in zip(nodes, asked, strict=True):
            for index, result in zip(indices[node], results, strict=True):
                answers[node][index] = result

    def reader_pathspace(self, node: str) -> str | None:
        """The pathspace of ``node``'s daemons when ``run_reader`` reaches their sockets."""
        return None

    def run_reader(self, script: Path, request: str) -> ExecResult:
        """Run a suite's reader script where the routers' sockets are, ``request`` on its
        standard input."""
        raise NotImplementedError

    def read_through_sockets(self, suite: RoutingSuite, questions: dict[str, list[Question]],
                             answers: dict[str, list[ExecResult | None]]) -> None:
        requests: list[list] = []
        slots: dict[str, int] = {}
        placed: list[tuple[str, int, int, int]] = []  # node, question, request, command
        for node, asked in questions.items():
            pathspace = self.reader_pathspace(node)
            if pathspace is None:
                continue
            for index, question in enumerate(asked):
                if question.of != suite.NAME:
                    continue
                path, command = suite.socket_request(pathspace, question)
                if path not in slots:
                    slots[path] = len(requests)
                    requests.append([path, []])
                requests[slots[path]][1].append(command)
                placed.append((node, index, slots[path], len(requests[slots[path]][1]) - 1))
        if not requests:
            return
        result = self.run_reader(suite.READER, json.dumps(requests))
        try:
            replies = json.loads(result.stdout)
        except json.JSONDecodeError:
            return  # the reader did not run: these questions go the usual way
        for node, index, request, command in placed:
            status, text = replies[request][command]
            answers[node][index] = ExecResult(status, text, "" if status == 0 else text)

    @abstractmethod
    def capture(self, taps: list[Tap], node: str, argv: list[str], *, packets: int = 40,
                bpf: str = "icmp or mpls") -> list[str]:
        """Start a capture on every tap, run ``argv`` on ``node`` once all listen, and return
        each tap's decoded packets (tcpdump -nn lines), in the order of ``taps``."""

    def record(self, node: str, interface: str, write: Callable[[bytes], None], *,
               count: int | None = None, bpf: str | None = None,
               said: Callable[[str], None] = lambda line: None) -> int | None:
        """A capture for a user (`mplslab capture`): tcpdump on ``node``'s ``interface``
        writing pcap, its bytes passed to ``write`` as they come and its messages to
        ``said``, until it has ``count`` packets or is stopped (Ctrl-C, or a reader that
        went away); no tcpdump is left in the router. Its exit status (None: it did not
        end when stopped)."""
        raise NotImplementedError(f"the {self.name} runtime streams no capture")

    @abstractmethod
    def status(self) -> dict: ...

    def interactive(self, node: str, argv: list[str]) -> int:
        """An interactive command (vtysh) on a router, attached to this terminal."""
        raise NotImplementedError


def quote(argv: list[str]) -> str:
    return shlex.join(argv)


BATCH_MARK = "@@mplslab-batch"


def shell_batch(argvs: list[list[str]]) -> list[str]:
    """One shell running ``argvs`` in turn; each one's exit status, output and errors come
    back between marker lines (``split_batch``)."""
    lines = ['d=$(mktemp -d)']
    for index, argv in enumerate(argvs):
        lines.append(f'{shlex.join(argv)} > "$d/out" 2> "$d/err"')
        lines.append(f'echo "{BATCH_MARK} {index} $?"; cat "$d/out"; echo; '
                     f'echo "{BATCH_MARK} stderr"; cat "$d/err"; echo')
    lines.append('rm -rf "$d"')
    return ["sh", "-c", "\n".join(lines)]


def split_batch(output: str, count: int) -> list[ExecResult] | None:
    """The answer of each program of a ``shell_batch``, in order; None unless all are there."""
    parts = re.split(rf"^{BATCH_MARK} (\d+) (\d+)\n", output, flags=re.MULTILINE)[1:]
    answers = []
    for index in range(0, len(parts), 3):
        out, found, err = parts[index + 2].partition(f"\n{BATCH_MARK} stderr\n")
        if not found or int(parts[index]) != len(answers):
            return None
        answers.append(ExecResult(int(parts[index + 1]), out, err.removesuffix("\n")))
    return answers if len(answers) == count else None
