"""Users' own labs (`mplslab new`, the user labs folder, `list`'s origin), `--version`, and
where an installed mplslab keeps its data and what the micro-VM shares (issue 18). The
installed package itself is exercised by test_wheel.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulator import paths
from emulator.cli import app
from emulator.errors import LabError
from emulator.model.loader import resolve_lab_path
from emulator.paths import PACKAGE_DIR, PROJECT_DIR, labs_dir
from emulator.runtime import appliance, vm_boot

SHIPPED = sorted(p.stem for p in labs_dir().glob("*.yml"))


@pytest.fixture
def user_labs(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "user-labs"
    monkeypatch.setenv("MPLSLAB_USER_LABS", str(folder))
    return folder


def mplslab(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


def test_new_copies_a_shipped_lab_under_its_new_name(tmp_path, user_labs):
    result = mplslab("new", "mylab", "--from", "option3", "--dir", str(tmp_path / "mine"))
    assert result.exit_code == 0, result.output
    written = tmp_path / "mine" / "mylab.yml"
    assert f"mplslab validate {written}" in " ".join(result.output.split())
    original = (labs_dir() / "option3.yml").read_text().splitlines()
    copy = written.read_text().splitlines()
    # Only the name changes: comments and layout are the user's starting point.
    assert [(a, b) for a, b in zip(original, copy, strict=True) if a != b] == [
        ("name: option3", "name: mylab")]
    assert mplslab("validate", str(written)).exit_code == 0
    # Never overwritten.
    written.write_text("mine\n")
    again = mplslab("new", "mylab", "--from", "option3", "--dir", str(tmp_path / "mine"))
    assert again.exit_code == 2 and "already exists" in again.output
    assert written.read_text() == "mine\n"


@pytest.mark.parametrize(("args", "fragment"), [
    (["new", "My_Lab", "--from", "option3"], "not a lab name"),
    (["new", "waytoolongname", "--from", "option3"], "not a lab name"),
    (["new", "mylab", "--from", "option9"], "no shipped lab named 'option9'"),
    (["new", "option1", "--from", "option3"], "is a shipped lab's name"),
])
def test_new_refuses_bad_names(tmp_path, user_labs, args, fragment):
    result = mplslab(*args, "--dir", str(tmp_path))
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert not list(tmp_path.glob("*.yml"))


def test_list_marks_shipped_and_user_labs(user_labs):
    user_labs.mkdir()
    (user_labs / "mine.yml").write_text(
        (labs_dir() / "option1.yml").read_text().replace("name: option1", "name: mine", 1))
    (user_labs / "option2.yml").write_text((labs_dir() / "option2.yml").read_text())
    (user_labs / "bad.yml").write_text("name: [\n")
    result = mplslab("list", "--json")
    assert result.exit_code == 0, result.output
    labs = json.loads(result.output)["labs"]
    origins = [(lab["name"], lab["origin"]) for lab in labs]
    assert origins == [*((name, "shipped") for name in SHIPPED),
                       ("bad", "user"), ("mine", "user"), ("option2", "user")]
    assert all({"name", "description", "origin", "path"} <= set(lab) for lab in labs)
    assert "error" in labs[-3] and "note" in labs[-1]
    # By name: the shipped lab first, then the user's folder.
    assert resolve_lab_path("mine") == user_labs / "mine.yml"
    assert resolve_lab_path("option2") == labs_dir() / "option2.yml"
    table = " ".join(mplslab("list").output.split())
    assert "mine │ user" in table and "option1 │ shipped" in table


def test_a_missing_name_points_at_the_user_labs_folder(user_labs):
    with pytest.raises(LabError) as caught:
        resolve_lab_path("nosuchlab")
    assert str(user_labs) in str(caught.value) and "option1" in str(caught.value)


def test_version_with_and_without_the_appliance(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLSLAB_CACHE", str(tmp_path / "cache"))
    result = mplslab("--version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("mplslab ") and "appliance: not built" in lines[1]
    # A root filesystem as the appliance leaves it: dpkg's database and a kernel.
    rootfs = appliance.rootfs_path()
    (rootfs / "boot").mkdir(parents=True)
    (rootfs / "boot" / "vmlinuz-6.12.99+deb13-amd64").write_text("")
    (rootfs / "var/lib/dpkg").mkdir(parents=True)
    (rootfs / "var/lib/dpkg/status").write_text(
        "Package: frr-doc\nStatus: install ok installed\nVersion: 9\n\n"
        "Package: frr\nStatus: install ok installed\nDescription: FRRouting\n"
        " Version: not this one\nVersion: 10.3-3+deb13u1\n")
    (rootfs.parent / "recipe.json").write_text("{}")
    result = mplslab("--version")
    assert result.exit_code == 0
    assert "appliance: FRR 10.3-3+deb13u1, kernel 6.12.99+deb13-amd64" in result.output


def test_checkout_data_and_state_stay_where_they_were(monkeypatch):
    for name in ("MPLSLAB_LABS", "MPLSLAB_TEMPLATES", "MPLSLAB_STATE"):
        monkeypatch.delenv(name, raising=False)
    assert paths.from_checkout()
    assert paths.labs_dir() == PROJECT_DIR / "labs"
    assert paths.templates_dir() == PROJECT_DIR / "templates"
    assert paths.state_dir() == PROJECT_DIR / ".mplslab"
    # The micro-VM shares the checkout, as it always did, and nothing else.
    assert vm_boot.shared_folders() == [(PROJECT_DIR, True)]


def test_installed_data_and_state(tmp_path, monkeypatch):
    for name in ("MPLSLAB_LABS", "MPLSLAB_TEMPLATES", "MPLSLAB_STATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setattr(paths, "from_checkout", lambda: False)
    monkeypatch.setattr(vm_boot, "from_checkout", lambda: False)
    assert paths.labs_dir() == PACKAGE_DIR / "labs"
    assert paths.templates_dir() == PACKAGE_DIR / "templates"
    state = tmp_path.resolve() / "xdg-state" / "mplslab"
    assert paths.state_dir() == state
    # The guest sees the `emulator` package (read only, nothing else of site-packages) and
    # the state folder (read-write), each at its host path.
    assert vm_boot.shared_folders() == [(PACKAGE_DIR, False), (state, True)]
    monkeypatch.setenv("MPLSLAB_LABS", str(tmp_path))
    assert paths.labs_dir() == tmp_path


def test_a_state_folder_outside_the_checkout_is_shared_too(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path / "state"))
    assert vm_boot.shared_folders() == [(PROJECT_DIR, True), (tmp_path / "state", True)]
    rootfs = tmp_path / "rootfs"
    (rootfs / "boot").mkdir(parents=True)
    (rootfs / "boot" / "vmlinuz-6.12.99+deb13-amd64").write_text("")
    monkeypatch.setattr(vm_boot, "vng_binary", lambda: Path("/usr/bin/vng"))
    command = vm_boot.vng_command(appliance.Appliance(rootfs), tmp_path / "root.ext4",
                                   kvm=True, extra=[])
    assert f"--rwdir={PROJECT_DIR}={PROJECT_DIR}" in command
    assert f"--rwdir={tmp_path / 'state'}={tmp_path / 'state'}" in command
    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path / "état"))
    with pytest.raises(LabError, match="cannot share"):
        vm_boot.shared_folders()
