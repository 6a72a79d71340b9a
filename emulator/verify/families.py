"""Which checks a lab gets: the families of checks, registered per scenario.

A family is a function of the lab model and its scenario's semantics that returns checks.
Every lab gets the common families (each finds what it needs in the model: a lab without
customer sites gets no VPN route checks); a scenario adds its own, registered here by its
semantics class. Adding a scenario means a ``Semantics`` subclass in ``semantics.py`` and,
when it needs checks of its own, a module of families listed in ``SCENARIO_FAMILIES``.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.model.topology import Lab
from emulator.verify import carrier, expectations
from emulator.verify.checks import Check
from emulator.verify.semantics import CarrierSupportingCarrier, Semantics, semantics_for

Family = Callable[[Lab, Semantics], list[Check]]

# Every lab's families, in the order reports list their checks.
COMMON: list[Family] = [
    expectations.bgp_session_checks,
    expectations.ldp_session_checks,
    expectations.igp_adjacency_checks,
    expectations.vpnv4_route_checks,
    expectations.vrf_route_checks,
    expectations.mpls_lfib_checks,
    expectations.host_route_checks,
    expectations.label_chain_checks,
    expectations.labeled_unicast_checks,
    expectations.ping_checks,
    expectations.isolation_checks,
    expectations.wire_label_checks,
    expectations.label_leak_checks,
]

# A scenario's own families, by its semantics class (after the common ones).
SCENARIO_FAMILIES: dict[type[Semantics], list[Family]] = {
    CarrierSupportingCarrier: carrier.FAMILIES,
}


def families_of(semantics: Semantics) -> list[Family]:
    return COMMON + [family for kind, families in SCENARIO_FAMILIES.items()
                     if isinstance(semantics, kind) for family in families]


def derive(lab: Lab) -> list[Check]:
    """Every check of the lab: its families', then the label chains read again at the end."""
    semantics = semantics_for(lab)
    checks = [check for family in families_of(semantics) for check in family(lab, semantics)]
    return checks + expectations.steady_label_checks(checks)
