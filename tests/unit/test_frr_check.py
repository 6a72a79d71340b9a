"""This host's FRR, as the netns runtime reads it."""

from __future__ import annotations

from emulator.runtime import local


def test_this_hosts_frr_version_comes_from_zebra(tmp_path, monkeypatch):
    # FRR 10.3's vtysh has no --version option: asked, it says so and prints nothing.
    zebra = tmp_path / "zebra"
    zebra.write_text("")
    monkeypatch.setattr(local, "ZEBRA", zebra)
    monkeypatch.setattr(local.shutil, "which", lambda name: f"/usr/bin/{name}")
    asked = []

    def run(argv, **kwargs):
        import subprocess

        asked.append(argv)
        return subprocess.CompletedProcess(argv, 0, "zebra version 10.3\nCopyright ...\n", "")

    monkeypatch.setattr(local.subprocess, "run", run)
    assert local.frr_version() == (10, 3)
    assert asked == [[str(zebra), "--version"]]
