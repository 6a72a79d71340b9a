"""Reading a lab file: YAML with line numbers, variants, and errors that name where.

A lab file is untrusted input: it is read with limits (size, nesting, alias expansion),
every mapping key is a name (the text as written), a repeated key is an error, and every
problem becomes one LabError naming the file, line and field.
"""

from __future__ import annotations

import copy
import datetime
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from emulator.errors import LabError
from emulator.model.schema import ITEM_NAME, PATTERN_HELP, LabFile
from emulator.paths import labs_dir, user_labs_dir

# Limits that no real lab comes near (the shipped ones: ~5 KiB, 6 levels, ~600 nodes).
MAX_LAB_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_NUMBER_DIGITS = 40
# User text quoted in a message is cut to this many characters.
QUOTE_CHARS = 60

VARIANT_FIELDS = ("description", "patch")


def quote(value: Any) -> str:
    """A short repr of user input for a message."""
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 3] + "..."


class LabYamlError(yaml.MarkedYAMLError):
    """A problem in the YAML itself, with a hint of what to do."""

    def __init__(self, problem: str, mark: Any, hint: str | None = None):
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


class LabConstructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor with names as keys and bounded numbers."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            raise LabYamlError(f"expected a mapping, found a {node.id}", node.start_mark)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            # Keys are names: `1:` or `yes:` name "1" and "yes", not a number or a boolean.
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(c.isdigit() for c in node.value)
        if digits > MAX_NUMBER_DIGITS:
            raise LabYamlError(f"a number of {digits} digits", node.start_mark,
                               hint="no value in a lab file is that large")
        return super().construct_yaml_int(node)


LabConstructor.add_constructor("tag:yaml.org,2002:int", LabConstructor.construct_yaml_int)

