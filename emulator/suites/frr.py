"""FRRouting 10.3: the one table of its daemons, how they start, take their configuration,
and answer questions.

Standard library only (imported by the namespace runtime inside the micro-VM).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from emulator.suites.contract import Question
from emulator.suites.records import IMPLICIT_NULL, ConfigChange

NAME = "frr"
USER = "frr"  # the daemons drop to it; their log folders are given to it
TEMPLATES = "frr"
CLIENTS = ("vtysh",)
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
# Which daemon answers a `show` command: naming it saves vtysh connecting to all of them
# (each vtysh connection costs ~0.5 s under software emulation).
SHOW_DAEMON = {"bgp": "bgpd", "ip ospf": "ospfd", "mpls ldp": "ldpd", "ip rip": "ripd"}


# The daemon that runs each protocol; mgmtd and zebra run on every router.
PROTOCOL_DAEMONS = {"bgp": "bgpd", "ospf": "ospfd", "rip": "ripd", "ldp": "ldpd",
                    "static": "staticd"}


def daemons(protocols: list[str]) -> list[str]:
    """The daemons a router running ``protocols`` needs, in start order."""
    return sorted({"mgmtd", "zebra", *(PROTOCOL_DAEMONS[p] for p in protocols)},
                  key=DAEMONS.index)


def prepare(pathspace: str) -> None:
    """Before a router's first daemon starts: its configuration folder, with the vtysh.conf
    that vtysh reads (absent, vtysh complains on every call)."""
    etc = ETC / pathspace
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "vtysh.conf").touch()
    shutil.chown(etc, USER, USER)


def state_dirs(pathspace: str) -> list[Path]:
    """What a router's daemons leave on the host: removed by `down`."""
    return [RUN / pathspace, ETC / pathspace]


# Started and ready before any other daemon: mgmtd (the others fetch their configuration
# through it) and zebra (a protocol daemon that finds no zserv.api retries its connection
# only seconds later). The protocol daemons need nothing of each other.
FIRST = ("mgmtd", "zebra")


def start_waves(daemons: list[str]) -> list[list[str]]:
    """mgmtd, then zebra, then every protocol daemon side by side: under software emulation
    a daemon's start is mostly its own CPU time (loading its YANG modules), and one router's
    four protocol daemons started one after the other wait on each other for nothing."""
    waves = [[daemon] for daemon in FIRST if daemon in daemons]
    rest = [daemon for daemon in daemons if daemon not in FIRST]
    return waves + ([rest] if rest else [])


def start_argv(daemon: str, pathspace: str, log_file: Path, config: Path) -> list[str]:
    """One daemon, detached, with its own pathspace (pid file, vty socket and zserv.api under
    /run/frr/<pathspace>). In 10.3 mgmtd and staticd refuse -f: every daemon starts empty and
    the whole frr.conf (``config``) is applied afterwards with vtysh."""
    return [str(BIN / daemon), "-d", "-N", pathspace, "-u", "frr", "-g", "frr",
            "--log", f"file:{log_file}"]


def vty_socket(pathspace: str, daemon: str) -> Path:
    """Exists once the daemon accepts vtysh: the readiness signal."""
    return RUN / pathspace / f"{daemon}.vty"


def pid_files(pathspace: str) -> dict[str, Path]:
    return {p.stem: p for p in (RUN / pathspace).glob("*.pid")}


def address(pathspace: str, argv: list[str]) -> list[str]:
    """A `vtysh` command addressed to this router's FRR (its pathspace)."""
    if argv[:1] == ["vtysh"] and "-N" not in argv:
        return ["vtysh", "-N", pathspace, *argv[1:]]
    return argv


def apply_argv(pathspace: str, config: Path) -> list[str]:
    return ["vtysh", "-N", pathspace, "-f", str(config)]


def daemon_apply_argv(pathspace: str, config: Path, daemon: str) -> list[str]:
    """A configuration file for one daemon alone (`vtysh -d`): no other daemon takes part in
    its read, however long it is."""
    return ["vtysh", "-N", pathspace, "-d", daemon, "-f", str(config)]


# FRR's own reload: what `systemctl reload frr` runs (Debian's frr package ships it).
RELOAD = BIN / "frr-reload.py"


