"""The appliance: a Debian 13 root filesystem with FRR 10.3 and its own kernel.

Built with mmdebstrap from Debian's packages into the cache, rebuilt only when the recipe
changes. It serves three purposes: FRR's own parser for rendered configs (chroot, no VM),
the micro-VM's root filesystem (the guest boots from an ext4 image of it, ``vm_disk``),
and (as a tarball) a Docker image where an engine exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import cache_dir
from emulator.runtime import frr_check, frr_fixes, frr_source
from emulator.suites import driver

SUITE = "trixie"
PACKAGES = [
    "frr", "frr-pythontools", "bird2", "iproute2", "iputils-ping", "procps", "tcpdump",
    "traceroute", "kmod", "linux-image-amd64", "busybox", "openssh-server", "python3",
    "nftables",
    # The containerlab runtime inside the micro-VM: a Docker engine (docker-cli and apparmor
    # named: mmdebstrap installs no Recommends). containerlab itself is copied in when used
    # (built from the Go module proxy, see scripts/install-containerlab.sh).
    "docker.io", "docker-cli", "containerd", "runc", "tini", "iptables", "apparmor",
]
# Folders the guest mounts a tmpfs on before starting Docker (its root is a read-only ext4
# image of this tree, vm_disk): they must exist in it.
MOUNT_POINTS = ["var/lib/docker", "var/lib/containerd"]
RECIPE_VERSION = 4
# Our files in the guest: path in the appliance -> package data beside this module
# (emulator/runtime/guest/, shipped in the wheel).
GUEST_DIR = files("emulator.runtime") / "guest"
GUEST_FILES = {"/usr/sbin/sshd": GUEST_DIR / "sshd",
               "/usr/sbin/mplslab-keeper": GUEST_DIR / "mplslab-keeper"}
# Debian's files that ours replace, or that must not run, kept under another name with
# dpkg-divert.
DIVERTED = {
    "/usr/sbin/sshd": "/usr/sbin/sshd.real",
    # virtme-ng-init runs udev when it finds udevd: under emulation its coldplug loads
    # drivers for QEMU's emulated hardware (AHCI, CD-ROM, watchdog, ...) for ~12 s of the
    # boot, and no router needs one. The guest's sshd wrapper loads virtio_net itself.
    "/usr/lib/systemd/systemd-udevd": "/usr/lib/systemd/systemd-udevd.mplslab-off",
}


def recipe() -> dict:
    files = {path: hashlib.sha256(source.read_bytes()).hexdigest()[:16]
             for path, source in GUEST_FILES.items()}
    fixes = {fix.name: hashlib.sha256(fix.original.pattern + fix.replacement).hexdigest()[:16]
             for fix in frr_fixes.FIXES}
    return {"suite": SUITE, "variant": "apt", "packages": PACKAGES, "version": RECIPE_VERSION,
            "guest_files": files, "diverted": DIVERTED, "frr_fixes": fixes,
            "mount_points": MOUNT_POINTS}


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

    @property
    def kernel_version(self) -> str:
        return self.kernel.name.removeprefix("vmlinuz-")

    def fix_records(self) -> list[dict]:
        """How each FRR defect fix was made in this root filesystem (frr_fixes.record): by
        rewriting Debian's binary, by building it from source, or not at all."""
        try:
            built = json.loads((self.rootfs.parent / "recipe.json").read_text())
        except (OSError, ValueError):
            return []
        if "frr_fixes_made" in built:
            return built["frr_fixes_made"]
        # Built before the source path existed: the byte rewrite was the only way (a build
        # it did not match stopped), so every fix named was made by it.
        known = {fix.name: fix for fix in frr_fixes.FIXES}
        return [frr_fixes.record(known[name], frr_fixes.BY_BYTES,
                                 self.package_version(known[name].package), "")
                for name in sorted(built.get("frr_fixes", {})) if name in known]

    def fixes(self) -> list[str]:
        """The FRR defect fixes this root filesystem carries (emulator/runtime/frr_fixes.py)."""
        return sorted(entry["name"] for entry in self.fix_records()
                      if entry["method"] != frr_fixes.NOT_MADE)

    def bgpd_verdict(self) -> frr_check.Verdict:
        """Whether this root filesystem's bgpd carries the label-bind fix: what its build
        recorded, else what its bytes say (frr_check)."""
        made = {entry["name"]: entry for entry in self.fix_records()}
        entry = made.get(frr_fixes.BIND_CACHE_ORDER.name)
        if entry and entry["method"] != frr_fixes.NOT_MADE:
            return frr_check.Verdict(frr_check.FIXED,
                                     f"the appliance fixed it ({describe_fix(entry)})",
                                     entry.get("version"))
        try:
            code = (self.rootfs / "usr/lib/frr/bgpd").read_bytes()
        except OSError as exc:
            return frr_check.unreadable(f"its bgpd cannot be read ({exc.strerror})")
        verdict = frr_check.judge(code, self.package_version("frr"))
        if entry and verdict.lacks_fix:
            return frr_check.Verdict(verdict.state, f"{verdict.reason} (the appliance build "
                                     f"could not fix it: {entry['detail']})", verdict.version)
        return verdict

    def package_version(self, package: str) -> str | None:
        """A Debian package's version in the root filesystem, from dpkg's database (no
        chroot, no root needed), or None when it is not installed."""
        try:
            text = (self.rootfs / "var/lib/dpkg/status").read_text(errors="replace")
        except OSError:
            return None
        for stanza in text.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                          if ": " in line and not line.startswith(" "))
            if (fields.get("Package") == package
                    and fields.get("Status", "").endswith(" installed")):
                return fields.get("Version")
        return None


