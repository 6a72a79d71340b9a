"""Routers as containers that containerlab deploys on Docker, on this kernel: inside the
micro-VM, or on a Linux host with Docker, containerlab and the MPLS modules.

containerlab creates the containers and the veths between them from the lab's topology
(``topology()``, written as ``<lab>.clab.yml`` beside the rendered files); then every router's
deploy plan runs exactly as in the namespace runtime (kernel set-up, each suite's daemons,
its configuration, the staged steps), through ``docker exec`` instead of ``ip netns exec``.
The daemons keep the pathspace the namespace runtime gives them, and the folders they use
(FRR's and BIRD's run folders, their logs, the rendered files) are bind mounts of this
host's, at the same paths: vtysh and birdc inside a container, and the suites' socket
readers outside, find every router's sockets where they always are.

In the micro-VM the router image is thin (``thin_image``): the guest's /etc (users, FRR's
and BIRD's defaults) with /usr bind-mounted read-only from the guest, so the routers run
the appliance's very FRR and BIRD and nothing large is imported under software emulation.
On a host of the user's, the image is the whole appliance (``mplslab image build``).

Standard library only: it runs inside the micro-VM (``python3 -m
emulator.runtime.containers ...``).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from emulator.runtime import netns
from emulator.runtime.netns import RUN_ROOT, NetnsLab, StepFailed, addressed, namespace, run
from emulator.suites import SUITES, driver

PREFIX = "clab"
THIN_IMAGE = "mplslab-router:appliance"
# What the thin image binds from the guest (its root filesystem is the appliance).
THIN_BINDS = ["/usr:/usr:ro"]
ENGINE_SECONDS = 180.0
# Where the micro-VM keeps Docker's state: tmpfs (the guest's root disk is read-only).
ENGINE_FOLDERS = ["/var/lib/docker", "/var/lib/containerd"]
CLAB_ENV = {"CLAB_VERSION_CHECK": "disable"}
# Containers containerlab creates at once (its default: one per CPU).
DEPLOY_WORKERS = 4


def container(lab: str, node: str) -> str:
    return f"{PREFIX}-{lab}-{node}"


def entry(lab: str, node: str) -> Path:
    """Where a deploy records how to enter a router's container (``<entry>.pid``: its first
    process; ``<entry>.cgroup``: its cgroup's process list)."""
    return RUN_ROOT / lab / "containers" / node


# Entering a container as `docker exec` does for a privileged one: its cgroup, then every
# namespace of its first process. `docker exec` costs ~3.6 s under software emulation (the
# docker client, dockerd, containerd's shim and runc each take their turn); this ~0.25 s.
# Shell builtins only: no process but sh and nsenter.
ENTER = ('read pid < "$0.pid" && read procs < "$0.cgroup" && echo $$ > "$procs" && '
         'exec nsenter -t "$pid" -a "$@"')


def enter_argv(lab: str, node: str) -> list[str]:
    return ["sh", "-c", ENTER, str(entry(lab, node))]


def container_argv(lab: str, node: str, argv: list[str]) -> list[str]:
    """A program run inside a router's container (its suite clients addressed to the
    router's daemons, as in a namespace)."""
    return [*enter_argv(lab, node), *addressed(lab, node, argv)]


def bind_folders(lab: str, node: str, plan: dict) -> list[Path]:
    """This host's folders a router's container uses at the same path: its log folder and
    each of its suites' state folders (sockets, pid files, vtysh.conf)."""
    folders = [RUN_ROOT / lab / node]
    for suite in plan["suites"]:
        folders += driver(suite["name"]).state_dirs(namespace(lab, node))
    return folders


def topology(lab: str, description: dict, plans: dict[str, dict], rendered: Path, *,
             image: str, extra_binds: list[str] | None = None) -> dict:
    """containerlab's topology for a lab `mplslab up` deploys: each router's container binds
    the rendered files and, at the same paths, its log and state folders."""
    nodes = {}
    for node in description["nodes"]:
        binds = [f"{rendered}:{rendered}:ro"]
        binds += [f"{folder}:{folder}" for folder in bind_folders(lab, node, plans[node])]
        nodes[node] = {"binds": [*(extra_binds or []), *binds]}
    return topology_document(lab, description, nodes, image)


