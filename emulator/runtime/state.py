"""The per-lab state file: what a later process needs to reach (or clean up) a running lab.

Everything a lab leaves on the host lives in ``<state dir>/<lab>/`` (rendered configs, the
state file) and ``<state dir>/<lab>.console*.log``; nothing outside the state folder is ever
deleted, and a lab name is a name, never a path.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import state_dir, write_json

# The lab file's own rule for `name:` (schema.py); namespace names build on it.
LAB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,11}$")


def check_lab_name(name: str) -> str:
    if not LAB_NAME.match(name):
        raise LabError(f"{name!r} is not a lab name",
                       hint="a lab name is lower-case letters, digits and '-', up to 12 "
                            "characters, as in `mplslab status`")
    return name


def lab_name_of(argument: str) -> str:
    """The lab a command-line argument names: a lab name, or a lab file's stem."""
    if argument.endswith((".yml", ".yaml")):
        argument = Path(argument).stem
    return check_lab_name(argument)


class DamagedState(LabError):
    """A state file that cannot be read: the lab can still be taken down by name."""


@dataclass
class LabState:
    lab: str
    variant: str | None
    runtime: str
    rendered: str
    source: str
    vm: dict = field(default_factory=dict)
    # The router image a containerlab lab was asked to use (`up --image`); None: the one
    # made from the appliance.
    image: str | None = None

    @staticmethod
    def folder(lab: str) -> Path:
        return state_dir() / check_lab_name(lab)

    @classmethod
    def path(cls, lab: str) -> Path:
        return cls.folder(lab) / "state.json"

    @staticmethod
    def console(lab: str) -> Path:
        # Beside the lab's folder, not in it: a failed bring-up removes the folder, and the
        # console is what its error message sends the user to.
        return state_dir() / f"{check_lab_name(lab)}.console.log"

    def save(self) -> None:
        write_json(self.path(self.lab), asdict(self))

    @classmethod
    def load(cls, lab: str) -> LabState:
        path = cls.path(lab)
        if not path.is_file():
            if cls.folder(lab).is_dir():
                # An `up` killed before it wrote its state leaves the folder alone.
                raise DamagedState(f"lab {lab} has a folder ({cls.folder(lab)}) but no state "
                                   "file", hint=f"clean up by name: mplslab down --force {lab}")
            raise LabError(f"lab {lab} is not up", hint=f"start it: mplslab up {lab}")
        try:
            data = json.loads(path.read_text())
            known = {f.name for f in fields(cls)}
            if not isinstance(data, dict) or not {"lab", "runtime"} <= data.keys():
                raise ValueError("not a state file of mplslab")
            state = cls(**{k: v for k, v in data.items() if k in known})
            if state.lab != lab or not isinstance(state.vm, dict):
                raise ValueError(f"it describes lab {state.lab!r}")
        except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise DamagedState(f"the state file {path} of lab {lab} is damaged ({exc})",
                               hint=f"clean up by name: mplslab down --force {lab}") from None
        return state

    @classmethod
    def names(cls) -> list[str]:
        """Labs that have a state folder, damaged or not."""
        if not state_dir().is_dir():
            return []
        return sorted(p.name for p in state_dir().iterdir()
                      if p.is_dir() and LAB_NAME.match(p.name))

    @classmethod
    def remove(cls, lab: str) -> None:
        folder = cls.folder(lab)
        # Never follow a name out of the state folder, whatever the file system holds.
        if folder.is_symlink() or folder.resolve().parent != state_dir().resolve():
            raise LabError(f"{folder} is not a lab folder of {state_dir()}; not removing it")
        shutil.rmtree(folder, ignore_errors=True)
