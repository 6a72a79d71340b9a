"""The house rules docs/architecture.md states, checked on the code: rooms only look down, no
import circle, every suite implements the one contract."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from emulator import suites
from emulator.suites import contract

PACKAGE = Path(suites.__file__).parents[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def type_checking_blocks(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    return {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for statement in node.body for inner in ast.walk(statement)}


def imports_of(name: str) -> set[str]:
    """The project modules ``name`` imports, at any depth of its code (a function's lazy
    import counts too; a name imported for annotations only does not); ``from package
    import module`` is an import of that module."""
    found = set()
    tree = ast.parse(MODULES[name].read_text())
    annotations_only = type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module in MODULES:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & MODULES.keys()
    return found - {name}


def test_no_import_circle():
    graph = {name: imports_of(name) for name in MODULES}
    circles = []

    def visit(name: str, path: list[str], done: set[str]) -> None:
        for target in sorted(graph[name]):
            if target in path:
                circles.append([*path[path.index(target):], target])
            elif target not in done:
                done.add(target)
                visit(target, [*path, target], done)
    for name in sorted(graph):
        visit(name, [name], {name})
    assert not circles, circles


@pytest.mark.parametrize("room", ["emulator.model", "emulator.render", "emulator.training",
                                  "emulator.suites", "emulator.verify"])
def test_rooms_below_the_runtimes_do_not_import_them(room):
    """model, render, training and the suite drivers never reach into a runtime; verify
    talks to routers only through the Runtime interface (runtime.base)."""
    allowed = {"emulator.runtime.base"} if room == "emulator.verify" else set()
    reached = {(name, target) for name in MODULES if name == room or name.startswith(room + ".")
               for target in imports_of(name)
               if target.startswith("emulator.runtime") and target not in allowed}
    assert not reached


def test_the_model_imports_no_other_room():
    """The model reads lab files; of the suites it asks only what they cannot do (their
    drivers' capability tables, standard-library modules that import no model)."""
    reached = {(name, target) for name in MODULES if name.startswith("emulator.model")
               for target in imports_of(name)
               if not target.startswith(("emulator.model", "emulator.errors", "emulator.paths",
                                         "emulator.suites"))}
    assert not reached
    suites_reach = {(name, target) for name in MODULES if name.startswith("emulator.suites")
                    for target in imports_of(name) if not target.startswith("emulator.suites")}
    assert not suites_reach


def test_the_suite_drivers_use_the_standard_library_only():
    """The namespace runtime imports them inside the micro-VM, where only the standard
    library is."""
    for name in MODULES:
        if not name.startswith("emulator.suites"):
            continue
        for node in ast.walk(ast.parse(MODULES[name].read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                assert top in ("emulator", "__future__") or top in STDLIB, (name, node.module)


STDLIB = {"json", "re", "shutil", "socket", "sys", "threading", "dataclasses", "pathlib",
          "typing", "collections", "functools", "itertools", "subprocess", "os", "time",
          "types", "ipaddress"}


def members(protocol: type) -> dict[str, inspect.Signature | None]:
    """A protocol's functions with their signatures (without self), and its attributes."""
    found: dict[str, inspect.Signature | None] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, contract.Protocol) or not issubclass(klass, contract.Protocol):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(value):
                signature = inspect.signature(value)
                found[name] = signature.replace(parameters=list(
                    signature.parameters.values())[1:])
        for name in getattr(klass, "__annotations__", {}):
            if not name.startswith("_"):
                found[name] = None
    return found


def parameters(signature: inspect.Signature) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in signature.parameters.values()]


@pytest.mark.parametrize("name", sorted(suites.SUITES))
def test_every_suite_driver_implements_the_contract(name):
    driver = suites.SUITES[name]
    assert isinstance(driver, contract.RoutingSuite)
    for member, signature in members(contract.RoutingSuite).items():
        assert hasattr(driver, member), f"{name} lacks {member}"
        if signature is not None:
            assert parameters(inspect.signature(getattr(driver, member))) == \
                parameters(signature), f"{name}.{member}"


@pytest.mark.parametrize("name", sorted(suites.PROBES))
def test_every_suite_answers_the_questions_of_the_protocols_it_runs(name):
    probes = suites.PROBES[name]
    assert probes.PROTOCOLS and set(probes.PROTOCOLS) <= set(contract.PROBES_OF)
    for protocol in probes.PROTOCOLS:
        for member, signature in members(contract.PROBES_OF[protocol]).items():
            assert hasattr(probes, member), f"{name} lacks {member} ({protocol})"
            if signature is not None:
                assert parameters(inspect.signature(getattr(probes, member))) == \
                    parameters(signature), f"{name}.{member}"


def test_a_suite_that_cannot_do_something_says_why():
    with pytest.raises(NotImplementedError, match="whole configuration at start"):
        suites.SUITES["bird"].configure_argv(["protocol bgp x"])


LARGEST = 600  # lines: a module past this holds more than one concern


def test_no_module_is_a_grab_bag():
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert not {name: lines for name, lines in sizes.items() if lines > LARGEST}
