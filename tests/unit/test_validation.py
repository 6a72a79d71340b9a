"""Bad lab files: one clear message naming file, line or field, exit code 2, no traceback."""

import textwrap

import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.errors import LabError
from emulator.model.build import load_lab
from emulator.paths import labs_dir

BASE = (labs_dir() / "option1.yml").read_text()


def write(tmp_path, text):
    path = tmp_path / "lab.yml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path, variant=None) -> str:
    with pytest.raises(LabError) as info:
        load_lab(str(path), variant)
    return str(info.value)


def test_not_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "name: x\nnodes: [a, b\nlinks: []\n")
    message = error_of(path)
    assert f"{path}:3" in message and "not valid YAML" in message


def test_unknown_node_in_link(tmp_path):
    path = write(tmp_path, BASE.replace("{endpoints: [P-2, PE-2]}", "{endpoints: [P-2, PE-9]}"))
    message = error_of(path)
    assert "unknown node 'PE-9'" in message
    assert "links[6].endpoints[1]" in message
    line = BASE.splitlines().index("  - {endpoints: [P-2, PE-2]}") + 1
    assert f"{path}:{line}" in message


def test_unknown_role(tmp_path):
    path = write(tmp_path, BASE.replace("P-1:       {role: p, asn: 1}",
                                        "P-1:       {role: core, asn: 1}"))
    message = error_of(path)
    assert "nodes.P-1.role" in message and "'core'" in message


def test_duplicate_address(tmp_path):
    text = BASE.replace("PE-1:      {role: pe, asn: 1}",
                        "PE-1:      {role: pe, asn: 1, loopback: 10.9.0.1}")
    text = text.replace("P-1:       {role: p, asn: 1}",
                        "P-1:       {role: p, asn: 1, loopback: 10.9.0.1}")
    message = error_of(write(tmp_path, text))
    assert "10.9.0.1 is already used" in message and "nodes.P-1.loopback" in message


def test_duplicate_site_prefix(tmp_path):
    text = BASE.replace("prefix: 152.12.5.0/24", "prefix: 152.12.4.0/24")
    message = error_of(write(tmp_path, text))
    assert "152.12.4.0/24 is already used" in message


def test_unknown_vpn(tmp_path):
    text = BASE.replace("vpn: VPN-B, prefix: 152.12.5.0/24", "vpn: VPN-C, prefix: 152.12.5.0/24")
    message = error_of(write(tmp_path, text))
    assert "unknown VPN 'VPN-C'" in message and "nodes.CE-3.site.vpn" in message


def test_unknown_field(tmp_path):
    text = BASE.replace("scenario: option1", "scenario: option1\ncolour: blue")
    assert "unknown field 'colour'" in error_of(write(tmp_path, text))


def test_combination_frr_cannot_do(tmp_path):
    text = BASE.replace("families: [ipv4-vpn]}\n  - {name: as2",
                        "families: [ipv4-unicast, ipv4-labeled-unicast]}\n  - {name: as2")
    message = error_of(write(tmp_path, text))
    assert "both ipv4 unicast and ipv4 labeled-unicast" in message and "bgp[0].families" in message


def test_single_hop_ebgp_without_a_link(tmp_path):
    text = BASE.replace("between: [PE-ASBR-2, PE-2]", "between: [PE-1, PE-2]")
    message = error_of(write(tmp_path, text))
    assert "needs a direct link" in message and "multihop: true" in message


def test_unknown_variant():
    message = error_of("option1", variant="isis")
    assert "no variant 'isis'" in message and "ebgp, ospf, rip, static" in message


def test_unknown_lab_name():
    message = error_of("option9")
    assert "no lab named 'option9'" in message and "option1" in message


@pytest.mark.parametrize("command", [["validate"], ["render", "--out", "/tmp/x"]])
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path, command):
    path = write(tmp_path, BASE.replace("role: p,", "role: core,", 1))
    result = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "nodes.P-1.role" in result.output


def test_cli_list_json():
    import json

    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    labs = json.loads(result.output)["labs"]
    assert {"option1", "option2"} <= {lab["name"] for lab in labs}
    assert all(set(lab) == {"name", "description"} and lab["description"] for lab in labs)


def test_isis_is_refused_until_built(tmp_path):
    text = BASE.replace('{asn: 2, name: "AS #2", igp: ospf', '{asn: 2, name: "AS #2", igp: isis')
    message = error_of(write(tmp_path, text))
    assert "IS-IS is not built yet" in message and "autonomous_systems[1].igp" in message


def test_link_between_two_customers_is_refused(tmp_path):
    text = BASE.replace("{endpoints: [PE-2, CE-4]}", "{endpoints: [CE-3, CE-4]}")
    message = error_of(write(tmp_path, text))
    assert "both customer routers" in message and "links[8].endpoints" in message