def reset_argvs(pathspace: str, config: Path) -> list[list[str]]:
    """FRR's own reload (frr-reload.py): the difference between the router's running
    configuration and ``config``, as `no` lines and lines typed into the running daemons;
    nothing restarts. ``--pathspace`` points it and the vtysh it runs at this router's
    daemons, and both read ``ETC/<pathspace>/vtysh.conf`` (``prepare`` makes it; with
    ``--confdir ETC`` vtysh looks in ``<confdir>/<pathspace>/``). Its scratch file goes to
    the router's run folder (a router container has no /var/run), its warnings and errors
    to standard error (``--stdout``) rather than /var/log/frr, with what vtysh refused.
    Once reloaded it runs `write` (``config`` is not ``<confdir>/frr.conf``): the running
    configuration is saved to ``ETC/<pathspace>/frr.conf``, which no daemon reads and
    `down` removes."""
    return [["python3", str(RELOAD), "--reload", "--stdout", "--log-level", "warning",
             "--pathspace", pathspace, "--confdir", str(ETC), "--rundir", str(RUN / pathspace),
             str(config)]]


# -- what the router runs, against what it was deployed with ---------------------------------
# `show running-config`'s own form of the configuration, without its "Building
# configuration..." header (as frr-reload.py asks it): a file FRR could be started with.
RUNNING = "show running-config no-header"
RUNNING_MARK = "@@mplslab-running"
# frr-reload.py's own comparison (`--test`: what a reload would delete and add, nothing
# done), as `reset` relies on: FRR's normalisation of both sides (order within a block,
# defaults shown or not, spacing). The running configuration is read once, into a file its
# `--input` takes, and printed after the comparison: a line the comparison moved between
# its two lists is told apart by it (``drift``).
DRIFT = f"""running=$(mktemp) || exit 1
vtysh -N "$0" -c '{RUNNING}' > "$running" || {{ rm -f "$running"; exit 1; }}
python3 {RELOAD} --test --stdout --log-level error --pathspace "$0" --confdir {ETC} \\
  --input "$running" "$1"
status=$?
echo {RUNNING_MARK}
cat "$running"
rm -f "$running"
exit $status"""
# Lines FRR 10.3 shows differently whatever changed, seen in every comparison of a deployed
# router: its running configuration names the host (a namespace router shows the micro-VM
# guest's name, virtme-ng) rather than the rendered `hostname`, and `service
# integrated-vtysh-config` is vtysh's own line, which no daemon shows.
RETYPED = ("hostname", "service integrated-vtysh-config")


def running_config_argv(pathspace: str, config: Path) -> list[str]:
    return ["vtysh", "-N", pathspace, "-c", RUNNING]


def drift_argv(pathspace: str, deployed: Path) -> list[str]:
    return ["sh", "-c", DRIFT, pathspace, str(deployed)]


def drift(answer: str) -> list[ConfigChange]:
    """frr-reload.py's `--test` lists, as changes: "Lines To Delete" are the running
    router's alone (printed as the `no` form that would remove them), "Lines To Add" the
    deployed file's alone, but for the prefix-list and static route lines a reload removes
    with a `no` there (they are in the running configuration, which follows the answer).
    RETYPED lines are left out."""
    report, _, running = answer.partition(f"{RUNNING_MARK}\n")
    top_level = {line.strip() for line in running.splitlines() if line[:1] not in " !"}
    deleted, _, added = report.partition("\nLines To Add\n")
    changes = [ConfigChange(context, unsaid(line), True)
               for context, line in reload_lines(deleted.partition("\nLines To Delete\n")[2])]
    for context, line in reload_lines(added):
        removed = not context and line.startswith("no ") and line[3:] in top_level
        changes.append(ConfigChange(context, line[3:] if removed else line, removed))
    return [change for change in changes if not retyped(change)]


def reload_lines(section: str) -> list[tuple[tuple[str, ...], str]]:
    """frr-reload.py's printed lines as (context, line): each line with the blocks it is
    indented under, its `exit` lines and its ==== underline left out."""
    lines = [line for line in section.splitlines()
             if line.strip() and line.strip() != "exit" and not line.startswith("=")]
    found, blocks = [], []
    for index, line in enumerate(lines):
        depth = len(line) - len(line.lstrip(" "))
        del blocks[depth:]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if len(following) - len(following.lstrip(" ")) > depth:
            blocks.append(line.strip())
        else:
            found.append((tuple(blocks), line.strip()))
    return found


def unsaid(line: str) -> str:
    """The line frr-reload.py would remove, from the command it prints to remove it."""
    return line[3:] if line.startswith("no ") else f"no {line}"


def retyped(change: ConfigChange) -> bool:
    words = change.line.removeprefix("no ")
    return not change.context and (words == RETYPED[1] or words.split()[0] == RETYPED[0])


def parse_check_argv(config: Path) -> list[str]:
    """FRR's own parser on a rendered configuration, without any daemon."""
    return ["vtysh", "--dryrun", "-f", str(config)]


