"""The runner: one question per router per round of a phase, asked together with the
round's other questions; never a stale answer to a retry, never a cached change; a phase
that does not converge costs one deadline."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from emulator.runtime.base import ExecResult
from emulator.suites.contract import Question
from emulator.verify import runner
from emulator.verify.runner import SharedReadings


class CountingRuntime:
    def __init__(self):
        self.calls: list[tuple[str, object]] = []
        self.fetches: list[dict] = []
        self.lock = threading.Lock()

    def exec(self, node, argv, timeout=60.0):
        return self.counted(node, tuple(argv))

    def ask(self, node, question):
        return self.counted(node, question)

    def counted(self, node, what):
        with self.lock:
            self.calls.append((node, what))
            count = len(self.calls)
        time.sleep(0.05)
        return ExecResult(0, f"answer {count}", "")

    def read_many(self, questions):
        """One call for all the routers' questions (as the namespace runtimes' reader)."""
        with self.lock:
            self.fetches.append({node: list(asked) for node, asked in questions.items()})
        return {node: [ExecResult(0, f"{node}: {question}", "") for question in asked]
                for node, asked in questions.items()}


SHOW = Question("frr", ("show mpls table json",))
KERNEL = Question.kernel("ip", "-j", "-f", "mpls", "route", "show")


def test_concurrent_identical_readings_ask_the_router_once():
    real = CountingRuntime()
    shared = SharedReadings(real)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: shared.ask("P-1", SHOW).stdout, range(8)))
    assert len(real.calls) == 1 and set(answers) == {"answer 1"}
    shared.ask("P-2", SHOW)
    shared.ask("P-1", KERNEL)
    shared.ask("P-1", KERNEL)
    assert len(real.calls) == 3


def test_a_new_round_reads_afresh():
    real = CountingRuntime()
    shared = SharedReadings(real)
    assert shared.ask("P-1", SHOW).stdout == "answer 1"
    assert shared.ask("P-1", SHOW).stdout == "answer 1"
    shared.new_round()
    assert shared.ask("P-1", SHOW).stdout == "answer 2"


def test_each_round_of_a_phase_asks_each_question_once(monkeypatch):
    from emulator.verify.checks import Check
    monkeypatch.setattr(runner, "RETRY_PAUSE", 0.01)
    real = CountingRuntime()

    def probe(runtime):  # two checks reading the same table, neither ever satisfied
        runtime.ask("P-1", SHOW)
        return False, {}
    batch = [Check(f"c{i}", "mpls-lfib", "P-1", "x", probe) for i in range(2)]
    with ThreadPoolExecutor(4) as pool:
        results = runner.run_phase(batch, SharedReadings(real), 0.3, pool)
    rounds = results[0].attempts
    assert results[1].attempts == rounds and len(real.fetches) == rounds and not real.calls
    assert all(fetch == {"P-1": [SHOW]} for fetch in real.fetches)


LDP = Question("frr", ("show mpls ldp neighbor json",))


def test_a_round_asks_all_routers_together_and_follows_answers_to_the_next_question():
    """Checks whose next question depends on an answer (a label chain: router after router)
    go round again; every pass asks all open questions of all routers in one call."""
    from emulator.verify.checks import Check
    real = CountingRuntime()

    def chain(start: str, hops: int):
        def probe(runtime):
            node = start
            for hop in range(hops):  # each answer names the next router to ask
                answer = runtime.ask(node, SHOW).stdout
                assert answer == f"{node}: {SHOW}"
                node = f"{start}-{hop + 1}"
            return True, {"last": node}
        return probe

    def session(runtime):
        return "ldp" in runtime.ask("P-9", LDP).stdout, {}
    batch = [Check("chain A", "label-chain", "A", "x", chain("A", 3)),
             Check("chain B", "label-chain", "B", "x", chain("B", 1)),
             Check("session", "ldp-session", "P-9", "x", session)]
    with ThreadPoolExecutor(4) as pool:
        results = runner.run_phase(batch, SharedReadings(real), 5, pool)
    assert all(r.passed and r.attempts == 1 for r in results)
    assert results[0].observed == {"last": "A-3"}
    assert real.fetches == [
        {"A": [SHOW], "B": [SHOW], "P-9": [LDP]},
        {"A-1": [SHOW]},
        {"A-2": [SHOW]},
    ]
    assert not real.calls


def test_captures_start_before_the_pings_of_their_phase():
    """With fewer workers than acts, the longest acts (captures) are not left to wait
    behind pings: they are handed to the workers first."""
    from emulator.verify.checks import Check
    started: list[str] = []

    class Acting(CountingRuntime):
        def capture(self, taps, node, argv, **kwargs):
            started.append(f"capture {node}")
            return ["seen"]

        def exec(self, node, argv, timeout=60.0):
            started.append(f"ping {node}")
            return super().exec(node, argv, timeout)

    def ping(node):
        def probe(runtime):
            runtime.exec(node, ["ping", "x"])
            return True, {}
        return probe

    def capture(runtime):
        runtime.capture([], "CE-1", ["ping", "y"])
        return True, {}
    batch = [Check(f"ping {n}", "isolation", n, "x", ping(n), retry=False)
             for n in ("CE-1", "CE-2", "CE-3")]
    batch.append(Check("wire", "wire-labels", "CE-1", "x", capture))
    with ThreadPoolExecutor(1) as pool:
        results = runner.run_phase(batch, SharedReadings(Acting()), 5, pool)
    assert all(r.passed for r in results)
    assert started[0] == "capture CE-1", started


def test_a_check_probed_again_asks_what_it_asked_last_time_all_at_once(monkeypatch):
    """A chain read router after router takes a pass per router the first time; its retry,
    and a check that asks like it (label-steady), fetch all of it in the first pass."""
    from emulator.verify.checks import Check
    monkeypatch.setattr(runner, "RETRY_PAUSE", 0.01)
    real = CountingRuntime()
    tries = {"chain": 0}

    def chain(runtime):
        node = "A"
        for hop in range(3):
            runtime.ask(node, SHOW)
            node = f"A-{hop + 1}"
        tries["chain"] += 1
        return tries["chain"] > 1, {}  # holds on its second probe
    readings = SharedReadings(real)
    with ThreadPoolExecutor(4) as pool:
        [result] = runner.run_phase([Check("chain A", "label-chain", "A", "x", chain)],
                                    readings, 5, pool)
        assert result.passed and result.attempts == 2
        assert real.fetches == [{"A": [SHOW]}, {"A-1": [SHOW]}, {"A-2": [SHOW]},
                                {"A": [SHOW], "A-1": [SHOW], "A-2": [SHOW]}]
        real.fetches.clear()
        steady = Check("still: chain A", "label-steady", "A", "x", chain, retry=False,
                       asks_like="chain A")
        assert runner.run_phase([steady], readings, 5, pool)[0].passed
    assert real.fetches == [{"A": [SHOW], "A-1": [SHOW], "A-2": [SHOW]}]


def test_a_check_that_acts_runs_on_its_own_and_reads_the_rounds_answers():
    """A ping is never run while questions are collected (it would run again); the check
    runs once, with its readings answered from the round's fetch."""
    from emulator.verify.checks import Check
    real = CountingRuntime()

    def ping_after_reading(runtime):
        table = runtime.ask("CE-1", SHOW).stdout
        pinged = runtime.exec("CE-1", ["ping", "-c", "1", "10.0.0.1"]).stdout
        return True, {"table": table, "ping": pinged}
    batch = [Check("ping", "ping", "CE-1", "x", ping_after_reading)]
    with ThreadPoolExecutor(4) as pool:
        results = runner.run_phase(batch, SharedReadings(real), 5, pool)
    assert real.calls == [("CE-1", ("ping", "-c", "1", "10.0.0.1"))]
    assert real.fetches == [{"CE-1": [SHOW]}]
    assert results[0].observed["table"] == "CE-1: show mpls table json"


