"""The FRR defect fix applied to the appliance's bgpd (emulator/runtime/frr_fixes.py)."""

import re

import pytest

from emulator.errors import LabError
from emulator.runtime import frr_fixes
from emulator.runtime.frr_fixes import BIND_CACHE_ORDER

# bgp_mplsvpn_nh_label_bind_cmp() as Debian's gcc emitted it (the call's displacement varies).
ORIGINAL = bytes.fromhex(
    "f30f1efa 554889e5 4154 4989fc 4883c720 53 4889f3 4883c620 e8 92acf9ff 89c2"
    "b801000000 85d2 7510"
    "418b4c2458 8b5358 39ca 7204 39d1 19c0 5b 415c 5d c3")
FIXED_SITE = bytes.fromhex("85c0 7515 b801000000")


def fake_rootfs(tmp_path, body: bytes):
    binary = tmp_path / "usr/lib/frr/bgpd"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(body)
    return binary


def test_both_copies_of_the_comparator_are_rewritten_and_nothing_else(tmp_path):
    body = b"\x00" * 64 + ORIGINAL + b"\xcc" * 100 + ORIGINAL + b"\x90" * 7
    binary = fake_rootfs(tmp_path, body)
    assert frr_fixes.apply_all(tmp_path) == ["bgpd-bind-cache-order"]
    fixed = binary.read_bytes()
    assert len(fixed) == len(body)
    expected = ORIGINAL.replace(bytes.fromhex("b801000000 85d2 7510"), FIXED_SITE)
    assert fixed == body.replace(ORIGINAL, expected)


def test_the_rewritten_jump_still_lands_on_the_functions_epilogue():
    # jne rel8 is relative to the end of the jump; the epilogue (pop rbx) follows the label
    # comparison. Original: jne at site+7, +0x10. Fixed: jne at site+2, +0x15.
    site = ORIGINAL.index(bytes.fromhex("b801000000"))
    epilogue = ORIGINAL.index(bytes.fromhex("5b415c5dc3"))
    assert site + 9 + 0x10 == epilogue
    assert site + 4 + FIXED_SITE[3] == epilogue


@pytest.mark.parametrize("copies", [0, 1, 3])
def test_an_unknown_build_stops_the_appliance_build_with_a_clear_error(tmp_path, copies):
    binary = fake_rootfs(tmp_path, b"\x00" * 16 + ORIGINAL * copies)
    before = binary.read_bytes()
    with pytest.raises(LabError, match=f"found {copies} times \\(expected 2\\)"):
        BIND_CACHE_ORDER.apply(tmp_path)
    assert binary.read_bytes() == before


@pytest.mark.frr_parser
def test_the_appliance_bgpd_carries_the_fix(appliance_image):
    code = (appliance_image.rootfs / "usr/lib/frr/bgpd").read_bytes()
    assert not BIND_CACHE_ORDER.original.search(code)
    fixed = re.compile(BIND_CACHE_ORDER.original.pattern.replace(
        rb"\xb8\x01\x00\x00\x00\x85\xd2\x75\x10", rb"\x85\xc0\x75\x15\xb8\x01\x00\x00\x00"),
        re.DOTALL)
    assert len(fixed.findall(code)) == 2
    assert appliance_image.fixes() == ["bgpd-bind-cache-order"]
