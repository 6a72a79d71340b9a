"""`mplslab graph`: the picture holds every router, link and BGP session of the lab, ASes as
clusters, inter-AS links and session families told apart; Graphviz lays it out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.model.build import load_lab
from emulator.paths import labs_dir
from emulator.training.graph import FAMILIES, LINKS, to_dot, write

SHIPPED = sorted(p.stem for p in labs_dir().glob("*.yml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_router_link_and_session_is_drawn(name):
    lab = load_lab(name)
    source = to_dot(lab).source
    for system in lab.autonomous_systems:
        members = [n for n in lab.nodes if n.asn == system.asn and n.role != "ce"]
        if members:
            cluster = source.split(f"subgraph cluster_as{system.asn} {{", 1)[1].split("}", 1)[0]
            assert all(f'"{n.name}" [label=' in cluster for n in members), system.asn
    for node in lab.nodes:
        assert f'"{node.name}" [label="{node.name}\\n{node.role.upper()}' in source
    edges = [line.strip() for line in source.splitlines() if " -- " in line]
    for link in lab.links:
        drawn = [e for e in edges if e.startswith(f'"{link.a.node}" -- "{link.b.node}"')
                 and "dashed" not in e]
        assert drawn, link.name
        assert any(f'color="{LINKS[link.scope]["color"]}"' in e for e in drawn), link.name
    dashed = [e for e in edges if "style=dashed" in e]
    assert len(dashed) == len(lab.sessions)
    for session in lab.sessions:
        assert any(e.startswith(f'"{session.a}" -- "{session.b}"')
                   and FAMILIES[session.families[0]] in e for e in dashed), session.name


def test_inter_as_links_stand_out():
    lab = load_lab("option3")
    inter_as = [line for line in to_dot(lab).source.splitlines()
                if '"ASBR-1" -- "ASBR-2"' in line and "dashed" not in line]
    assert inter_as and f'penwidth={LINKS["inter-as"]["penwidth"]}' in inter_as[0]


def test_svg_and_png_are_laid_out_by_graphviz(tmp_path):
    lab = load_lab("option4")
    svg = write(lab, tmp_path / "option4.svg", "svg")
    titles = {t.text for t in ET.parse(svg).iter("{http://www.w3.org/2000/svg}title")}
    assert {n.name for n in lab.nodes} <= titles
    png = write(lab, tmp_path / "option4", "png")
    assert png.name == "option4.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cli_writes_the_picture_and_refuses_an_unknown_format(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "option1", "--variant", "ospf",
                                 "--out", str(tmp_path / "o1.svg")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o1.svg").read_text().lstrip().startswith("<?xml")
    result = runner.invoke(app, ["graph", "option1", "--format", "gif",
                                 "--out", str(tmp_path / "o1")])
    assert result.exit_code == 2 and "unknown picture format 'gif'" in result.output
    assert not list(tmp_path.glob("o1.gif"))
