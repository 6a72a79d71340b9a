"""A class's copies and its record.

Copy ``i`` of lab ``option3`` is the lab ``option3-t<i>``: its lab file is the lab's own with
the top-level ``name:`` changed (``loader.renamed``, as `mplslab new` does), so everything
that is per lab follows from the name (the state folder, the namespaces ``<copy>_<node>``
and FRR's pathspaces in them, the containers ``clab-<copy>-<node>``); addresses live inside
each copy's routers and never meet another copy's. The record and the copies' files live in
the state folder's ``_class/<lab>/`` (``class.json``, ``<copy>.yml``): never a lab name
(lab names start with a letter), shared with the micro-VM like the rest of the state.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from emulator.errors import LabError
from emulator.model.loader import read_text, renamed
from emulator.paths import state_dir, write_json
from emulator.runtime.state import LAB_NAME, check_lab_name

CLASSES = "_class"
RECORD = "class.json"
COPY = re.compile(r"^(?P<lab>[a-z][a-z0-9-]*)-t(?P<index>[1-9][0-9]*)$")


def copy_name(lab: str, index: int) -> str:
    """Trainee ``index``'s (from 1) copy of ``lab``."""
    return f"{lab}-t{index}"


def copy_names(lab: str, trainees: int) -> list[str]:
    """The copies of a class of ``trainees``, each a valid lab name; or why not."""
    if trainees < 1:
        raise LabError(f"a class has at least one trainee, not {trainees}",
                       hint="--trainees N, N >= 1")
    last = copy_name(lab, trainees)  # before the list: a class of 10**9 has no names
    if not LAB_NAME.match(last):
        longest = 12 - len(f"-t{trainees}")
        raise LabError(f"the copies of {lab} would be named up to {last}, longer than a "
                       "lab name may be (12 characters)",
                       hint=f"a class of {trainees} needs a lab name of at most {longest} "
                            "characters: copy the lab under a shorter one (mplslab new NAME "
                            "--from LAB, or your file's `name:`) and give that")
    return [copy_name(lab, index) for index in range(1, trainees + 1)]


def index_of(lab: str, copy: str) -> int | None:
    """Which trainee's copy of ``lab`` ``copy`` is, or None."""
    match = COPY.match(copy)
    return int(match["index"]) if match and match["lab"] == lab else None


class DamagedClass(LabError):
    """A class record that cannot be read: `class down` still finds the copies by name."""


@dataclass
class ClassRecord:
    """A class that `class up` started: the lab it copies, the copies, how they run."""

    lab: str
    trainees: list[str]
    runtime: str
    source: str
    variant: str | None = None
    # Who keeps the shared micro-VM up for the class (vm_shared.class_user), or None when
    # its copies run on this host.
    vm_user: str | None = None
    # The guest's memory the class asked for when it booted the VM (QEMU's words).
    memory: str | None = None
    # The copies' lab files, by copy.
    files: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def folder(lab: str) -> Path:
        return state_dir() / CLASSES / check_lab_name(lab)

    @classmethod
    def exists(cls, lab: str) -> bool:
        return cls.folder(lab).exists()

    def save(self) -> None:
        write_json(self.folder(self.lab) / RECORD, asdict(self))

    @classmethod
    def load(cls, lab: str) -> ClassRecord:
        path = cls.folder(lab) / RECORD
        if not cls.folder(lab).is_dir():
            raise LabError(f"class {lab} is not up",
                           hint=f"start it: mplslab class up {lab} --trainees N")
        try:
            data = json.loads(path.read_text())
            known = {f.name for f in fields(cls)}
            if not isinstance(data, dict) or not {"lab", "trainees", "runtime"} <= data.keys():
                raise ValueError("not a class record of mplslab")
            record = cls(**{k: v for k, v in data.items() if k in known})
            if record.lab != lab or not isinstance(record.trainees, list) \
                    or not all(index_of(lab, name) for name in record.trainees):
                raise ValueError(f"it describes another class ({record.lab!r})")
        except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise DamagedClass(f"the record {path} of class {lab} is damaged ({exc})",
                               hint=f"mplslab class down {lab} takes its copies down by "
                                    "name") from None
        return record

    def write_copies(self) -> None:
        """Each copy's lab file: the lab's own, renamed."""
        text = read_text(Path(self.source))
        for name in self.trainees:
            path = self.folder(self.lab) / f"{name}.yml"
            path.write_text(renamed(text, name, f"lab {self.lab} ({self.source})"))
            self.files[name] = str(path)

    def remove(self) -> None:
        folder = self.folder(self.lab)
        # Never follow a name out of the state folder, whatever the file system holds.
        if folder.is_symlink() or folder.resolve().parent != (state_dir() / CLASSES).resolve():
            raise LabError(f"{folder} is not a class folder of {state_dir()}; not removing it")
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # another class's folder is still in it
            folder.parent.rmdir()


def classes() -> list[str]:
    """The labs that have a class up (a record folder, damaged or not)."""
    folder = state_dir() / CLASSES
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and LAB_NAME.match(p.name))
