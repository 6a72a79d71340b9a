"""BIRD 2.17: BGP on the carrier-supporting-carrier PEs, beside FRR's IGP and LDP.

One `bird` per router, started with its whole configuration (``-c``): BIRD 2.17.6 can crash
on `birdc configure` when an MPLS option changes (docs/research/bird/README.md §3), so a
changed configuration means a restart, never a reload. Its control socket is the readiness
signal and the address every `birdc` of the runtime and the verifier goes to.

Standard library only (imported by the namespace runtime inside the micro-VM).
"""

from __future__ import annotations

from pathlib import Path

from emulator.suites.contract import Question
from emulator.suites.records import ConfigChange

NAME = "bird"
USER = "root"  # BIRD writes the kernel's routing and label tables: it keeps root
TEMPLATES = "bird"
CLIENTS = ("birdc",)
RUN = Path("/run/bird")
DAEMON = "bird"
# The label guard of a carrier's PE (templates/bird/label-guard.sh.j2): a shell loop beside
# BIRD that keeps an nftables filter on each CSC-CE-facing interface admitting only the
# labels BIRD advertised there. It lives and dies with the router's namespace.
GUARD = "label-guard"
GUARD_SCRIPT = "label-guard.sh"
GUARD_RULESET = "label-guard.nft"
GUARD_TABLE = "label_guard"  # nftables table, family netdev


def daemons(protocols: list[str], guarded: bool = False) -> list[str]:
    """BIRD is one daemon whatever it runs; the label guard follows it (it reads BIRD)."""
    return ([DAEMON] if protocols else []) + ([GUARD] if guarded else [])


def start_waves(daemons: list[str]) -> list[list[str]]:
    """One at a time: the label guard reads the running BIRD."""
    return [[daemon] for daemon in daemons]


def prepare(pathspace: str) -> None:
    (RUN / pathspace).mkdir(parents=True, exist_ok=True)


def state_dirs(pathspace: str) -> list[Path]:
    return [RUN / pathspace]


def control_socket(pathspace: str) -> Path:
    return RUN / pathspace / "bird.ctl"


def start_argv(daemon: str, pathspace: str, log_file: Path, config: Path) -> list[str]:
    """BIRD forks into the background once its configuration parsed; a parse error is its
    exit status and message (the log file is named in the configuration). The guard's
    script is rendered beside BIRD's configuration; setsid detaches it the same way."""
    if daemon == GUARD:
        return ["setsid", "-f", "sh", str(config.parent / GUARD_SCRIPT), str(RUN / pathspace)]
    return ["bird", "-c", str(config), "-s", str(control_socket(pathspace)),
            "-P", str(RUN / pathspace / f"{daemon}.pid")]


def vty_socket(pathspace: str, daemon: str) -> Path:
    """What shows the daemon ready: BIRD's control socket; for the guard, the mark it
    leaves once its filter is loaded."""
    if daemon == GUARD:
        return RUN / pathspace / f"{GUARD}.ready"
    return control_socket(pathspace)


def guard_switch(pathspace: str) -> Path:
    """While this file exists the guard removes its filter and waits (the trainer's switch:
    `mplslab exercise start LAB label-spoofing`); removing it puts the filter back."""
    return RUN / pathspace / f"{GUARD}.off"


def pid_files(pathspace: str) -> dict[str, Path]:
    return {p.stem: p for p in (RUN / pathspace).glob("*.pid")}


def apply_argv(pathspace: str, config: Path) -> list[str]:
    """The configuration was given at start: confirm the daemon holds it."""
    return ["birdc", "-s", str(control_socket(pathspace)), "show", "status"]


def address(pathspace: str, argv: list[str]) -> list[str]:
    """A `birdc` command addressed to this router's BIRD."""
    if argv[:1] == ["birdc"] and "-s" not in argv:
        return ["birdc", "-s", str(control_socket(pathspace)), *argv[1:]]
    return argv


