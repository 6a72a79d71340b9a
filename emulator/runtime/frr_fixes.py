"""Fixes for FRR defects that break a scenario, applied to the appliance's binaries at build time.

Two today. The first, for Option B (docs/labs/option2.md, "The FRR 10.3 bind-cache defect"):
bgpd keeps the local labels an ASBR binds for VPN routes (`mpls bgp
l3vpn-multi-domain-switching`) in a red-black tree keyed by (BGP next hop, received label).
Its comparison function,
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
the copy the tree actually calls). The pattern was taken from one Debian build of frr
(``matched_against``); when Debian serves another build whose code no longer matches, the
appliance does not stop: bgpd is built from Debian's frr source package at the installed
version with the same fix as a source patch (``patches/frr/``, emulator/runtime/frr_source.py),
and installed in place of Debian's. Which way each fix was made is recorded in the appliance's
recipe.json and shown by ``mplslab --version``.

The second, for labelled unicast (options 3 and 4, the carrier labs; docs/labs/option4.md):
when a prefix loses its best path, bgpd returns its local label to the label pool but keeps it
on the route node, and registers that stale label with zebra again when a path comes back
(zebra's swap entries then outlive the pool's record, and two prefixes can share an in-label).
Upstream fixed it in FRR 10.5 (e85876c36d); the rewrite puts the same one instruction in the
alignment padding after the release branch's jump. A source build carries every fix's patch for
its binary (it replaces the binary whole).

``frr_check`` reads the same patterns to tell, at ``mplslab up``, whether a bgpd the appliance
did not build (the host's own, a user's image) carries the defect. This module and that one use
the standard library only (the micro-VM's python3 imports them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import LabError

# The project's source patches for FRR (quilt patches: DEP-3 header, -p1), shipped as package
# data beside this module.
PATCHES_DIR = Path(__file__).resolve().parent / "patches" / "frr"

# How a fix was made, as recipe.json records it.
BY_BYTES = "bytes"  # Debian's binary, its machine code rewritten
BY_SOURCE = "source"  # built from Debian's source package with the project's patch
NOT_MADE = "none"  # neither worked: Debian's binary as it is (the reason is recorded)


@dataclass(frozen=True)
class BinaryFix:
    name: str
    path: str  # inside the root filesystem
    summary: str
    original: re.Pattern[bytes]  # group "site" marks the bytes that are rewritten
    replacement: bytes
    copies: int  # how many times the compiler emitted the code
    package: str  # the Debian package the binary comes from (its source package too)
    matched_against: str  # the package version whose machine code ``original`` was taken from
    source_patch: str  # the same fix in source, a file in PATCHES_DIR

    @property
    def fixed(self) -> re.Pattern[bytes]:
        """The code as the rewrite leaves it."""
        site = re.search(rb"\(\?P<site>(.*?)\)", self.original.pattern, re.DOTALL)
        assert site is not None
        return re.compile(self.original.pattern.replace(site.group(0),
                                                        re.escape(self.replacement)), re.DOTALL)

    @property
    def patch(self) -> Path:
        return PATCHES_DIR / self.source_patch

    def rewritten(self, code: bytes) -> bytes | None:
        """``code`` with every copy rewritten, or None when the code is not found exactly
        ``copies`` times (another build: the rewrite would not be known to be right)."""
        matches = list(self.original.finditer(code))
        if len(matches) != self.copies:
            return None
        patched = bytearray(code)
        for match in matches:
            start, end = match.span("site")
            patched[start:end] = self.replacement
        return bytes(patched)

    def apply(self, rootfs: Path) -> None:
        """The byte rewrite alone; a LabError when the code does not match."""
        binary = rootfs / self.path.lstrip("/")
        code = binary.read_bytes()
        patched = self.rewritten(code)
        if patched is None:
            raise LabError(
                f"cannot apply the fix '{self.name}' to {self.path}: its code was found "
                f"{len(self.original.findall(code))} times (expected {self.copies})",
                hint="Debian's FRR build changed: check whether the defect is fixed upstream "
                     "(docs/labs/option2.md) and update emulator/runtime/frr_fixes.py")
        binary.write_bytes(patched)


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
    package="frr",
    matched_against="10.3-3+deb13u1",  # Debian 13's frr, its gcc 14 build
    source_patch="bgp-label-bind-total-order.patch",
)

# x86-64 code of bgp_reg_dereg_for_label()'s release branch in Debian's FRR 10.3 (gcc 14, -O2),
# dest in %rbx, the decoded label in %r13d:
#   andw $0xff7f,0x5c(%rbx)            UNSET_FLAG(dest->flags, BGP_NODE_LABEL_REQUESTED)
#   mov %r13d,%edx; mov %rbx,%rsi; mov $2,%edi; call bgp_lp_release
#   jmp <send the FEC unregister>; nopl (5 bytes of alignment)   <- "site": 10 bytes
# becomes
#   andb $0xfd,0x5a(%rbx)              bgp_unset_valid_label(&dest->local_label): the valid
#                                      bit is bit 1 of the label's third byte (dest + 0x5a)
#   jmp <the same> (short: -127 bytes); nopl (4 bytes)
# the upstream fix, instruction for instruction, in the alignment padding after the jump.
LU_FORGET_RELEASED_LABEL = BinaryFix(
    name="bgpd-lu-forget-released-label",
    path="/usr/lib/frr/bgpd",
    summary="bgpd: a labelled-unicast prefix forgets the label it returned to the pool",
    original=re.compile(
        rb"\x66\x81\x63\x5c\x7f\xff\x44\x89\xea\x48\x89\xde\xbf\x02\x00\x00\x00\xe8...."
        rb"(?P<site>\xe9\x82\xff\xff\xff\x0f\x1f\x44\x00\x00)"
        rb"\x66\x81\x4b\x5c\x80\x00", re.DOTALL),
    replacement=b"\x80\x63\x5a\xfd\xeb\x81\x0f\x1f\x40\x00",
    copies=1,
    package="frr",
    matched_against="10.3-3+deb13u1",
    source_patch="bgp-lu-forget-released-label.patch",
)

FIXES = [BIND_CACHE_ORDER, LU_FORGET_RELEASED_LABEL]

# Builds ``fix.path`` from the package's source at a version with a patch; returns the binary
# (frr_source.build_bgpd, the one source build there is).
SourceBuild = Callable[[BinaryFix, str, Callable[[str], None]], Path]
# Whether a binary installed in the root filesystem runs there: None, or what went wrong.
RunCheck = Callable[[Path, str], str | None]


def record(fix: BinaryFix, method: str, version: str | None, detail: str) -> dict:
    """What recipe.json keeps of one fix (``Appliance.fix_records``)."""
    return {"name": fix.name, "method": method, "package": fix.package, "version": version,
            "matched_against": fix.matched_against, "patch": fix.source_patch,
            "detail": detail}


def apply_all(rootfs: Path, version: str | None, build_from_source: SourceBuild,
              runs: RunCheck, progress: Callable[[str], None] = lambda text: None
              ) -> list[dict]:
    """Make every fix in the root filesystem whose ``fix.package`` is at ``version``: by
    rewriting the binary's bytes when its code matches, else by building the binary from the
    package's source with the fix's patch (``build_from_source``) and installing it when it
    ``runs`` there. Never raises for a build that matches neither: Debian's binary stays and
    the record says why (``mplslab --version`` shows it; ``mplslab up`` warns about it)."""
    made = []
    from_source: set[str] = set()  # binaries built from source: with every fix's patch
    for fix in FIXES:
        binary = rootfs / fix.path.lstrip("/")
        code = binary.read_bytes()
        found = len(fix.original.findall(code))
        why = (f"the code of {fix.package} {fix.matched_against} is found {found} times in "
               f"{fix.path} (expected {fix.copies})")
        if fix.path in from_source:
            made.append(record(fix, BY_SOURCE, version,
                               f"built from source with {fix.source_patch} (one build "
                               "with the other fixes of the binary)"))
            continue
        patched = fix.rewritten(code)
        if patched is not None:
            binary.write_bytes(patched)
            made.append(record(fix, BY_BYTES, version,
                               f"{fix.copies} copies of the code rewritten"))
            continue
        if version is None:
            made.append(record(fix, NOT_MADE, version,
                               f"{why}, and the installed {fix.package} version is unknown"))
            continue
        progress(f"{fix.name}: {why}; building it from Debian's {fix.package} {version} "
                 f"source with {fix.source_patch} (minutes; once per version)")
        try:
            built = build_from_source(fix, version, progress)
            staged = binary.with_name(binary.name + ".mplslab-new")
            staged.write_bytes(built.read_bytes())
            staged.chmod(binary.stat().st_mode & 0o7777)
            staged.replace(binary)
            failed = runs(rootfs, fix.path)
            if failed:
                binary.write_bytes(code)
                raise LabError(f"the {fix.path} built from source does not run in the "
                               f"appliance: {failed}")
        except LabError as exc:
            progress(f"{fix.name} NOT made: {exc}")
            made.append(record(fix, NOT_MADE, version, f"{why}; the source build failed: "
                                                       f"{exc}"))
            continue
        made.append(record(fix, BY_SOURCE, version,
                           f"{why}; built from source with {fix.source_patch}"))
        # The build carries every fix's patch for the binary, and replaced what earlier
        # fixes rewrote in it: they are the source build's too.
        from_source.add(fix.path)
        for entry in made[:-1]:
            earlier = next(f for f in FIXES if f.name == entry["name"])
            if earlier.path == fix.path and entry["method"] == BY_BYTES:
                entry.update(record(earlier, BY_SOURCE, version,
                                    f"built from source with {earlier.source_patch} (one "
                                    "build with the other fixes of the binary)"))
    return made
