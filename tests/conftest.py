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
    """Each suite's own parser (FRR 10.3's vtysh --dryrun, BIRD's bird -p; by chroot) on
    every file a lab renders: frr.conf, bird.conf and the staged configurations, and the
    label guard's nftables ruleset and script. Returns one line per refused file."""
    from parsekit import check_guard

    from emulator.render import node_plan
    from emulator.runtime.appliance import check_config

    def failures(lab) -> list[str]:
        found = []
        for node in lab.nodes:
            files, plan = node_plan(lab, node)
            suites = {entry["config"]: entry["name"] for entry in plan["suites"]}
            for name, text in files.items():
                if name.endswith(".conf"):
                    # Staged files are FRR's; each suite's main file is its own.
                    result = check_config(appliance_image, node.name, text,
                                          suites.get(name, "frr"))
                    if not result.ok:
                        found.append(f"{node.name} {name}: {result.output}")
                elif name.endswith((".nft", ".sh")):
                    ok, output = check_guard(appliance_image, name, text)
                    if not ok:
                        found.append(f"{node.name} {name}: {output}")
        return found
    return failures
