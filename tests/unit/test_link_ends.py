"""Interfaces named as users name them (topology.Lab.link_end): a link by its two ends
(`PE-2:P-2`, PE-2's interface towards P-2), a router and the lab's interface name or its
peer; what is unknown or ambiguous is refused with the choices."""

from __future__ import annotations

import pytest

from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.model.topology import LinkEnd
from emulator.paths import labs_dir


@pytest.fixture(scope="module")
def option1():
    return load_lab("option1")


@pytest.mark.parametrize(("where", "interface"), [("PE-2:P-2", None), ("PE-2", "eth1"),
                                                  ("PE-2", "P-2")])
def test_a_link_by_its_ends_by_its_interface_or_by_its_peer(option1, where, interface):
    end = option1.link_end(where, interface)
    expected = option1.node("PE-2").towards("P-2")[0]
    assert end == LinkEnd("PE-2", expected.name, "P-2", expected.peer.interface,
                          expected.link)
    assert str(end) == f"PE-2 {expected.name} (to P-2 {expected.peer.interface})"


def test_a_vlan_trunk_is_the_link_and_each_vlan_an_interface_of_its_own(option1):
    """Option 1's inter-AS link carries a VLAN per VRF: the link's ends are the trunk's
    interfaces (a capture there shows every VRF's packets, tagged); a sub-interface is
    named by its name, with its own peer."""
    link = next(each for each in option1.links if each.scope == "inter-as")
    end = option1.link_end(f"{link.a.node}:{link.b.node}")
    assert (end.interface, end.peer_interface) == (link.a.interface, link.b.interface)
    vlan = next(i for i in option1.node(link.a.node).interfaces if i.kind == "vlan")
    sub = option1.link_end(link.a.node, vlan.name)
    assert (sub.peer, sub.peer_interface) == (link.b.node, vlan.peer.interface)


def test_an_interface_without_a_link_has_no_peer(option1):
    assert option1.link_end("CE-1", "site0") == LinkEnd("CE-1", "site0")
    assert str(option1.link_end("PE-2", "lo")) == "PE-2 lo"


@pytest.mark.parametrize(("where", "interface", "message", "choices"), [
    ("PE-9:P-2", None, "lab option1 has no router 'PE-9'", "routers: CE-1, CE-2, PE-1"),
    ("PE-2:CE-1", None, "PE-2 has no link to CE-1", "its links: PE-2:P-2, PE-2:CE-3"),
    ("PE-2:PE-9", None, "lab option1 has no router 'PE-9'", "routers:"),
    ("PE-2", "eth9", "PE-2 has no interface 'eth9'", "eth1 (to P-2 eth2)"),
    ("PE-2", None, "which interface of PE-2?", "or a link by its ends: PE-2:P-2"),
    ("PE-2:P-2", "eth1", "is one too many", "either PE-2:P-2, or PE-2 and one of"),
])
def test_what_names_no_interface_is_refused_with_the_choices(option1, where, interface,
                                                             message, choices):
    with pytest.raises(LabError) as refused:
        option1.link_end(where, interface)
    assert refused.value.message.startswith(message) or message in refused.value.message
    assert choices in refused.value.hint


def test_two_links_between_two_routers_are_told_apart_by_interface(tmp_path):
    text = (labs_dir() / "option3.yml").read_text().replace(
        "  - {endpoints: [P-2, PE-2]}",
        "  - {name: core-a, endpoints: [P-2, PE-2]}\n"
        "  - {name: core-b, endpoints: [P-2, PE-2]}")
    path = tmp_path / "twice.yml"
    path.write_text(text)
    lab = load_lab(str(path))
    with pytest.raises(LabError) as refused:
        lab.link_end("PE-2:P-2")
    assert "PE-2 has 2 links to P-2" in refused.value.message
    first, second = (i.name for i in lab.node("PE-2").towards("P-2"))
    assert refused.value.hint == (f"name the interface: PE-2 {first} (link core-a), "
                                  f"PE-2 {second} (link core-b)")
    assert lab.link_end("PE-2", second).link == "core-b"
    assert lab.link_names("PE-2").count("PE-2:P-2") == 1
