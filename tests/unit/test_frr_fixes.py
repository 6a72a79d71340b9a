"""The FRR defect fix applied to the appliance's bgpd (emulator/runtime/frr_fixes.py)."""

import json
import re
from pathlib import Path

import pytest

from emulator.errors import LabError
from emulator.paths import PROJECT_DIR
from emulator.runtime import frr_fixes
from emulator.runtime.frr_fixes import BIND_CACHE_ORDER, LU_FORGET_RELEASED_LABEL

# bgp_mplsvpn_nh_label_bind_cmp() as Debian's gcc emitted it (the call's displacement varies).
ORIGINAL = bytes.fromhex(
    "f30f1efa 554889e5 4154 4989fc 4883c720 53 4889f3 4883c620 e8 92acf9ff 89c2"
    "b801000000 85d2 7510"
    "418b4c2458 8b5358 39ca 7204 39d1 19c0 5b 415c 5d c3")
FIXED_SITE = bytes.fromhex("85c0 7515 b801000000")
# bgp_reg_dereg_for_label()'s release branch, then the next block (call and jump displacements
# as in Debian's build), and as the labelled-unicast fix leaves it.
LU_ORIGINAL = bytes.fromhex(
    "66816 35c7fff 4489ea 4889de bf02000000 e83a290000"
    "e982ffffff 0f1f440000"
    "66814b5c8000".replace(" ", ""))
LU_FIXED = LU_ORIGINAL.replace(bytes.fromhex("e982ffffff0f1f440000"),
                               bytes.fromhex("80635afd eb81 0f1f4000"))
BOTH = ["bgpd-bind-cache-order", "bgpd-lu-forget-released-label"]


def fake_rootfs(tmp_path, body: bytes):
    binary = tmp_path / "usr/lib/frr/bgpd"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(body)
    return binary


def test_both_copies_of_the_comparator_are_rewritten_and_nothing_else(tmp_path):
    body = (b"\x00" * 64 + ORIGINAL + b"\xcc" * 100 + ORIGINAL + b"\x90" * 7 + LU_ORIGINAL
            + b"\xcc" * 9)
    binary = fake_rootfs(tmp_path, body)
    def no_source_build(*args):
        raise AssertionError("the bytes matched: no source build")
    made = frr_fixes.apply_all(tmp_path, "10.3-3+deb13u1", no_source_build, no_source_build)
    assert [(m["name"], m["method"]) for m in made] == [(name, "bytes") for name in BOTH]
    fixed = binary.read_bytes()
    assert len(fixed) == len(body)
    expected = ORIGINAL.replace(bytes.fromhex("b801000000 85d2 7510"), FIXED_SITE)
    assert fixed == body.replace(ORIGINAL, expected).replace(LU_ORIGINAL, LU_FIXED)


def test_the_labelled_unicast_fix_clears_the_valid_bit_and_jumps_where_the_original_did():
    # The original jump: e9 rel32 at offset 22, ending at 27. The new one: eb rel8 at 26,
    # ending at 28. Both must land on the same byte; the andb clears bit 1 of dest + 0x5a
    # (bgp_is_valid_label() reads it as `movzbl 0x5a(%rdi)` ... `and $0x2`).
    original_target = 27 + int.from_bytes(LU_ORIGINAL[23:27], "little", signed=True)
    new_target = 28 + int.from_bytes(LU_FIXED[27:28], "little", signed=True)
    assert original_target == new_target
    assert LU_FIXED[22:26] == bytes.fromhex("80635afd")
    assert LU_FORGET_RELEASED_LABEL.fixed.fullmatch(LU_FIXED)


def test_the_rewritten_jump_still_lands_on_the_functions_epilogue():
    # jne rel8 is relative to the end of the jump; the epilogue (pop rbx) follows the label
    # comparison. Original: jne at site+7, +0x10. Fixed: jne at site+2, +0x15.
    site = ORIGINAL.index(bytes.fromhex("b801000000"))
    epilogue = ORIGINAL.index(bytes.fromhex("5b415c5dc3"))
    assert site + 9 + 0x10 == epilogue
    assert site + 4 + FIXED_SITE[3] == epilogue