def test_commands_that_act_are_never_shared():
    """Only a Question is a reading: anything run with exec (a change, a ping, a link set
    down) runs every time it is asked for."""
    real = CountingRuntime()
    shared = SharedReadings(real)
    for argv in (["vtysh", "-c", "configure terminal", "-c", "router bgp 1"],
                 ["ping", "-c", "3", "10.0.0.1"], ["ip", "link", "set", "eth1", "down"]):
        shared.exec("P-1", argv)
        shared.exec("P-1", argv)
    assert len(real.calls) == 6


def scripted_check(name: str, passes_on: int | None, rounds: list, retry: bool = True):
    """A check whose probe holds from its ``passes_on``-th attempt (never when None), and
    records in ``rounds`` which attempt of which check ran."""
    from emulator.verify.checks import Check
    attempts = {"n": 0}

    def probe(runtime):
        attempts["n"] += 1
        rounds.append((name, attempts["n"]))
        return passes_on is not None and attempts["n"] >= passes_on, {"attempt": attempts["n"]}
    return Check(name, "ping", None, "holds", probe, retry=retry)


def test_a_phase_retries_its_open_checks_together_until_one_deadline(monkeypatch):
    monkeypatch.setattr(runner, "RETRY_PAUSE", 0.05)
    rounds: list = []
    batch = [scripted_check("at once", 1, rounds), scripted_check("third try", 3, rounds),
             scripted_check("never A", None, rounds), scripted_check("never B", None, rounds),
             scripted_check("no retry", None, rounds, retry=False)]
    with ThreadPoolExecutor(4) as pool:
        results = runner.run_phase(batch, SharedReadings(CountingRuntime()), 0.6, pool)
    assert [r.name for r in results] == [c.name for c in batch]
    by_name = {r.name: r for r in results}
    assert by_name["at once"].passed and by_name["at once"].attempts == 1
    assert by_name["third try"].passed and by_name["third try"].attempts == 3
    assert by_name["no retry"].attempts == 1 and not by_name["no retry"].passed
    never = [by_name["never A"], by_name["never B"]]
    # Both failing checks ran in the same rounds, so the phase cost one deadline, not two.
    assert not any(r.passed for r in never)
    assert never[0].attempts == never[1].attempts > 3
    assert never[0].observed == {"attempt": never[0].attempts}
    # A check that holds is never probed again.
    assert [n for name, n in rounds if name == "at once"] == [1]
    assert [n for name, n in rounds if name == "third try"] == [1, 2, 3]


