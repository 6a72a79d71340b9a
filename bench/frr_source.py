"""The appliance's source path for the FRR fix, run for real (issue 31): bgpd built from
Debian's frr source package with the project's patch (emulator/runtime/frr_source.py), as the
appliance build does when Debian's bgpd no longer matches the byte rewrite. Not in CI: it
downloads the source and ~300 build dependencies and compiles libfrr and bgpd (minutes on two
cores). Needs root and mmdebstrap; leaves nothing but the cached binary.

    sudo python bench/frr_source.py [--version 10.3-3+deb13u1] [--cache DIR]

By default it builds into a fresh temporary cache (MPLSLAB_CACHE), so that nothing cached
answers for it, and deletes it afterwards; --cache keeps the result there. It then checks
the binary: the build itself compared its configure line with Debian's bgpd of the same
version (installed in the build chroot); here the comparator's code is read back
(`objdump`, when installed: prefix_cmp's result returned, not a constant 1) and the judge of
`mplslab up` (emulator/runtime/frr_check.py) must know it for the fixed code. Prints timings
and the verdicts; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator.errors import LabError
from emulator.runtime import frr_check, frr_fixes, frr_source


def comparator(binary: Path) -> str | None:
    """bgp_mplsvpn_nh_label_bind_cmp's disassembly, or None without binutils. The binary is
    stripped, but the function is in its dynamic symbols (bgpd's modules link against it):
    its address and size come from there."""
    if shutil.which("objdump") is None or shutil.which("readelf") is None:
        return None
    symbols = subprocess.run(["readelf", "-W", "--dyn-syms", str(binary)],
                             capture_output=True, text=True, check=True).stdout
    found = re.search(r"([0-9a-f]+)\s+(\d+)\s+FUNC\s.*\sbgp_mplsvpn_nh_label_bind_cmp$",
                      symbols, re.MULTILINE)
    if not found:
        return ""
    start, size = int(found.group(1), 16), int(found.group(2))
    return subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start}",
                           f"--stop-address={start + size}", str(binary)],
                          capture_output=True, text=True, check=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=frr_fixes.BIND_CACHE_ORDER.matched_against,
                        help="Debian's frr version to build (default: %(default)s)")
    parser.add_argument("--cache", type=Path, help="build into this cache and keep it")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="mplslab-frr-source-"))
    os.environ["MPLSLAB_CACHE"] = str(cache)  # frr_source builds under cache_dir()
    started = time.monotonic()
    failures = []
    try:
        binary = frr_source.build(frr_fixes.BIND_CACHE_ORDER, args.version,
                                  lambda text: print(f"{time.monotonic() - started:7.1f}s "
                                                     f"{text}", flush=True))
    except LabError as exc:
        print(f"FAILED after {time.monotonic() - started:.0f}s: {exc}")
        for log in (cache / "frr-source").glob("*.build.log"):
            print("".join(log.read_text(errors="replace").splitlines(True)[-40:]))
        return 1
    else:
        print(f"built {binary} ({binary.stat().st_size} bytes) in "
              f"{time.monotonic() - started:.0f}s")
        verdict = frr_check.judge(binary.read_bytes())
        print(f"frr_check: {verdict.state}: {verdict.reason}")
        if verdict.state != frr_check.FIXED:
            failures.append("frr_check does not recognise the built bgpd as fixed")
        code = comparator(binary)
        if code is None:
            print("objdump is not installed: the comparator's code is not read back")
        else:
            print("bgp_mplsvpn_nh_label_bind_cmp:\n" + code)
            after_call = code.split("prefix_cmp", 1)[-1].splitlines()[1:3]
            if not (len(after_call) == 2 and "test   %eax,%eax" in after_call[0]
                    and "jne" in after_call[1]):
                failures.append("prefix_cmp's result is not what the comparator returns")
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
