"""A bgpd without the fix for FRR's label-bind defect, detected at `mplslab up` (issue 31):
the verdict on a binary's bytes (emulator/runtime/frr_check.py), and what `up` does with it:
Option B labs get a warning or, with --strict, a refusal that leaves nothing behind; other labs
never read a binary."""

from __future__ import annotations

import json
import signal

import pytest
from test_frr_fixes import ORIGINAL

from emulator import lifecycle
from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.paths import PROJECT_DIR
from emulator.runtime import appliance, frr_check, local
from emulator.runtime.frr_fixes import BIND_CACHE_ORDER
from emulator.runtime.local import LocalNetnsRuntime

OPTION2 = str(PROJECT_DIR / "labs" / "option2.yml")
OPTION1 = str(PROJECT_DIR / "labs" / "option1.yml")
FIXED = BIND_CACHE_ORDER.rewritten(ORIGINAL * 2)
VERSION_10_3 = b"status == 0\x00dummy\x00bgpd\x0010.3\x00bgpd daemon\x00"


def binary(*parts: bytes) -> bytes:
    return b"\x7fELF" + b"\x00" * 60 + b"\xcc".join(parts) + b"\x90" * 16


# -- the verdict: bytes in, verdict out --------------------------------------------------------

def test_the_unfixed_comparator_is_the_defect_whatever_the_version():
    for version in (None, "10.3", "12.0"):
        verdict = frr_check.judge(binary(ORIGINAL, ORIGINAL, VERSION_10_3), version)
        assert verdict.state == frr_check.UNFIXED and verdict.lacks_fix
        assert "2 copies" in verdict.reason


def test_one_unfixed_copy_left_beside_a_fixed_one_is_still_the_defect():
    half = ORIGINAL + b"\xcc" * 8 + BIND_CACHE_ORDER.rewritten(ORIGINAL * 2)[len(ORIGINAL):]
    assert frr_check.judge(binary(half)).state == frr_check.UNFIXED


def test_the_appliances_rewrite_is_the_fix():
    assert FIXED is not None
    verdict = frr_check.judge(binary(FIXED, VERSION_10_3))
    assert verdict.state == frr_check.FIXED and not verdict.lacks_fix
    assert verdict.version == "10.3"  # read from the binary


def test_the_fixed_source_as_debians_gcc_compiles_it_is_the_fix():
    # bgp_mplsvpn_nh_label_bind_cmp() of bench/frr_source.py's build (10.3-3+deb13u1 with
    # patches/frr/bgp-label-bind-total-order.patch): prefix_cmp's result, then the labels.
    compiled = bytes.fromhex(
        "f30f1efa 554889e5 4154 4989fc 4883c720 53 4889f3 4883c620 e8 92acf9ff"
        "85c0 7514 418b442458 8b5358 39d0 7212 39c2 0f92c0 0fb6c0 5b 415c 5d c3")
    verdict = frr_check.judge(binary(compiled, compiled), "10.3")
    assert verdict.state == frr_check.FIXED and "fixed source" in verdict.reason


@pytest.mark.parametrize(("version", "state"), [
    ("10.3", frr_check.PRESUMED), ("9.1", frr_check.PRESUMED), ("10.4.1", frr_check.PRESUMED),
    ("9.0", frr_check.UNAFFECTED), ("8.5.4", frr_check.UNAFFECTED),
    (None, frr_check.PRESUMED),
])
def test_another_build_is_judged_by_its_version(version, state):
    verdict = frr_check.judge(binary(b"another compiler's code"), version)
    assert verdict.state == state
    assert verdict.lacks_fix == (state == frr_check.PRESUMED)


def test_the_version_compiled_into_the_binary_is_read_when_none_is_given():
    code = binary(b"code", b"\x00bgpd\x009.0.1\x00bgpd daemon")
    assert frr_check.version_in(code) == "9.0.1"
    assert frr_check.judge(code).state == frr_check.UNAFFECTED


def test_a_release_with_the_upstream_fix_needs_nothing(monkeypatch):
    monkeypatch.setattr(frr_check, "FIXED_UPSTREAM", (10, 6))
    assert frr_check.judge(binary(b"code"), "10.6").state == frr_check.FIXED
    assert frr_check.judge(binary(b"code"), "10.5").state == frr_check.PRESUMED
    # Debian's unfixed code is the defect even under a version that claims the fix.
    assert frr_check.judge(binary(ORIGINAL), "10.6").state == frr_check.UNFIXED


def test_the_warning_names_the_defect_the_routers_and_the_doc_section():
    verdict = frr_check.judge(binary(ORIGINAL))
    text = frr_check.advice(verdict, "this host's bgpd", ["PE-ASBR-1", "PE-ASBR-2"])
    assert "bgp_mplsvpn_nh_label_bind_cmp" in text and "PE-ASBR-1, PE-ASBR-2" in text
    assert 'docs/labs/option2.md, "Three FRR 10.3 traps", trap 3' in text
    assert text.startswith("this host's bgpd lacks the fix for FRR's label-bind defect: its "
                           "comparator is Debian's unfixed machine code")
    presumed = frr_check.judge(binary(b"code"), "10.4")
    assert "probably lacks" in frr_check.advice(presumed, "x", ["A"])
    assert "may lack" in frr_check.advice(frr_check.unreadable("no"), "x", ["A"])