@pytest.mark.parametrize("copies", [0, 1, 3])
def test_the_rewrite_alone_refuses_an_unknown_build_with_a_clear_error(tmp_path, copies):
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
    assert len(LU_FORGET_RELEASED_LABEL.fixed.findall(code)) == 1
    assert not LU_FORGET_RELEASED_LABEL.original.search(code)
    assert appliance_image.fixes() == BOTH


# -- the appliance builder: byte rewrite, else the source build (issue 31) ----------------------

DPKG_STATUS = """Package: frr
Status: install ok installed
Architecture: amd64
Version: {version}

Package: bash
Status: install ok installed
Version: 5.2.37-2
"""
BUILT_FROM_SOURCE = b"\x7fELF bgpd built from source with the patch"


class FakeMmdebstrap:
    """mmdebstrap's Popen: makes a root filesystem (dpkg status, a bgpd) at its target."""

    def __init__(self, bgpd: bytes, version: str):
        self.bgpd, self.version = bgpd, version

    def __call__(self, command, **kwargs):
        rootfs = Path(command[-1])
        (rootfs / "var/lib/dpkg").mkdir(parents=True)
        (rootfs / "var/lib/dpkg/status").write_text(DPKG_STATUS.format(version=self.version))
        fake_rootfs(rootfs, self.bgpd).chmod(0o755)
        return Finished("I: success in 0.1 seconds\n", 0)


class Finished:
    """A process that has written ``output`` and exited ``returncode``."""

    def __init__(self, output: str, returncode: int):
        import io

        self.stdout = io.StringIO(output)
        self.returncode = returncode

    def wait(self):
        return self.returncode


