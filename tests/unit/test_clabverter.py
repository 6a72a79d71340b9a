"""A class on Kubernetes (docs/training.md, "A class"): a lab rendered for containerlab
(`mplslab render --clab`) goes through clabernetes' clabverter into manifests, with one
ConfigMap per router under Kubernetes' 1 MiB that holds that router's files only (its
rendered folder, lab.json, the start bundle: tests/unit/test_start_bundle.py).

Runs the real clabverter binary (on PATH, or where `make clabverter` puts it). Without it
the test is skipped with the reason: a skip proves nothing, and is no pass (pytest reports
it as skipped, `make test` too); run `make clabverter` first to have it checked. Nothing
here reaches a cluster."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from emulator.cli import app
from emulator.paths import cache_dir

pytestmark = pytest.mark.clabverter

CONFIGMAP_LIMIT = 1024 * 1024  # bytes: Kubernetes refuses a larger ConfigMap


def clabverter() -> Path:
    found = shutil.which("clabverter")
    if found:
        return Path(found)
    built = cache_dir() / "bin" / "clabverter"
    if built.is_file():
        return built
    pytest.skip(f"clabverter is not installed (not on PATH nor at {built}): `make clabverter` "
                "builds it")


def bound_files(binds: list[str]) -> set[Path]:
    """Every file a router's binds give its container (its path on this host)."""
    files = set()
    for bind in binds:
        source = Path(bind.split(":")[0])
        files |= ({path for path in source.rglob("*") if path.is_file()} if source.is_dir()
                  else {source})
    return files


def test_clabverter_gives_each_router_a_configmap_of_its_own_files_under_1_mib(tmp_path):
    binary = clabverter()
    rendered = tmp_path / "option3"
    result = CliRunner().invoke(app, ["render", "option3", "--out", str(rendered), "--clab"])
    assert result.exit_code == 0, result.output
    topology_file = rendered / "option3.clab.yml"
    binds = {node: settings["binds"] for node, settings in
             yaml.safe_load(topology_file.read_text())["topology"]["nodes"].items()}
    manifests = tmp_path / "k8s"
    done = subprocess.run([str(binary), "--topologyFile", str(topology_file),
                           "--outputDirectory", str(manifests), "--destinationNamespace",
                           "mplslab-option3", "--quiet"], capture_output=True, text=True,
                          timeout=120, check=False, cwd=rendered)
    assert done.returncode == 0, done.stdout + done.stderr
    config_maps, sizes = {}, {}
    topology = None
    for path in sorted(manifests.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document["kind"] == "ConfigMap":
                config_maps[document["metadata"]["name"]] = document["data"]
                sizes[document["metadata"]["name"]] = path.stat().st_size
            elif document and document["kind"] == "Topology":
                topology = document
    assert topology is not None
    print("\nclabverter, option3, ConfigMap files (bytes): "
          + ", ".join(f"{name} {size}" for name, size in sorted(sizes.items()))
          + f"; largest {max(sizes.values())}")
    # Each ConfigMap in a file of its own: under the limit, the file's YAML around it too.
    assert max(sizes.values()) < CONFIGMAP_LIMIT
    files = topology["spec"]["deployment"]["filesFromConfigMap"]
    assert set(files) == set(binds)
    used_by: dict[str, set[str]] = {}
    for node, entries in files.items():
        # The pod gets its binds' files, at their paths, from its ConfigMaps: all of them
        # and nothing else (no other router's folder, no model.json).
        assert {Path(entry["filePath"]) for entry in entries} == bound_files(binds[node])
        for entry in entries:
            used_by.setdefault(entry["configMapName"], set()).add(node)
            content = config_maps[entry["configMapName"]][entry["configMapPath"]]
            # (YAML's `|-` keeps no final newline.)
            assert content == Path(entry["filePath"]).read_text().rstrip("\n")
    assert all(len(nodes) == 1 for nodes in used_by.values()), used_by
    assert set(used_by) == set(config_maps)