def topology_document(lab: str, description: dict, nodes: dict[str, dict], image: str) -> dict:
    """The topology file (valid against containerlab's schema) around each router's own
    settings (``nodes``), its links the lab's. Routers have no management interface
    (``network-mode: none``): nothing but the lab's links reaches their routing tables. They
    are privileged (MPLS and VRF sysctls, nftables), never restarted by Docker (a restarted
    container would come back without its veths), and the image is never pulled (it is
    built here)."""
    links = [{"endpoints": [f"{link['a']['node']}:{link['a']['interface']}",
                            f"{link['b']['node']}:{link['b']['interface']}"]}
             for link in description["links"]]
    return {
        "name": lab,
        "prefix": PREFIX,
        "mgmt": {"network": "none", "skip-when-unused": True},
        "topology": {
            # `cmd`: whatever the image would start (FRR's own starts watchfrr and its
            # daemons), the routers' daemons are the deploy's; the container only idles.
            "defaults": {"kind": "linux", "image": image, "image-pull-policy": "Never",
                         "network-mode": "none", "restart-policy": "no",
                         "privileged": True, "cmd": "sleep infinity"},
            "nodes": nodes,
            "links": links,
        },
    }


def topology_path(rendered: Path, lab: str) -> Path:
    return rendered / f"{lab}.clab.yml"


def rendered_topology(lab: str, rendered: Path, *, image: str,
                      extra_binds: list[str] | None = None) -> dict:
    """``topology`` of a lab rendered into ``rendered`` (its lab.json and setup.json files)."""
    description = json.loads((rendered / "lab.json").read_text())
    plans = {node: json.loads((rendered / node / "setup.json").read_text())
             for node in description["nodes"]}
    return topology(lab, description, plans, rendered.absolute(), image=image,
                    extra_binds=extra_binds)


# A lab deployed by hand (`mplslab render --clab`, then `containerlab deploy`): every
# container binds what its router's start reads, and containerlab's `exec:` starts the
# router's own plan. The start's code is a copy of the modules of mplslab's `emulator`
# package it imports (standard library only), written beside the rendered files
# (``START_BUNDLE``) and bound where PYTHONPATH finds it.
BY_HAND_CODE = Path("/opt/mplslab")
BY_HAND_LOG = "/var/log/mplslab-start.log"
START_BUNDLE = "_start"  # <rendered>/_start/emulator/...: no node name begins with "_"


def package_module(root: Path, name: str) -> Path | None:
    """The file of module ``name`` under ``root`` (a package's ``__init__.py``), relative to
    ``root``; None when ``name`` is no module there (a function or class imported by
    name)."""
    relative = Path(*name.split("."))
    for candidate in (relative / "__init__.py", relative.with_suffix(".py")):
        if (root / candidate).is_file():
            return candidate
    return None


def start_modules(module: str) -> list[Path]:
    """What importing ``module`` runs of the `emulator` package: its file, every package
    above it (their ``__init__.py`` run first), and so on for each module of the package it
    imports, wherever the import stands in its code; as paths relative to the folder that
    holds `emulator`. Read from the modules' import statements, nothing imported."""
    root = Path(__file__).resolve().parents[2]
    found: dict[str, Path] = {}
    queue = [module]
    while queue:
        name = queue.pop()
        if name in found:
            continue
        path = package_module(root, name)
        if path is None:
            raise ValueError(f"{name} is no module of the emulator package")
        found[name] = path
        parts = name.split(".")
        queue += [".".join(parts[:depth]) for depth in range(1, len(parts))]
        package = parts if path.name == "__init__.py" else parts[:-1]
        for statement in ast.walk(ast.parse((root / path).read_text(), str(path))):
            if isinstance(statement, ast.Import):
                queue += [alias.name for alias in statement.names
                          if alias.name.split(".")[0] == "emulator"]
            elif isinstance(statement, ast.ImportFrom):
                base = (package[:len(package) - statement.level + 1] if statement.level
                        else [])
                origin = ".".join([*base, *(statement.module or "").split(".")]).strip(".")
                if origin.split(".")[0] != "emulator":
                    continue
                queue.append(origin)
                # `from emulator.suites import frr`: a module, not a name in one.
                queue += [f"{origin}.{alias.name}" for alias in statement.names
                          if package_module(root, f"{origin}.{alias.name}")]
    return sorted(found.values())


