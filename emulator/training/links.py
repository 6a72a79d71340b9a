"""One link of a lab, as `mplslab explain LAB PE-2:P-2` tells it: its two ends (the lab's
interface names, addresses, VRFs, MTU), what runs on each (IGP, LDP, MPLS, the ASBRs'
labelled forwarding, a carrier PE's label guard), the BGP sessions over it, and the label
stack every walk of the lab's slides carries across it, from the same rules `verify`
checks the wire against (emulator/verify/semantics.py)."""

from __future__ import annotations

from emulator.errors import LabError
from emulator.model.topology import Interface, Lab, LinkEnd, Node
from emulator.training.explain import carrier_source, packet_source
from emulator.training.walks import Destination
from emulator.verify.carrier import externals
from emulator.verify.prediction import predict
from emulator.verify.semantics import CarrierSupportingCarrier, Hop, semantics_for


def link_told(lab: Lab, end: LinkEnd) -> dict:
    """The link ``end`` is one end of (or, for an interface without a link, that interface
    alone)."""
    if end.peer is None or end.peer_interface is None:
        raise LabError(f"{end} is on no link of lab {lab.name}",
                       hint=f"its links: {', '.join(lab.link_names(end.node))}")
    link = next((link for link in lab.links if link.name == end.link), None)
    ends = [(end.node, end.interface), (end.peer, end.peer_interface)]
    sides = [side_told(lab, lab.node(node), lab.node(node).interface(name))
             for node, name in ends]
    return {"lab": lab.name, "variant": lab.variant, "link": end.link,
            "scope": link.scope if link else None, "name": f"{end.node}:{end.peer}",
            "ends": sides,
            "sessions": sessions_over(lab, end),
            "stacks": stacks_on(lab, end.node, end.peer)}


def side_told(lab: Lab, node: Node, interface: Interface) -> dict:
    """One end: its interface and the VLAN sub-interfaces on it (a VRF each)."""
    subs = [i for i in node.interfaces if i.parent == interface.name]
    return {"router": node.name, "role": node.role, "asn": node.asn,
            **interface_told(node, interface),
            "vlans": [{**interface_told(node, i), "vlan": i.vlan} for i in subs]}


def interface_told(node: Node, interface: Interface) -> dict:
    return {"interface": interface.name,
            "address": str(interface.address) if interface.address else None,
            "vrf": interface.vrf, "mtu": interface.mtu, "runs": runs_on(node, interface)}


def runs_on(node: Node, interface: Interface) -> list[str]:
    """What the router runs on the interface, in the model's terms."""
    runs = [f"OSPF{f' (VRF {o.vrf})' if o.vrf else ''}" for o in node.ospf
            if interface.name in o.interfaces and interface.name not in o.passive]
    runs += [f"RIP{f' (VRF {r.vrf})' if r.vrf else ''}" for r in node.rip
             if interface.name in r.interfaces]
    runs += [label for flag, label in (
        (interface.ldp, "LDP"), (interface.mpls, "MPLS"),
        (interface.mpls_bgp_forwarding, "labelled forwarding from its eBGP peer"),
        (interface.l3vpn_switching, "L3VPN label switching"),
        (any(g.interface == interface.name for g in node.label_guard),
         "label guard (admits only the labels it advertised there)")) if flag]
    return runs


def sessions_over(lab: Lab, end: LinkEnd) -> list[dict]:
    """The BGP sessions whose peers are each other's addresses on this link (a VLAN's too)."""
    told: dict[str, dict] = {}
    for mine, theirs in ((end.node, end.peer), (end.peer, end.node)):
        there = {str(i.address.ip) for i in link_interfaces(lab, theirs, end)}
        for bgp in lab.node(mine).bgp:
            for neighbor in bgp.neighbors:
                if str(neighbor.address) in there:
                    told.setdefault(neighbor.session, {
                        "session": neighbor.session, "between": [mine, theirs],
                        "families": list(neighbor.families), "vrf": bgp.vrf,
                        "ebgp": neighbor.ebgp})
    return list(told.values())


def link_interfaces(lab: Lab, node: str, end: LinkEnd) -> list[Interface]:
    """The addressed interfaces of ``node`` on the link: its end, or that end's VLANs."""
    name = end.interface if node == end.node else end.peer_interface
    return [i for i in lab.node(node).interfaces
            if (i.name == name or i.parent == name) and i.address is not None]


def stacks_on(lab: Lab, a: str, b: str) -> list[dict]:
    """Each walk of the lab (a packet from one site to another's prefix, as `explain`
    walks them) that crosses the link, with the stack it carries there."""
    semantics = semantics_for(lab)
    broken = {(p.sites[0].node, p.sites[1].node) for p in predict(lab)}
    walks: list[tuple[str, str, list[Hop]]] = []
    for ce in lab.sites():
        sender = packet_source(semantics, ce, None)
        if sender is not None and (sender.name, ce.name) not in broken:
            walks.append((sender.name, f"{ce.site.prefix} ({ce.name})",
                          semantics.wire_path(sender.name, ce.name)))
    if isinstance(semantics, CarrierSupportingCarrier):
        for node in externals(lab):
            sender = carrier_source(semantics, Destination("external", node, node.external),
                                    None)
            if sender is not None:
                walks.append((sender.name, f"{node.external} ({node.name})",
                              semantics.external_path(sender.name, node.name)))
    return [{"from": sender, "to": to, "direction": f"{hop.sender} → {hop.receiver}",
             "interface": hop.interface, "labels": hop.depth, "what": hop.note or "plain IP"}
            for sender, to, hops in walks for hop in hops
            if {hop.sender, hop.receiver} == {a, b}]
