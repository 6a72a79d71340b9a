"""Where the project's data lives: labs, templates, caches, per-lab state.

mplslab runs either from a source checkout (``pip install -e``, or ``python -m emulator`` in
it) or installed from its wheel (pip, pipx). Its shipped labs and templates are the
checkout's top-level ``labs/`` and ``templates/`` in the first case and package data inside
``emulator/`` in the second (pyproject.toml maps them in when the wheel is built); both are
found here, and ``MPLSLAB_LABS`` / ``MPLSLAB_TEMPLATES`` override either.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The checkout, or (installed) the site-packages folder that holds the `emulator` package:
# the micro-VM's python3 imports emulator.runtime.netns with PYTHONPATH set to it.
PROJECT_DIR = PACKAGE_DIR.parent


@cache
def from_checkout() -> bool:
    """True when this `emulator` package is the one of a source checkout (run in place or
    installed editable), not a copy installed from the wheel."""
    return (PROJECT_DIR / "pyproject.toml").is_file() and (PROJECT_DIR / "labs").is_dir()


def shipped_dir(name: str) -> Path:
    """A folder of data that ships with mplslab: the checkout's own, or the installed
    package's (importlib.resources)."""
    if from_checkout():
        return PROJECT_DIR / name
    folder = files("emulator") / name
    if not isinstance(folder, Path):  # a zip import: nothing installs mplslab that way
        from emulator.errors import LabError

        raise LabError(f"mplslab's {name} are inside an archive ({folder})",
                       hint="install mplslab with pip or pipx (as files)")
    return folder


def labs_dir() -> Path:
    """The shipped labs."""
    return Path(os.environ.get("MPLSLAB_LABS") or shipped_dir("labs"))


def user_labs_dir() -> Path:
    """The user's own labs, found by name like the shipped ones (a shipped lab's name wins):
    $MPLSLAB_USER_LABS, else $XDG_CONFIG_HOME/mplslab/labs (~/.config/mplslab/labs)."""
    if os.environ.get("MPLSLAB_USER_LABS"):
        return Path(os.environ["MPLSLAB_USER_LABS"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mplslab" / "labs"


def templates_dir() -> Path:
    return Path(os.environ.get("MPLSLAB_TEMPLATES") or shipped_dir("templates"))


def cache_dir() -> Path:
    """Built artefacts that survive labs: the appliance root filesystem."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("MPLSLAB_CACHE", Path(base) / "mplslab"))


def state_dir() -> Path:
    """One folder per running lab: rendered configs, state file, VM console log.

    From a checkout it sits inside the project (``.mplslab/``), which the micro-VM shares,
    so that it sees rendered configs at the same path as the host. Installed, it is the
    user's state folder, $XDG_STATE_HOME/mplslab (~/.local/state/mplslab), and the micro-VM
    shares it on its own (emulator/runtime/vm_boot.py: shared_folders). MPLSLAB_STATE overrides
    both.
    """
    if os.environ.get("MPLSLAB_STATE"):
        # Absolute: the state file records paths under it that the micro-VM reads.
        return Path(os.environ["MPLSLAB_STATE"]).absolute()
    if from_checkout():
        return PROJECT_DIR / ".mplslab"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).resolve() / "mplslab"


def check_output_file(path: Path, option: str) -> None:
    """Refuse, before any work is done, a report path that cannot be written."""
    from emulator.errors import LabError

    try:
        if path.is_dir():
            raise LabError(f"{option} {path} is a folder", hint="give a file name")
        existed = path.exists()
        if existed and not path.is_file():
            return  # a device or a pipe: what the user asked for
        with path.open("a"):
            pass
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LabError(f"{option} {path} cannot be written: {reason}",
                       hint="give a file in an existing folder you can write to") from None
    if not existed:
        path.unlink(missing_ok=True)


def check_output_folder(path: Path, option: str) -> None:
    """Refuse, before any work is done, an output folder that cannot be made or written."""
    from emulator.errors import LabError

    try:
        if path.exists() and not path.is_dir():
            raise LabError(f"{option} {path} is a file, not a folder",
                           hint="give a folder (it is created when missing)")
        existing = path
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise LabError(f"{option} {path} is inside {existing}, which is a file",
                           hint="give a folder (it is created when missing)")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise LabError(f"{option} {path}: no permission to write in {existing}",
                           hint="give a folder you can write to")
    except (OSError, ValueError) as exc:
        raise LabError(f"{option} {path} cannot be used: {exc}") from None


def write_json(path: Path, data: object) -> None:
    """``data`` as indented JSON at ``path``, whole or not at all: a reader never sees half
    a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(data, indent=2) + "\n")
    scratch.replace(path)
