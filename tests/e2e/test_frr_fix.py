"""The unfixed-bgpd detection on a real FRR (issue 31): `mplslab up --runtime netns` in the
micro-VM's Debian, with Debian's unpatched bgpd where the routers would start it.

How it works. The appliance's bgpd carries the byte fix (emulator/runtime/frr_fixes.py);
Debian's own binary is that file with the nine rewritten bytes put back in each copy (for frr
10.3-3+deb13u1 the round trip was checked against the .deb's bgpd, byte for byte). The test
makes that unpatched copy on the host, in the state folder the guest shares at the same path.
Each step in the guest runs inside a mount namespace of its own (`unshare --mount
--propagation private`: the labs other tests run in the shared VM keep the fixed bgpd) that
binds the copy over /usr/lib/frr/bgpd, so the guest is a host whose own FRR lacks the fix:

1. what runs there is the copy (`bgpd --version`, its SHA-256);
2. `LocalNetnsRuntime.bgpd_verdict()`, the netns runtime's check, says "unfixed";
3. `mplslab up option2 --runtime netns --strict`, run natively by the guest's python3 as in
   tests/e2e/test_containerlab.py (mplslab's dependencies installed for it as wheels),
   refuses with exit 2, naming the defect and the doc section, and leaves no state folder
   and no namespace (the check runs before the lab is claimed, so nothing is deployed);

and outside that namespace the same check judges the appliance's bgpd fixed. The warning
without --strict, and labs without Option B ASBRs never being checked, are unit tests
(tests/unit/test_frr_check.py): here they would mean deploying a lab in the guest.

No lab comes up: seconds once the VM runs (plus, the first time, fetching the guest's wheels
as test_containerlab does). Skipped where no micro-VM is used (this kernel runs the labs
itself) or when the appliance's fix was not made by the byte rewrite (nothing to undo:
`mplslab --version` says how it was made).
"""

from __future__ import annotations

import hashlib
import json
import shlex

import pytest
from labkit import guest_run
from test_containerlab import GUEST_SITE, guest_python_site, in_guest

from emulator.paths import PROJECT_DIR, state_dir
from emulator.runtime import appliance, frr_check, frr_fixes
from emulator.runtime.registry import choose

pytestmark = [pytest.mark.e2e]

FIX = frr_fixes.BIND_CACHE_ORDER
SITE_BEFORE = bytes.fromhex("b801000000 85d2 7510")  # Debian's bytes at the rewritten site
VERDICT = ("from emulator.runtime.local import LocalNetnsRuntime as R; import json, "
           "dataclasses; where, v = R.bgpd_verdict(None); "
           "print(json.dumps({'where': where, **dataclasses.asdict(v)}))")
GUEST_STATE = "/tmp/mplslab-frr-fix"


def unpatched(code: bytes) -> bytes:
    """The appliance's bgpd with the rewrite undone: Debian's binary."""
    return FIX.fixed.sub(lambda m: m.group(0).replace(FIX.replacement, SITE_BEFORE), code)


def python3(code: str) -> str:
    return f"PYTHONPATH={shlex.quote(str(PROJECT_DIR))} python3 -c {shlex.quote(code)}"


def test_netns_up_on_debians_unpatched_bgpd_is_detected_and_strict_refuses():
    if choose("auto")[0] != "vm":
        pytest.skip("no micro-VM here: this kernel runs the labs itself")
    image = appliance.Appliance(appliance.rootfs_path())
    [made] = [e for e in image.fix_records() if e["name"] == FIX.name]
    if made["method"] != frr_fixes.BY_BYTES:
        pytest.skip(f"the appliance's fix was not made by the byte rewrite: {made['method']}")
    fixed = (image.rootfs / FIX.path.lstrip("/")).read_bytes()
    debian = unpatched(fixed)
    assert FIX.rewritten(debian) == fixed  # an exact round trip
    guest_python_site()
    folder = state_dir() / "_frr-fix"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "bgpd"
    copy.write_bytes(debian)
    copy.chmod(0o755)

    def unfixed_host(command: str) -> tuple[int, str]:
        bind = f"mount --bind {shlex.quote(str(copy))} {FIX.path} && {command}"
        return in_guest(f"unshare --mount --propagation private sh -c {shlex.quote(bind)}")

    try:
        rc, said = unfixed_host(f"{FIX.path} --version | head -n 1 && sha256sum {FIX.path}")
        assert rc == 0, said
        version, digest = said.strip().splitlines()[-2:]
        assert version == "bgpd version 10.3"
        assert digest.split()[0] == hashlib.sha256(debian).hexdigest()

        rc, said = unfixed_host(python3(VERDICT))
        verdict = json.loads(said.strip().splitlines()[-1])
        assert verdict["state"] == frr_check.UNFIXED, verdict
        assert verdict["where"] == f"this host's bgpd ({FIX.path}, FRR 10.3)"
        assert "unfixed machine code (2 copies)" in verdict["reason"]

        environment = (f"PYTHONPATH={PROJECT_DIR}:{GUEST_SITE} MPLSLAB_STATE={GUEST_STATE} "
                       "COLUMNS=200")
        rc, said = unfixed_host(f"cd / && {environment} python3 -m emulator up option2 "
                                "--runtime netns --strict")
        text = " ".join(said.split())
        assert rc == 2, said
        assert "refusing to bring option2 up (--strict)" in text
        assert "bgp_mplsvpn_nh_label_bind_cmp" in text and "trap 3" in text
        assert "PE-ASBR-1, PE-ASBR-2" in text and "Traceback" not in said
        left = guest_run(f"ls -A {GUEST_STATE} 2>/dev/null; ip netns list")
        assert "option2" not in left, left

        # Outside that namespace the guest's bgpd is the appliance's, untouched.
        outside = json.loads(guest_run(python3(VERDICT)).strip().splitlines()[-1])
        assert outside["state"] == frr_check.FIXED, outside
    finally:
        copy.unlink(missing_ok=True)
        folder.rmdir()
        in_guest(f"rm -rf {GUEST_STATE}")