# libyaml's parser when PyYAML has it (several times faster). Composing recurses (in C with
# libyaml), so check_nesting reads the event stream first.
Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_nesting(text: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH before anything recurses into it."""
    events = Parser(text)
    try:
        depth = 0
        while events.check_event():
            event = events.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise LabYamlError(
                        f"nested more than {MAX_DEPTH} levels deep", event.start_mark,
                        hint="a lab file nests a few levels; look for unclosed [ or {")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        events.dispose()


def check_keys(node: yaml.MappingNode) -> None:
    """Every key is a name, and none is repeated (the second would silently win)."""
    seen: dict[str, yaml.Node] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise LabYamlError("a mapping key is a name, not a list or a mapping",
                               key_node.start_mark)
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if key_node.value in seen:
            first = seen[key_node.value].start_mark.line + 1
            raise LabYamlError(
                f"key {quote(key_node.value)} is repeated (first at line {first})",
                key_node.start_mark,
                hint="a key appears once in a mapping (the second would silently replace "
                     "the first): merge the two or rename one")
        seen[key_node.value] = key_node


def check_expansion(root: yaml.Node) -> None:
    """Refuse a document that is small on disk and huge once its aliases are expanded (a
    "billion laughs"), nested too deeply through aliases, or recursive; check every
    mapping's keys on the way."""
    memo: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def walk(node: yaml.Node, depth: int) -> tuple[int, int]:
        """(nodes once expanded, height) of node."""
        key = id(node)
        if key in open_nodes:
            raise LabYamlError("an alias refers to the node that contains it",
                               node.start_mark, hint="remove the recursive alias")
        if key not in memo:
            open_nodes.add(key)
            if depth > MAX_DEPTH:
                raise LabYamlError(f"nested more than {MAX_DEPTH} levels deep (with aliases "
                                   "expanded)", node.start_mark,
                                   hint="a lab file nests a few levels")
            if isinstance(node, yaml.MappingNode):
                check_keys(node)
            children = (node.value if isinstance(node, yaml.SequenceNode) else
                        [n for pair in node.value for n in pair]
                        if isinstance(node, yaml.MappingNode) else [])
            total, height = 1, 0
            for child in children:
                size, child_height = walk(child, depth + 1)
                total += size
                height = max(height, child_height + 1)
                if total > MAX_NODES:
                    raise LabYamlError(
                        f"the document expands to more than {MAX_NODES} values (aliases "
                        "repeat what they refer to)", node.start_mark,
                        hint="write the lab without nested aliases")
            open_nodes.discard(key)
            memo[key] = (total, height)
        total, height = memo[key]
        if depth + height > MAX_DEPTH:
            raise LabYamlError(f"nested more than {MAX_DEPTH} levels deep (with aliases "
                               "expanded)", node.start_mark, hint="a lab file nests a few levels")
        return total, height

    walk(root, 1)


class SourceMap:
    """Maps a field path (('nodes', 'PE-1', 'role')) to the line that wrote it.

    With a variant's patch applied (use_patch), a field the patch wrote is located in the
    patch, not in the base lab."""

    def __init__(self, path: Path, root: yaml.Node | None):
        self.path = path
        self.root = root
        self.variant: str | None = None
        self.patch: Any = None
        self.merged: Any = None

    def use_patch(self, variant: str, patch: Any, merged: Any) -> None:
        self.variant, self.patch, self.merged = variant, patch, merged

    def node(self, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, int | None]:
        """The YAML node at loc (None when loc goes further than the file) and the line of
        the deepest node found on the way."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == str(key)), None)
                if match is None:
                    match = next((k for k, _ in node.value if k.value == str(key)), None)
                    if match is not None:
                        line = match.start_mark.line + 1
                    return None, line
                node = match
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if key >= len(node.value):
                    return None, line
                node = node.value[key]
            else:
                return None, line
            line = node.start_mark.line + 1
        return node, line

    def line(self, loc: tuple[Any, ...]) -> int | None:
        return self.node(loc)[1]

    def patch_loc(self, loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Where in the variant's patch the value at loc (of the merged lab) was written, or
        None when it comes from the base lab."""
        if self.patch is None:
            return None
        patch, merged, path = self.patch, self.merged, []
        for depth, key in enumerate(loc):
            if not isinstance(patch, dict):
                # The patch replaced this whole value: what is below is the patch's too.
                return ("variants", self.variant, "patch", *path, *loc[depth:])
            if isinstance(merged, list) and isinstance(key, int):
                item = merged[key] if key < len(merged) else None
                name = item.get("name") if isinstance(item, dict) else None
                if name is None or name not in patch:
                    return None
                path.append(name)
                patch, merged = patch[name], item
            elif isinstance(merged, dict) and key in patch:
                path.append(key)
                patch, merged = patch[key], merged.get(key)
            else:
                return None
        return ("variants", self.variant, "patch", *path)

    def where(self, loc: tuple[Any, ...]) -> str:
        field = format_loc(loc)
        in_patch = self.patch_loc(loc)
        line = self.line(in_patch if in_patch else loc)
        place = f"{self.path}:{line}" if line else str(self.path)
        if in_patch:
            field = f"{field} (set by variant {self.variant}'s patch)"
        return f"{place}: {field}" if field else place


def format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


LAB_SUFFIXES = (".yml", ".yaml")
SHIPPED, USER = "shipped", "user"


def lab_folders() -> list[tuple[str, Path]]:
    """Where a lab is found by name, in order: the shipped labs, then the user's."""
    return [(SHIPPED, labs_dir()), (USER, user_labs_dir())]


def lab_files() -> list[tuple[str, Path]]:
    """Every lab file found by name: (origin, path), shipped first, each folder sorted."""
    found = []
    for origin, folder in lab_folders():
        try:
            paths = [p for p in folder.iterdir() if p.suffix in LAB_SUFFIXES and p.is_file()]
        except OSError:  # no such folder (the user's usually), or not readable
            continue
        found += [(origin, path) for path in sorted(paths)]
    return found


def resolve_lab_path(lab: str) -> Path:
    """LAB is a path to a YAML file, or a name in the shipped labs or the user's labs
    folder (in that order: a user's file with a shipped lab's name is reached by its path)."""
    if not lab or "\0" in lab:
        raise LabError(f"no lab {quote(lab)}", hint="give a lab name from `mplslab list`")
    candidate = Path(lab)
    if candidate.suffix in LAB_SUFFIXES or "/" in lab:
        try:
            found = candidate.is_file()
        except OSError:
            found = False
        if not found:
            raise LabError(f"no lab file {lab}", hint="give a lab name from `mplslab list`")
        return candidate
    for _, folder in lab_folders():
        for suffix in LAB_SUFFIXES:
            path = folder / f"{lab}{suffix}"
            try:
                if path.is_file():
                    return path
            except OSError:
                continue
    known = ", ".join(dict.fromkeys(p.stem for _, p in lab_files())) or "none"
    raise LabError(f"no lab named {quote(lab)}",
                   hint=f"known labs: {known} (your own: a path, or a file in "
                        f"{user_labs_dir()})")


def read_text(path: Path) -> str:
    """The file as text: at most MAX_LAB_BYTES of UTF-8."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_LAB_BYTES + 1)
    except OSError as exc:
        raise LabError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_LAB_BYTES:
        raise LabError(f"the file is larger than {MAX_LAB_BYTES // 1024} KiB", where=str(path),
                       hint="a lab file is a few KiB of YAML: is this the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LabError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                       where=f"{path}:{line}:{column}",
                       hint="save the file as UTF-8") from None


def renamed(text: str, name: str, source: str = "the lab") -> str:
    """A lab file's text with its top-level ``name:`` changed to ``name`` (``mplslab new``,
    a class's copies), every other line kept as written."""
    text, count = re.subn(r"^name:[^\n#]*", f"name: {name}", text, count=1,
                          flags=re.MULTILINE)
    if not count:
        raise LabError(f"{source} has no top-level `name:` line",
                       hint="a lab file starts with `name: NAME` at the left margin")
    return text


def read_raw(path: Path) -> tuple[dict, SourceMap]:
    text = read_text(path)
    parser = None
    try:
        check_nesting(text)
        parser = Parser(text)
        root = parser.get_single_node()
        if root is not None:
            check_expansion(root)
        raw = LabConstructor().construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise yaml_error(path, text, exc) from None
    except RecursionError:
        raise LabError("the YAML is nested too deeply", where=str(path),
                       hint="a lab file nests a few levels; look for unclosed [ or {") from None
    finally:
        if parser is not None:
            parser.dispose()
    if not isinstance(raw, dict):
        raise LabError("a lab file is a YAML mapping (name:, nodes:, links: ...)", where=str(path))
    return raw, SourceMap(path, root)


def yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> LabError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return LabError(f"character #x{exc.character:04x} is not allowed in a YAML file",
                        where=f"{path}:{line}", hint="remove it (control characters and "
                        "other non-printable characters are refused)")
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, LabYamlError):
        return LabError(problem, where=where, hint=exc.hint)
    hint = "fix the syntax at that line"
    lines = text.splitlines() if mark else []
    line = lines[mark.line] if mark and mark.line < len(lines) else ""
    if "\t" in line[:mark.column + 1 if mark else 0]:
        hint = "YAML indents with spaces, never tabs"
    elif "another document" in problem:
        hint = "a lab file is one YAML document: remove the second ---"
    return LabError(f"not valid YAML: {problem}", where=where, hint=hint)


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
                known = ", ".join(str(n) for n in names if n is not None) or "none"
                raise LabError(f"variant patch names {quote(name)}, which no list item is "
                               "called", hint=f"named items: {known}")
            out[names[name]] = merge(out[names[name]], value)
        return out
    return copy.deepcopy(patch)


