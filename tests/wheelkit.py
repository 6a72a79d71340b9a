"""The distribution as a user gets it: the sdist and the wheel built from the checkout, the
wheel installed into a fresh virtual environment, and mplslab run from a folder outside the
checkout with its own state folder (issue 18). Used by tests/unit/test_wheel.py (list,
validate, render) and tests/e2e/test_option3.py (a live lab from the installed wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from emulator.paths import PROJECT_DIR

VERSION = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]


def run(argv: list[str], cwd: Path, env: dict | None = None, timeout: float = 300,
        check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, f"{argv}: exit {result.returncode}\n{result.stdout}\n" \
                                       f"{result.stderr}"
    return result


def build_and_install(base: Path) -> dict:
    assert PROJECT_DIR not in base.resolve().parents
    dist = base / "dist"
    # Without arguments, build makes the sdist and then the wheel from the sdist: a file
    # missing from the sdist is missing from that wheel too.
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(PROJECT_DIR)], base)
    wheel = next(dist.glob(f"mplslab-{VERSION}-*.whl"))
    sdist = next(dist.glob(f"mplslab-{VERSION}.tar.gz"))
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], base)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", str(wheel)], base, timeout=600)
    work = base / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MPLSLAB_") and key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"MPLSLAB_USER_LABS": str(base / "user-labs"),
            "XDG_STATE_HOME": str(base / "state"), "PYTHONDONTWRITEBYTECODE": "1"}
    return {"base": base, "wheel": wheel, "sdist": sdist, "venv": venv, "work": work,
            "env": env, "state": base / "state" / "mplslab"}


def wheel_run(installed: dict, *args: str, env: dict | None = None, timeout: float = 120,
              check: bool = True) -> subprocess.CompletedProcess:
    """The installed `mplslab` (its console script), in the work folder outside the checkout."""
    return run([str(installed["venv"] / "bin" / "mplslab"), *args], installed["work"],
               env=installed["env"] | (env or {}), timeout=timeout, check=check)
