"""A running lab's router configurations: saved as files (`mplslab save`), and compared with
what the lab was deployed with (`mplslab diff`: a trainee's work, or a drift).

Each router's plan (its rendered ``setup.json``) names its suites, the file each was given
(``config``) and the whole configuration the deploy left (``deployed``: what `mplslab reset`
reloads); each suite's driver says how its running configuration is read and compared with
that (``running_config_argv``, ``drift_argv``, ``drift``). The routers are asked through the
runtime, four at a time. Nothing here prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import state_dir
from emulator.runtime.base import Runtime
from emulator.runtime.state import LabState
from emulator.suites import driver, pathspace
from emulator.suites.records import ConfigChange


@dataclass(frozen=True)
class SuiteFiles:
    """One suite on one router, and the files its plan names."""

    node: str
    suite: str
    config: Path  # the file the deploy gave the suite
    deployed: Path  # the whole configuration the deploy left on the router


@dataclass
class Reading:
    """What a router's suite answered: its running configuration, or its changes since
    deploy; ``failed``: why it could not."""

    files: SuiteFiles
    text: str = ""
    changes: list[ConfigChange] = field(default_factory=list)
    failed: str | None = None
    # A suite that cannot compare (BIRD takes no typed configuration), and why.
    not_compared: str | None = None


def suite_files(state: LabState, nodes: list[str] | None = None) -> list[SuiteFiles]:
    """Every suite of every router (or of ``nodes``), from the rendered plans."""
    rendered = Path(state.rendered)
    try:
        every = json.loads((rendered / "lab.json").read_text())["nodes"]
        plans = {node: json.loads((rendered / node / "setup.json").read_text())
                 for node in every}
    except (OSError, ValueError, KeyError):
        raise LabError(f"lab {state.lab}'s rendered files are missing ({rendered})",
                       hint=f"take it down and up again: mplslab down {state.lab}") from None
    unknown = [node for node in nodes or [] if node not in every]
    if unknown:
        raise LabError(f"lab {state.lab} has no router {unknown[0]!r}",
                       hint=f"routers: {', '.join(every)}")
    return [SuiteFiles(node, suite["name"], rendered / node / suite["config"],
                       rendered / node / suite.get("deployed", suite["config"]))
            for node in (nodes or every) for suite in plans[node]["suites"]]


def read_all(files: list[SuiteFiles], ask: Callable[[SuiteFiles], Reading]) -> list[Reading]:
    """``ask`` for each suite of each router, four at a time (in their order)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(ask, files))


def running_configs(state: LabState, runtime: Runtime,
                    nodes: list[str] | None = None) -> list[Reading]:
    """Each router's running configuration, suite by suite."""
    def ask(files: SuiteFiles) -> Reading:
        argv = driver(files.suite).running_config_argv(pathspace(state.lab, files.node),
                                                       files.config)
        answer = runtime.exec(files.node, argv, timeout=120)
        if answer.returncode != 0:
            return Reading(files, failed=last_words(answer.stderr or answer.stdout))
        return Reading(files, text=answer.stdout)
    return read_all(suite_files(state, nodes), ask)


def drifts(state: LabState, runtime: Runtime, nodes: list[str] | None = None) -> list[Reading]:
    """Each router's changes since deploy, suite by suite."""
    def ask(files: SuiteFiles) -> Reading:
        suite = driver(files.suite)
        try:
            argv = suite.drift_argv(pathspace(state.lab, files.node), files.deployed)
        except NotImplementedError as exc:
            return Reading(files, not_compared=str(exc))
        answer = runtime.exec(files.node, argv, timeout=180)
        if answer.returncode != 0:
            return Reading(files, failed=last_words(answer.stderr or answer.stdout))
        return Reading(files, changes=suite.drift(answer.stdout))
    return read_all(suite_files(state, nodes), ask)


def last_words(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no answer"


def saved_folder(lab: str) -> Path:
    """Where `mplslab save` writes by default: beside the lab's state folder (which `down`
    removes), one folder per save."""
    return state_dir() / f"{lab}.saved" / time.strftime("%Y%m%d-%H%M%S")


def write_saved(readings: list[Reading], folder: Path) -> list[Path]:
    """Each reading as ``folder/<router>/<file>`` (the name its plan gives it: frr.conf,
    bird.conf)."""
    written = []
    for reading in readings:
        if reading.failed is not None:
            continue
        path = folder / reading.files.node / reading.files.config.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(reading.text)
        written.append(path)
    return written


def unified(reading: Reading) -> list[str]:
    """A router's changes as a unified diff of its deployed configuration (-) against what
    it runs (+): one hunk per block, its header naming the block, the block's lines as
    context, then what the deployed configuration alone holds and what the router alone
    runs."""
    if not reading.changes:
        return []
    name = f"{reading.files.node}/{reading.files.config.name}"
    lines = [f"--- {name} (deployed: {reading.files.deployed})", f"+++ {name} (running)"]
    blocks: dict[tuple[str, ...], list[ConfigChange]] = {}
    for change in reading.changes:
        blocks.setdefault(change.context, []).append(change)
    for context, changes in blocks.items():
        lines.append(f"@@ {' / '.join(context)} @@" if context else "@@ @@")
        lines += [f" {' ' * depth}{block}" for depth, block in enumerate(context)]
        indent = " " * len(context)
        lines += [f"-{indent}{c.line}" for c in changes if not c.running]
        lines += [f"+{indent}{c.line}" for c in changes if c.running]
    return lines
