"""Every rendered FRR file (frr.conf and the staged configurations) of every lab and
variant passes FRR 10.3's own parser.

vtysh --dryrun runs by chroot into the appliance root filesystem: no VM, no daemons.
"""

import pytest
from shipped import lab_variants

from emulator.model.build import load_lab
from emulator.runtime.appliance import check_config


@pytest.mark.frr_parser
@pytest.mark.parametrize("lab_name,variant", list(lab_variants()))
def test_frr_10_3_parses_every_rendered_config(frr_parse_failures, lab_name, variant):
    failures = frr_parse_failures(load_lab(lab_name, variant))
    assert not failures, "\n".join(failures)


@pytest.mark.frr_parser
def test_the_parser_check_can_fail(appliance_image):
    result = check_config(appliance_image, "broken", "router bgp 1\n bogus command\nexit\n")
    assert not result.ok and "Unknown command" in result.output
