"""A topology deployed by hand (`mplslab render --clab`): each router's container binds only
what its own start reads (its rendered folder, lab.json, and the start bundle: the modules of
the `emulator` package the start imports), and that is enough. Each router's start is run
here on a copy of exactly its container's binds, by a Python that sees the bundle and the
standard library only, as far as it goes without a container: up to the kernel set-up."""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.model.build import load_lab
from emulator.render import render_lab
from emulator.runtime import containers, netns

CONFIGMAP_LIMIT = 1024 * 1024  # bytes: Kubernetes refuses a larger ConfigMap

# Run inside the copy of one container's binds: the start's own entry point (`main`, as
# containerlab's `exec:` runs it), stopped where it would need the container (its links, its
# network stack, root). Before stopping, it reads what the rest of the start reads from the
# rendered files; then it tells what it read and which modules were imported.
DRIVER = r'''
import json
import sys
from pathlib import Path

from emulator.runtime import containers, netns

seen = {}
lab_links = containers.ThisContainer.link_interfaces


def link_interfaces(self, node):
    seen["interfaces"] = lab_links(self, node)
    return []  # no container attached links here: nothing to wait for


def kernel_setup(self, node, interfaces):
    plan = self.plan(node)
    seen["kernel"] = netns.kernel_commands(plan["kernel"], seen["interfaces"])
    folder = self.rendered / node
    files = []
    for suite in plan["suites"]:
        module = containers.driver(suite["name"])
        config = folder / suite["config"]
        for daemon in suite["daemons"]:
            argv = module.start_argv(daemon, self.ns(node), Path("/log"), config)
            files += [arg for arg in argv if arg.startswith(str(folder))]
        files += [str(folder / suite["config"])]
        files += [str(folder / extra["config"]) for extra in suite.get("daemon_configs", [])]
    files += [str(folder / config) for step in plan["after_start"] for config in step["configs"]]
    seen["read"] = {path: Path(path).read_text() for path in files}
    raise containers.StepFailed("stopped before the kernel set-up")


containers.ThisContainer.link_interfaces = link_interfaces
containers.ThisContainer.kernel_setup = kernel_setup
seen["exit"] = containers.main(sys.argv[1:])
seen["emulator"] = sorted(module.__file__ for name, module in sys.modules.items()
                          if name.split(".")[0] == "emulator")
seen["foreign"] = sorted({name.split(".")[0] for name in sys.modules}
                         - set(sys.stdlib_module_names) - set(sys.builtin_module_names)
                         - {"emulator", "__main__"})
print(json.dumps(seen))
'''


def by_hand(tmp_path: Path, name: str, variant: str | None = None) -> tuple[dict, Path]:
    lab = load_lab(name, variant)
    rendered = tmp_path / "rendered"
    render_lab(lab, rendered)
    return containers.by_hand_topology(lab.name, rendered, image="mplslab-router:test"), rendered


def bound_files(binds: list[str]) -> dict[Path, int]:
    """Every file a router's binds give its container (its path on this host), with its
    size."""
    files = {}
    for bind in binds:
        source = Path(bind.split(":")[0])
        for path in (sorted(source.rglob("*")) if source.is_dir() else [source]):
            if path.is_file():
                files[path] = path.stat().st_size
    return files


def container_view(settings: dict, root: Path) -> Path:
    """What one router's container sees of this host, under ``root``: each of its binds
    copied to its target, nothing else."""
    for bind in settings["binds"]:
        source, target, _ = bind.split(":")
        copy = root / target.lstrip("/")
        if Path(source).is_dir():
            shutil.copytree(source, copy)
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    return root