def change_argv(pathspace: str, config: Path) -> list[str]:
    """A staged change to a running router: its lines as interactive commands in one vtysh
    (`-f` would make bgpd treat it as a configuration read, with its deferred processing)."""
    lines = [line.strip() for line in config.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith(("!", "{#"))]
    return ["vtysh", "-N", pathspace, *configure_argv(lines)[1:]]


def configure_argv(lines: list[str]) -> list[str]:
    """Configuration commands typed in order into one vtysh, as a user at the prompt would
    (the runtime's exec gives vtysh the router's pathspace)."""
    return ["vtysh", "-c", "configure terminal", *(a for line in lines for a in ("-c", line))]


def show_daemon(command: str) -> str:
    """The daemon that answers a `show` command (zebra for the routing and label tables)."""
    shown = command.removeprefix("show ")
    return next((d for prefix, d in SHOW_DAEMON.items() if shown.startswith(prefix)), "zebra")


def show_argv(command: str) -> list[str]:
    """`vtysh -c <command>` addressed to the one daemon that answers it."""
    return ["vtysh", "-d", show_daemon(command), "-c", command]


def question_argv(question: Question) -> list[str]:
    return show_argv(question.words[0])


# A program that puts `show` commands straight to the daemons' vty sockets, many routers'
# in one process (frr_vty.py).
READER = Path(__file__).with_name("frr_vty.py")


def socket_request(pathspace: str, question: Question) -> tuple[str, str]:
    """The question for ``READER``: (the answering daemon's vty socket, the command)."""
    command = question.words[0]
    return str(vty_socket(pathspace, show_daemon(command))), command


def labelled_route_argv(pathspace: str, prefix: str) -> list[str]:
    return address(pathspace, show_argv(f"show ip route {prefix} json"))


def route_is_labelled(answer: str, prefix: str, implicit_null_ok: bool) -> bool:
    """From `show ip route <prefix> json`: the selected route has an MPLS label (a real one
    unless implicit-null is acceptable, as towards an adjacent router)."""
    try:
        route_json = json.loads(answer or "{}")
    except json.JSONDecodeError:
        return False
    return any(hop.get("labels") and (implicit_null_ok or hop["labels"] != [IMPLICIT_NULL])
               for route in route_json.get(prefix, []) if route.get("selected")
               for hop in route.get("nexthops", []))


# -- What the model asks of FRR ------------------------------------------------------------
# Data the builder consults (emulator.model, which no suite module imports); nothing above
# depends on it.

TITLE = "FRR"  # how messages name the suite

# Where this project runs FRR (protocol -> roles): None, everywhere.
RUNS_ONLY: dict[str, set[str]] | None = None
RUNS_ONLY_WORDS = ""

# What FRR cannot do, as data (netlab's device capabilities): address families one BGP
# neighbor cannot carry together, what FRR cannot do then, and the way out. A session that
# asks it of a router where FRR runs BGP is refused at its families.
BGP_FAMILIES_APART: list[tuple[set[str], str, str]] = [
    ({"ipv4-unicast", "ipv4-labeled-unicast"},
     "activate one neighbor in both ipv4 unicast and ipv4 labeled-unicast",
     "labeled-unicast carries the unicast routes too; keep only it"),
]

# The settings the model derives from the scenario (topology.Reason keys) in FRR's words, for
# `mplslab explain` and the report (emulator.suites.reason_words): one line, or several
# (setting, why) when FRR needs more than the fact. "{why}" is the model's why; other fields
# are the reason's parameters (a list as "a, b").
SETTING_WORDS: dict[str, str | list[tuple[str, str]]] = {
    "ldp-host-route": "static route {prefix} via {nexthop}, redistributed into the IGP and "
                      "labelled by LDP (install allow-broken-lsp)",
    "staged-session": "VPNv4 session to {peers} enabled only once LDP labels the route to it",
    "l3vpn-switching": [
        ("mpls bgp l3vpn-multi-domain-switching on {interfaces}", "{why}"),
        # FRR's defect, not the scenario's: its workaround goes with the switching.
        ("no bgp suppress-duplicates",
         "FRR 10.3 on an Option B ASBR can re-bind a VPN route's local label after "
         "convergence and then suppress the update carrying the new one as a duplicate "
         "(docs/labs/option2.md, trap 3)"),
    ],
    "as-override": "neighbor as-override (towards {peers})",
    "accept-own-as": "neighbor allowas-in 1 and set as-path replace (from the backbone PE)",
    "bgp-distance": "distance bgp {distance} {distance} {distance}",
    "redistribute-internal": "redistribute bgp route-map CSC-INTERNAL (OSPF)",
    "no-import-check": "no bgp network import-check",
    # zebra resolves BGP labelled next hops over IGP/LDP labelled routes (FRR >= 10.2).
    "fec-nexthop-resolution": "mpls fec nexthop-resolution",
}
