"""From a validated lab file to the normalised lab: addresses, interfaces, protocols.

Everything here is deterministic: the same file gives the same addresses and names.
The steps live beside this module, one concern each: ``references`` (names and address
pools checked), ``addressing`` (claims and pools), ``links``, ``sessions`` and ``derived``
(the settings the scenario implies, with their reasons); the Builder runs them in order and
assembles each node.
"""

from __future__ import annotations

import ipaddress

from emulator.errors import LabError
from emulator.model import schema, topology
from emulator.model.derived import Derived
from emulator.model.draft import NodeDraft
from emulator.model.links import Links
from emulator.model.loader import load_lab_file
from emulator.model.references import References
from emulator.model.sessions import Sessions

FIRST_VRF_TABLE = 10


def load_lab(lab: str, variant: str | None = None) -> topology.Lab:
    lab_file, source, variant, variants = load_lab_file(lab, variant)
    return Builder(lab_file, source, variant, variants).build()


class Builder(References, Links, Sessions, Derived):
    # -- the whole build ------------------------------------------------------------------
    def build(self) -> topology.Lab:
        self.check_references()
        self.check_pools()
        self.claim_explicit_addresses()
        self.make_drafts()
        self.allocate_loopbacks()
        for index, link in enumerate(self.lab.links):
            self.add_link(index, link)
        self.check_cores()
        self.add_sites()
        self.add_externals()
        for index, session in enumerate(self.lab.bgp):
            self.add_session(index, session)
        self.check_sessions()
        nodes = [self.finish(d) for d in self.drafts.values()]
        vpns = [
            topology.Vpn(
                name=name, rd=vpn.rd,
                import_targets=vpn.import_targets or vpn.route_targets,
                export_targets=vpn.export_targets or vpn.route_targets,
                sites=[n for n, s in self.lab.nodes.items() if s.site and s.site.vpn == name],
            )
            for name, vpn in self.lab.vpns.items()
        ]
        customer_asns = sorted({d.asn for d in self.drafts.values() if not d.provider})
        return topology.Lab(
            name=self.lab.name, title=self.lab.title, description=self.lab.description.strip(),
            scenario=self.lab.scenario, variant=self.variant, variants=self.variants,
            slides=self.lab.slides, deviations=self.lab.deviations,
            source=str(self.source.path), platform_labels=self.lab.defaults.platform_labels,
            timers=self.lab.timers,
            autonomous_systems=[
                topology.AutonomousSystem(
                    asn=a.asn, number=self.number(a.asn), name=a.name or f"AS {a.asn}",
                    igp=a.igp,
                    label_distribution=list(a.label_distribution), transit=a.transit,
                    carrier_vpn=a.carrier_vpn)
                for a in self.lab.autonomous_systems
            ] + [
                topology.AutonomousSystem(asn=asn, number=asn, name=f"customer AS {asn}",
                                          igp="none",
                                          label_distribution=[], transit=False, customer=True)
                for asn in customer_asns
            ],
            vpns=vpns, nodes=nodes, links=self.links, sessions=self.sessions,
        )

    # -- nodes ----------------------------------------------------------------------------
    def make_drafts(self) -> None:
        next_customer = self.lab.defaults.customer_asn_base
        given = {n.asn for n in self.lab.nodes.values() if n.asn is not None}
        for name, spec in self.lab.nodes.items():
            asn = spec.asn
            if asn is None:
                next_customer += 1
                asn = next_customer
                if asn > schema.MAX_ASN or asn in given or asn in self.ases:
                    why = ("is past the largest AS number" if asn > schema.MAX_ASN else
                           "is also given to another node" if asn in given else
                           "is a provider AS of this lab")
                    raise self.fail(f"{name} would get customer AS {asn}, which {why}",
                                    ("nodes", name),
                                    hint="give it asn, or change defaults.customer_asn_base")
            self.drafts[name] = NodeDraft(name=name, spec=spec, asn=asn)

    def allocate_loopbacks(self) -> None:
        for draft in self.drafts.values():
            if not draft.provider:
                continue
            address = draft.spec.loopback or self.allocate(
                self.pool(draft.asn, "loopbacks"), ("nodes", draft.name))
            draft.loopback = ipaddress.IPv4Interface(f"{address}/32")
            draft.interfaces.append(topology.Interface(
                name="lo", kind="loopback", address=draft.loopback, scope="loopback",
                igp=self.igp_of(draft) != "none"))

    # -- assembling the node --------------------------------------------------------------
    def finish(self, draft: NodeDraft) -> topology.Node:
        """The node from its draft: the settings the scenario implies first (in the order
        of their reasons), then its protocol instances."""
        reasons: list[topology.Reason] = []
        vrfs = self.vrfs(draft)
        host_routes = self.ldp_host_routes(draft, reasons)
        self.stage_vpn_sessions(draft, reasons)
        self.l3vpn_switching(draft, reasons)
        self.shared_number(draft, reasons)
        internal_routes, distance, redistribute_internal_bgp = self.carrier_routing(
            draft, reasons)
        router_id = (draft.loopback.ip if draft.loopback else
                     next(i.address.ip for i in draft.interfaces if i.scope == "site"))
        ospf = self.ospf_instances(draft, router_id, host_routes, redistribute_internal_bgp)
        rip = [topology.RipInstance(vrf=vrf, interfaces=body["interfaces"],
                                    redistribute=self.towards_sites(draft, vrf, body, "rip"))
               for vrf, body in draft.rip.items()]
        import_check = self.import_check(draft, reasons)
        bgp = self.bgp_instances(draft, vrfs, router_id, import_check, distance)
        label_guard = self.label_guard(draft, bgp, reasons)
        fec_resolution = self.fec_nexthop_resolution(draft, reasons)
        interfaces = draft.interfaces
        ldp = any(i.ldp for i in interfaces)
        mpls = any(i.mpls for i in interfaces)
        protocols = [name for name, runs in (("bgp", bgp), ("ospf", ospf), ("rip", rip),
                                             ("ldp", ldp), ("static", draft.static_routes))
                     if runs]
        suites = draft.suites
        site = None
        if draft.spec.site is not None:
            spec = draft.spec.site
            site = topology.Site(name=spec.name, vpn=spec.vpn, prefix=spec.prefix,
                                 address=next(i.address for i in interfaces if i.scope == "site"))
        external_routes = draft.spec.external_routes
        return topology.Node(
            name=draft.name, role=draft.spec.role, asn=draft.asn,
            bgp_asn=self.number(draft.asn), router_id=router_id,
            loopback=draft.loopback, interfaces=interfaces, suites=suites, site=site, vrfs=vrfs,
            ospf=ospf, rip=rip, static_routes=draft.static_routes, bgp=bgp, ldp=ldp,
            ldp_host_routes=host_routes,
            fec_nexthop_resolution=fec_resolution, mpls=mpls, protocols=protocols,
            reasons=reasons, internal_routes=internal_routes, external=draft.spec.external,
            external_routes=(topology.ExternalRoutes(**external_routes.model_dump())
                             if external_routes and draft.neighbors.get(None) else None),
            label_guard=label_guard)

    def vrfs(self, draft: NodeDraft) -> list[topology.Vrf]:
        """The VRFs of a PE's attachments, and of a router's VLANs to another AS's VRFs."""
        names = sorted({i.vrf for i in draft.interfaces if i.vrf and draft.provider} |
                       {i.vrf for i in draft.interfaces if i.vrf and i.kind == "vlan"},
                       key=list(self.lab.vpns).index)
        vrfs = []
        for name in names:
            vpn = self.lab.vpns[name]
            vrfs.append(topology.Vrf(
                name=name, table=FIRST_VRF_TABLE + list(self.lab.vpns).index(name), rd=vpn.rd,
                import_targets=vpn.import_targets or vpn.route_targets,
                export_targets=vpn.export_targets or vpn.route_targets,
                interfaces=[i.name for i in draft.interfaces if i.vrf == name],
                redistribute=sorted(draft.vrf_redistribute.get(name, ()))))
        return vrfs

    def ospf_instances(self, draft: NodeDraft, router_id: ipaddress.IPv4Address,
                       host_routes: list[ipaddress.IPv4Network],
                       redistribute_internal_bgp: bool) -> list[topology.OspfInstance]:
        """The provider IGP (default table), then OSPF towards CEs or a peer VRF."""
        ospf = []
        if self.igp_of(draft) == "ospf":
            ospf.append(topology.OspfInstance(
                vrf=None, router_id=router_id,
                interfaces=[i.name for i in draft.interfaces if i.igp], passive=["lo"],
                redistribute=["static"] if host_routes else [],
                redistribute_internal_bgp=redistribute_internal_bgp))
        for vrf, body in draft.ospf.items():
            if vrf is None and ospf:
                raise LabError(f"{draft.name}: OSPF towards a CE in the default table would "
                               "mix with the provider IGP")
            ospf.append(topology.OspfInstance(
                vrf=vrf, router_id=router_id, interfaces=body["interfaces"],
                passive=body["passive"],
                redistribute=self.towards_sites(draft, vrf, body, "ospf")))
        return ospf

    @staticmethod
    def towards_sites(draft: NodeDraft, vrf: str | None, body: dict, own: str) -> list[str]:
        """What a VRF's IGP towards its sites redistributes: BGP's routes (the VPN's other
        PEs' sites), and the VRF's other local sources (another site of the VPN on this PE
        behind static routes or the other IGP): `redistribute bgp` takes only what zebra
        holds as BGP, so without them two sites on one PE would not reach each other."""
        local = draft.vrf_redistribute.get(vrf, set()) if vrf else set()
        return sorted(body["redistribute"] | (local - {own}))

    def bgp_instances(self, draft: NodeDraft, vrfs: list[topology.Vrf],
                      router_id: ipaddress.IPv4Address, import_check: bool,
                      distance: int | None) -> list[topology.BgpInstance]:
        """The core instance (when the router has sessions, or holds VRFs), then one per
        VRF."""
        bgp = []
        if draft.neighbors.get(None) or (vrfs and draft.provider):
            bgp.append(topology.BgpInstance(
                asn=self.number(draft.asn), router_id=router_id,
                neighbors=draft.neighbors.get(None, []),
                networks=draft.bgp_networks, import_check=import_check, distance=distance))
        for vrf in vrfs:
            bgp.append(topology.BgpInstance(
                asn=self.number(draft.asn), router_id=router_id, vrf=vrf.name,
                neighbors=draft.neighbors.get(vrf.name, [])))
        return bgp


def load_all_variants(lab: str) -> list[topology.Lab]:
    """The lab in its default variant, then in every other one; an error names the variant."""
    first = load_lab(lab)
    labs = [first]
    for name in list(first.variants)[1:]:
        try:
            labs.append(load_lab(lab, name))
        except LabError as exc:
            if f"variant {name}'s patch" not in (exc.where or ""):
                exc.message = f"variant {name}: {exc.message}"
            raise
    return labs
