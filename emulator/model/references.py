"""The checks before anything is built: every name a lab file uses refers to something it
defines, the address pools leave the customers' prefixes alone, and no two explicit
addresses collide."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from emulator import suites
from emulator.model.addressing import Claims, span
from emulator.model.draft import CUSTOMER_ROLES, DEFAULT_SUITE, PROVIDER_ROLES, LabDraft
from emulator.model.loader import quote


class References(LabDraft):
    def check_references(self) -> None:
        lab = self.lab
        seen_asn: set[int] = set()
        for index, system in enumerate(lab.autonomous_systems):
            if system.asn in seen_asn:
                raise self.fail(f"AS {system.asn} is defined twice",
                                ("autonomous_systems", index, "asn"))
            seen_asn.add(system.asn)
            if system.carrier_vpn is not None and system.carrier_vpn not in lab.vpns:
                raise self.fail(f"unknown VPN {quote(system.carrier_vpn)}",
                                ("autonomous_systems", index, "carrier_vpn"),
                                hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
        for name, node in lab.nodes.items():
            if node.role in PROVIDER_ROLES:
                if node.asn is None:
                    raise self.fail(f"a {node.role} belongs to a provider AS: give it asn",
                                    ("nodes", name), hint=f"one of {sorted(self.ases)}")
                if node.asn not in self.ases:
                    raise self.fail(f"AS {node.asn} is not in autonomous_systems",
                                    ("nodes", name, "asn"), hint=f"known: {sorted(self.ases)}")
            elif node.asn is not None and node.asn in self.ases:
                raise self.fail(f"{name} is a {node.role} (a customer) but AS {node.asn} is a "
                                "provider AS of this lab", ("nodes", name, "asn"),
                                hint="give the customer its own AS number")
            if node.site and node.site.vpn not in lab.vpns:
                raise self.fail(f"unknown VPN {quote(node.site.vpn)}",
                                ("nodes", name, "site", "vpn"),
                                hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
            for protocol, suite in node.suites.items():
                runs = suites.driver(suite)
                if runs.RUNS_ONLY is not None and node.role not in runs.RUNS_ONLY.get(
                        protocol, ()):
                    raise self.fail(f"{runs.TITLE} runs {runs.RUNS_ONLY_WORDS}, not {protocol} "
                                    f"on a {node.role}", ("nodes", name, "suites", protocol),
                                    hint=f"{suites.driver(DEFAULT_SUITE).TITLE} runs "
                                         "everything else: remove the entry")
            if node.role == "csc-ce" and node.asn in self.ases and \
                    self.ases[node.asn].carrier_vpn is None:
                raise self.fail(f"{name} is a csc-ce, but AS {node.asn} is no customer carrier",
                                ("nodes", name, "role"),
                                hint=f"give AS {node.asn} carrier_vpn: the backbone's VPN "
                                     "its sites attach to")
            for key in ("external", "external_routes"):
                if getattr(node, key) is not None and (
                        node.asn not in self.ases or self.ases[node.asn].carrier_vpn is None):
                    raise self.fail(f"{name} originates external routes, but its AS is no "
                                    "customer carrier", ("nodes", name, key),
                                    hint="external routes belong to an AS with carrier_vpn")
        names: dict[str, int] = {}
        attachments: dict[frozenset[str], int] = {}
        for index, link in enumerate(lab.links):
            for side, endpoint in enumerate(link.endpoints):
                if endpoint not in lab.nodes:
                    raise self.fail(f"unknown node {quote(endpoint)}",
                                    ("links", index, "endpoints", side),
                                    hint=f"nodes are: {', '.join(lab.nodes)}")
            for vrf in link.vrfs or {}:
                if vrf not in lab.vpns:
                    raise self.fail(f"unknown VPN {quote(vrf)}", ("links", index, "vrfs", vrf),
                                    hint=f"known VPNs: {', '.join(lab.vpns) or 'none'}")
            name = link.name or "--".join(link.endpoints)
            if name in names:
                first = self.source.where(("links", names[name]))
                if link.name:
                    raise self.fail(f"two links are called {name} (the first at {first})",
                                    ("links", index, "name"))
                raise self.fail(f"a second link between {link.endpoints[0]} and "
                                f"{link.endpoints[1]} (the first at {first})",
                                ("links", index, "endpoints"),
                                hint="parallel links need a name each (name: ...)")
            names[name] = index
            ends = frozenset(link.endpoints)
            customer = next((n for n in link.endpoints
                             if lab.nodes[n].role in CUSTOMER_ROLES), None)
            if customer is not None:
                if ends in attachments:
                    first = self.source.where(("links", attachments[ends]))
                    raise self.fail(f"{customer} is attached to the same router twice (the "
                                    f"first at {first})", ("links", index, "endpoints"),
                                    hint="one link per customer attachment")
                attachments[ends] = index
        session_names: dict[str, int] = {}
        pairs: dict[frozenset[str], int] = {}
        for index, session in enumerate(lab.bgp):
            for side, endpoint in enumerate(session.between):
                if endpoint not in lab.nodes:
                    raise self.fail(f"unknown node {quote(endpoint)}",
                                    ("bgp", index, "between", side),
                                    hint=f"nodes are: {', '.join(lab.nodes)}")
            if session.name:
                if session.name in session_names:
                    first = self.source.where(("bgp", session_names[session.name]))
                    raise self.fail(f"two BGP sessions are called {session.name} (the first "
                                    f"at {first})", ("bgp", index, "name"))
                session_names[session.name] = index
            pair = frozenset(session.between)
            if pair in pairs:
                first = self.source.where(("bgp", pairs[pair]))
                raise self.fail(f"{session.between[0]} and {session.between[1]} already have a "
                                f"BGP session (at {first})", ("bgp", index, "between"),
                                hint="one session carries several address families: list "
                                     "them all in its families")
            pairs[pair] = index

    def check_pools(self) -> None:
        """Every AS's loopback and link pools (given or default) and the interconnect pool;
        no site prefix (customer addresses) may overlap one."""
        pools: list[tuple[ipaddress.IPv4Network, str, tuple]] = []
        for index, system in enumerate(self.lab.autonomous_systems):
            for kind, third in (("loopbacks", 0), ("links", 1)):
                network = getattr(system, kind)
                if network is None:
                    if index + 1 > 255:
                        raise self.fail(
                            f"AS {system.asn} is AS number {index + 1} in file order: there is "
                            f"no default {kind} pool past the 255th AS",
                            ("autonomous_systems", index), hint=f"give it {kind}: a prefix")
                    network = ipaddress.IPv4Network(f"10.{index + 1}.{third}.0/24")
                self.pools[system.asn, kind] = network
                given = "" if getattr(system, kind) else " (the default)"
                pools.append((network, f"AS {system.asn}'s {kind} pool {network}{given}",
                              ("autonomous_systems", index, kind)))
        pools.append((self.lab.defaults.interconnect,
                      f"the interconnect pool {self.lab.defaults.interconnect}",
                      ("defaults", "interconnect")))
        for name, node in self.lab.nodes.items():
            if node.site is None:
                continue
            for network, what, _ in pools:
                if node.site.prefix.overlaps(network):
                    raise self.fail(
                        f"site prefix {node.site.prefix} overlaps {what}: a customer address "
                        "would collide with a router's loopback or link address",
                        ("nodes", name, "site", "prefix"),
                        hint="pick a site prefix outside every address pool, or move the "
                             "pool (autonomous_systems[].loopbacks/links, "
                             "defaults.interconnect)")

    def claim_explicit_addresses(self) -> None:
        """Explicit loopbacks, link subnets, site prefixes and external routes must not
        collide inside one address space."""
        owners: dict[int | None, Claims] = defaultdict(Claims)

        def claim(item, loc, space):
            other = owners[space].overlapping(*span(item))
            if other is not None:
                raise self.fail(f"address {item} is already used at "
                                f"{self.source.where(owners[space].owners[other])}", loc,
                                hint="every loopback, link subnet and site prefix is unique "
                                     "(a customer carrier's own addresses may repeat "
                                     "another's)")
            owners[space].add(*span(item), loc)

        for name, node in self.lab.nodes.items():
            space = self.space(node.asn)
            if node.loopback is not None:
                claim(node.loopback, ("nodes", name, "loopback"), space)
                self.spaces[space].add(*span(node.loopback))
            if node.site is not None:
                claim(node.site.prefix, ("nodes", name, "site", "prefix"), None)
            if node.external is not None:
                claim(node.external, ("nodes", name, "external"), space)
        for index, link in enumerate(self.lab.links):
            if link.subnet is not None:
                ends = {self.space(self.lab.nodes[n].asn) for n in link.endpoints
                        if n in self.lab.nodes}
                space = ends.pop() if len(ends) == 1 else None
                claim(link.subnet, ("links", index, "subnet"), space)
                self.spaces[space].add(*span(link.subnet))