def routers_bgpd_verdict() -> tuple[str, frr_check.Verdict]:
    """The appliance's bgpd, as routers in the micro-VM or in the image made from it run it
    (``Runtime.bgpd_verdict``): nothing to read before it is built (the build makes the fix,
    or records why it could not)."""
    where = "the appliance's bgpd"
    if not is_built():
        return where, frr_check.Verdict(frr_check.FIXED, "the appliance build fixes it")
    return where, Appliance(rootfs_path()).bgpd_verdict()


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
    # One build at a time per recipe (two labs brought up at once both need it).
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_built() and not force:
            return Appliance(target / "rootfs")
        # A build that was killed leaves its staging folder (and maybe mounts) behind.
        for leftover in target.parent.glob(f"{target.name}.*"):
            if leftover.is_dir():
                remove_tree(leftover)
        return build_locked(target, progress)


def build_locked(target: Path, progress: Callable[[str], None] | None) -> Appliance:
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
            install_guest_files(staging / "rootfs", log)
            for point in MOUNT_POINTS:
                (staging / "rootfs" / point).mkdir(parents=True, exist_ok=True)
            made = fix_frr(staging / "rootfs", progress or (lambda text: None))
        (staging / "recipe.json").write_text(json.dumps(
            {**recipe(), "frr_fixes_made": made,
             "built_seconds": round(time.monotonic() - started, 1)}, indent=2))
        if target.exists():
            remove_tree(target)
        staging.rename(target)
    except BaseException:
        remove_tree(staging)
        raise
    return Appliance(target / "rootfs")


def fix_frr(rootfs: Path, progress: Callable[[str], None]) -> list[dict]:
    """Fix FRR's defects in a freshly built root filesystem (emulator/runtime/frr_fixes.py):
    by rewriting Debian's binary when its code matches, else by building it from Debian's
    source at the installed version (emulator/runtime/frr_source.py, cached by version). What
    was done, per fix, for recipe.json."""
    progress("fixing FRR defects: " + ", ".join(f.name for f in frr_fixes.FIXES))
    version = Appliance(rootfs).package_version("frr")
    return frr_fixes.apply_all(
        rootfs, version,
        build_from_source=lambda fix, at, told: frr_source.build(fix, at, told, suite=SUITE),
        runs=frr_source.runs_in, progress=progress)


def describe_fix(entry: dict) -> str:
    """How one fix was made, in a few words (``mplslab --version``)."""
    matched = entry.get("matched_against")
    version = entry.get("version") or "unknown"
    if entry["method"] == frr_fixes.BY_BYTES:
        against = ("the build it was matched against" if version == matched
                   else f"matched against {matched}")
        return f"byte rewrite of Debian's {entry.get('package', 'frr')} {version}, {against}"
    if entry["method"] == frr_fixes.BY_SOURCE:
        return (f"built from Debian's {entry.get('package', 'frr')} {version} source with "
                f"{entry.get('patch')}, its code not matching the byte fix for {matched}")
    return f"NOT made on {entry.get('package', 'frr')} {version}: {entry.get('detail')}"


def mounts_under(folder: Path) -> list[Path]:
    """Mount points inside ``folder``, deepest first (mmdebstrap mounts /proc, /sys and
    /dev/pts in the tree it builds and can leave them behind when it is interrupted)."""
    prefix = str(folder.resolve()) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            points.append(Path(point))
    return sorted(points, key=lambda p: len(p.parts), reverse=True)


def remove_tree(folder: Path) -> None:
    """Delete a build folder without ever descending into a mounted /proc, /sys or /dev."""
    for point in mounts_under(folder):
        subprocess.run(["umount", "--lazy", str(point)], capture_output=True, check=False)
    if mounts_under(folder):
        raise LabError(f"{folder} still has mounts inside it; not deleting it",
                       hint=f"unmount them (see: grep {folder} /proc/mounts) and remove it")
    shutil.rmtree(folder, ignore_errors=True)


