"""Whether a lab's sites can reach each other, predicted from the model alone (no routers).

``predict(lab)`` names what a lab that deploys cleanly would still lack: for every ordered
pair of sites of a VPN (and of a customer carrier's external prefixes in different sites),
whether the destination's route reaches the source's router through the sessions, address
families, route targets and route-reflection rules the model defines (the control plane),
and whether every BGP next hop on the way back is reached with a label wherever a label
must be carried (the transport).

Nothing here is specific to an inter-AS option. A route is followed (``Flood``) from the
router that owns its address, by the rules of the protocols the model configures:

- the IGPs (OSPF, RIP, per VRF or in the default table) relay what they learn, advertise
  their interfaces' subnets and what they redistribute; a static route brings the route
  to the router that has it, when its next hop holds it;
- BGP originates what a ``network`` covers (default table) or a VRF redistributes; it sends
  a route over a neighbour whose address family carries it (IPv4 unicast and labelled
  unicast share a table; VPNv4 its own), to a peer whose end of the same session carries
  it too, where the session comes up (between loopbacks: each end has a route to the
  other's address), respecting iBGP split horizon (a route learned over iBGP goes on over
  iBGP only from or to a route-reflector client), the AS path (an eBGP peer drops a route
  carrying its own AS, unless allowas-in; as-override replaces it) and a customer
  carrier's policies (labelled sessions carry its loopbacks only); the receiver keeps the
  route only when it can resolve its next hop; the sender rewrites the next hop when it
  originates the route, sets next-hop-self, or speaks eBGP without next-hop-unchanged;
- a VRF exports what it learned from its own side (not what it imported) into VPNv4 with
  its RD and export targets; a router's VRF imports a VPNv4 route whose targets meet its
  import targets.

Sessions between loopbacks and next-hop resolution depend on other routes (the loopbacks'),
so ``Network`` first floods every address a BGP neighbour names, repeatedly, until the set
of sessions that come up and the routers that reach each address no longer grow.

The transport (``Network.follow``): the packet takes the router's best route (by
administrative distance) and follows it back towards its origin; where a route's next hop
is not on a link of the router, the packet is carried to it over that next hop's own route;
wherever a label sits under the one the router pushes (a VPN label, a labelled-unicast
label towards a router that is not the address's owner), every hop must switch labels: LDP
on an IGP hop, a label on a BGP route, MPLS on a link.

When a route does not arrive, the flood is run again with the rules relaxed (a session that
does not come up, a missing route reflector, an AS-path loop, an unresolvable next hop each
cost one), and the first rule the cheapest relaxed chain breaks is the missing link; when
even that does not arrive, what is missing is a session: inside the destination's IGP
domain, from the router nearest it that holds the route; else into the domain, from the
holders nearest it.
"""

from __future__ import annotations

from emulator.model.topology import Lab
from emulator.verify.prediction.facts import Problem, SiteEnd
from emulator.verify.prediction.network import Network

__all__ = ["Problem", "SiteEnd", "predict"]


def predict(lab: Lab) -> list[Problem]:
    """What keeps a site of the lab from reaching another of its VPN (or a customer
    carrier's external prefix from reaching another site's), one problem per ordered pair:
    empty when the lab's sessions, families, route targets and labels carry every route."""
    network = Network(lab)
    return network.site_problems() + network.carrier_problems()
