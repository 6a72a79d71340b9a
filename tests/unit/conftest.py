import signal

import pytest
from recorded import Recorded

from emulator import lifecycle
from emulator.paths import PROJECT_DIR


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path_factory, monkeypatch):
    """Unit tests never see the labs a developer has up (nor leave anything among them)."""
    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def deploy(tmp_path, monkeypatch):
    """Deploys a shipped lab on routers that only record what they run (tests/recorded.py),
    and returns their runtime."""
    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path / "state"))
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    monkeypatch.setattr(lifecycle, "choose", lambda requested: ("netns", "a fake"))
    monkeypatch.setattr(lifecycle, "make_runtime", Recorded)
    monkeypatch.setattr(Recorded, "ran", [])
    monkeypatch.setattr(Recorded, "answers", {})
    monkeypatch.setattr(Recorded, "recorded", [])
    handler = signal.getsignal(signal.SIGTERM)

    def up(lab: str) -> type[Recorded]:
        lifecycle.up(str(PROJECT_DIR / "labs" / f"{lab}.yml"), None)
        return Recorded
    yield up
    signal.signal(signal.SIGTERM, handler)
