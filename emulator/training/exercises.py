"""Break/fix exercises that grade themselves: each one breaks a running lab the way trainers
break it in class, states the symptom, and is graded by `verify`.

Exercises are derived from the lab model, like the checks, so every lab (shipped or written
from docs/lab-format.md) gets those that make sense for it:

- ``rt-import``: a PE's VRF stops importing its VPN's route target (any lab with a PE VRF);
- ``inter-as-session``: the BGP session that crosses the AS boundary is shut down (per-VRF
  IPv4 in Option A, VPNv4 in Option B, labelled IPv4 in Options C and 4);
- ``inter-as-link``: where no BGP session crosses it (Option A with an IGP or static routes
  between the PE-ASBRs), the inter-AS link is shut down on one side;
- ``next-hop-self``: an Option B ASBR stops setting itself as next hop towards its PE;
- ``carrier-session``: a CSC-CE's labelled session to the backbone PE is shut down;
- ``allowas-in``: a CSC-CE of a carrier whose sites share one AS refuses its own AS;
- ``label-spoofing``: a PE that two customer carriers share turns its label guard off;
- and those that teach each option's slides (``inter_as_exercises.py``, ``carrier_exercises.py``).

``GENERIC`` names those any lab of the shape gets whatever its option (a VPN's import, the
boundary's session or link, a carrier's attachment); every shipped lab has at least three
more, of its own slides.

What the routers are told to break and to fix is FRR configuration, one template per
exercise under ``templates/frr/exercise_*.j2`` (rendered with ``fix`` false, then true,
``exercise_kit.py``), or a command run in the router where the change is no FRR
configuration: the label guard's switch (``bird.guard_switch``), a VLAN's VRF (`ip link`).
"""

from __future__ import annotations

import json
from pathlib import Path

from emulator.errors import LabError
from emulator.model.topology import Lab
from emulator.suites import bird, pathspace
from emulator.training import carrier_exercises, inter_as_exercises
from emulator.training.exercise_kit import (
    Change,
    Exercise,
    both,
    carrier_attachments,
    crossing_sessions,
)

EXERCISE_FILE = "exercise.json"  # in the lab's state folder while an exercise runs


