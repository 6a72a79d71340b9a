"""Fixes for FRR defects that break a scenario, applied to the appliance's binaries at build time.

One today, for Option B (docs/labs/option2.md, "The FRR 10.3 bind-cache defect"). bgpd keeps
the local labels an ASBR binds for VPN routes (`mpls bgp l3vpn-multi-domain-switching`) in a
red-black tree keyed by (BGP next hop, received label). Its comparison function,
``bgp_mplsvpn_nh_label_bind_cmp()``, returns 1 ("greater") whenever the two next hops differ,
in both directions, so it is not an ordering: as soon as an ASBR binds labels for two next hops
(its own PEs' routes going out, the other ASBR's routes coming in) and the tree rebalances,
lookups miss entries that are there. Each miss binds the route to a new local label; the
router's LFIB and what its neighbours push drift apart and VPNs black-hole minutes after they
converged. The defect is in every FRR release to date (10.3 to the upstream main of 2026-11).

The fix makes the function return ``prefix_cmp()``'s own result (a total order) when the next
hops differ, as the code clearly intends. It is the same instruction sequence in every build of
the function we know, so it is applied by matching the function's exact machine code and rewriting
nine bytes in each copy (gcc also inlines it into the red-black tree's static wrapper, which is
the copy the tree actually calls); if the code is not found (a different build of FRR), the
appliance build stops and says so instead of shipping Option B broken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import LabError


@dataclass(frozen=True)
class BinaryFix:
    name: str
    path: str  # inside the root filesystem
    summary: str
    original: re.Pattern[bytes]  # group "site" marks the bytes that are rewritten
    replacement: bytes
    copies: int  # how many times the compiler emitted the code
    def apply(self, rootfs: Path) -> None:
        binary = rootfs / self.path.lstrip("/")
        code = binary.read_bytes()
        matches = list(self.original.finditer(code))
        if len(matches) != self.copies:
            raise LabError(
                f"cannot apply the fix '{self.name}' to {self.path}: its code was found "
                f"{len(matches)} times (expected {self.copies})",
                hint="Debian's FRR build changed: check whether the defect is fixed upstream "
                     "(docs/labs/option2.md) and update emulator/runtime/frr_fixes.py")
        patched = bytearray(code)
        for match in matches:
            start, end = match.span("site")
            patched[start:end] = self.replacement
        binary.write_bytes(bytes(patched))


# x86-64 code of bgp_mplsvpn_nh_label_bind_cmp() in Debian's FRR 10.3 (gcc 14, -O2):
#   call prefix_cmp; mov %eax,%edx
#   mov $1,%eax; test %edx,%edx; jne ret      <- "site": 9 bytes
#   (compare orig_label: jb ret with 1, else sbb -> -1 or 0); pop; pop; pop; ret
# becomes
#   test %eax,%eax; jne ret (returning prefix_cmp's result); mov $1,%eax
# and the label comparison after it is unchanged.
BIND_CACHE_ORDER = BinaryFix(
    name="bgpd-bind-cache-order",
    path="/usr/lib/frr/bgpd",
    summary="bgpd: Option B label-bind cache compares next hops as an ordering",
    original=re.compile(
        rb"\xf3\x0f\x1e\xfa\x55\x48\x89\xe5\x41\x54\x49\x89\xfc\x48\x83\xc7\x20\x53"
        rb"\x48\x89\xf3\x48\x83\xc6\x20\xe8....\x89\xc2"
        rb"(?P<site>\xb8\x01\x00\x00\x00\x85\xd2\x75\x10)"
        rb"\x41\x8b\x4c\x24\x58\x8b\x53\x58\x39\xca\x72\x04\x39\xd1\x19\xc0"
        rb"\x5b\x41\x5c\x5d\xc3", re.DOTALL),
    replacement=b"\x85\xc0\x75\x15\xb8\x01\x00\x00\x00",
    copies=2,  # the exported function, and its inlined copy in the tree's static wrapper
)

FIXES = [BIND_CACHE_ORDER]


def apply_all(rootfs: Path) -> list[str]:
    """Apply every fix; returns their names (recorded in the appliance's recipe.json)."""
    for fix in FIXES:
        fix.apply(rootfs)
    return [fix.name for fix in FIXES]
