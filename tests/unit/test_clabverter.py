"""A class on Kubernetes (docs/training.md, "A class"): each trainee's copy rendered as a
containerlab topology (`mplslab render --clab`) goes through clabernetes' clabverter into
manifests that deploy side by side. Runs the real clabverter (`make clabverter` builds it);
without it the test is skipped, saying so."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from emulator.cli import app
from emulator.model.loader import renamed
from emulator.paths import PROJECT_DIR, cache_dir

CONFIGMAP_LIMIT = 1024 * 1024  # bytes: Kubernetes refuses a larger ConfigMap
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


def clabverter() -> Path:
    found = shutil.which("clabverter")
    built = cache_dir() / "bin" / "clabverter"
    if found:
        return Path(found)
    if built.is_file():
        return built
    pytest.skip(f"clabverter is not installed (not on PATH nor {built}): `make clabverter` "
                "builds it")


def convert(binary: Path, lab: str, trainee: int, tmp_path: Path) -> list[dict]:
    """Trainee ``trainee``'s copy of ``lab`` rendered for containerlab, then converted; the
    manifests."""
    name = f"{lab}-t{trainee}"
    copy = tmp_path / f"{name}.yml"
    copy.write_text(renamed((PROJECT_DIR / "labs" / f"{lab}.yml").read_text(), name))
    rendered = tmp_path / name
    result = CliRunner().invoke(app, ["render", str(copy), "--out", str(rendered), "--clab"])
    assert result.exit_code == 0, result.output
    manifests = tmp_path / f"{name}-k8s"
    done = subprocess.run([str(binary), "--topologyFile", str(rendered / f"{name}.clab.yml"),
                           "--outputDirectory", str(manifests), "--destinationNamespace",
                           f"mplslab-{name}", "--quiet"], capture_output=True, text=True,
                          timeout=120, check=False, cwd=rendered)
    assert done.returncode == 0, done.stdout + done.stderr
    documents = []
    for path in sorted(manifests.glob("*.yaml")):
        assert path.stat().st_size < CONFIGMAP_LIMIT, f"{path.name} is too large for Kubernetes"
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def test_clabverter_turns_each_trainees_topology_into_manifests_apart(tmp_path):
    binary = clabverter()
    copies = {trainee: convert(binary, "option3", trainee, tmp_path) for trainee in (1, 2)}
    names = {}
    for trainee, documents in copies.items():
        name = f"option3-t{trainee}"
        kinds = {d["kind"] for d in documents}
        assert kinds == {"Namespace", "Topology", "ConfigMap"}, kinds
        assert {d["metadata"].get("namespace", d["metadata"]["name"])
                for d in documents} == {f"mplslab-{name}"}
        topology = next(d for d in documents if d["kind"] == "Topology")
        assert topology["metadata"]["name"] == name
        definition = yaml.safe_load(topology["spec"]["definition"]["containerlab"])
        assert definition["name"] == name
        assert set(definition["topology"]["nodes"]) == set(
            topology["spec"]["deployment"]["filesFromConfigMap"])
        # Every router's configuration and plan reach its pod through a ConfigMap.
        files = {entry["filePath"] for entries in
                 topology["spec"]["deployment"]["filesFromConfigMap"].values()
                 for entry in entries}
        for node in definition["topology"]["nodes"]:
            for wanted in ("frr.conf", "setup.json", "daemons"):
                assert str(tmp_path / name / node / wanted) in files
        keys = [key for d in documents if d["kind"] == "ConfigMap" for key in d["data"]]
        assert all(CONFIGMAP_KEY.match(key) for key in keys)
        names[trainee] = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert not names[1] & names[2], "two trainees' manifests would overwrite each other"
