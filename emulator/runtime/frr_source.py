"""bgpd built from Debian's frr source package with the project's patch: the appliance's way to
fix bgpd when Debian's binary no longer matches the byte rewrite (emulator/runtime/frr_fixes.py).

The build runs in a throwaway Debian chroot (``mmdebstrap --variant=buildd ... /dev/null``:
nothing of it stays; mmdebstrap mounts and unmounts what the hooks need): ``apt-get source``
of frr at exactly the version the appliance installed, its build dependencies, the patch
pushed onto Debian's own quilt series, Debian's configure step (``debian/rules``, so the flags
and paths are the package's), then ``make`` of bgpd alone (and the libfrr it links with) and
``libtool --mode=install``, which relinks it for the installed library path. The result
is ABI-compatible with the appliance's libfrr because both are the same source, version and
configuration. It is kept under ``<cache>/frr-source/<version>-<patch digest>/`` and built
once per version. bench/frr_source.py runs it for real: 7 to 8 minutes on two cores
(2026-12-07, frr 10.3-3+deb13u1: the chroot ~1 min, the source and ~300 build dependencies
~1.5 min, configure ~1 min, libfrr and bgpd ~3.5 min, the check against Debian's binary
package ~10 s).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import cache_dir
from emulator.runtime.frr_fixes import FIXES, BinaryFix

# Where the source, its build dependencies and the security updates come from: the archives
# the appliance's own packages come from (mmdebstrap's defaults for the suite), with deb-src.
ARCHIVES = [
    ("http://deb.debian.org/debian", "{suite}"),
    ("http://deb.debian.org/debian", "{suite}-updates"),
    ("http://security.debian.org/debian-security", "{suite}-security"),
]

# Inside the build chroot, as root, in /build (with the patch beside it).
BUILD_SCRIPT = r"""set -eux
version="$1" patch="$2" jobs="$3"
export DEBIAN_FRONTEND=noninteractive DEB_BUILD_OPTIONS="nocheck terse"
cd /build
apt-get update -q
apt-get source -q --only-source "frr=$version"
apt-get build-dep -q -y --only-source "frr=$version"
cd frr-*/
cp "/build/$patch" debian/patches/
echo "$patch" >> debian/patches/series
QUILT_PATCHES=debian/patches quilt push "$patch"
# The steps of dh's build sequence up to configure, with Debian's configure line.
dh_update_autotools_config
dh_autoreconf
debian/rules override_dh_auto_configure
# The generated headers first (make of one target does not make BUILT_SOURCES), then bgpd.
printf 'mplslab-built-sources: $(BUILT_SOURCES)\n' > /build/built-sources.mk
make -j"$jobs" -f Makefile -f /build/built-sources.mk mplslab-built-sources
make -j"$jobs" bgpd/bgpd
mkdir -p /build/out
./libtool --mode=install install -c bgpd/bgpd /build/out/bgpd
strip --remove-section=.comment --remove-section=.note /build/out/bgpd
# Same configuration as Debian's bgpd at this version (what keeps it compatible with the
# package's libfrr and modules): the binary package installed here, both binaries asked.
apt-get install -q -y "frr=$version"
/usr/lib/frr/bgpd --version | tail -n 1 > /build/out/configured.debian
/build/out/bgpd --version | tail -n 1 > /build/out/configured.built
cmp /build/out/configured.debian /build/out/configured.built
"""


def digest(patch: Path) -> str:
    return hashlib.sha256(patch.read_bytes()).hexdigest()[:12]


def cache_folder(version: str, patch: Path) -> Path:
    return cache_dir() / "frr-source" / f"{version}-{digest(patch)}"


def mirror_lines(suite: str) -> list[str]:
    return [f"{kind} {url} {dist.format(suite=suite)} main"
            for url, dist in ARCHIVES for kind in ("deb", "deb-src")]


def build_command(version: str, patch: Path, script: Path, out: Path, suite: str,
                  jobs: int) -> list[str]:
    """mmdebstrap making a build chroot that builds bgpd and copies it into the folder
    ``out`` (copy-out's last argument is a folder)."""
    hooks = [
        'mkdir -p "$1/build"',
        f"copy-in {shlex.quote(str(patch))} {shlex.quote(str(script))} /build",
        f'chroot "$1" sh /build/{script.name} {shlex.quote(version)} '
        f"{shlex.quote(patch.name)} {jobs}",
        f"copy-out /build/out/bgpd {shlex.quote(str(out))}",
    ]
    return ["mmdebstrap", "--variant=buildd", "--include=ca-certificates,quilt",
            *(f"--customize-hook={hook}" for hook in hooks),
            suite, "/dev/null", *mirror_lines(suite)]


def build(fix: BinaryFix, version: str, progress: Callable[[str], None],
          suite: str = "trixie") -> Path:
    """``fix.path`` (bgpd) built from ``fix.package``'s source at ``version`` with
    ``fix.patch`` and every other fix's patch for the same binary (the build replaces the
    binary whole, so it must carry them all): the cached binary, built first when missing. A
    LabError names the log."""
    if fix.path != "/usr/lib/frr/bgpd":
        raise LabError(f"no source build is known for {fix.path}")
    return build_bgpd(version, together([f.patch for f in FIXES if f.path == fix.path]),
                      progress, suite=suite)


def together(patches: list[Path]) -> Path:
    """One patch file for quilt: the one patch, or the patches one after another in a file
    of the cache named by their digest (`patch` skips each one's header text)."""
    if len(patches) == 1:
        return patches[0]
    text = "".join(patch.read_text() for patch in patches)
    combined = cache_dir() / "frr-source" / (
        f"bgpd-fixes-{hashlib.sha256(text.encode()).hexdigest()[:12]}.patch")
    if not combined.is_file():
        combined.parent.mkdir(parents=True, exist_ok=True)
        staged = combined.with_suffix(".tmp")
        staged.write_text(text)
        staged.replace(combined)
    return combined


def build_bgpd(version: str, patch: Path, progress: Callable[[str], None],
               suite: str = "trixie") -> Path:
    folder = cache_folder(version, patch)
    binary = folder / "bgpd"
    if binary.is_file():
        return binary
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap is not installed (it makes the chroot bgpd is built in)",
                       hint="apt-get install mmdebstrap (make setup does it)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file():
            return binary
        staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=folder.parent))
        log_path = folder.parent / f"{folder.name}.build.log"
        script = staging / "build-bgpd.sh"
        script.write_text(BUILD_SCRIPT)
        command = build_command(version, patch, script, staging, suite,
                                max(1, os.cpu_count() or 1))
        started = time.monotonic()
        try:
            with open(log_path, "w", buffering=1) as log:  # a line at a time: it is long
                log.write(f"$ {shlex.join(command)}\n")
                proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
                assert proc.stdout is not None
                for line in proc.stdout:
                    log.write(line)
                    if line.startswith("I: "):
                        progress(f"frr source build: {line[3:].strip()}")
                    elif line.startswith(("Applying patch", "+ make", "libtool: install")):
                        progress(f"frr source build: {line.strip()}")
                if proc.wait() != 0 or not (staging / "bgpd").is_file():
                    raise LabError(f"building bgpd from Debian's frr {version} source failed "
                                   f"(exit {proc.returncode})",
                                   hint=f"its output is in {log_path}")
            (staging / "build.json").write_text(json.dumps(
                {"version": version, "patch": patch.name, "patch_digest": digest(patch),
                 "suite": suite, "seconds": round(time.monotonic() - started, 1)},
                indent=2) + "\n")
            script.unlink()
            staging.chmod(0o755)  # mkdtemp made it private
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return binary


def runs_in(rootfs: Path, path: str) -> str | None:
    """None when ``path`` starts in the root filesystem (``--version``, by chroot: its
    libraries are the appliance's), else what it said."""
    try:
        result = subprocess.run(["chroot", str(rootfs), path, "--version"],
                                capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()[-300:] or f"exit {result.returncode}"
