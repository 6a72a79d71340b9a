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
