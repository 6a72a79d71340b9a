"""The distribution (issue 18): the sdist and the wheel carry what mplslab needs at run time,
and the wheel, installed into a fresh virtual environment, works from a folder outside the
checkout: `list`, `validate` and `render` of every shipped lab (rendering exactly what the
checkout renders), `new` then `validate`, `--version`.

About a minute: `python -m build` (it fetches the pinned setuptools into an isolated
environment) and `pip install` of the wheel and its dependencies need PyPI, or pip's cache.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from wheelkit import VERSION, run, wheel_run

from emulator.model.build import load_lab
from emulator.paths import PROJECT_DIR, labs_dir, templates_dir
from emulator.render import render_lab

pytestmark = [pytest.mark.wheel, pytest.mark.xdist_group("wheel")]

SHIPPED = sorted(p.stem for p in labs_dir().glob("*.yml"))


def runtime_files() -> set[str]:
    """What the installed package must hold, as paths inside the wheel."""
    wanted = {f"emulator/{p.relative_to(PROJECT_DIR / 'emulator')}"
              for p in (PROJECT_DIR / "emulator").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    wanted |= {f"emulator/labs/{p.name}" for p in labs_dir().glob("*.yml")}
    wanted |= {f"emulator/templates/{p.relative_to(templates_dir())}"
               for p in templates_dir().rglob("*.j2")}
    return wanted


@pytest.fixture
def installed(installed_wheel) -> dict:
    return installed_wheel


def mplslab(installed: dict, *args: str, env: dict | None = None) -> str:
    return wheel_run(installed, *args, env=env, timeout=120).stdout


def test_the_wheel_and_the_sdist_carry_everything(installed):
    in_wheel = set(zipfile.ZipFile(installed["wheel"]).namelist())
    missing = runtime_files() - in_wheel
    assert not missing, f"not in the wheel (pyproject.toml [tool.setuptools]): {missing}"
    with tarfile.open(installed["sdist"]) as sdist:
        top = f"mplslab-{VERSION}/"
        in_sdist = {name.removeprefix(top) for name in sdist.getnames()}
    # The sdist has the checkout's layout: labs/ and templates/ at the top.
    wanted = {p.removeprefix("emulator/") if p.startswith(("emulator/labs/",
                                                           "emulator/templates/")) else p
              for p in runtime_files()}
    assert not wanted - in_sdist, f"not in the sdist: {wanted - in_sdist}"


def test_the_installed_package_is_used_not_the_checkout(installed):
    probe = run([str(installed["venv"] / "bin" / "python"), "-c",
                 "import json; from emulator import paths; from emulator.runtime import vm_boot; "
                 "print(json.dumps({'package': str(paths.PACKAGE_DIR), "
                 "'checkout': paths.from_checkout(), 'labs': str(paths.labs_dir()), "
                 "'templates': str(paths.templates_dir()), 'state': str(paths.state_dir()), "
                 "'shares': [[str(f), w] for f, w in vm_boot.shared_folders()]}))"],
                installed["work"], env=installed["env"]).stdout
    found = json.loads(probe)
    package = Path(found["package"])
    assert installed["venv"].resolve() in package.parents and found["checkout"] is False
    assert found["labs"] == str(package / "labs")
    assert found["templates"] == str(package / "templates")
    state = installed["base"].resolve() / "state" / "mplslab"
    assert found["state"] == str(state)
    # The micro-VM would see the package (read only) and the state folder, at their paths.
    assert found["shares"] == [[str(package), False], [str(state), True]]


def test_list_validate_render_every_shipped_lab(installed):
    listed = json.loads(mplslab(installed, "list", "--json"))["labs"]
    assert [(lab["name"], lab["origin"]) for lab in listed] == [
        (name, "shipped") for name in SHIPPED]
    assert all("error" not in lab and lab["description"] for lab in listed)
    table = mplslab(installed, "list")
    assert all(name in table for name in SHIPPED)
    for name in SHIPPED:
        assert f"ok {name}" in mplslab(installed, "validate", name)
        out = installed["work"] / "rendered" / name
        mplslab(installed, "render", name, "--out", str(out))
        # The packaged templates render exactly what the checkout's do.
        expected = installed["base"] / "expected" / name
        render_lab(load_lab(name), expected)
        files = sorted(p.relative_to(expected) for p in expected.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        different = [f for f in files
                     if f.name != "model.json"
                     and (out / f).read_bytes() != (expected / f).read_bytes()]
        assert not different, f"{name}: rendered differently: {different}"


def test_new_then_validate(installed):
    output = mplslab(installed, "new", "mylab", "--from", "option3")
    assert "mplslab validate mylab.yml" in output
    assert "name: mylab\n" in (installed["work"] / "mylab.yml").read_text()
    assert "ok mylab" in mplslab(installed, "validate", "mylab.yml")
    # In the user labs folder, it is found by name and listed as the user's.
    user_labs = Path(installed["env"]["MPLSLAB_USER_LABS"])
    mplslab(installed, "new", "ulab", "--from", "option1", "--dir", str(user_labs))
    assert "ok ulab" in mplslab(installed, "validate", "ulab", "--variant", "ospf")
    listed = json.loads(mplslab(installed, "list", "--json"))["labs"]
    assert {"name": "ulab", "origin": "user"}.items() <= listed[-1].items()


def test_version(installed, tmp_path):
    lines = mplslab(installed, "--version").splitlines()
    assert lines[0] == f"mplslab {VERSION}" and lines[1].startswith("appliance: ")
    lines = mplslab(installed, "--version", env={"MPLSLAB_CACHE": str(tmp_path)}).splitlines()
    assert lines[1].startswith("appliance: not built")