def test_the_command_line_prints_the_verdict(tmp_path, capsys):
    path = tmp_path / "bgpd"
    path.write_bytes(binary(ORIGINAL, ORIGINAL))
    assert frr_check.main([str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["state"] == frr_check.UNFIXED
    path.write_bytes(binary(FIXED))
    assert frr_check.main([str(path)]) == 0
    assert frr_check.main([str(tmp_path / "none")]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["state"] == frr_check.UNKNOWN


@pytest.mark.skipif(not appliance.is_built(), reason="the appliance is not built")
def test_the_appliances_bgpd_is_fixed_and_debians_is_not():
    code = (appliance.rootfs_path() / "usr/lib/frr/bgpd").read_bytes()
    assert frr_check.judge(code).state == frr_check.FIXED
    # Debian's own: the rewrite undone (it is exactly frr 10.3-3+deb13u1's bgpd again).
    debian = BIND_CACHE_ORDER.fixed.sub(
        lambda m: m.group(0).replace(BIND_CACHE_ORDER.replacement, bytes.fromhex(
            "b801000000 85d2 7510")), code)
    verdict = frr_check.judge(debian)
    assert verdict.state == frr_check.UNFIXED and verdict.version == "10.3"


def test_only_option_b_asbrs_bind_labels_per_next_hop():
    assert frr_check.binding_nodes(load_lab(OPTION2, None)) == ["PE-ASBR-1", "PE-ASBR-2"]
    assert frr_check.binding_nodes(load_lab(OPTION1, None)) == []


# -- the runtimes' bgpd --------------------------------------------------------------------------

def test_the_netns_runtime_judges_this_hosts_bgpd(tmp_path, monkeypatch):
    host = tmp_path / "bgpd"
    host.write_bytes(binary(ORIGINAL, ORIGINAL))
    monkeypatch.setattr(local, "BGPD", host)
    monkeypatch.setattr(local, "frr_version", lambda: (10, 3))
    where, verdict = LocalNetnsRuntime.bgpd_verdict(None)
    assert where == f"this host's bgpd ({host}, FRR 10.3)"
    assert verdict.state == frr_check.UNFIXED
    host.unlink()
    assert LocalNetnsRuntime.bgpd_verdict(None)[1].state == frr_check.UNKNOWN


@pytest.mark.parametrize("runtime", ["vm", "clab-vm", "clab"])
def test_routers_on_the_appliance_are_judged_by_the_appliance_not_this_host(
        runtime, tmp_path, monkeypatch):
    from emulator.runtime.registry import runtime_class

    monkeypatch.setenv("MPLSLAB_CACHE", str(tmp_path))  # no appliance built there
    monkeypatch.setattr(local, "BGPD", tmp_path / "absent")  # this host's: would be unknown
    where, verdict = runtime_class(runtime).bgpd_verdict(None)
    assert where == "the appliance's bgpd" and verdict.state == frr_check.FIXED
    rootfs = appliance.rootfs_path()
    (rootfs / "usr/lib/frr").mkdir(parents=True)
    (rootfs / "usr/lib/frr/bgpd").write_bytes(binary(ORIGINAL, ORIGINAL))
    (rootfs.parent / "recipe.json").write_text(json.dumps({"frr_fixes_made": [
        {"name": "bgpd-bind-cache-order", "method": "none", "version": "10.3-4",
         "detail": "the source build failed"}]}))
    where, verdict = runtime_class(runtime).bgpd_verdict(None)
    assert verdict.state == frr_check.UNFIXED
    assert "could not fix it: the source build failed" in verdict.reason


def test_an_image_is_not_guessed_at_without_docker(monkeypatch):
    from emulator.runtime import clab

    monkeypatch.setattr(clab, "engine_answers", lambda: False)
    where, verdict = clab.ClabRuntime.bgpd_verdict("quay.io/frrouting/frr:10.3.1")
    assert where == "the bgpd of the image quay.io/frrouting/frr:10.3.1"
    assert verdict.state == frr_check.UNKNOWN and "without a Docker engine" in verdict.reason


def test_an_images_bgpd_is_copied_out_and_judged(monkeypatch):
    from emulator.runtime import clab, containers

    monkeypatch.setattr(clab, "engine_answers", lambda: True)
    asked = []
    monkeypatch.setattr(containers, "file_from_image",
                        lambda image, path: asked.append((image, path)) or binary(ORIGINAL))
    assert clab.ClabRuntime.bgpd_verdict("mine:1")[1].state == frr_check.UNFIXED
    assert asked == [("mine:1", "/usr/lib/frr/bgpd")]
    monkeypatch.setattr(containers, "file_from_image", lambda image, path: "No such image")
    verdict = clab.ClabRuntime.bgpd_verdict("mine:1")[1]
    assert verdict.state == frr_check.UNKNOWN and "No such image" in verdict.reason


# -- `up` ---------------------------------------------------------------------------------------

class Judged(LocalNetnsRuntime):
    """The netns runtime with a bgpd verdict the test chooses, and routers never started."""

    verdict = frr_check.Verdict(frr_check.FIXED, "")
    judged: list[str | None] = []  # noqa: RUF012 (reset by the fixture)
    started: list[str] = []  # noqa: RUF012

    @classmethod
    def bgpd_verdict(cls, image):
        cls.judged.append(image)
        return "this host's bgpd (/usr/lib/frr/bgpd, FRR 10.3)", cls.verdict

    def up(self, progress):
        self.started.append(self.state.lab)

    def down(self):
        pass


class Told(lifecycle.Watch):
    def __init__(self):
        self.warnings: list[str] = []

    def warning(self, text):
        self.warnings.append(text)


@pytest.fixture
def netns_up(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("MPLSLAB_STATE", str(state))
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    monkeypatch.setattr(lifecycle, "choose", lambda requested: ("netns", "a fake"))
    monkeypatch.setattr(lifecycle, "runtime_class", lambda name: Judged)
    monkeypatch.setattr(lifecycle, "make_runtime", Judged)
    monkeypatch.setattr(Judged, "judged", [])
    monkeypatch.setattr(Judged, "started", [])
    handler = signal.getsignal(signal.SIGTERM)
    yield state
    signal.signal(signal.SIGTERM, handler)


UNFIXED = frr_check.judge(binary(ORIGINAL, ORIGINAL, VERSION_10_3))


def test_an_option_b_lab_on_an_unfixed_bgpd_comes_up_with_a_warning(netns_up, monkeypatch):
    monkeypatch.setattr(Judged, "verdict", UNFIXED)
    watch = Told()
    lifecycle.up(OPTION2, None, watch=watch)
    assert Judged.judged == [None] and Judged.started == ["option2"]
    [warning] = watch.warnings
    assert "PE-ASBR-1, PE-ASBR-2" in warning and "trap 3" in warning
    assert "this host's bgpd (/usr/lib/frr/bgpd, FRR 10.3) lacks the fix" in warning


def test_strict_refuses_it_with_exit_2_and_nothing_left_behind(netns_up, monkeypatch):
    monkeypatch.setattr(Judged, "verdict", UNFIXED)
    with pytest.raises(LabError, match=r"refusing to bring option2 up \(--strict\)") as caught:
        lifecycle.up(OPTION2, None, strict=True)
    assert caught.value.exit_code == 2
    assert "bgp_mplsvpn_nh_label_bind_cmp" in str(caught.value)
    assert Judged.started == []
    assert not netns_up.exists() or not any(netns_up.iterdir())


@pytest.mark.parametrize("state", [frr_check.PRESUMED, frr_check.UNKNOWN])
def test_strict_refuses_a_bgpd_not_known_to_be_fixed(netns_up, monkeypatch, state):
    monkeypatch.setattr(Judged, "verdict", frr_check.Verdict(state, "cannot tell"))
    with pytest.raises(LabError, match="cannot tell"):
        lifecycle.up(OPTION2, None, strict=True)
    assert Judged.started == []


def test_a_fixed_bgpd_brings_option_b_up_silently_even_with_strict(netns_up):
    watch = Told()
    lifecycle.up(OPTION2, None, strict=True, watch=watch)
    assert Judged.judged == [None] and watch.warnings == []
    assert Judged.started == ["option2"]


def test_other_labs_never_read_a_bgpd(netns_up, monkeypatch):
    monkeypatch.setattr(Judged, "verdict", UNFIXED)
    watch = Told()
    lifecycle.up(OPTION1, None, strict=True, watch=watch)
    assert Judged.judged == [] and watch.warnings == [] and Judged.started == ["option1"]


def test_the_command_line_refuses_with_strict_and_says_why(netns_up, monkeypatch):
    from typer.testing import CliRunner

    from emulator.cli import app

    monkeypatch.setattr(Judged, "verdict", UNFIXED)
    result = CliRunner().invoke(app, ["up", "option2", "--strict"])
    assert result.exit_code == 2, result.output
    assert "refusing to bring option2 up (--strict)" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["up", "option2"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "is up" in result.output


def test_this_hosts_frr_version_comes_from_zebra(tmp_path, monkeypatch):
    # FRR 10.3's vtysh has no --version option: asked, it says so and prints nothing.
    zebra = tmp_path / "zebra"
    zebra.write_text("")
    monkeypatch.setattr(local, "ZEBRA", zebra)
    monkeypatch.setattr(local.shutil, "which", lambda name: f"/usr/bin/{name}")
    asked = []

    def run(argv, **kwargs):
        import subprocess

        asked.append(argv)
        return subprocess.CompletedProcess(argv, 0, "zebra version 10.3\nCopyright ...\n", "")

    monkeypatch.setattr(local.subprocess, "run", run)
    assert local.frr_version() == (10, 3)
    assert asked == [[str(zebra), "--version"]]