@pytest.fixture
def builder(tmp_path, monkeypatch):
    """appliance.build_locked in a temporary cache, mmdebstrap and the chroot steps faked;
    the source build recorded (``calls``) and answered with BUILT_FROM_SOURCE."""
    from emulator.runtime import appliance, frr_source

    monkeypatch.setenv("MPLSLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(appliance, "install_guest_files", lambda rootfs, log: None)
    calls = []

    def build_bgpd(version, patch, progress, suite="trixie"):
        calls.append((version, patch, suite))
        built = tmp_path / "built-bgpd"
        built.write_bytes(BUILT_FROM_SOURCE)
        return built

    monkeypatch.setattr(frr_source, "build_bgpd", build_bgpd)
    monkeypatch.setattr(frr_source, "runs_in", lambda rootfs, path: None)

    def build(bgpd: bytes, version: str):
        monkeypatch.setattr(appliance.subprocess, "Popen", FakeMmdebstrap(bgpd, version))
        target = appliance.appliance_dir()
        target.parent.mkdir(parents=True)
        told = []
        image = appliance.build_locked(target, told.append)
        return image, told

    build.calls = calls
    return build


def test_a_changed_debian_bgpd_is_built_from_source_not_a_stopped_build(builder):
    from emulator.cli import version_text

    debian = b"\x7fELF" + b"\x00" * 64 + b"another build's code" + b"\x90" * 64
    image, told = builder(debian, "10.3-4")
    # One build, with both fixes' patches one after the other.
    [(version, patch, suite)] = builder.calls
    assert (version, suite) == ("10.3-4", "trixie")
    assert patch.read_text() == (BIND_CACHE_ORDER.patch.read_text()
                                 + LU_FORGET_RELEASED_LABEL.patch.read_text())
    bgpd = image.rootfs / "usr/lib/frr/bgpd"
    assert bgpd.read_bytes() == BUILT_FROM_SOURCE and bgpd.stat().st_mode & 0o777 == 0o755
    made = image.fix_records()
    assert [m["method"] for m in made] == ["source", "source"]
    assert {m["version"] for m in made} == {"10.3-4"}
    assert {m["matched_against"] for m in made} == {"10.3-3+deb13u1"}
    assert image.fixes() == BOTH
    assert image.bgpd_verdict().state == "fixed"
    assert any("building it from Debian's frr 10.3-4 source" in line for line in told)
    assert ("FRR fixes: bgpd-bind-cache-order: built from Debian's frr 10.3-4 source with "
            "bgp-label-bind-total-order.patch, its code not matching the byte fix for "
            "10.3-3+deb13u1") in version_text()


def test_debians_bgpd_matching_the_pattern_is_rewritten_without_a_source_build(builder):
    from emulator.cli import version_text

    image, _ = builder(b"\x00" * 64 + ORIGINAL + b"\xcc" * 32 + ORIGINAL + LU_ORIGINAL,
                       "10.3-3+deb13u1")
    assert builder.calls == []
    code = (image.rootfs / "usr/lib/frr/bgpd").read_bytes()
    assert code.count(FIXED_SITE) == 2 and code.count(LU_FIXED) == 1
    assert [m["method"] for m in image.fix_records()] == ["bytes", "bytes"]
    assert ("FRR fixes: bgpd-bind-cache-order: byte rewrite of Debian's frr 10.3-3+deb13u1, "
            "the build it was matched against") in version_text()


def test_a_failed_source_build_ships_debians_bgpd_and_says_so(builder, monkeypatch):
    from emulator.cli import version_text
    from emulator.runtime import frr_source

    def broken(version, patch, progress, suite="trixie"):
        raise LabError("building bgpd from Debian's frr 10.3-4 source failed (exit 100)")

    monkeypatch.setattr(frr_source, "build_bgpd", broken)
    debian = b"\x7fELF another build" + b"\x00bgpd\x0010.3\x00"
    image, told = builder(debian, "10.3-4")
    assert (image.rootfs / "usr/lib/frr/bgpd").read_bytes() == debian
    made, _ = image.fix_records()
    assert made["method"] == "none" and "exit 100" in made["detail"]
    assert image.fixes() == []
    verdict = image.bgpd_verdict()
    assert verdict.lacks_fix and "could not fix it" in verdict.reason
    assert any("NOT made" in line for line in told)
    assert "bgpd-bind-cache-order: NOT made on frr 10.3-4" in version_text()


def test_a_source_built_bgpd_that_does_not_run_is_not_installed(builder, monkeypatch):
    from emulator.runtime import frr_source

    monkeypatch.setattr(frr_source, "runs_in",
                        lambda rootfs, path: "libfrr.so.0: undefined symbol: frr_foo")
    debian = b"\x7fELF another build"
    image, _ = builder(debian, "10.3-4")
    assert (image.rootfs / "usr/lib/frr/bgpd").read_bytes() == debian
    assert [m["method"] for m in image.fix_records()] == ["none", "none"]
    assert "undefined symbol" in image.fix_records()[0]["detail"]


def test_an_appliance_built_before_the_source_path_reads_as_byte_rewritten(tmp_path):
    from emulator.runtime.appliance import Appliance

    rootfs = tmp_path / "rootfs"
    (rootfs / "var/lib/dpkg").mkdir(parents=True)
    (rootfs / "var/lib/dpkg/status").write_text(DPKG_STATUS.format(version="10.3-3+deb13u1"))
    (tmp_path / "recipe.json").write_text(json.dumps(
        {"frr_fixes": {"bgpd-bind-cache-order": "5b6c06990bf3b30a"}}))
    [made] = Appliance(rootfs).fix_records()
    assert made["method"] == "bytes" and made["version"] == "10.3-3+deb13u1"
    assert Appliance(rootfs).fixes() == ["bgpd-bind-cache-order"]


# -- the source build: cached by version and patch; its command --------------------------------

def test_the_source_build_is_cached_by_version_and_patch(tmp_path, monkeypatch):
    from emulator.runtime import frr_source

    monkeypatch.setenv("MPLSLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(frr_source.shutil, "which", lambda name: f"/usr/bin/{name}")
    commands = []

    def mmdebstrap(command, **kwargs):
        commands.append(command)
        [copy_out] = [a for a in command if a.startswith("--customize-hook=copy-out")]
        inside, outside = copy_out.split()[1:]
        assert inside == "/build/out/bgpd"  # copied into the folder `outside`
        (Path(outside) / "bgpd").write_bytes(b"built")
        return Finished("I: success\n", 0)

    monkeypatch.setattr(frr_source.subprocess, "Popen", mmdebstrap)
    patch = BIND_CACHE_ORDER.patch
    first = frr_source.build_bgpd("10.3-4", patch, lambda text: None)
    assert first.read_bytes() == b"built"
    assert first.parent == tmp_path / "frr-source" / f"10.3-4-{frr_source.digest(patch)}"
    assert frr_source.build_bgpd("10.3-4", patch, lambda text: None) == first
    assert len(commands) == 1  # the second answer came from the cache
    assert json.loads((first.parent / "build.json").read_text())["version"] == "10.3-4"
    other = frr_source.build_bgpd("10.3-5", patch, lambda text: None)
    assert other != first and len(commands) == 2
    command = " ".join(commands[0])
    assert "deb-src http://deb.debian.org/debian trixie main" in command
    assert "deb-src http://security.debian.org/debian-security trixie-security main" in command
    assert f"copy-in {patch}" in command
    assert "build-bgpd.sh 10.3-4 bgp-label-bind-total-order.patch" in command
    assert commands[0][-7] == "/dev/null"  # the build chroot is thrown away


def test_a_failed_source_build_names_its_log_and_leaves_no_staging(tmp_path, monkeypatch):
    from emulator.runtime import frr_source

    monkeypatch.setenv("MPLSLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(frr_source.shutil, "which", lambda name: f"/usr/bin/{name}")

    monkeypatch.setattr(frr_source.subprocess, "Popen",
                        lambda command, **kwargs: Finished("E: build-dep failed\n", 100))
    with pytest.raises(LabError, match=r"frr 10.3-4 source failed \(exit 100\)") as caught:
        frr_source.build_bgpd("10.3-4", BIND_CACHE_ORDER.patch, lambda text: None)
    assert "build.log" in str(caught.value)
    assert sorted(p.name for p in (tmp_path / "frr-source").iterdir() if p.is_dir()) == []


# -- the patch ----------------------------------------------------------------------------------

def diff_of(text: str) -> str:
    """A patch's diff, from its first ``--- a/`` line."""
    return text[text.index("\n--- a/") + 1:]


def test_the_quilt_patch_changes_only_the_comparator_to_a_total_order():
    text = BIND_CACHE_ORDER.patch.read_text()
    assert text.startswith("Description: bgpd: make the label bind cache a total order")
    assert "\nForwarded: " in text  # DEP-3
    diff = diff_of(text)
    assert diff.splitlines()[:2] == ["--- a/bgpd/bgp_mplsvpn.c", "+++ b/bgpd/bgp_mplsvpn.c"]
    removed = [line[1:].strip() for line in diff.splitlines()[2:] if line.startswith("-")]
    added = [line[1:].strip() for line in diff.splitlines()[2:] if line.startswith("+")]
    assert removed[:2] == ["if (prefix_cmp(&a->nexthop, &b->nexthop))", "return 1;"]
    assert "cmp = prefix_cmp(&a->nexthop, &b->nexthop);" in added
    assert "return numcmp(a->orig_label, b->orig_label);" in added
    assert diff.count("@@ -") == 1


def test_the_upstream_patch_is_the_patch_the_appliance_builds_with():
    upstream = (PROJECT_DIR / "docs" / "upstream" /
                "0001-bgpd-make-the-label-bind-cache-a-total-order.patch").read_text()
    ours = diff_of(BIND_CACHE_ORDER.patch.read_text())
    theirs = diff_of(upstream)
    # git's trailer ("-- \n2.x") closes the mail; the hunks are the same.
    assert theirs.split("\n-- \n")[0].rstrip("\n") == ours.rstrip("\n")


def test_a_binary_that_hangs_or_cannot_start_does_not_run(tmp_path, monkeypatch):
    import subprocess

    from emulator.runtime import frr_source

    def hangs(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, 60)

    monkeypatch.setattr(frr_source.subprocess, "run", hangs)
    assert "timed out" in frr_source.runs_in(tmp_path, "/usr/lib/frr/bgpd")
    monkeypatch.setattr(frr_source.subprocess, "run",
                        lambda argv, **kwargs: subprocess.CompletedProcess(
                            argv, 127, "", "chroot: failed to run command: No such file"))
    assert "No such file" in frr_source.runs_in(tmp_path, "/usr/lib/frr/bgpd")
