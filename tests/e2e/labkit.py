"""Helpers for the end-to-end tests: real FRR routers and a real kernel data plane (inside
the micro-VM unless this kernel has MPLS). Labs go up and down through the real CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emulator.model.build import load_lab
from emulator.model.topology import Lab
from emulator.runtime.registry import choose, make_runtime
from emulator.runtime.state import LabState
from emulator.runtime.vm import VmRuntime
from emulator.runtime.vm_pin import pinned_runtime
from emulator.runtime.vm_processes import owned_pids, owner_tag
from emulator.runtime.vm_shared import SHARED, shared_vm, vm_alive, vm_users

MPLSLAB = [sys.executable, "-m", "emulator"]
E2E_LABS = Path(__file__).parent / "labs"


def mplslab(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*MPLSLAB, *args], capture_output=True, text=True, timeout=timeout,
                            check=False, stdin=subprocess.DEVNULL)
    print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
    if check and result.returncode != 0:
        raise AssertionError(f"mplslab {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def guest_namespaces() -> list[str]:
    """The namespaces inside the running shared VM."""
    record = shared_vm()
    if not vm_alive(record):
        return []
    result = pinned_runtime(record).run("ip -j netns list")
    assert result.returncode == 0, result.stderr
    return [entry["name"] for entry in json.loads(result.stdout or "[]")]


GUEST_ANSWER_SECONDS = 45.0


def in_vm() -> bool:
    """Whether the labs run in the shared micro-VM (this kernel cannot run them itself)."""
    return choose("auto")[0] == "vm"


def guest_silence() -> str | None:
    """Why the shared guest does not run a command within GUEST_ANSWER_SECONDS, or None.
    The command runs in a thread: a hung guest can hold an SSH read far longer."""
    record = shared_vm()
    if not vm_alive(record):
        return "the micro-VM is not running"
    if not VmRuntime.answers(record):
        return f"its sshd sends no banner on 127.0.0.1:{record.get('ssh_port')}"
    answer: list = []
    runtime = pinned_runtime(record)

    def ask() -> None:
        try:
            answer.append(runtime.run("true", timeout=GUEST_ANSWER_SECONDS))
        except Exception as exc:  # a dead connection is an answer too: the guest's silence
            answer.append(exc)

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(GUEST_ANSWER_SECONDS + 15)
    if not answer:
        return f"`true` did not return within {GUEST_ANSWER_SECONDS + 15:.0f}s"
    reply = answer[0]
    if isinstance(reply, Exception):
        return f"`true` failed: {reply}"
    if reply.returncode != 0:
        return f"`true` exited {reply.returncode}: {reply.stderr.strip()[-200:]}"
    runtime.close()
    return None


def tail(path: Path | str | None, lines: int) -> list[str]:
    if not path or not Path(path).is_file():
        return [f"({path}: no such file)"]
    return Path(path).read_text(errors="replace").splitlines()[-lines:]


def guest_run(command: str) -> str:
    """A shell command in the running shared VM (not in a router); its output."""
    result = pinned_runtime(shared_vm()).run(command)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_nothing_left(lab: str, state: LabState | None) -> None:
    assert not LabState.folder(lab).exists(), f"{LabState.folder(lab)} survived"
    assert lab not in vm_users(), f"{lab} is still registered with the micro-VM"
    # Every process of a VM of this lab's own, and of the shared VM once nothing uses it.
    assert not owned_pids(owner_tag(lab)), f"the VM of {lab} survived"
    if not vm_users():
        assert not owned_pids(owner_tag(SHARED)), f"the micro-VM survived {lab}"
    leftovers = [n for n in guest_namespaces() if n.startswith(f"{lab}_")]
    assert not leftovers, f"namespaces of {lab} survived in the micro-VM: {leftovers}"
    if state is not None and state.runtime == "clab-vm" and vm_alive(shared_vm()):
        assert_no_container_left(lab)
    if state is not None and state.runtime == "netns":
        listed = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True)
        names = [n["name"] for n in json.loads(listed.stdout or "[]")]
        assert not [n for n in names if n.startswith(f"{lab}_")]


def assert_no_container_left(lab: str) -> None:
    """No container of ``lab`` in the micro-VM's Docker engine, nor its root filesystem
    (an overlay mount) or a veth of its links."""
    containers = guest_run(f"docker ps -aq --filter label=containerlab={lab}")
    assert not containers.split(), f"containers of {lab} survived in the micro-VM"
    mounts = guest_run("grep -c ' /var/lib/docker/overlay2/.*/merged ' /proc/mounts || true")
    assert mounts.strip() in ("", "0"), f"{mounts.strip()} container mounts survived"
    links = guest_run("ip -o link show")
    assert not [line for line in links.splitlines() if "@if" in line], links


@contextmanager
def running_lab(lab: str, variant: str | None = None, runtime: str | None = None):
    """Bring a lab up with the CLI, yield (model, runtime), always bring it down."""
    args = ["up", lab] + (["--variant", variant] if variant else []) \
        + (["--runtime", runtime] if runtime else [])
    model = load_lab(lab, variant)
    state = None
    try:
        mplslab(*args)
        state = LabState.load(model.name)
        yield model, make_runtime(state)
    finally:
        if LabState.path(model.name).exists():
            state = state or LabState.load(model.name)
            mplslab("down", model.name, check=False)
        assert_nothing_left(model.name, state)


CONVERGE = 180  # seconds a check may retry while a fresh lab converges (TCG is slow)


def verify_all(lab: str, folder: Path) -> dict:
    """`mplslab verify` on a running lab, which must pass with every check kind present;
    returns the JSON report (the JUnit report is beside it, <lab>.xml)."""
    from emulator.verify.checks import CARRIER_KINDS, KINDS

    # The deployed model (the lab may be a file given by path, as a generated lab is).
    model = Lab.model_validate_json(
        (Path(LabState.load(lab).rendered) / "model.json").read_text())
    carriers = any(a.carrier_vpn for a in model.autonomous_systems)
    path = folder / f"{lab}.json"
    mplslab("verify", lab, "--json", str(path), "--junit", str(folder / f"{lab}.xml"),
            "--deadline", str(CONVERGE))
    report = json.loads(path.read_text())
    assert report["lab"] == lab and report["passed"] is True
    assert {c["kind"] for c in report["checks"]} == set(KINDS) - (
        set() if carriers else set(CARRIER_KINDS))
    return report


def failing(report) -> set[str]:
    return {r.name for r in report.results if not r.passed}


def wait_until_failing(model: Lab, runtime, names: set[str], seconds: float) -> None:
    """Probe the named checks once every few seconds until all of them fail (the routers
    have acted on a break: a hold timer expired, a withdrawal arrived), at most ``seconds``."""
    from emulator.verify.runner import run_checks

    deadline = time.monotonic() + seconds
    while True:
        report = run_checks(model, runtime, deadline=0, names=names)
        assert {r.name for r in report.results} == names, names
        if failing(report) == names:
            return
        assert time.monotonic() < deadline, \
            f"still passing {seconds:.0f}s after the break: {names - failing(report)}"
        time.sleep(3)


def run_exercise(lab: str, name: str, folder: Path) -> set[str]:
    """An exercise as a trainee meets it, through the CLI: start (the lab breaks), check
    (fails: returns the failing checks' names), solution --apply, check (solved). Exercises
    leave the lab as it was."""
    listed = json.loads(mplslab("exercise", "list", lab, "--json").stdout)
    # Graded on the kinds the exercise breaks (the whole verify runs in the labs' own tests;
    # under software emulation each phase of a verify costs about half a minute).
    kinds = [a for kind in next(e["fails"] for e in listed if e["name"] == name)
             for a in ("--kind", kind)]
    start = mplslab("exercise", "start", lab, name)
    assert "symptom:" in start.stdout
    time.sleep(5)  # the routers act on the change (a withdrawal, a session going down)
    broken = folder / f"{name}-broken.json"
    # Broken checks cannot pass: a short deadline is enough to see them fail.
    graded = mplslab("exercise", "check", lab, "--deadline", "10", "--json", str(broken),
                     *kinds, check=False)
    assert graded.returncode == 1 and "hint:" in graded.stdout, graded.stdout[-2000:]
    failed = {c["name"] for c in json.loads(broken.read_text())["checks"] if not c["passed"]}
    solution = mplslab("exercise", "solution", lab, "--apply")
    assert "applied" in solution.stdout
    solved = mplslab("exercise", "check", lab, "--deadline", str(CONVERGE), *kinds,
                     check=False)
    assert solved.returncode == 0 and "solved" in solved.stdout, solved.stdout[-3000:]
    return failed


def assert_live_walk(lab: str, prefix: str) -> dict:
    """`mplslab explain LAB PREFIX --json` on the running lab, checked by check_live_walk."""
    return check_live_walk(json.loads(mplslab("explain", lab, prefix, "--json").stdout))


def check_live_walk(told: dict) -> dict:
    """A live walk (`explain --json` on a running lab): the label stack on every link has
    the depth the walk requires, and routers whose label comes from the same allocator hold
    the same label (numbers are the routers' own; who allocates is fixed)."""
    live = told["live"]
    depths = {link["link"].replace(" → ", "→"): link["labels"] for link in told["links"]}
    seen = {link: int(stack.split()[0]) for link, stack in live["stacks"].items()}
    assert seen == depths, (seen, depths)
    by_allocator: dict[str, set] = {}
    for holder in told["holders"]:
        by_allocator.setdefault(holder["label_from"], set()).add(live["labels"][holder["router"]])
    assert all(len(labels) == 1 and None not in labels for labels in by_allocator.values()), \
        by_allocator
    return told


# -- faults injected on live routers --------------------------------------------------------
@dataclass
class Fault:
    """A way real networks break, done to a running lab's routers: what is done (``breaks``)
    and undone (``mends``) as (router, argv) run inside the router, the check kinds that
    must fail while it lasts and those that must keep passing."""

    name: str
    breaks: list[tuple[str, list[str]]]
    mends: list[tuple[str, list[str]]]
    fails: set[str]
    holds: set[str]


def vtysh(*lines: str) -> list[str]:
    """Configuration lines typed into the router's vtysh, in order."""
    return ["vtysh", "-c", "configure terminal", *(a for line in lines for a in ("-c", line))]


def inject(model: Lab, runtime, fault: Fault, seconds: float = 120) -> dict[str, set[str]]:
    """Break, see every kind of ``fault.fails`` fail (within ``seconds``: a hold timer, a
    withdrawal) while ``fault.holds`` keep passing, mend, and see the failed kinds pass
    again. Returns the failing checks by kind."""
    from emulator.verify.runner import run_checks

    for node, argv in fault.breaks:
        done = runtime.exec(node, argv)
        assert done.returncode == 0, (fault.name, node, argv, done.stdout, done.stderr)
    try:
        deadline = time.monotonic() + seconds
        while True:
            report = run_checks(model, runtime, deadline=0, kinds=set(fault.fails))
            failed: dict[str, set[str]] = {}
            for result in report.results:
                if not result.passed:
                    failed.setdefault(result.kind, set()).add(result.name)
            if set(failed) >= fault.fails:
                break
            assert time.monotonic() < deadline, \
                f"{fault.name}: no failing {fault.fails - set(failed)} after {seconds:.0f}s"
            time.sleep(3)
        kept = run_checks(model, runtime, deadline=60, kinds=set(fault.holds))
        broken = {r.name: r.observed for r in kept.results if not r.passed}
        assert kept.results and not broken, f"{fault.name} broke more than it should: {broken}"
    finally:
        for node, argv in fault.mends:
            done = runtime.exec(node, argv)
            assert done.returncode == 0, (fault.name, node, argv, done.stdout, done.stderr)
    mended = run_checks(model, runtime, deadline=CONVERGE, kinds=set(fault.fails))
    assert mended.passed, (fault.name, {r.name: r.observed for r in mended.results
                                        if not r.passed})
    return failed


def kernel_label_route(runtime, node: str, label: int) -> list[str]:
    """The `ip -f mpls route replace` that puts a kernel label route back as it is now
    (whether or not its suite has put it back meanwhile)."""
    entries = json.loads(runtime.exec(node, ["ip", "-j", "-f", "mpls", "route", "show"]).stdout)
    entry = next(e for e in entries if e["dst"] == str(label))
    argv = ["ip", "-f", "mpls", "route", "replace", str(label)]
    if "to" in entry:
        argv += ["as", entry["to"]]
    if "via" in entry:
        argv += ["via", "inet", entry["via"]["host"]]
    return [*argv, "dev", entry["dev"]]


def labels_allocated_for(model: Lab, report, prefix: str, origin: str) -> dict[str, set[int]]:
    """The in-labels routers other than the origin allocated for one prefix, from a passing
    verify's label chains: "<prefix>: H pushes A's label" shows A's label as pushed."""
    held: dict[str, set[int]] = {}
    for result in report.results:
        if result.kind != "label-chain" or not result.name.startswith(f"{prefix}: "):
            continue
        allocator = result.name.split(" pushes ")[1].split("'s ")[0]
        if allocator != origin and isinstance(result.observed.get("pushed"), int):
            held.setdefault(allocator, set()).add(result.observed["pushed"])
    return held


def label_table(runtime, node: str) -> set[int]:
    """The in-labels of a router's FRR and kernel label tables."""
    frr = json.loads(runtime.exec(node, ["vtysh", "-c", "show mpls table json"]).stdout or "{}")
    kernel = json.loads(runtime.exec(node, ["ip", "-j", "-f", "mpls", "route", "show"]).stdout
                        or "[]")
    return {int(label) for label in frr} | {int(entry["dst"]) for entry in kernel}


def churn(model: Lab, runtime, ce: str, seconds: float = 90) -> dict[str, set[int]]:
    """A CE withdraws its site prefix: every router frees the labels it allocated for it
    (gone from its FRR and kernel label tables, and no label is held for nothing), within
    ``seconds``; the CE announces it again: the chain is whole again. Returns the labels
    that were freed."""
    from emulator.verify.runner import run_checks

    node = model.node(ce)
    prefix = str(node.site.prefix)
    origin = model.pe_of(ce).name
    before = run_checks(model, runtime, deadline=CONVERGE, kinds={"label-chain"})
    assert before.passed
    held = labels_allocated_for(model, before, prefix, origin)
    assert held, f"no router but {origin} allocates a label for {prefix}"
    bgp = f"router bgp {node.bgp_asn}"
    done = runtime.exec(ce, vtysh(bgp, "address-family ipv4 unicast", f"no network {prefix}"))
    assert done.returncode == 0, done.stderr
    try:
        deadline = time.monotonic() + seconds
        while still := {router: kept for router, labels in held.items()
                        if (kept := labels & label_table(runtime, router))}:
            assert time.monotonic() < deadline, f"labels still held for {prefix}: {still}"
            time.sleep(3)
        leaks = run_checks(model, runtime, deadline=30, kinds={"label-leak"})
        assert leaks.passed, {r.name: r.observed for r in leaks.results if not r.passed}
    finally:
        done = runtime.exec(ce, vtysh(bgp, "address-family ipv4 unicast", f"network {prefix}"))
        assert done.returncode == 0, done.stderr
    whole = run_checks(model, runtime, deadline=CONVERGE, kinds={"label-chain", "ping"})
    assert whole.passed, {r.name: r.observed for r in whole.results if not r.passed}
    return held


# -- what engineers reach for: captures --------------------------------------------------------
def wire_hop(model: Lab):
    """(source CE, destination CE, hop): the path verify's wire-labels check captures for the
    lab's first VPN that has one, and its most deeply labelled link (option3: PE-2 → P-2,
    three labels), as the model and the option's semantics give them."""
    from emulator.verify.expectations import wire_pair
    from emulator.verify.semantics import semantics_for

    semantics = semantics_for(model)
    for vpn in model.vpns:
        pair = wire_pair(semantics, [model.node(n) for n in vpn.sites])
        if pair is not None:
            source, destination, hops = pair
            return source, destination, max(hops, key=lambda hop: hop.depth)
    raise AssertionError(f"{model.name} has no VPN path to capture")


def capture_during_ping(lab: str, link: str, source, destination, pcap: Path | None, *,
                        count: int | None = None, interrupt: bool = False
                        ) -> tuple[int, str, bytes]:
    """`mplslab capture LAB LINK --filter mpls` into ``pcap`` (None: `-w -`, standard output,
    which is returned) while ``source`` pings ``destination``'s site: it ends after
    ``count`` packets, or with ``interrupt`` a SIGINT (Ctrl-C) stops it once the pings are
    done. (exit status, what it said, what it wrote on standard output)"""
    argv = [*MPLSLAB, "capture", lab, link, "-w", str(pcap) if pcap else "-", "--filter",
            "mpls", *(["--count", str(count)] if count else [])]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    said: list[str] = []
    listening = threading.Event()
    written: list[bytes] = []

    def read_errors() -> None:
        for line in iter(process.stderr.readline, b""):
            said.append(line.decode(errors="replace"))
            if b"listening on" in line:
                listening.set()

    def read_output() -> None:
        written.append(process.stdout.read())
    threads = [threading.Thread(target=read_errors, daemon=True),
               threading.Thread(target=read_output, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        assert listening.wait(120), f"the capture never listened: {''.join(said)}"
        ping = mplslab("exec", lab, source.name, "--", "ping", "-n", "-c", "6", "-i", "0.5",
                       "-W", "2", "-I", str(source.site.address.ip),
                       str(destination.site.address.ip), check=False)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        if interrupt:
            process.send_signal(signal.SIGINT)
        status = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for thread in threads:
        thread.join(30)
    print("".join(said))
    return status, "".join(said), b"".join(written)


def echo_request_depths(pcap: Path, source, destination) -> list[int]:
    """The MPLS label stack depth of each ICMP echo request from ``source``'s site to
    ``destination``'s in a pcap, as tshark decodes it."""
    assert shutil.which("tshark"), "tshark is not installed (make setup installs it)"
    request = (f"icmp.type == 8 && ip.src == {source.site.address.ip} && "
               f"ip.dst == {destination.site.address.ip}")
    decoded = subprocess.run(["tshark", "-r", str(pcap), "-Y", request, "-T", "fields",
                              "-e", "mpls.label"], capture_output=True, text=True, check=False)
    assert decoded.returncode == 0, decoded.stderr  # a pcap cut short is an error too
    return [len(line.split(",")) if line.strip() else 0
            for line in decoded.stdout.splitlines()]


def captures_left(runtime, node: str) -> str:
    """A user capture's tcpdump or pid file still in the router (empty: none)."""
    # [t]: the pattern does not match this very shell's command line.
    left = runtime.exec(node, ["sh", "-c", "pgrep -af '[t]cpdump -U -w -'; "
                                           "ls /run/mplslab/*/*/capture-*.pid 2>/dev/null; "
                                           "true"])
    assert left.returncode == 0, left.stderr
    return left.stdout.strip()
