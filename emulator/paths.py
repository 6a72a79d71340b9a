"""Where the project's data lives: labs, templates, caches, per-lab state."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def labs_dir() -> Path:
    return Path(os.environ.get("MPLSLAB_LABS", PROJECT_DIR / "labs"))


def templates_dir() -> Path:
    return Path(os.environ.get("MPLSLAB_TEMPLATES", PROJECT_DIR / "templates"))


def cache_dir() -> Path:
    """Built artefacts that survive labs: the appliance root filesystem."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("MPLSLAB_CACHE", Path(base) / "mplslab"))


def state_dir() -> Path:
    """One folder per running lab: rendered configs, state file, VM console log.

    It sits inside the project so that the micro-VM, which shares the project directory,
    sees rendered configs at the same path as the host.
    """
    return Path(os.environ.get("MPLSLAB_STATE", PROJECT_DIR / ".mplslab"))


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