# A program that puts `show` commands straight to BIRD's control sockets, many routers' in
# one process (bird_ctl.py).
READER = Path(__file__).with_name("bird_ctl.py")


def question_argv(question: Question) -> list[str]:
    """`birdc show ...` (``address`` points it at the router's control socket)."""
    return ["birdc", *question.words]


def socket_request(pathspace: str, question: Question) -> tuple[str, str]:
    """The question for ``READER``: (the router's control socket, the line birdc sends)."""
    return str(control_socket(pathspace)), " ".join(question.words)


NO_CHANGES = ("BIRD takes its whole configuration at start (a changed MPLS option can crash "
              "BIRD 2.17.6 on `birdc configure`): no staged or typed changes")


def daemon_apply_argv(pathspace: str, config: Path, daemon: str) -> list[str]:
    raise NotImplementedError(NO_CHANGES)


def change_argv(pathspace: str, config: Path) -> list[str]:
    raise NotImplementedError(NO_CHANGES)


def configure_argv(lines: list[str]) -> list[str]:
    raise NotImplementedError(NO_CHANGES)


def reset_argvs(pathspace: str, config: Path) -> list[list[str]]:
    """BIRD re-reads ``config``, the file it was started with (`configure`: an unchanged
    protocol is kept as it runs; only a changed MPLS option could crash BIRD 2.17.6, and
    this is the file it runs), every protocol a user disabled (`birdc disable`) is enabled
    again (the rendered configuration disables none), and the label guard's switch
    (``guard_switch``) is turned back on: its loop loads the filter again within seconds."""
    birdc = ["birdc", "-s", str(control_socket(pathspace))]
    return [[*birdc, "configure", f'"{config}"'], [*birdc, "enable", "all"],
            ["rm", "-f", str(guard_switch(pathspace))]]


def running_config_argv(pathspace: str, config: Path) -> list[str]:
    """BIRD runs the file it was started with (``config``): it takes no typed configuration
    (`birdc configure` re-reads a file, as a reset does)."""
    return ["cat", str(config)]


NO_DRIFT = ("not compared: BIRD runs the file it was started with and takes no typed "
            "configuration (`birdc disable` is a protocol's state: `mplslab reset` enables "
            "every protocol again)")


def drift_argv(pathspace: str, deployed: Path) -> list[str]:
    raise NotImplementedError(NO_DRIFT)


def drift(answer: str) -> list[ConfigChange]:
    raise NotImplementedError(NO_DRIFT)


def labelled_route_argv(pathspace: str, prefix: str) -> list[str]:
    raise NotImplementedError("the deploy plan has no staged steps on BIRD's routers")


def route_is_labelled(answer: str, prefix: str, implicit_null_ok: bool) -> bool:
    raise NotImplementedError("the deploy plan has no staged steps on BIRD's routers")


def parse_check_argv(config: Path) -> list[str]:
    """BIRD's own parser on a rendered configuration, without starting anything."""
    return ["bird", "-p", "-c", str(config)]


# -- What the model asks of BIRD -----------------------------------------------------------
# Data the builder consults (emulator.model, which no suite module imports); nothing above
# depends on it.

TITLE = "BIRD"  # how messages name the suite

# Where this project runs BIRD (protocol -> roles; its templates configure nothing else),
# and how a refusal says it.
RUNS_ONLY: dict[str, set[str]] | None = {"bgp": {"pe"}}
RUNS_ONLY_WORDS = "BGP on a carrier's PE only"

# Address families one BGP neighbor cannot carry together (see frr.py): none in BIRD.
BGP_FAMILIES_APART: list[tuple[set[str], str, str]] = []

# The settings the model derives (topology.Reason keys) in BIRD's words, as in frr.py.
SETTING_WORDS: dict[str, str | list[tuple[str, str]]] = {
    "label-guard": [("label guard (nftables, netdev ingress) on {guarded}",
                     "{why}, refreshed from BIRD's live bindings")],
}
