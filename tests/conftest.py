import pytest

from emulator.runtime import appliance


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> dict:
    """The wheel built from the checkout and installed into a fresh virtual environment, and
    a work folder and state folder for it outside the checkout (tests/wheelkit.py)."""
    from wheelkit import build_and_install
    return build_and_install(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def appliance_image() -> appliance.Appliance:
    """The Debian 13 + FRR 10.3 root filesystem, built once and cached across runs."""
    return appliance.build(progress=lambda line: print(f"appliance: {line}", flush=True))


@pytest.fixture(scope="session")
def frr_parse_failures(appliance_image):
    """FRR 10.3's own parser (vtysh --dryrun, by chroot) on every FRR file a lab renders:
    frr.conf and the staged configurations. Returns one line per refused file."""
    from emulator.render import node_plan
    from emulator.runtime.appliance import check_config

    def failures(lab) -> list[str]:
        found = []
        for node in lab.nodes:
            files, _ = node_plan(lab, node)
            for name, text in files.items():
                if name.endswith(".conf"):
                    result = check_config(appliance_image, node.name, text)
                    if not result.ok:
                        found.append(f"{node.name} {name}: {result.output}")
        return found
    return failures