def test_a_check_without_retries_still_asks_again_when_its_probe_gave_no_verdict(monkeypatch):
    """An isolation ping that did not run (the guest dropped the SSH channel: exit -1) is no
    evidence either way: asked again, past a short deadline, its second answer is the
    verdict; a probe that never answers fails after INCONCLUSIVE_ATTEMPTS."""
    from emulator.suites.records import ProbeError
    from emulator.verify.checks import Check
    monkeypatch.setattr(runner, "RETRY_PAUSE", 0.01)
    answers = {"flaky": 0, "mute": 0}

    def flaky(runtime):
        answers["flaky"] += 1
        if answers["flaky"] == 1:
            raise ProbeError("CE-2: the ping did not run (exit -1): ")
        return True, {"replies": False}

    def mute(runtime):
        answers["mute"] += 1
        raise ProbeError("CE-2: the ping did not run (exit -1): ")

    batch = [Check("flaky", "isolation", "CE-2", {}, flaky, retry=False),
             Check("mute", "isolation", "CE-2", {}, mute, retry=False),
             scripted_check("verdict", None, [], retry=False)]
    with ThreadPoolExecutor(2) as pool:
        results = runner.run_phase(batch, SharedReadings(CountingRuntime()), 0.0, pool)
    by_name = {r.name: r for r in results}
    assert by_name["flaky"].passed and by_name["flaky"].attempts == 2
    assert not by_name["mute"].passed
    assert by_name["mute"].attempts == runner.INCONCLUSIVE_ATTEMPTS
    assert "error" in by_name["mute"].observed
    assert by_name["verdict"].attempts == 1  # a verdict is never asked again


def test_a_budget_bounds_every_phase_together(monkeypatch):
    """`exercise check`'s first look: the own kinds of several phases share one budget; a
    phase reached after it is spent still probes once, so every check has its verdict."""
    from dataclasses import replace
    from types import SimpleNamespace

    monkeypatch.setattr(runner, "RETRY_PAUSE", 0.05)
    rounds: list = []
    checks = [replace(scripted_check("session", None, rounds), kind="bgp-session"),
              replace(scripted_check("route", None, rounds), kind="vpnv4-route"),
              replace(scripted_check("late route", 2, rounds), kind="vpnv4-route")]
    monkeypatch.setattr(runner, "derive", lambda lab: checks)
    runtime = CountingRuntime()
    runtime.gone = lambda: None
    lab = SimpleNamespace(name="lab", variant=None, deviations=[])
    started = time.monotonic()
    report = runner.run_checks(lab, runtime, deadline=30.0, budget=0.3)
    assert time.monotonic() - started < 5.0  # not 30 s per phase
    by_name = {r.name: r for r in report.results}
    assert by_name["session"].attempts > 2 and not by_name["session"].passed
    assert by_name["route"].attempts == 1 and not by_name["route"].passed
    assert by_name["late route"].attempts == 1 and not by_name["late route"].passed
