"""Helpers for the end-to-end tests: real FRR routers and a real kernel data plane (inside
the micro-VM unless this kernel has MPLS). Labs go up and down through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from emulator.model.build import load_lab
from emulator.model.topology import Lab
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
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
