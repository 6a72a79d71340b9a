"""Reading a lab file: YAML with line numbers, variants, and errors that name where."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from emulator.errors import LabError
from emulator.model.schema import LabFile
from emulator.paths import labs_dir


class SourceMap:
    """Maps a field path (('nodes', 'PE-1', 'role')) to the line that wrote it."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, loc: tuple[Any, ...]) -> int | None:
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == str(key)), None)
                if match is None:
                    match = next((k for k, _ in node.value if k.value == str(key)), None)
                node = match
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if key < len(node.value) else None
            else:
                break
            if node is None:
                break
            line = node.start_mark.line + 1
        return line

    def where(self, loc: tuple[Any, ...]) -> str:
        field = format_loc(loc)
        line = self.line(loc)
        place = f"{self.path}:{line}" if line else str(self.path)
        return f"{place}: {field}" if field else place


def format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def resolve_lab_path(lab: str) -> Path:
    """LAB is a name in labs/ or a path to a YAML file."""
    candidate = Path(lab)
    if candidate.suffix in (".yml", ".yaml") or "/" in lab:
        if not candidate.is_file():
            raise LabError(f"no lab file {lab}", hint="give a lab name from `mplslab list`")
        return candidate
    for suffix in (".yml", ".yaml"):
        path = labs_dir() / f"{lab}{suffix}"
        if path.is_file():
            return path
    known = ", ".join(sorted(p.stem for p in labs_dir().glob("*.yml"))) or "none"
    raise LabError(f"no lab named {lab!r}", hint=f"known labs: {known}")


def read_raw(path: Path) -> tuple[dict, SourceMap]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise LabError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise LabError(
            f"not valid YAML: {problem}", where=where, hint="fix the syntax at that line"
        ) from None
    if not isinstance(raw, dict):
        raise LabError("a lab file is a YAML mapping (name:, nodes:, links: ...)", where=str(path))
    return raw, SourceMap(path, text)


def merge(base: Any, patch: Any) -> Any:
    """Mappings merge key by key; a mapping applied to a list of named items merges by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        names = {item.get("name"): i for i, item in enumerate(out) if isinstance(item, dict)}
        for name, value in patch.items():
            if name not in names:
                raise LabError(f"variant patch names {name!r}, which no list item is called")
            out[names[name]] = merge(out[names[name]], value)
        return out
    return copy.deepcopy(patch)


def load_lab_file(lab: str, variant: str | None = None
                  ) -> tuple[LabFile, SourceMap, str | None, dict]:
    """Parse and validate; returns the schema object, the source map, the variant and all
    variant descriptions."""
    path = resolve_lab_path(lab)
    raw, source = read_raw(path)
    variants = raw.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise LabError("variants is a mapping of name to {description, patch}",
                       where=source.where(("variants",)))
    descriptions = {}
    for name, body in variants.items():
        if not isinstance(body, dict) or "description" not in body:
            raise LabError("each variant has a description (and optionally a patch)",
                           where=source.where(("variants", name)))
        descriptions[str(name)] = str(body["description"])
    if variant is None and variants:
        variant = next(iter(variants))
    if variant is not None:
        if variant not in variants:
            known = ", ".join(variants) or "none"
            raise LabError(f"lab {raw.get('name', path.stem)} has no variant {variant!r}",
                           hint=f"variants: {known}")
        try:
            raw = merge(raw, variants[variant].get("patch") or {})
        except LabError as exc:
            exc.where = source.where(("variants", variant, "patch"))
            raise
    try:
        lab_file = LabFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        elif first["type"] == "literal_error":
            message = f"{message}, got {first.get('input')!r}"
        more = len(exc.errors()) - 1
        hint = f"{more} more problem(s) after this one" if more else None
        raise LabError(message, where=source.where(loc), hint=hint) from None
    return lab_file, source, variant, descriptions
