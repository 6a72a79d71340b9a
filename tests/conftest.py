import pytest

from emulator.runtime import appliance


@pytest.fixture(scope="session")
def appliance_image() -> appliance.Appliance:
    """The Debian 13 + FRR 10.3 root filesystem, built once and cached across runs."""
    return appliance.build(progress=lambda line: print(f"appliance: {line}", flush=True))