def isolated_python(argv: list[str], python_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    """A Python with the standard library and ``python_path`` only: no site-packages (-S),
    neither the working folder nor a script's on sys.path (-P), no cache written (-B)."""
    return subprocess.run([sys.executable, "-P", "-S", "-B", *argv], capture_output=True,
                          text=True, timeout=60, check=False, cwd=cwd,
                          env={"PYTHONPATH": str(python_path), "PATH": os.environ["PATH"]})


@pytest.mark.parametrize("name,variant", [("option3", None), ("option2", "no-next-hop-self"),
                                          ("csc-vpn", None)])
def test_each_routers_binds_are_enough_for_its_start(tmp_path, name, variant):
    """option3; Option B with a staged step (after_start); csc-vpn: BIRD and its label guard
    (a script beside its configuration) beside FRR."""
    topology, rendered = by_hand(tmp_path, name, variant)
    description = json.loads((rendered / "lab.json").read_text())
    bundle = sorted(str(path.relative_to(rendered / containers.START_BUNDLE))
                    for path in (rendered / containers.START_BUNDLE).rglob("*.py"))
    for node, settings in topology["topology"]["nodes"].items():
        view = container_view(settings, tmp_path / "view" / node)
        code = view / settings["env"]["PYTHONPATH"].lstrip("/")
        # The very start containerlab's `exec:` runs, its rendered folder seen in the view.
        [line] = settings["exec"]
        start = shlex.split(shlex.split(line)[2].split(">")[0])
        assert start[:4] == ["python3", "-m", containers.ContainerLab.MODULE, "start"]
        lab, inside, here = start[4:]
        assert (lab, inside, here) == (description["lab"], str(rendered), node)
        seen_rendered = view / inside.lstrip("/")
        empty = tmp_path / "cwd"
        empty.mkdir(exist_ok=True)
        result = isolated_python(["-c", DRIVER, "start", lab, str(seen_rendered), node], code,
                                 empty)
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == "error: stopped before the kernel set-up"
        seen = json.loads(result.stdout)
        assert seen["exit"] == 1
        # What it read is this router's, as rendered.
        interfaces = netns.link_interfaces(description["links"], node)
        assert seen["interfaces"] == interfaces
        plan = json.loads((rendered / node / "setup.json").read_text())
        assert seen["kernel"] == netns.kernel_commands(plan["kernel"], interfaces)
        assert seen["read"] and all(
            text == (rendered / Path(path).relative_to(seen_rendered)).read_text()
            for path, text in seen["read"].items())
        # Imported from the bundle alone, every file of it, and the standard library.
        assert seen["foreign"] == []
        assert sorted(str(Path(path).relative_to(code)) for path in seen["emulator"]) \
            == bundle
    # And `python3 -m <module> start`, as the `exec:` line says, finds it there.
    usage = isolated_python(["-m", containers.ContainerLab.MODULE, "start"], code, empty)
    assert usage.returncode == 2
    assert f"usage: python3 -m {containers.ContainerLab.MODULE} start" in usage.stderr


def test_each_router_binds_its_own_files_only_well_under_a_configmap(tmp_path):
    topology, rendered = by_hand(tmp_path, "option3")
    nodes = topology["topology"]["nodes"]
    bundle = rendered / containers.START_BUNDLE / "emulator"
    sizes = {}
    for node, settings in nodes.items():
        assert settings["binds"] == [f"{rendered / node}:{rendered / node}:ro",
                                     f"{rendered / 'lab.json'}:{rendered / 'lab.json'}:ro",
                                     f"{bundle}:/opt/mplslab/emulator:ro"]
        files = bound_files(settings["binds"])
        others = [path for path in files for other in nodes
                  if other != node and path.is_relative_to(rendered / other)]
        assert not others, f"{node} binds another router's files: {others[:3]}"
        assert rendered / "model.json" not in files
        sizes[node] = sum(files.values())
    code = sum(bound_files([f"{bundle}:x"]).values())
    print(f"\noption3, bound per router (bytes): start bundle {code}; "
          + ", ".join(f"{node} {size}" for node, size in sorted(sizes.items()))
          + f"; largest {max(sizes.values())}")
    assert max(sizes.values()) < CONFIGMAP_LIMIT // 4


def test_the_bundle_is_the_starts_modules_of_the_standard_library_and_nothing_else(tmp_path):
    """No cache, whatever the package holds; no module outside the standard library and the
    bundle itself, at any depth of its code; rendered again, a bundle is replaced whole."""
    _, rendered = by_hand(tmp_path, "option1")
    bundle = rendered / containers.START_BUNDLE
    files = sorted(path for path in bundle.rglob("*") if path.is_file())
    assert files and all(path.suffix == ".py" for path in files)
    assert not list(bundle.rglob("__pycache__"))
    package = Path(containers.__file__).resolve().parents[2]
    for path in files:
        relative = path.relative_to(bundle)
        assert path.read_bytes() == (package / relative).read_bytes()
        for statement in ast.walk(ast.parse(path.read_text())):
            if isinstance(statement, ast.Import):
                names = [alias.name for alias in statement.names]
            elif isinstance(statement, ast.ImportFrom) and not statement.level:
                names = [statement.module or ""]
            else:
                continue
            for imported in names:
                top = imported.split(".")[0]
                assert top in sys.stdlib_module_names or top == "emulator", \
                    f"{relative} imports {imported}: not in the standard library"
                if top == "emulator":
                    module = bundle / Path(*imported.split("."))
                    assert module.with_suffix(".py").is_file() or \
                        (module / "__init__.py").is_file(), f"{imported} is not in the bundle"
    stale = bundle / "emulator" / "stale.py"
    stale.write_text("")
    containers.by_hand_topology("option1", rendered, image="mplslab-router:test")
    assert not stale.exists()
    assert sorted(path for path in bundle.rglob("*") if path.is_file()) == files


def test_start_modules_follow_every_kind_of_import(tmp_path, monkeypatch):
    """Absolute, relative, `from package import module`, a function's own import; a name
    imported from a module is no module."""
    package = tmp_path / "emulator"
    (package / "runtime").mkdir(parents=True)
    (package / "suites").mkdir()
    for path, text in {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "runtime/start.py": "import json\nfrom . import helper\nfrom emulator.suites import "
                            "frr, driver\n\ndef late():\n    import emulator.suites.bird\n",
        "runtime/helper.py": "from ..suites.records import Record\n",
        "runtime/unused.py": "",
        "suites/__init__.py": "def driver():\n    pass\n",
        "suites/frr.py": "", "suites/bird.py": "", "suites/records.py": "Record = 1\n",
    }.items():
        (package / path).write_text(text)
    monkeypatch.setattr(containers, "__file__", str(package / "runtime" / "containers.py"))
    assert containers.start_modules("emulator.runtime.start") == [
        Path("emulator", path) for path in (
            "__init__.py", "runtime/__init__.py", "runtime/helper.py", "runtime/start.py",
            "suites/__init__.py", "suites/bird.py", "suites/frr.py", "suites/records.py")]