def install_guest_files(rootfs: Path, log) -> None:
    """Put the project's guest-side files in place, diverting the Debian files they replace
    so that the package database still knows where the originals went."""
    for original, diverted in DIVERTED.items():
        result = subprocess.run(["chroot", str(rootfs), "dpkg-divert", "--local", "--rename",
                                 "--divert", diverted, "--add", original],
                                capture_output=True, text=True, check=False)
        log.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise LabError(f"dpkg-divert of {original} in the appliance failed",
                           hint=(result.stderr or result.stdout).strip())
    for inside, source in GUEST_FILES.items():
        target = rootfs / inside.lstrip("/")
        target.write_bytes(source.read_bytes())
        target.chmod(0o755)


def vm_disk(image: Appliance, mount_points: list[Path],
            progress: Callable[[str], None] | None = None) -> Path:
    """The root filesystem as a read-only ext4 image, the micro-VM's root disk (virtio-blk).

    The guest boots from it (`vng --root-disk`, see vm_boot.vng_command). Why a disk:
    without one, virtme-ng shares the tree as the guest's root over 9p, uncached, so every
    read is a round trip through QEMU: starting one FRR daemon made ~1750 of them (its
    libraries, YANG modules), a third of its time under emulation, again for every daemon.
    From the disk the guest's page cache serves every read after the first; the boot is
    faster too. Built from the tree in seconds (mkfs.ext4 -d, no mount); built again when a
    shared folder's mount point (each mounted at its host path, see
    vm_boot.shared_folders) is not in it yet. A running VM keeps the image it opened (the
    new one replaces it by rename)."""
    disk = image.rootfs.parent / "root.ext4"
    record = disk.with_name("root.ext4.json")
    points = sorted(str(point) for point in mount_points)
    with open(image.rootfs.parent / "root.ext4.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            inside = set(json.loads(record.read_text())["mount_points"])
        except (OSError, ValueError, KeyError):
            inside = None
        if disk.is_file() and inside is not None and inside.issuperset(points):
            return disk
        if shutil.which("mkfs.ext4") is None:
            raise LabError("mkfs.ext4 is not installed (it makes the micro-VM's root disk)",
                           hint="apt-get install e2fsprogs (make setup does it)")
        for point in points:
            (image.rootfs / point.lstrip("/")).mkdir(parents=True, exist_ok=True)
        points = sorted(set(points) | (inside or set()))
        if progress:
            progress("making the micro-VM's root disk from the appliance")
        files, size = 0, 0
        for folder, _, names in os.walk(image.rootfs):
            files += len(names) + 1
            size += sum(os.lstat(os.path.join(folder, name)).st_size for name in names)
        staging = disk.with_name(f"{disk.name}.{os.getpid()}")
        try:
            # Room for ext4's own blocks and per-file slack; the file is sparse.
            with open(staging, "wb") as out:
                out.truncate(int(size * 1.3) + 512 * 2**20)
            result = subprocess.run(
                ["mkfs.ext4", "-q", "-F", "-L", "mplslab", "-m", "0", "-O", "^has_journal",
                 "-N", str(files * 2 + 10000), "-E", "root_owner=0:0",
                 "-d", str(image.rootfs), str(staging)],
                capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise LabError(f"mkfs.ext4 could not make the micro-VM's root disk {disk}",
                               hint=(result.stderr or result.stdout).strip()[-400:])
            staging.replace(disk)
        finally:
            staging.unlink(missing_ok=True)
        record.write_text(json.dumps({"mount_points": points}, indent=2) + "\n")
        return disk


@dataclass
class ParseResult:
    node: str
    ok: bool
    output: str


def check_config(appliance: Appliance, node: str, config: str,
                 suite: str = "frr") -> ParseResult:
    """The suite's own parser on a config (FRR 10.3: ``vtysh --dryrun``; BIRD: ``bird -p``),
    by chroot into the appliance."""
    scratch = Path(tempfile.mkdtemp(prefix="mplslab-dryrun-", dir=appliance.rootfs / "tmp"))
    try:
        (scratch / "router.conf").write_text(config)
        inside = Path("/") / (scratch / "router.conf").relative_to(appliance.rootfs)
        result = subprocess.run(["chroot", str(appliance.rootfs),
                                 *driver(suite).parse_check_argv(inside)],
                                capture_output=True, text=True, check=False)
        return ParseResult(node, result.returncode == 0, (result.stdout + result.stderr).strip())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
