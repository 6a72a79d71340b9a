"""FRRouting 10.3: the one table of its daemons, how they start, take their configuration,
and answer questions.

Standard library only (imported by the namespace runtime inside the micro-VM).
"""

from __future__ import annotations

from pathlib import Path

NAME = "frr"
TEMPLATES = "frr"
BIN = Path("/usr/lib/frr")
RUN = Path("/run/frr")
ETC = Path("/etc/frr")
# Start order: mgmtd first (10.x: the others fetch their configuration through it), zebra
# before any protocol daemon.
DAEMONS = ["mgmtd", "zebra", "staticd", "ospfd", "ripd", "isisd", "ldpd", "bgpd"]
# Every daemon FRR's `daemons` file knows (those a node does not run are written "no").
DAEMONS_FILE = ["bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd",
                "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd",
                "staticd"]
# The label FRR shows for penultimate-hop popping (RFC 3032 implicit null).
IMPLICIT_NULL = 3
# Which daemon answers a `show` command: naming it saves vtysh connecting to all of them
# (each vtysh connection costs ~0.5 s under software emulation).
SHOW_DAEMON = {"bgp": "bgpd", "ip ospf": "ospfd", "mpls ldp": "ldpd", "ip rip": "ripd"}


def ordered(daemons: list[str]) -> list[str]:
    return sorted(daemons, key=DAEMONS.index)


def start_argv(daemon: str, pathspace: str, log_file: Path) -> list[str]:
    """One daemon, detached, with its own pathspace (pid file, vty socket and zserv.api under
    /run/frr/<pathspace>). In 10.3 mgmtd and staticd refuse -f: every daemon starts empty and
    the whole frr.conf is applied afterwards with vtysh."""
    return [str(BIN / daemon), "-d", "-N", pathspace, "-u", "frr", "-g", "frr",
            "--log", f"file:{log_file}"]


def vty_socket(pathspace: str, daemon: str) -> Path:
    """Exists once the daemon accepts vtysh: the readiness signal."""
    return RUN / pathspace / f"{daemon}.vty"


def pid_files(pathspace: str) -> dict[str, Path]:
    return {p.stem: p for p in (RUN / pathspace).glob("*.pid")}


def apply_argv(pathspace: str, config: Path) -> list[str]:
    return ["vtysh", "-N", pathspace, "-f", str(config)]


def change_argv(pathspace: str, config: Path) -> list[str]:
    """A staged change to a running router: its lines as interactive commands in one vtysh
    (`-f` would make bgpd treat it as a configuration read, with its deferred processing)."""
    lines = [line.strip() for line in config.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith(("!", "{#"))]
    argv = ["vtysh", "-N", pathspace, "-c", "configure terminal"]
    for line in lines:
        argv += ["-c", line]
    return argv


def show_argv(command: str) -> list[str]:
    """`vtysh -c <command>` addressed to the one daemon that answers it."""
    shown = command.removeprefix("show ")
    daemon = next((d for prefix, d in SHOW_DAEMON.items() if shown.startswith(prefix)),
                  "zebra")
    return ["vtysh", "-d", daemon, "-c", command]


def route_is_labelled(route_json: dict, prefix: str, implicit_null_ok: bool) -> bool:
    """From `show ip route <prefix> json`: the selected route has an MPLS label (a real one
    unless implicit-null is acceptable, as towards an adjacent router)."""
    return any(hop.get("labels") and (implicit_null_ok or hop["labels"] != [IMPLICIT_NULL])
               for route in route_json.get(prefix, []) if route.get("selected")
               for hop in route.get("nexthops", []))
