import pytest


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path_factory, monkeypatch):
    """Unit tests never see the labs a developer has up (nor leave anything among them)."""
    monkeypatch.setenv("MPLSLAB_STATE", str(tmp_path_factory.mktemp("state")))
