"""Whether a bgpd carries the label-bind cache defect (docs/labs/option2.md, trap 3), judged
from its bytes: the check ``mplslab up`` makes on a bgpd the appliance did not build (the
host's own on the ``netns`` runtime, the one in a user's ``--image``).

``judge`` is pure (bytes in, verdict out): the comparator's unfixed machine code present is
the defect, certain; the code as the appliance's rewrite leaves it, or the fixed source as
Debian's gcc compiles it, is the fix; neither (another compiler, another build) falls back on
the FRR version, where every release from 9.1 (which
brought per-next-hop label binding) to date has the defect. Labs whose ASBRs bind labels per
next hop (Option B: interfaces with ``l3vpn-multi-domain-switching``) get the warning, or a
refusal with ``--strict``; other labs never read this.

Standard library only (the micro-VM's python3 runs it: ``python3 -m emulator.runtime.frr_check
PATH`` prints a verdict as JSON; tests/e2e/test_frr_fix.py uses it).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass

from emulator.runtime.frr_fixes import BIND_CACHE_ORDER

# FRR 9.1 brought `mpls bgp l3vpn-multi-domain-switching` and the cache with it.
FIRST_AFFECTED = (9, 1)
# The first FRR release with a total order upstream: set it when one ships (docs/upstream/
# has the patch). None: every release to date has the defect.
FIXED_UPSTREAM: tuple[int, int] | None = None

FIXED = "fixed"  # the appliance's rewrite is in the code, or the release has the upstream fix
UNAFFECTED = "unaffected"  # an FRR without per-next-hop label binding
UNFIXED = "unfixed"  # the defective machine code is in the binary
PRESUMED = "presumed-unfixed"  # code not recognised, and the version has the defect
UNKNOWN = "unknown"  # the binary could not be read

DOC = 'docs/labs/option2.md, "Three FRR 10.3 traps", trap 3'
DEFECT = ("FRR's Option B label-bind cache (bgp_mplsvpn_nh_label_bind_cmp, a comparison that "
          "is not an ordering) loses entries, so an ASBR re-binds VPN labels after "
          "convergence and VPNs black-hole")

# The fixed comparator as Debian's gcc 14 compiles the patch (emulator/runtime/patches/frr/,
# docs/upstream/): prefix_cmp's result returned when non-zero, then the labels compared. It is
# what the appliance's source build makes (bench/frr_source.py, frr 10.3-3+deb13u1: the
# exported function and its inlined copy), and what a Debian frr carrying the same fix
# upstream would hold.
SOURCE_FIXED = re.compile(
    rb"\xf3\x0f\x1e\xfa\x55\x48\x89\xe5\x41\x54\x49\x89\xfc\x48\x83\xc7\x20\x53"
    rb"\x48\x89\xf3\x48\x83\xc6\x20\xe8....\x85\xc0\x75\x14"
    rb"\x41\x8b\x44\x24\x58\x8b\x53\x58\x39\xd0\x72\x12\x39\xc2\x0f\x92\xc0\x0f\xb6\xc0"
    rb"\x5b\x41\x5c\x5d\xc3", re.DOTALL)

# FRR_DAEMON_INFO puts the daemon's name and FRR_VERSION side by side in .rodata.
VERSION_IN_CODE = re.compile(rb"\x00bgpd\x00(\d+\.\d+(?:\.\d+)?(?:[-~+][\w.~+-]*)?)\x00")


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str  # one clause: what in the binary (or its version) says so
    version: str | None = None

    @property
    def lacks_fix(self) -> bool:
        """The defect is present, presumed, or cannot be ruled out."""
        return self.state in (UNFIXED, PRESUMED, UNKNOWN)


def version_in(code: bytes) -> str | None:
    found = VERSION_IN_CODE.search(code)
    return found.group(1).decode() if found else None


def release(version: str | None) -> tuple[int, int] | None:
    found = re.match(r"\D*(\d+)\.(\d+)", version or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def judge(code: bytes, version: str | None = None) -> Verdict:
    """The verdict on a bgpd binary (``version``: what ``bgpd --version`` or the package says;
    when None, the version compiled into the binary)."""
    version = version or version_in(code)
    unfixed = len(BIND_CACHE_ORDER.original.findall(code))
    if unfixed:
        return Verdict(UNFIXED, f"its comparator is Debian's unfixed machine code ({unfixed} "
                                "copies)", version)
    if BIND_CACHE_ORDER.fixed.search(code):
        return Verdict(FIXED, "its comparator carries mplslab's byte fix", version)
    if SOURCE_FIXED.search(code):
        return Verdict(FIXED, "its comparator is the fixed source as gcc compiles it", version)
    number = release(version)
    if number is None:
        return Verdict(PRESUMED, "its comparator's code is not one mplslab knows and its FRR "
                                 "version is unknown", version)
    shown = ".".join(map(str, number))
    if number < FIRST_AFFECTED:
        return Verdict(UNAFFECTED, f"FRR {shown} has no per-next-hop label binding", version)
    if FIXED_UPSTREAM is not None and number >= FIXED_UPSTREAM:
        return Verdict(FIXED, f"FRR {shown} has the upstream fix", version)
    return Verdict(PRESUMED, f"its comparator's code is not one mplslab knows, and FRR "
                             f"{shown}, like every release since 9.1, has the defect unless "
                             "it was built with the fix", version)


def unreadable(why: str) -> Verdict:
    return Verdict(UNKNOWN, why)


def binding_nodes(model) -> list[str]:
    """The routers that bind labels per next hop: Option B ASBRs (an interface with
    ``l3vpn-multi-domain-switching``)."""
    return [node.name for node in model.nodes
            if any(interface.l3vpn_switching for interface in node.interfaces)]


def advice(verdict: Verdict, where: str, nodes: list[str]) -> str:
    """The warning (or, with --strict, the refusal) for a lab whose ``nodes`` bind labels per
    next hop on a bgpd that lacks the fix."""
    shown = ", ".join(nodes[:6]) + (f" and {len(nodes) - 6} more" if len(nodes) > 6 else "")
    lacks = {UNFIXED: "lacks", PRESUMED: "probably lacks"}.get(verdict.state, "may lack")
    return (f"{where} {lacks} the fix for FRR's label-bind defect: {verdict.reason}. This "
            f"lab's Option B ASBRs ({shown}) bind labels per next hop, where {DEFECT}. See "
            f"{DOC}; the micro-VM (--runtime vm) runs the appliance's fixed bgpd")


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "/usr/lib/frr/bgpd"
    try:
        with open(path, "rb") as binary:
            verdict = judge(binary.read())
    except OSError as exc:
        verdict = unreadable(f"{path} cannot be read: {exc.strerror}")
    print(json.dumps(asdict(verdict)))
    return 1 if verdict.lacks_fix else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
