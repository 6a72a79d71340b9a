"""The appliance: a Debian 13 root filesystem with FRR 10.3 and its own kernel.

Built with mmdebstrap from Debian's packages into the cache, rebuilt only when the recipe
changes. It serves three purposes: FRR's own parser for rendered configs (chroot, no VM),
the micro-VM's root filesystem, and (as a tarball) a Docker image where an engine exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import cache_dir

SUITE = "trixie"
PACKAGES = [
    "frr", "frr-pythontools", "bird2", "iproute2", "iputils-ping", "procps", "tcpdump",
    "traceroute", "kmod", "linux-image-amd64", "busybox", "openssh-server", "python3",
]
RECIPE_VERSION = 1


def recipe() -> dict:
    return {"suite": SUITE, "variant": "apt", "packages": PACKAGES, "version": RECIPE_VERSION}


def recipe_id() -> str:
    return hashlib.sha256(json.dumps(recipe(), sort_keys=True).encode()).hexdigest()[:12]


def appliance_dir() -> Path:
    return cache_dir() / "appliance" / recipe_id()


def rootfs_path() -> Path:
    return appliance_dir() / "rootfs"


def is_built() -> bool:
    return (appliance_dir() / "recipe.json").is_file()


@dataclass
class Appliance:
    rootfs: Path

    @property
    def kernel(self) -> Path:
        # Never hard-code the version: Debian's kernel moves between builds.
        kernels = sorted((self.rootfs / "boot").glob("vmlinuz-*"))
        if not kernels:
            raise LabError(f"the appliance at {self.rootfs} has no kernel",
                           hint="rebuild it: mplslab appliance build --force")
        return kernels[-1]

    def frr_version(self) -> str:
        out = subprocess.run(["chroot", str(self.rootfs), "vtysh", "--version"],
                             capture_output=True, text=True, check=False)
        return out.stdout.split("\n")[0].strip()


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise LabError(f"{what} needs root (network namespaces, chroot, mmdebstrap)",
                       hint="run it with sudo")


def build(force: bool = False, progress: Callable[[str], None] | None = None) -> Appliance:
    """Build the root filesystem if its recipe changed (or ``force``)."""
    target = appliance_dir()
    if is_built() and not force:
        return Appliance(target / "rootfs")
    require_root("building the appliance")
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap is not installed",
                       hint="apt-get install mmdebstrap (make setup does it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    log_path = target.parent / f"{target.name}.build.log"
    command = ["mmdebstrap", "--variant=apt", f"--include={','.join(PACKAGES)}", SUITE,
               str(staging / "rootfs")]
    started = time.monotonic()
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if progress and line.startswith("I: "):
                    progress(line[3:].strip())
            if proc.wait() != 0:
                raise LabError(f"mmdebstrap failed (exit {proc.returncode})",
                               hint=f"its output is in {log_path}")
        (staging / "recipe.json").write_text(json.dumps(
            {**recipe(), "built_seconds": round(time.monotonic() - started, 1)}, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Appliance(target / "rootfs")


def require_built() -> Appliance:
    if not is_built():
        raise LabError("the appliance root filesystem is not built",
                       hint="run: mplslab appliance build")
    return Appliance(rootfs_path())


@dataclass
class ParseResult:
    node: str
    ok: bool
    output: str


def check_config(appliance: Appliance, node: str, config: str) -> ParseResult:
    """FRR 10.3's own parser on a config: ``vtysh --dryrun`` by chroot into the appliance."""
    scratch = Path(tempfile.mkdtemp(prefix="mplslab-dryrun-", dir=appliance.rootfs / "tmp"))
    try:
        (scratch / "frr.conf").write_text(config)
        inside = "/" + str((scratch / "frr.conf").relative_to(appliance.rootfs))
        result = subprocess.run(["chroot", str(appliance.rootfs), "vtysh", "--dryrun", "-f",
                                 inside], capture_output=True, text=True, check=False)
        return ParseResult(node, result.returncode == 0, (result.stdout + result.stderr).strip())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
