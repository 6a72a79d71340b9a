"""Routers as network namespaces on a Linux kernel with MPLS and VRF support.

One namespace per router (``<lab>_<node>``, so labs run side by side), veth pairs for links,
then each node's deploy plan (``setup.json``, written by the renderer): the kernel side
(VLAN sub-interfaces, VRF devices, dummies, MPLS sysctls), each routing suite's daemons
started by its driver with the namespace as their pathspace, its configuration applied, and
the staged steps that wait for a condition first.

This module uses the standard library only: the VM runtime runs it inside the micro-VM
(``python3 -m emulator.runtime.netns ...``), where the project's dependencies are absent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from emulator.runtime import router_shell
from emulator.suites import SUITES, driver, pathspace

RUN_ROOT = Path("/run/mplslab")
READY_SECONDS = 60.0
# Applying a configuration: a base, and more for a long one (a customer carrier's external
# table is one `network` line per route; under software emulation vtysh takes some hundreds
# of lines a second).
APPLY_SECONDS = 120.0
APPLY_LINES_PER_SECOND = 50
LDP_LABEL_SECONDS = 180.0
# zebra puts an address in the kernel a moment after vtysh has handed it over.
ADDRESS_SECONDS = 30.0


class StepFailed(Exception):
    """A deploy step failed; the message names the node and the step."""


# A router's namespace bears its daemons' pathspace name.
namespace = pathspace


def run(argv: list[str], *, check: bool = True, timeout: float = 60.0,
        capture: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=capture, text=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()
        raise StepFailed(f"{shlex.join(argv)}: {detail[-1] if detail else 'failed'}")
    return result


def batch(commands: list[str], step: str, argv: list[str] | None = None) -> None:
    """Run `ip` commands in one process (``argv``: an `ip -batch -` reading them, this host's
    by default); on failure, name the command that failed."""
    argv = argv or ["ip", "-batch", "-"]
    result = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True,
                            text=True, timeout=120, check=False)
    if result.returncode == 0:
        return
    output = (result.stderr + result.stdout).strip().splitlines()
    failed = next((line for line in output if line.startswith("Command failed -:")), "")
    number = int(failed.rsplit(":", 1)[1]) if failed else 0
    command = f"`ip {commands[number - 1]}`: " if 0 < number <= len(commands) else ""
    reason = next((line for line in output if not line.startswith("Command failed")),
                  f"exit {result.returncode}")
    raise StepFailed(f"{step}: {command}{reason}")


# A VRF device made and deleted to learn whether the kernel has them: an interface name
# fits in IFNAMSIZ (15 characters), else the kernel refuses it whatever it supports.
VRF_PROBE = "mplslab-vrfprb"


def kernel_support() -> list[str]:
    """What this kernel lacks for MPLS VPN labs (empty when it has everything)."""
    for module in ("mpls_router", "mpls_iptunnel", "vrf"):
        subprocess.run(["modprobe", module], capture_output=True, check=False)
    missing = []
    if not Path("/proc/sys/net/mpls/platform_labels").exists():
        missing.append("MPLS forwarding (mpls_router)")
    probe = subprocess.run(["ip", "link", "add", VRF_PROBE, "type", "vrf", "table", "4242"],
                           capture_output=True, check=False)
    if probe.returncode == 0:
        subprocess.run(["ip", "link", "del", VRF_PROBE], capture_output=True, check=False)
    else:
        missing.append("VRF devices (vrf)")
    return missing


class NetnsLab:
    MODULE = "emulator.runtime.netns"  # what runs it inside the micro-VM (python3 -m)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Options of this kind of lab on its command line (``main``)."""

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> NetnsLab:
        return cls(args.lab, getattr(args, "rendered", Path(".")))

    def __init__(self, lab: str, rendered: Path):
        self.lab = lab
        self.rendered = rendered
        self.run_dir = RUN_ROOT / lab
        self.deploy_pid = RUN_ROOT / f"{lab}.deploy.pid"
        self.loaded_modules: set[str] = set()

    # -- description --------------------------------------------------------------------
    def description(self) -> dict:
        return json.loads((self.rendered / "lab.json").read_text())

    def plan(self, node: str) -> dict:
        return json.loads((self.rendered / node / "setup.json").read_text())

    def ns(self, node: str) -> str:
        return namespace(self.lab, node)

    # -- how a command reaches a router (the container lab overrides these) --------------
    def enter(self, node: str) -> list[str]:
        """The prefix that runs a program inside ``node``."""
        return ["ip", "netns", "exec", self.ns(node)]

    def ip_batch(self, node: str) -> list[str]:
        """An `ip -batch -` acting on ``node``'s network stack."""
        return ["ip", "-n", self.ns(node), "-batch", "-"]

    def present(self) -> list[str]:
        """What of this lab's routers exists on this host (here: namespaces)."""
        return self.namespaces()

    def create_routers(self, nodes: list[str], links: list[dict], log) -> None:
        log(f"creating {len(nodes)} namespaces and {len(links)} links")
        self.create_namespaces_and_links(nodes, links)

    def nsexec(self, node: str, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        return run([*self.enter(node), *argv], **kwargs)

    # -- up -----------------------------------------------------------------------------
    def up(self, log=print) -> None:
        description = self.description()
        nodes = description["nodes"]
        existing = set(self.present())
        if existing:
            raise StepFailed(f"lab {self.lab} already has routers here: {sorted(existing)[:3]}")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "rendered").write_text(str(self.rendered))
        # So that a `down` while this deploy still runs stops it first.
        self.deploy_pid.write_text(str(os.getpid()))
        try:
            self.create_routers(nodes, description["links"], log)
            # Every module once (one process each costs under emulation), then each
            # router's interfaces and sysctls side by side.
            self.load_modules(sorted({module for node in nodes
                                      for module in self.plan(node)["kernel"]["modules"]}))
            links = description["links"]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda node: self.kernel_setup(node, link_interfaces(links, node)),
                              nodes))
            log("starting the routing daemons")
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(self.start_suites, nodes))
            log("applying each router's configuration")
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(self.configure_suites, nodes))
                list(pool.map(self.check_addresses, nodes))
            waiting = [n for n in nodes if self.plan(n)["after_start"]]
            if waiting:
                log(f"enabling BGP sessions once LDP labels are installed: {', '.join(waiting)}")
                with ThreadPoolExecutor(max_workers=4) as pool:
                    list(pool.map(self.after_start, waiting))
            self.deploy_pid.unlink(missing_ok=True)
        except BaseException:
            self.down()
            raise

    def create_namespaces_and_links(self, nodes: list[str], links: list[dict]) -> None:
        # One `ip -batch` for the whole lab: under software emulation every `ip` process
        # costs a few hundred milliseconds.
        commands = [f"netns add {self.ns(node)}" for node in nodes]
        commands += [f"link add name {link['a']['interface']} netns {self.ns(link['a']['node'])}"
                     f" type veth peer name {link['b']['interface']}"
                     f" netns {self.ns(link['b']['node'])}" for link in links]
        batch(commands, "creating namespaces and links")

    def load_modules(self, modules: list[str]) -> None:
        if missing := [module for module in modules if module not in self.loaded_modules]:
            run(["modprobe", "-a", *missing])
            self.loaded_modules.update(missing)

    def kernel_setup(self, node: str, link_interfaces: list[str],
                     present: frozenset[str] = frozenset()) -> None:
        """The kernel's part of the plan (``kernel_commands``; ``present``: the router's
        devices, which a reset finds there), then its sysctls."""
        setup = self.plan(node)["kernel"]
        self.load_modules(setup["modules"])
        batch(kernel_commands(setup, link_interfaces, present), f"{node}: kernel set-up",
              self.ip_batch(node))
        if setup["sysctls"]:
            assignments = [f"{key}={value}" for key, value in setup["sysctls"].items()]
            try:
                self.nsexec(node, ["sysctl", "-q", "-w", *assignments])
            except StepFailed as exc:
                raise StepFailed(f"{node}: kernel set-up: {exc}") from None

    def link_interfaces(self, node: str) -> list[str]:
        return link_interfaces(self.description()["links"], node)

    def start_suites(self, node: str) -> None:
        self.write_tools(node)
        for suite in self.plan(node)["suites"]:
            self.start_daemons(node, driver(suite["name"]), suite["daemons"],
                               self.rendered / node / suite["config"])

    def write_tools(self, node: str) -> None:
        """The router's tools folder (``tools_dir``): its suites' clients, pointed at its
        daemons, for whatever `mplslab exec` starts there."""
        router_shell.write_tools(tools_dir(self.lab, node), self.ns(node),
                                 [suite["name"] for suite in self.plan(node)["suites"]])

    def start_daemons(self, node: str, suite, daemons: list[str], config: Path) -> None:
        """The router's daemons, wave by wave (``suite.start_waves``): a wave's daemons
        start side by side, and the next wave once each of them is ready."""
        ns = self.ns(node)
        logs = self.run_dir / node
        logs.mkdir(parents=True, exist_ok=True)
        shutil.chown(logs, suite.USER, suite.USER)
        suite.prepare(ns)
        for wave in suite.start_waves(daemons):
            started = []
            for daemon in wave:
                # The daemon detaches (-d): its output goes to a file, never to a pipe we
                # would wait on for ever.
                console = logs / f"{daemon}.console"
                with open(console, "w") as out:
                    started.append((daemon, console, subprocess.Popen(
                        [*self.enter(node),
                         *suite.start_argv(daemon, ns, logs / f"{daemon}.log", config)],
                        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)))
            for daemon, console, process in started:
                try:
                    returncode = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    raise StepFailed(f"{node}: starting {daemon} did not end within 60s "
                                     f"(log: {console})") from None
                if returncode != 0:
                    lines = console.read_text().strip().splitlines()
                    raise StepFailed(f"{node}: starting {daemon} failed: "
                                     f"{lines[-1] if lines else returncode}")
            for daemon, _, _ in started:
                self.wait_socket(node, suite.vty_socket(ns, daemon), daemon)

    def wait_socket(self, node: str, path: Path, daemon: str) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while not path.exists():
            if time.monotonic() > deadline:
                raise StepFailed(f"{node}: {daemon} did not open {path} within "
                                 f"{READY_SECONDS:.0f}s (log: {self.run_dir / node})")
            time.sleep(0.1)

    def configure_suites(self, node: str) -> None:
        for suite in self.plan(node)["suites"]:
            module = driver(suite["name"])
            self.apply(node, suite["config"], module.apply_argv)
            # Files for one daemon alone, after the whole configuration (a long one).
            for extra in suite.get("daemon_configs", []):
                self.apply(node, extra["config"], partial(module.daemon_apply_argv,
                                                          daemon=extra["daemon"]))

    def check_addresses(self, node: str) -> None:
        """Every address of the plan is on its interface once the configuration is in. A
        configuration the daemons did not finish applying (mgmtd gave up part-way through
        a million-line frr.conf) left a router without addresses while `up` said it was up."""
        wanted = self.plan(node).get("addresses", {})
        deadline = time.monotonic() + ADDRESS_SECONDS
        while wanted:
            listing = self.nsexec(node, ["ip", "-4", "-o", "address", "show"], check=False)
            held = {(fields[1].split("@")[0], fields[3]) for line in listing.stdout.splitlines()
                    if len(fields := line.split()) > 3 and fields[2] == "inet"}
            missing = [f"{address} on {name}" for name, address in wanted.items()
                       if (name, address) not in held]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise StepFailed(f"{node}: no {', '.join(missing)} {ADDRESS_SECONDS:.0f}s after "
                                 f"its configuration (the daemons' logs: {self.run_dir / node})")
            time.sleep(0.5)

    def apply(self, node: str, config: str, argv_for: Callable[[str, Path], list[str]]) -> None:
        """Hand one rendered file to the router: ``argv_for`` is the suite's way (a whole
        configuration, or staged lines typed as commands)."""
        path = self.rendered / node / config
        self.configure(node, argv_for(self.ns(node), path), path, f"applying {config}")

    def configure(self, node: str, argv: list[str], path: Path, step: str) -> None:
        """One configuration command in the router, with time for ``path``'s length."""
        lines = path.read_text().count("\n")
        seconds = APPLY_SECONDS + lines / APPLY_LINES_PER_SECOND
        try:
            result = self.nsexec(node, argv, check=False, timeout=seconds)
        except subprocess.TimeoutExpired:
            raise StepFailed(f"{node}: {step} did not end within {seconds:.0f}s") from None
        if result.returncode != 0:
            # On one line: the VM runtime passes the last line of the guest's output on.
            detail = " | ".join(line.strip() for line in (result.stdout + result.stderr)
                                .splitlines() if line.strip())
            raise StepFailed(f"{node}: {step} failed: {detail[-400:]}")

    def after_start(self, node: str) -> None:
        for step in self.plan(node)["after_start"]:
            suite = driver(step["suite"])
            wait = step["wait"]
            deadline = time.monotonic() + LDP_LABEL_SECONDS
            while not self.route_is_labelled(node, suite, wait["labelled_route"],
                                             wait["implicit_null_ok"]):
                if time.monotonic() > deadline:
                    raise StepFailed(f"{node}: no LDP label for {wait['labelled_route']} "
                                     f"within {LDP_LABEL_SECONDS:.0f}s (check LDP and OSPF)")
                time.sleep(1)
            for config in step["configs"]:
                self.apply(node, config, suite.change_argv)

    def route_is_labelled(self, node: str, suite, prefix: str, implicit_null_ok: bool) -> bool:
        result = self.nsexec(node, suite.labelled_route_argv(self.ns(node), prefix),
                             check=False)
        return suite.route_is_labelled(result.stdout, prefix, implicit_null_ok)

    # -- reset --------------------------------------------------------------------------
    def reset(self, log=print) -> None:
        """Every router back to the configuration its deploy left, nothing recreated (no
        namespace, link or daemon): its kernel's part of the plan again, idempotently
        (``kernel_commands``: VRF membership, links up, MTUs, the plan's sysctls), then each
        suite's deployed configuration reloaded into its running daemons (the driver's
        ``reset_argvs``). Every router is reset; those that failed are named together."""
        nodes = self.description()["nodes"]
        self.require_daemons(nodes)
        self.load_modules(sorted({module for node in nodes
                                  for module in self.plan(node)["kernel"]["modules"]}))
        log(f"putting {len(nodes)} routers back to their deployed configuration")
        failures = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for done in [pool.submit(self.reset_router, node) for node in nodes]:
                try:
                    done.result()
                except StepFailed as exc:
                    failures.append(str(exc))
        if failures:
            raise StepFailed("; ".join(failures))

    def require_daemons(self, nodes: list[str]) -> None:
        """A reset reconfigures running daemons and starts none: a router whose daemon was
        stopped needs the lab taken down and up again."""
        running = self.status()["routers"]
        stopped = {node: [daemon for suite in self.plan(node)["suites"]
                          for daemon in suite["daemons"]
                          if daemon not in running.get(node, [])] for node in nodes}
        if said := [f"{node}: {', '.join(daemons)}" for node, daemons in stopped.items()
                    if daemons]:
            raise StepFailed(f"daemons not running ({'; '.join(said)}): a reset restarts no "
                             f"daemon; take the lab down and up again")

    def devices(self, node: str) -> frozenset[str]:
        listed = self.nsexec(node, ["ip", "-j", "link", "show"])
        return frozenset(entry["ifname"] for entry in json.loads(listed.stdout or "[]"))

    def reset_router(self, node: str) -> None:
        self.kernel_setup(node, self.link_interfaces(node), self.devices(node))
        self.write_tools(node)  # a lab deployed before routers had them gets them here
        for suite in self.plan(node)["suites"]:
            if "deployed" not in suite:
                raise StepFailed(f"{node}: its plan predates `mplslab reset` (no deployed "
                                 "configuration): take the lab down and up again")
            path = self.rendered / node / suite["deployed"]
            for argv in driver(suite["name"]).reset_argvs(self.ns(node), path):
                self.configure(node, argv, path, f"resetting {suite['name']}")

    # -- down ---------------------------------------------------------------------------
    def namespaces(self) -> list[str]:
        result = run(["ip", "-j", "netns", "list"], check=False)
        names = [entry["name"] for entry in json.loads(result.stdout or "[]")]
        return [n for n in names if n.startswith(f"{self.lab}_")]

    def down(self) -> None:
        """Total teardown: every process in the lab's namespaces, the namespaces (and so their
        veths, VLANs and VRF devices), FRR's runtime and config folders, the run folder.
        All namespaces at once: one signal round, one wait, one `ip -batch`."""
        self.stop_deploy()
        namespaces = self.namespaces()
        pids = [pid for ns in namespaces
                for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), sig)
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if alive(int(p))]
                time.sleep(0.1)
            if not pids:
                break
        if namespaces:
            with contextlib.suppress(StepFailed):
                batch([f"netns del {ns}" for ns in namespaces], "deleting namespaces")
            for ns in set(namespaces) & set(self.namespaces()):
                run(["ip", "netns", "del", ns], check=False)  # one more try, one by one
        for ns in namespaces:
            for suite in SUITES.values():
                for folder in suite.state_dirs(ns):
                    shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def stop_deploy(self) -> None:
        """A deploy of this lab that is still running (its `up` was interrupted on the host)
        would go on creating what `down` removes: stop it first."""
        try:
            pid = int(self.deploy_pid.read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            self.deploy_pid.unlink(missing_ok=True)
            return
        if pid != os.getpid() and self.MODULE.encode() in command:
            # With what it started: a `containerlab deploy` would go on creating containers.
            family = [pid, *descendants(pid)]
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for member in family:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(member, sig)
                deadline = time.monotonic() + 5
                while any(map(alive, family)) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not any(map(alive, family)):
                    break
        self.deploy_pid.unlink(missing_ok=True)

    # -- inspection ---------------------------------------------------------------------
    def status(self) -> dict:
        routers = {}
        for ns in self.namespaces():
            node = ns.split("_", 1)[1]
            pids = {daemon: path.read_text().strip() for suite in SUITES.values()
                    for daemon, path in suite.pid_files(ns).items()}
            running = [d for d, pid in pids.items() if pid.isdigit() and alive(int(pid))]
            routers[node] = sorted(running)
        return {"lab": self.lab, "routers": routers}


def kernel_commands(setup: dict, link_interfaces: list[str],
                    present: frozenset[str] = frozenset()) -> list[str]:
    """The `ip` commands that give a router's kernel its plan (setup.json's "kernel"):
    links up, MTUs, VRF devices, VLANs and dummies, each interface in its VRF or in none.
    A device already ``present`` is not created again, so that on a router whose devices
    all exist (a reset) every command is idempotent: it puts back what was changed (an
    interface bound to another VRF or to one, a link set down) and leaves the rest."""
    vrf_of = {interface["name"]: interface["vrf"] for interface in setup["interfaces"]}
    commands = ["link set lo up"]
    commands += [f"link set {name} mtu {mtu}" for name, mtu in setup.get("mtu", {}).items()]
    for name in link_interfaces:
        if not vrf_of.get(name):
            commands.append(f"link set {name} nomaster")
        commands.append(f"link set {name} up")
    for vrf in setup["vrfs"]:
        if vrf["name"] not in present:
            commands.append(f"link add {vrf['name']} type vrf table {vrf['table']}")
        commands.append(f"link set {vrf['name']} up")
    for interface in setup["interfaces"]:
        name = interface["name"]
        if name not in present and interface["kind"] == "vlan":
            commands.append(f"link add link {interface['parent']} name {name} type vlan"
                            f" id {interface['vlan']}")
        elif name not in present and interface["kind"] == "dummy":
            commands.append(f"link add {name} type dummy")
        master = interface["vrf"]
        commands.append(f"link set {name} master {master}" if master
                        else f"link set {name} nomaster")
        commands.append(f"link set {name} up")
    return commands


def link_interfaces(links: list[dict], node: str) -> list[str]:
    """The router's ends of the lab's links (lab.json's "links")."""
    return [end["interface"] for link in links
            for end in (link["a"], link["b"]) if end["node"] == node]


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid`` and by those, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue += children.get(child, [])
    return found


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (the guest's init may never reap a killed
    daemon, whose /proc entry then stays)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def addressed(lab: str, node: str, argv: list[str]) -> list[str]:
    """``argv`` with each suite's client (vtysh, birdc) addressed to that router's daemons
    (named after its namespace)."""
    for suite in SUITES.values():
        argv = suite.address(namespace(lab, node), argv)
    return argv


def router_argv(lab: str, node: str, argv: list[str]) -> list[str]:
    """A program run inside a router's namespace."""
    return ["ip", "netns", "exec", namespace(lab, node), *addressed(lab, node, argv)]


def tools_dir(lab: str, node: str) -> Path:
    """The router's tools folder (router_shell.py), in its run folder: a router's container
    binds that at the same path."""
    return RUN_ROOT / lab / node / "bin"


def with_tools(lab: str, node: str, argv: list[str]) -> list[str]:
    """``argv`` run with the router's tools folder first on PATH (and a client at its head
    addressed as ever: a lab deployed before routers had the folder)."""
    return router_shell.with_tools(tools_dir(lab, node), addressed(lab, node, argv))


class NamespaceRouters:
    """What the runtimes whose routers are this module's namespaces (on this host, or in the
    micro-VM) share: how a suite's client reaches a router's daemons, and where the suites'
    socket readers find them (unix sockets are not per namespace). Needs ``state.lab``."""

    def addressed(self, node: str, argv: list[str]) -> list[str]:
        return addressed(self.state.lab, node, argv)  # type: ignore[attr-defined]

    def with_tools(self, node: str, argv: list[str]) -> list[str]:
        return with_tools(self.state.lab, node, argv)  # type: ignore[attr-defined]

    def reader_pathspace(self, node: str) -> str | None:
        return namespace(self.state.lab, node)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None, lab_class: type[NetnsLab] | None = None) -> int:
    """``up``, ``reset``, ``down``, ``status`` of a lab whose routers live on this kernel:
    namespaces, or (``lab_class``) containers."""
    lab_class = lab_class or NetnsLab
    parser = argparse.ArgumentParser(prog=f"python3 -m {lab_class.MODULE}")
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ("up", "down", "status", "reset"):
        p = sub.add_parser(action)
        p.add_argument("lab")
        if action in ("up", "reset"):
            p.add_argument("rendered", type=Path)
        lab_class.add_arguments(p)
    sub.add_parser("kernel-support")
    args = parser.parse_args(argv)
    try:
        if args.action == "kernel-support":
            missing = kernel_support()
            print(json.dumps({"missing": missing}))
            return 0
        lab = lab_class.from_arguments(args)
        if args.action == "up":
            lab.up(log=lambda text: print(f"progress: {text}", flush=True))
        elif args.action == "reset":
            lab.reset(log=lambda text: print(f"progress: {text}", flush=True))
        elif args.action == "down":
            lab.down()
        else:
            print(json.dumps(lab.status()))
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