def write_start_bundle(rendered: Path) -> Path:
    """The start's code beside the rendered files: the files ``start_modules`` finds for
    ``ContainerLab.MODULE``, copied into ``rendered/_start/`` (no ``__pycache__``; a bundle
    already there is replaced). Returns its `emulator` folder."""
    root = Path(__file__).resolve().parents[2]
    bundle = rendered / START_BUNDLE
    if bundle.exists():
        shutil.rmtree(bundle)
    for relative in start_modules(ContainerLab.MODULE):
        (bundle / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, bundle / relative)
    return bundle / "emulator"


def by_hand_binds(rendered: Path, node: str) -> list[str]:
    """What one router's container binds, read-only, for its start: its own rendered folder
    (its configuration and plan), lab.json (the lab's links: which interfaces are its) at
    the same paths, and the start bundle as the `emulator` package under BY_HAND_CODE. No
    other router's files, nor model.json (the verifier's)."""
    code = rendered / START_BUNDLE / "emulator"
    return [f"{rendered / node}:{rendered / node}:ro",
            f"{rendered / 'lab.json'}:{rendered / 'lab.json'}:ro",
            f"{code}:{BY_HAND_CODE / code.name}:ro"]


def by_hand_topology(lab: str, rendered: Path, *, image: str) -> dict:
    """containerlab's topology for a deploy without mplslab: each router's container binds
    its own files and the start bundle (``by_hand_binds``; the bundle is written here), and
    starts its own plan (kernel set-up, daemons, configuration, staged steps) in the
    background once containerlab has attached its links. Nothing outside the containers
    reads their daemons' sockets, so there are no other binds (and no host folder to create
    first). One router's binds hold about 125 KiB for option3, 118 KiB of it the bundle:
    clabverter (clabernetes) makes of them a ConfigMap per router well under Kubernetes'
    1 MiB."""
    rendered = rendered.absolute()
    description = json.loads((rendered / "lab.json").read_text())
    write_start_bundle(rendered)
    nodes = {}
    for node in description["nodes"]:
        start = shlex.join(["python3", "-m", ContainerLab.MODULE, "start", lab, str(rendered),
                            node])
        nodes[node] = {
            "binds": by_hand_binds(rendered, node),
            "env": {"PYTHONPATH": str(BY_HAND_CODE)},
            "exec": [shlex.join(["sh", "-c", f"{start} > {BY_HAND_LOG} 2>&1 &"])],
        }
    return topology_document(lab, description, nodes, image)


