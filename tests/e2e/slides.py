"""One exercise of each shipped lab's own slides (emulator/training/inter_as_exercises.py,
carrier_exercises.py), as a trainee meets it on live routers: start, `exercise check` says
"not yet" with the exercise's kinds failing, `exercise solution --apply`, `exercise check`
says "solved". The labs' own tests call ``slide_exercise`` while their lab is up (one
bring-up serves both); `python bench/exercises.py` runs every exercise of every lab.

Chosen per lab for being sure: the break shows on the routers within the seconds
run_exercise waits (a change on the exercise's own router, an OSPF flush, a withdrawal),
never only after a hold time, and its fix is one line back. The exercises are found from
the model like a user's lab would get them; the checks named below are this shipped lab's,
as the verifier names them."""

from __future__ import annotations

from labkit import CONVERGE, mplslab, run_exercise

from emulator.training import exercises as ex
from emulator.verify.families import derive

# lab: (exercise, checks that must fail, checks of its kinds that must keep passing)
SLIDES = {
    # PE-ASBR-2 keeps VPN-B's routes from AS 1 in its VRF: AS 2's PEs lose them, VPN-A not.
    "option1": ("asbr-export",
                {"PE-ASBR-2: 1:27:152.12.4.0/24", "PE-2: 1:27:152.12.4.0/24", "PE-2 VRF VPN-B",
                 "CE-3 (VPN-B-2) → CE-2 (VPN-B-1)"},
                {"PE-2: 1:27:149.27.2.0/24", "PE-2 VRF VPN-A",
                 "CE-1 (VPN-A-1) → CE-4 (VPN-A-2)"}),
    # PE-ASBR-1 drops the labelled packets from AS 2: every control-plane check holds.
    "option2": ("inter-as-mpls",
                {"CE-3 → 152.12.4.1 (VPN-B)", "CE-1 (VPN-A-1) → CE-4 (VPN-A-2)"}, set()),
    # ASBR-2 hands PE-2 PE-1's loopback with ASBR-1's link address as next hop; RR-2 still
    # gets it with ASBR-2 as next hop, so the RRs' session and AS 1's side stay whole.
    "option3": ("lu-next-hop-self",
                {"10.1.0.1/32: PE-2 pushes ASBR-2's LU label", "PE-2 VRF VPN-B",
                 "CE-3 (VPN-B-2) → CE-2 (VPN-B-1)"},
                {"10.1.0.1/32: RR-2 pushes ASBR-2's LU label", "PE-1 VRF VPN-B"}),
    # ASBR-3 gets provider 1's loopbacks with ASBR-1's link address as next hop: they stop
    # in the transit; provider 2's loopbacks still cross the other way.
    "option4": ("transit-next-hop-self",
                {"10.1.0.1/32: ASBR-3 pushes ASBR-2's LU label", "PE-2 VRF VPN-B"},
                {"10.3.0.4/32: ASBR-2 pushes ASBR-3's LU label"}),
    # CSC-CE-2's OSPF loses site 1's loopbacks: ASBR-2 drops N (its next hop is ASBR-1's).
    "csc-ip": ("site-igp",
               {"ASBR-2 holds 198.51.100.0/24 from ASBR-1",
                "ASBR-2 (203.0.113.0/24) → ASBR-1 (198.51.100.0/24)"},
               {"CSC-CE-2 holds 198.51.100.0/24 from ASBR-1",
                "ASBR-1 holds 203.0.113.0/24 from ASBR-2"}),
    # CSC-CE-1 drops what PE-1 sends it labelled: the way into ISP-1's site 1.
    "csc-mpls": ("ce-mpls",
                 {"ASBR-2 (203.0.113.0/24) → ASBR-1 (198.51.100.0/24)"},
                 {"CSC-CE-3 (198.51.100.0/24) → CSC-CE-4 (192.0.2.0/24)"}),
    # The second ISP's CSC-CE-3 gives PE-1 its network N: the backbone's VRF ISP-2 grows.
    "csc-vpn": ("external-leak",
                {"PE-1 VRF ISP-2 holds the carrier's internal routes only",
                 "PE-2 VRF ISP-2 holds the carrier's internal routes only"},
                {"PE-1 VRF ISP-1 holds the carrier's internal routes only"}),
}


def slide_exercise(lab: str, model, folder) -> set[str]:
    """The lab's slide exercise, start to solved, on the running lab; the failed checks."""
    name, fail, hold = SLIDES[lab]
    exercise = ex.find(model, name)
    kinds = {check.name: check.kind for check in derive(model)}
    assert fail | hold <= set(kinds), (fail | hold) - set(kinds)
    assert {kinds[n] for n in hold} <= set(exercise.fails)  # graded, so observed
    # The lab first converges on the exercise's kinds: a "not yet" is the break's.
    mplslab("verify", lab, "--deadline", str(CONVERGE),
            *(a for kind in exercise.fails for a in ("--kind", kind)))
    failed = run_exercise(lab, name, folder)
    assert fail <= failed, fail - failed
    assert not hold & failed, hold & failed
    # Every kind the exercise names failed: `exercise check` grades on them first.
    assert {kinds[n] for n in failed} == set(exercise.fails), failed
    return failed