def read_variants(raw: dict, source: SourceMap) -> dict[str, dict]:
    """The lab's variants, checked: name -> {description, patch}."""
    variants = raw.pop("variants", None)
    if variants is None:
        return {}
    if not isinstance(variants, dict):
        raise LabError("variants is a mapping of name to {description, patch}",
                       where=source.where(("variants",)))
    for name, body in variants.items():
        if not re.match(ITEM_NAME, name):
            raise LabError(f"variant name {quote(name)} is not allowed: {PATTERN_HELP[ITEM_NAME]}",
                           where=source.where(("variants", name)),
                           hint="it is typed as --variant NAME")
        if not isinstance(body, dict) or "description" not in body:
            raise LabError("each variant has a description (and optionally a patch)",
                           where=source.where(("variants", name)))
        for key in body:
            if key not in VARIANT_FIELDS:
                raise LabError(f"unknown field {quote(key)}", where=source.where(
                    ("variants", name, key)), hint="a variant has description and patch")
        if not isinstance(body["description"], str):
            raise LabError("a variant's description is text", hint="quote it",
                           where=source.where(("variants", name, "description")))
        if not isinstance(body.get("patch") or {}, dict):
            raise LabError("a variant's patch is a mapping merged into the lab",
                           where=source.where(("variants", name, "patch")),
                           hint="like patch: {links: {inter-as: {protocol: ospf}}}")
    return variants


