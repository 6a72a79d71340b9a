"""Every rendered file (frr.conf, the staged configurations, bird.conf, the label guard's
ruleset and script) of every lab and variant passes its own parser: FRR 10.3's, BIRD 2.17's,
nft's and the shell's.

vtysh --dryrun and bird -p run by chroot into the appliance root filesystem: no VM, no
daemons.
"""

import pytest
from parsekit import check_guard
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


@pytest.mark.frr_parser
def test_the_bird_parser_check_can_fail(appliance_image):
    result = check_config(appliance_image, "broken", "router id 1.1.1.1;\nprotocol bgp {\n",
                          "bird")
    assert not result.ok and "syntax error" in result.output


@pytest.mark.frr_parser
def test_the_label_guard_checks_can_fail(appliance_image):
    ruleset = ('table netdev t {\n chain c {\n  type filter hook ingress device "eth9" '
               'priority filter;\n  mpls label 16 drop\n }\n}\n')
    ok, output = check_guard(appliance_image, "label-guard.nft", ruleset)
    assert not ok and "syntax error" in output
    ok, _ = check_guard(appliance_image, "label-guard.nft",
                        ruleset.replace("  mpls label 16 drop\n", ""))
    assert ok
    ok, output = check_guard(appliance_image, "label-guard.sh", "while :; do\n")
    assert not ok and "end of file" in output