def containerlab(args: list[str], *, timeout: float = 900.0) -> subprocess.CompletedProcess:
    """containerlab, run to its end (its callers judge the exit status: a deploy keeps its
    log, a teardown goes on whatever it says)."""
    binary = shutil.which("containerlab")
    if binary is None:
        raise StepFailed("containerlab is not installed here "
                         "(make containerlab builds it; see docs/runtimes.md)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, **CLAB_ENV})


def engine_answers() -> bool:
    """A Docker client is here and its engine answers."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, check=False, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        return False


# A router image's start: tini reaps what the daemons leave; the routers' daemons are started
# by the deploy (docker import takes these as --change lines).
IMAGE_CHANGES = ['ENTRYPOINT ["/usr/bin/tini", "--"]', 'CMD ["sleep", "infinity"]']


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                          check=False).returncode == 0


def file_from_image(image: str, path: str) -> bytes | str:
    """One file of an image as bytes (a container created, never started, and removed), or
    what Docker said when it could not."""
    # A command given: an image without one cannot be created (it never runs anyway).
    created = subprocess.run(["docker", "create", image, "true"], capture_output=True,
                             text=True, check=False, timeout=120)
    if created.returncode != 0:
        return created.stderr.strip()[-200:] or "docker create failed"
    container_id = created.stdout.strip()
    try:
        copied = subprocess.run(["docker", "cp", "-L", f"{container_id}:{path}", "-"],
                                capture_output=True, check=False, timeout=120)
        if copied.returncode != 0:
            return copied.stderr.decode(errors="replace").strip()[-200:] or "docker cp failed"
        with tarfile.open(fileobj=io.BytesIO(copied.stdout)) as archive:
            member = next((m for m in archive.getmembers() if m.isfile()), None)
            extracted = archive.extractfile(member) if member else None
            if extracted is None:
                return f"{path} is not a file in the image"
            return extracted.read()
    except (tarfile.TarError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        subprocess.run(["docker", "rm", container_id], capture_output=True, check=False,
                       timeout=60)


def import_image(tar_argv: list[str], tag: str) -> str | None:
    """``tar_argv``'s output (a tar on its standard output) imported as the router image
    ``tag``; None, or what `docker import` said when it failed."""
    tar = subprocess.Popen(tar_argv, stdout=subprocess.PIPE)
    changes = [a for change in IMAGE_CHANGES for a in ("-c", change)]
    imported = subprocess.run(["docker", "import", *changes, "-", tag], stdin=tar.stdout,
                              capture_output=True, text=True, check=False)
    tar.wait()
    return None if imported.returncode == 0 else imported.stderr.strip()


def start_engine(log) -> None:
    """The micro-VM's Docker engine, started on first use (it lives as long as the VM):
    containerd and dockerd on tmpfs, no iptables, no bridge (routers have no management
    network)."""
    if engine_answers():
        return
    log("starting Docker inside the micro-VM")
    for folder in ENGINE_FOLDERS:
        Path(folder).mkdir(parents=True, exist_ok=True)
        if not os.path.ismount(folder):
            run(["mount", "-t", "tmpfs", "tmpfs", folder])
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    for argv in (["containerd"],
                 ["dockerd", "--containerd=/run/containerd/containerd.sock",
                  "--iptables=false", "--ip6tables=false", "--bridge=none",
                  "--storage-driver=overlay2"]):
        with open(RUN_ROOT / f"{argv[0]}.log", "w") as out:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + ENGINE_SECONDS
    while not engine_answers():
        if time.monotonic() > deadline:
            raise StepFailed(f"Docker did not answer within {ENGINE_SECONDS:.0f}s "
                             f"(log: {RUN_ROOT / 'dockerd.log'})")
        time.sleep(1)


def thin_image(log) -> None:
    """The micro-VM's router image: this guest's /etc, the merged-/usr links, empty
    folders; /usr itself comes in as a read-only bind (THIN_BINDS)."""
    if image_exists(THIN_IMAGE):
        return
    log(f"building the router image {THIN_IMAGE} from the appliance")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for folder in ("tmp", "run", "proc", "sys", "dev", "root", "var/tmp", "var/log",
                       "var/lib", "usr"):
            (root / folder).mkdir(parents=True)
        (root / "tmp").chmod(0o1777)
        for link in ("bin", "sbin", "lib", "lib64"):
            (root / link).symlink_to(f"usr/{link}")
        run(["cp", "-a", "/etc", str(root / "etc")])
        if Path("/var/lib/frr").is_dir():
            run(["cp", "-a", "/var/lib/frr", str(root / "var/lib/frr")])
        failed = import_image(["tar", "-C", str(root), "-c", "."], THIN_IMAGE)
        if failed is not None:
            raise StepFailed(f"importing {THIN_IMAGE}: {failed[-300:]}")


class ContainerLab(NetnsLab):
    """A lab whose routers are containers: NetnsLab's deploy plan, entered by docker exec."""

    MODULE = "emulator.runtime.containers"

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--image", default=THIN_IMAGE,
                            help=f"the router image ({THIN_IMAGE}: built here, /usr bound)")
        parser.add_argument("--in-vm", action="store_true",
                            help="start the micro-VM's Docker engine if it does not run")

    @classmethod
    def from_arguments(cls, args) -> ContainerLab:
        return cls(args.lab, getattr(args, "rendered", Path(".")), image=args.image,
                   in_vm=args.in_vm)

    def __init__(self, lab: str, rendered: Path, *, image: str = THIN_IMAGE,
                 in_vm: bool = False):
        super().__init__(lab, rendered)
        self.image = image
        self.in_vm = in_vm

    def enter(self, node: str) -> list[str]:
        return enter_argv(self.lab, node)

    def ip_batch(self, node: str) -> list[str]:
        return [*enter_argv(self.lab, node), "ip", "-batch", "-"]

    def present(self) -> list[str]:
        result = run(["docker", "ps", "-a", "--filter", f"label=containerlab={self.lab}",
                      "--format", "{{.Names}}"], check=False)
        return result.stdout.split() if result.returncode == 0 else []

    def create_routers(self, nodes: list[str], links: list[dict], log) -> None:
        if self.in_vm:
            start_engine(log)
        elif not engine_answers():
            raise StepFailed("the Docker engine does not answer (is dockerd running, and may "
                             "this user reach /var/run/docker.sock?)")
        if self.image == THIN_IMAGE:
            thin_image(log)
        plans = {node: self.plan(node) for node in nodes}
        for node in nodes:
            # Bind sources must exist before the containers start.
            for folder in bind_folders(self.lab, node, plans[node]):
                folder.mkdir(parents=True, exist_ok=True)
            for suite in plans[node]["suites"]:
                module = driver(suite["name"])
                module.prepare(self.ns(node))
                for folder in [self.run_dir / node, *module.state_dirs(self.ns(node))]:
                    shutil.chown(folder, module.USER, module.USER)
        path = topology_path(self.rendered, self.lab)
        # JSON is YAML: containerlab reads it (this module has no YAML writer).
        path.write_text(json.dumps(rendered_topology(
            self.lab, self.rendered, image=self.image,
            extra_binds=THIN_BINDS if self.image == THIN_IMAGE else None), indent=1) + "\n")
        log(f"containerlab: deploying {len(nodes)} containers and {len(links)} links")
        result = containerlab(["deploy", "-t", str(path), "--reconfigure", "--max-workers",
                                      str(DEPLOY_WORKERS)])
        (self.run_dir / "containerlab-deploy.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise StepFailed(f"containerlab deploy failed (exit {result.returncode}; "
                             f"log: {self.run_dir / 'containerlab-deploy.log'})")
        self.record_entries(nodes)

    def record_entries(self, nodes: list[str]) -> None:
        names = [container(self.lab, node) for node in nodes]
        result = run(["docker", "inspect", "--format", "{{.State.Pid}}", *names])
        for node, pid in zip(nodes, result.stdout.split(), strict=True):
            cgroup = Path(f"/proc/{pid}/cgroup").read_text().strip().rsplit(":", 1)[1]
            path = entry(self.lab, node)
            path.parent.mkdir(parents=True, exist_ok=True)
            Path(f"{path}.pid").write_text(pid + "\n")
            Path(f"{path}.cgroup").write_text(f"/sys/fs/cgroup{cgroup}/cgroup.procs\n")

    def down(self) -> None:
        self.stop_deploy()
        present = self.present()
        if present and shutil.which("containerlab"):
            containerlab(["destroy", "--name", self.lab, "--cleanup", "--yes"])
        said = ""
        for name in self.present():  # what containerlab left (a deploy cut short)
            said = run(["docker", "rm", "-f", name], check=False).stderr.strip() or said
        if survivors := self.present():
            # Said, not hidden: a container Docker cannot remove (its first process waits
            # for processes of its PID namespace nobody reaps) would outlive a `down` that
            # claimed success. The lab's state stays for another `down`.
            raise StepFailed(f"Docker did not remove {len(survivors)} containers of "
                             f"{self.lab} ({', '.join(survivors)}): {said or 'no reason given'}")
        nodes = [name.removeprefix(f"{PREFIX}-{self.lab}-") for name in present]
        for node in nodes:
            for suite in SUITES.values():
                for folder in suite.state_dirs(self.ns(node)):
                    shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def status(self) -> dict:
        """Which daemons run in each container (their pid files hold the container's pids:
        asked inside it), and each container's state as containerlab tells it."""
        states = {}
        if shutil.which("containerlab"):
            result = containerlab(["inspect", "--name", self.lab, "--format", "json"],
                                  timeout=60)
            try:
                for details in json.loads(result.stdout or "{}").get(self.lab, []):
                    node = details["name"].removeprefix(f"{PREFIX}-{self.lab}-")
                    states[node] = details.get("state", "")
            except (ValueError, AttributeError, KeyError):
                states = {}
        routers = {}
        for name in self.present():
            node = name.removeprefix(f"{PREFIX}-{self.lab}-")
            files = [str(path) for suite in SUITES.values()
                     for path in suite.pid_files(self.ns(node)).values()]
            result = run([*self.enter(node), "sh", "-c",
                          'for f in "$@"; do kill -0 "$(cat "$f")" 2>/dev/null && '
                          'basename "$f" .pid; done', "sh", *files], check=False)
            routers[node] = sorted(result.stdout.split())
        return {"lab": self.lab, "routers": routers, "containers": states}


class ThisContainer(NetnsLab):
    """One router's deploy plan run inside its own container (containerlab's `exec:` of a
    lab deployed by hand): the container's network stack is the router's, so nothing is
    entered; the host's kernel has the modules loaded (a container cannot load them)."""

    INTERFACE_SECONDS = 60.0

    def enter(self, node: str) -> list[str]:
        return []

    def ip_batch(self, node: str) -> list[str]:
        return ["ip", "-batch", "-"]

    def load_modules(self, modules: list[str]) -> None:
        if modules and (missing := netns.kernel_support()):
            raise StepFailed(f"this host's kernel has no {' and no '.join(missing)}: load "
                             f"them on the host (sudo modprobe -a {' '.join(modules)}), then "
                             "deploy again")

    def start(self, node: str) -> None:
        interfaces = self.link_interfaces(node)
        deadline = time.monotonic() + self.INTERFACE_SECONDS
        while missing := [i for i in interfaces if not Path(f"/sys/class/net/{i}").exists()]:
            if time.monotonic() > deadline:
                raise StepFailed(f"{node}: containerlab attached no {', '.join(missing)}")
            time.sleep(1)
        self.kernel_setup(node, interfaces)
        # The folders a namespace router finds on its host (/run/frr/<pathspace>, …): here
        # the image's own file system, where nothing made them.
        for suite in self.plan(node)["suites"]:
            module = driver(suite["name"])
            for folder in module.state_dirs(self.ns(node)):
                folder.mkdir(parents=True, exist_ok=True)
                shutil.chown(folder, module.USER, module.USER)
        self.start_suites(node)
        self.link_default_sockets(node)
        self.configure_suites(node)
        self.check_addresses(node)
        self.after_start(node)

    def link_default_sockets(self, node: str) -> None:
        """Each daemon's socket also where its client looks by default (/run/frr/zebra.vty
        for vtysh, /run/bird/bird.ctl for birdc): `docker exec -it <container> vtysh`."""
        for suite in self.plan(node)["suites"]:
            module = driver(suite["name"])
            for daemon in suite["daemons"]:
                socket = module.vty_socket(self.ns(node), daemon)
                default = socket.parent.parent / socket.name
                default.unlink(missing_ok=True)
                default.symlink_to(socket)


def start_here(argv: list[str]) -> int:
    """``start LAB RENDERED NODE``: this container's router, by ``ThisContainer``."""
    parser = argparse.ArgumentParser(prog=f"python3 -m {ContainerLab.MODULE} start")
    parser.add_argument("lab")
    parser.add_argument("rendered", type=Path)
    parser.add_argument("node")
    args = parser.parse_args(argv)
    try:
        ThisContainer(args.lab, args.rendered).start(args.node)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"{args.node} is up", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["start"]:
        return start_here(argv[1:])
    return netns.main(argv, lab_class=ContainerLab)


if __name__ == "__main__":
    sys.exit(main())