def load_lab_file(lab: str, variant: str | None = None
                  ) -> tuple[LabFile, SourceMap, str | None, dict]:
    """Parse and validate; returns the schema object, the source map, the variant and all
    variant descriptions."""
    path = resolve_lab_path(lab)
    raw, source = read_raw(path)
    variants = read_variants(raw, source)
    descriptions = {name: body["description"] for name, body in variants.items()}
    if variant is None and variants:
        variant = next(iter(variants))
    if variant is not None:
        if variant not in variants:
            known = ", ".join(variants) or "none"
            raise LabError(f"lab {path.stem} has no variant {quote(variant)}",
                           hint=f"variants: {known}")
        patch = variants[variant].get("patch") or {}
        try:
            raw = merge(raw, patch)
        except LabError as exc:
            exc.where = source.where(("variants", variant, "patch"))
            raise
        source.use_patch(variant, patch, raw)
    try:
        lab_file = LabFile.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, source) from None
    return lab_file, source, variant, descriptions


def validation_error(exc: ValidationError, source: SourceMap) -> LabError:
    """The first of pydantic's errors, in the lab file's words."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    kind = first["type"]
    value = first.get("input")
    message = first["msg"].removeprefix("Value error, ")
    hint = None
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        message = f"the name {quote(loc[-1])}: {message}" if loc else message
    if kind == "extra_forbidden":
        message = f"unknown field {quote(loc[-1])}"
    elif kind == "literal_error":
        message = f"{message}, got {quote(value)}"
    elif kind == "string_pattern_mismatch":
        pattern = first.get("ctx", {}).get("pattern", "")
        message = f"{quote(value)} is not allowed: {PATTERN_HELP.get(pattern, message)}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = f"{message.replace('Input should be', 'must be')}, got {quote(value)}"
    elif kind == "missing":
        message = "required, and missing"
    elif kind in EXPECTED:
        message = f"expected {EXPECTED[kind]}, got {describe(value)}"
        if kind == "string_type":
            hint = unquoted_hint(source, loc, value)
        elif isinstance(value, str):
            hint = "write it without quotes"
    more = len(errors) - 1
    if more and hint is None:
        hint = f"{more} more problem(s) after this one"
    return LabError(message, where=source.where(loc), hint=hint)


EXPECTED = {
    "string_type": "text", "int_type": "a whole number", "bool_type": "true or false",
    "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "float_type": "a number",
}


def describe(value: Any) -> str:
    """What YAML made of a value, in words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {quote(value)}"
    if isinstance(value, str):
        return f"the text {quote(value)}"
    if isinstance(value, list):
        return f"a list {quote(value)}"
    if isinstance(value, dict):
        return f"a mapping {quote(value)}"
    return f"{type(value).__name__} {quote(value)}"


def unquoted_hint(source: SourceMap, loc: tuple[Any, ...], value: Any) -> str | None:
    """When YAML read an unquoted value as something other than the text it looks like
    (rd: 1:27 is the base-60 number 87 in YAML 1.1; yes is true), say to quote it."""
    if isinstance(value, str) or not isinstance(
            value, int | float | bool | datetime.date | type(None)):
        return None
    node, _ = source.node(source.patch_loc(loc) or loc)
    if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
        return None
    text = node.value
    read = describe(value) if not isinstance(value, datetime.date) else f"the date {value}"
    key = loc[-1] if loc and not isinstance(loc[-1], int) else None
    example = f'{key}: "{text}"' if key is not None else f'"{text}"'
    if len(example) > QUOTE_CHARS:
        return "YAML read an unquoted value as a number, boolean or date: quote it"
    return f"YAML reads the unquoted {text} as {read}: quote it: {example}"