def rt_import(lab: Lab) -> Exercise | None:
    """The last PE with a VRF whose VPN has a site behind another PE stops importing."""
    sites = [n for n in lab.nodes if n.site is not None]
    # The change is FRR configuration: a PE whose BGP is BIRD's has none to change.
    for node in reversed([n for n in lab.nodes if n.role == "pe" and n.suites["bgp"] == "frr"]):
        for vrf in node.vrfs:
            members = [s for s in sites if s.site.vpn == vrf.name]
            local = [s for s in members if node.towards(s.name)]
            if not local or len(local) == len(members):
                continue
            targets = " ".join(vrf.import_targets)
            breaks, fixes = both(node, "exercise_rt_import.j2", vrf=vrf)
            return Exercise(
                name="rt-import", title=f"{node.name} VRF {vrf.name} imports nothing",
                symptom=f"The sites of {vrf.name} behind {node.name} "
                        f"({', '.join(s.name for s in local)}) no longer reach the other "
                        f"sites of {vrf.name}; every BGP session is up.",
                hint=f"Compare `show bgp ipv4 vpn` on {node.name} (the routes are there, with "
                     f"their RTs) with `show bgp vrf {vrf.name} ipv4 unicast`: what decides "
                     "which VPNv4 routes enter a VRF?",
                why=f"A VRF imports the VPNv4 routes whose route targets match its import "
                    f"list; {node.name}'s VRF {vrf.name} must import {targets} "
                    f"(`rt vpn import {targets}` under `router bgp {node.bgp_asn} vrf "
                    f"{vrf.name}`, address-family ipv4 unicast).",
                fails=["vrf-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def inter_as_session(lab: Lab) -> Exercise | None:
    sessions = crossing_sessions(lab)
    if not sessions:
        return None
    node, neighbor = sessions[0]
    families = ", ".join(neighbor.families)
    where = f" vrf {neighbor.vrf}" if neighbor.vrf else ""
    breaks, fixes = both(node, "exercise_session_shutdown.j2", neighbor=neighbor)
    return Exercise(
        name="inter-as-session",
        title=f"the inter-AS session between {node.name} and {neighbor.peer} is shut down",
        symptom=(f"The sites of {neighbor.vrf}" if neighbor.vrf else "Sites")
        + f" no longer reach those behind the other AS (AS {neighbor.remote_as}); traffic "
          "inside each AS still flows.",
        hint=f"`show bgp{where} summary` on the routers at the AS boundary: which session is "
             "not Established, and what does its state say?",
        why=f"{node.name} has `neighbor {neighbor.address} shutdown` under `router bgp "
            f"{node.bgp_asn}{where}`: the session towards {neighbor.peer} ({families}) is "
            "administratively down, so nothing crosses the boundary. `no neighbor "
            f"{neighbor.address} shutdown` brings it back.",
        fails=["bgp-session", "ping"], breaks=breaks, fixes=fixes)


def inter_as_link(lab: Lab) -> Exercise | None:
    if crossing_sessions(lab):
        return None  # inter-as-session breaks the boundary the more instructive way
    for node in lab.nodes:
        for interface in node.interfaces:
            if interface.scope == "inter-as" and interface.address and interface.peer and \
                    node.asn < lab.node(interface.peer.node).asn:
                breaks, fixes = both(node, "exercise_interface_shutdown.j2",
                                     interface=interface)
                what = f" ({interface.vrf}'s)" if interface.vrf else ""
                return Exercise(
                    name="inter-as-link",
                    title=f"{node.name}'s inter-AS interface {interface.name}{what} is shut "
                          "down",
                    symptom=(f"The sites of {interface.vrf}" if interface.vrf else "Sites")
                    + " no longer reach those behind the other AS; traffic inside each AS "
                      "still flows.",
                    hint=f"Follow a ping hop by hop (`mplslab exec {lab.name} {node.name} -- "
                         "ip -br link`, `show interface brief` in vtysh): where does it stop?",
                    why=f"{interface.name} on {node.name} is administratively down "
                        f"(`shutdown` under `interface {interface.name}`): the routes learned "
                        f"across it are gone. `no shutdown` brings it back.",
                    fails=["ping"], breaks=breaks, fixes=fixes)
    return None


def next_hop_self(lab: Lab) -> Exercise | None:
    """An Option B ASBR that sets itself as next hop towards its PE stops doing so."""
    for node in lab.nodes:
        if not any(i.l3vpn_switching for i in node.interfaces) or node.core_bgp is None:
            continue
        for neighbor in node.core_bgp.family("ipv4-vpn"):
            if neighbor.next_hop_self and not neighbor.ebgp:
                breaks, fixes = both(node, "exercise_next_hop_self.j2", neighbor=neighbor,
                                     family="ipv4 vpn")
                return Exercise(
                    name="next-hop-self",
                    title=f"{node.name} no longer sets itself as next hop towards "
                          f"{neighbor.peer}",
                    symptom=f"{neighbor.peer} still lists the other AS's VPN routes, but its "
                            "sites cannot reach them.",
                    hint=f"On {neighbor.peer}: `show bgp ipv4 vpn` — what is the next hop of "
                         "the other AS's routes, and does this AS have a route (and an LSP) "
                         "to it?",
                    why=f"The other AS's routes arrive at {node.name} with the far ASBR's "
                        "link address as next hop, which this AS's IGP does not carry. "
                        f"`neighbor {neighbor.address} next-hop-self` (address-family ipv4 "
                        f"vpn) makes {node.name} the next hop, reached over LDP, and its "
                        "own label swaps to the far ASBR's (the slide's label walk). The "
                        "other way out is the /32 host route (lab variant "
                        "no-next-hop-self).",
                    fails=["vpnv4-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def carrier_session(lab: Lab) -> Exercise | None:
    """A CSC-CE shuts its labelled session to the backbone PE down."""
    for node, neighbor in carrier_attachments(lab)[:1]:
        breaks, fixes = both(node, "exercise_session_shutdown.j2", neighbor=neighbor)
        return Exercise(
            name="carrier-session",
            title=f"{node.name}'s labelled session to the backbone ({neighbor.peer}) is shut "
                  "down",
            symptom=f"The site behind {node.name} no longer reaches the carrier's other "
                    "sites, although its own iBGP still carries their external routes.",
            hint=f"On {node.name}: `show bgp ipv4 labeled-unicast summary`; on "
                 f"{neighbor.peer} (BIRD): `mplslab exec {lab.name} {neighbor.peer} -- birdc "
                 "show protocols`. Which session is down, and what did it carry?",
            why=f"The session carries the carrier's internal routes (its loopbacks, the BGP "
                f"next hops of its external routes) with labels between {node.name} and the "
                f"backbone's VRF. `no neighbor {neighbor.address} shutdown` under `router bgp "
                f"{node.bgp_asn}` brings it back.",
            fails=["bgp-session", "vpnv4-route", "ping"], breaks=breaks, fixes=fixes)
    return None


def allowas_in(lab: Lab) -> Exercise | None:
    """A CSC-CE of a carrier whose sites share one AS stops accepting its own AS."""
    for node, neighbor in carrier_attachments(lab):
        if not neighbor.allowas_in:
            continue
        breaks, fixes = both(node, "exercise_allowas_in.j2", neighbor=neighbor)
        return Exercise(
            name="allowas-in",
            title=f"{node.name} refuses routes that carry its own AS {node.bgp_asn}",
            symptom=f"Every session is up, the backbone holds the carrier's internal routes, "
                    f"but the site behind {node.name} does not reach the other sites.",
            hint=f"On {node.name}: `show bgp ipv4 labeled-unicast neighbors "
                 f"{neighbor.address} received-routes` is empty; what is in the AS path of the "
                 "other sites' routes, and what does BGP do with its own AS there?",
            why=f"All the carrier's sites are AS {node.bgp_asn}: their routes come back "
                f"with {node.bgp_asn} in the AS path and BGP's loop prevention drops them. "
                f"`neighbor {neighbor.address} allowas-in 1` (address-family ipv4 unicast: "
                "FRR checks labelled unicast there) accepts them; the backbone's as-override "
                "would be the other way, which BIRD lacks.",
            fails=["label-chain", "ping"], breaks=breaks, fixes=fixes)
    return None


def label_spoofing(lab: Lab) -> Exercise | None:
    """A PE that two customer carriers share stops guarding the labels its CSC-CEs push."""
    for node in lab.nodes:
        carriers = {lab.node(g.peer).asn for g in node.label_guard}
        if len(carriers) < 2:
            continue
        switch = str(bird.guard_switch(pathspace(lab.name, node.name)))
        ces = ", ".join(g.peer for g in node.label_guard)
        return Exercise(
            name="label-spoofing",
            title=f"{node.name}'s label guard is off",
            symptom=f"Every check of the carriers' own traffic passes, but a CSC-CE on "
                    f"{node.name} ({ces}) can push a label {node.name} gave another "
                    "carrier and reach into that carrier's network.",
            hint=f"On {node.name}: `mplslab exec {lab.name} {node.name} -- nft list table "
                 f"netdev {bird.GUARD_TABLE}`; `ip -f mpls route` shows one label table for "
                 "every VRF: what stops a CE from using a label of another VRF?",
            why=f"A Linux router has one label space: {node.name}'s labels of every VRF are "
                "valid on every interface. The label guard (an nftables filter at ingress "
                "of each CSC-CE-facing interface, refreshed from BIRD's bindings) admits "
                "only the labels advertised to that CE — the slides' check that a CE uses "
                f"the labels of its own VRF. `rm {switch}` turns it back on.",
            fails=["label-spoofing"],
            breaks=[Change(node.name, [], ["touch", switch])],
            fixes=[Change(node.name, [], ["rm", "-f", switch])])
    return None


# Exercises any lab of that shape gets, whatever the option: they break what every VPN or
# every boundary has. The others teach a slide's point (next-hop-self, allowas-in,
# label-spoofing here; inter_as_exercises.py, carrier_exercises.py): a shipped lab has at
# least three of those.
GENERIC = ("rt-import", "inter-as-session", "inter-as-link", "carrier-session")

DERIVERS = [rt_import, inter_as_session, inter_as_link, next_hop_self, carrier_session,
            allowas_in, label_spoofing, *inter_as_exercises.DERIVERS,
            *carrier_exercises.DERIVERS]


def exercises(lab: Lab) -> list[Exercise]:
    return [e for derive in DERIVERS if (e := derive(lab)) is not None]


def find(lab: Lab, name: str) -> Exercise:
    found = {e.name: e for e in exercises(lab)}
    if name not in found:
        raise LabError(f"lab {lab.name} has no exercise {name!r}",
                       hint=f"its exercises: {', '.join(found) or 'none'} "
                            f"(mplslab exercise list {lab.name})")
    return found[name]


def save(folder: Path, exercise: Exercise) -> None:
    (folder / EXERCISE_FILE).write_text(json.dumps(exercise.as_dict(), indent=2) + "\n")


def current(folder: Path, lab: str) -> Exercise:
    try:
        data = json.loads((folder / EXERCISE_FILE).read_text())
    except OSError:
        raise LabError(f"no exercise is running on lab {lab}",
                       hint=f"start one: mplslab exercise list {lab}") from None
    data["breaks"] = [Change(**c) for c in data["breaks"]]
    data["fixes"] = [Change(**c) for c in data["fixes"]]
    return Exercise(**data)


def finish(folder: Path) -> None:
    (folder / EXERCISE_FILE).unlink(missing_ok=True)


def forget(folder: Path) -> str | None:
    """End the running exercise ungraded (`mplslab reset` took its break off the routers):
    its name, or None when none was running."""
    try:
        name = json.loads((folder / EXERCISE_FILE).read_text())["name"]
    except (OSError, ValueError, KeyError, TypeError):
        name = None
    finish(folder)
    return name
