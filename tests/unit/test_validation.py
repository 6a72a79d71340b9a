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
    assert all(set(lab) == {"name", "description", "origin", "path"} and lab["description"]
               for lab in labs if lab["origin"] == "shipped")


def test_cli_lists_every_command_in_its_order():
    """The commands come from several modules (emulator/cli/); `mplslab --help` lists them
    in one order: commands first, then the groups."""
    import typer

    group = typer.main.get_command(app)
    assert group.list_commands(None) == [
        "list", "new", "validate", "render", "graph", "report", "explain", "up", "down",
        "status", "exec", "verify", "reset", "capture", "save", "diff", "appliance", "vm",
        "image", "exercise", "class"]
    subcommands = {name: group.commands[name].list_commands(None)
                   for name in ("appliance", "vm", "image", "exercise", "class")}
    assert subcommands == {"appliance": ["build", "path"], "vm": ["start", "stop", "status"],
                           "image": ["build"],
                           "exercise": ["list", "start", "check", "solution", "reset"],
                           "class": ["up", "check", "down"]}


def test_isis_is_no_igp_the_format_offers(tmp_path):
    text = BASE.replace('{asn: 2, name: "AS #2", igp: ospf', '{asn: 2, name: "AS #2", igp: isis')
    message = error_of(write(tmp_path, text))
    assert "autonomous_systems[1].igp: Input should be 'ospf' or 'none', got 'isis'" in message


def test_what_a_suite_cannot_do_is_refused_in_its_words(tmp_path, monkeypatch):
    """A suite's limitations are data in its driver (BGP_FAMILIES_APART): the builder asks
    the suite that runs BGP on each end of the session, and the message names it."""
    from emulator.suites import bird, frr

    text = BASE.replace("families: [ipv4-vpn]}",
                        "families: [ipv4-unicast, ipv4-labeled-unicast]}", 1)
    message = error_of(write(tmp_path, text))
    assert message.startswith(f"{tmp_path / 'lab.yml'}:{line_of(text, 'ipv4-labeled')}: "
                              "bgp[0].families: FRR cannot activate one neighbor in both ipv4 "
                              "unicast and ipv4 labeled-unicast")
    assert "keep only it" in message
    monkeypatch.setattr(frr, "BGP_FAMILIES_APART", [])
    load_lab(str(write(tmp_path, text)))  # no model rule refuses it
    carrier = (labs_dir() / "csc-mpls.yml").read_text()  # VPNv4 between BIRD's PEs
    monkeypatch.setattr(bird, "BGP_FAMILIES_APART", [({"ipv4-vpn"}, "carry VPNv4", "no")])
    assert "bgp[0].families: BIRD cannot carry VPNv4" in error_of(write(tmp_path, carrier))


def test_link_between_two_customers_is_refused(tmp_path):
    text = BASE.replace("{endpoints: [PE-2, CE-4]}", "{endpoints: [CE-3, CE-4]}")
    message = error_of(write(tmp_path, text))
    assert "both customer routers" in message and "links[8].endpoints" in message


# -- bad input that used to crash, hang, or pass ------------------------------------------
def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def write_bytes(tmp_path, data: bytes):
    path = tmp_path / "lab.yml"
    path.write_bytes(data)
    return path


def test_not_utf8_names_line_and_byte(tmp_path):
    path = write_bytes(tmp_path, BASE.encode().replace(b'"AS #1"', b'"AS \xff1"'))
    message = error_of(path)
    assert "not UTF-8" in message and "0xff" in message
    line = line_of(BASE, 'name: "AS #1"')
    assert f"{path}:{line}:" in message


def test_file_larger_than_the_cap(tmp_path):
    path = write(tmp_path, BASE + "#" * (1 << 20))
    assert "larger than 1024 KiB" in error_of(path)


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    path = write(tmp_path, "name: x\ntitle: " + "[" * 100_000 + "\n")
    assert "nested more than 64 levels" in error_of(path)


def test_alias_bomb_is_refused(tmp_path):
    lines = ['  a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write(tmp_path, BASE.replace("scenario: option1\n",
                                        "scenario:\n" + "\n".join(lines) + "\n"))
    assert "expands to more than" in error_of(path)


def test_recursive_alias_is_refused(tmp_path):
    path = write(tmp_path, BASE.replace("scenario: option1", "scenario: &r [*r]"))
    assert "alias refers to the node that contains it" in error_of(path)


def test_number_of_5000_digits(tmp_path):
    path = write(tmp_path, BASE.replace("{asn: 1, name", "{asn: " + "9" * 5000 + ", name"))
    message = error_of(path)
    assert "a number of 5000 digits" in message and len(message) < 300


def test_repeated_key_names_the_second_line(tmp_path):
    text = BASE.replace('  VPN-B: {rd: "1:27", route_targets: ["1:222"]}\n',
                        '  VPN-B: {rd: "1:27", route_targets: ["1:222"]}\n'
                        '  VPN-B: {rd: "1:28", route_targets: ["1:222"]}\n')
    message = error_of(write(tmp_path, text))
    first = line_of(text, "VPN-B: {")
    assert f"lab.yml:{first + 1}:" in message
    assert "'VPN-B' is repeated" in message and f"first at line {first}" in message


def test_keys_are_names_not_numbers_or_booleans(tmp_path):
    text = BASE.replace("  ospf:\n", "  1:\n").replace("  rip:\n", "  yes:\n")
    assert load_lab(str(write(tmp_path, text)), "1").variant == "1"
    assert load_lab(str(tmp_path / "lab.yml"), "yes").variant == "yes"


def test_asn_true_is_not_as_1(tmp_path):
    message = error_of(write(tmp_path, BASE.replace("{asn: 1, name", "{asn: true, name")))
    assert "autonomous_systems[0].asn" in message and "the boolean true" in message


def test_quoted_number_is_not_a_number(tmp_path):
    message = error_of(write(tmp_path, BASE.replace("{asn: 1, name", '{asn: "1", name')))
    assert "autonomous_systems[0].asn" in message and "without quotes" in message


@pytest.mark.parametrize("asn", ["-5", "0", "4294967296"])
def test_customer_asn_out_of_range(tmp_path, asn):
    text = BASE.replace("  CE-1:      {role: ce,", f"  CE-1:      {{role: ce, asn: {asn},")
    assert "nodes.CE-1.asn" in error_of(write(tmp_path, text))


def test_derived_customer_asn_past_32_bits(tmp_path):
    text = BASE.replace("autonomous_systems:",
                        "defaults: {customer_asn_base: 4294967294}\nautonomous_systems:")
    message = error_of(write(tmp_path, text))
    assert "CE-2 would get customer AS 4294967296" in message and "customer_asn_base" in message


def test_customer_in_a_provider_as(tmp_path):
    text = BASE.replace("  CE-1:      {role: ce,", "  CE-1:      {role: ce, asn: 2,")
    assert "provider AS of this lab" in error_of(write(tmp_path, text))


@pytest.mark.parametrize("value", ["0", "-1", "16", "1048576"])
def test_platform_labels_out_of_range(tmp_path, value):
    text = BASE.replace("autonomous_systems:",
                        f"defaults: {{platform_labels: {value}}}\nautonomous_systems:")
    assert "defaults.platform_labels" in error_of(write(tmp_path, text))


def test_links_pool_smaller_than_30(tmp_path):
    text = BASE.replace('{asn: 1, name: "AS #1"', '{asn: 1, links: 10.1.1.0/31, name: "AS #1"')
    message = error_of(write(tmp_path, text))
    assert "autonomous_systems[0].links" in message and "at least a /30" in message


def test_exhausted_pool_names_the_link(tmp_path):
    text = BASE.replace('{asn: 1, name: "AS #1"', '{asn: 1, links: 10.1.1.0/29, name: "AS #1"')
    message = error_of(write(tmp_path, text))
    assert "10.1.1.0/29 has no free /30 left" in message and "links[2]" in message


def test_huge_link_subnet_is_not_expanded(tmp_path):
    text = BASE.replace("{endpoints: [PE-1, P-1]}", "{endpoints: [PE-1, P-1], subnet: 11.0.0.0/8}")
    lab = load_lab(str(write(tmp_path, text)))
    assert str(lab.node("PE-1").interface("eth3").address) == "11.0.0.1/8"


@pytest.mark.parametrize("loopback,word", [("0.0.0.0", "this network"),
                                           ("127.0.0.1", "loopback"),
                                           ("224.0.0.5", "multicast"),
                                           ("255.255.255.255", "reserved")])
def test_unusable_loopback(tmp_path, loopback, word):
    text = BASE.replace("PE-1:      {role: pe, asn: 1}",
                        f"PE-1:      {{role: pe, asn: 1, loopback: {loopback}}}")
    message = error_of(write(tmp_path, text))
    assert "nodes.PE-1.loopback" in message and word in message


@pytest.mark.parametrize("prefix,word", [("239.1.1.0/24", "multicast"),
                                         ("250.0.0.0/8", "reserved"),
                                         ("0.0.0.0/0", "this network")])
def test_unusable_site_prefix(tmp_path, prefix, word):
    message = error_of(write(tmp_path, BASE.replace("prefix: 149.27.2.0/24", f"prefix: {prefix}")))
    assert "nodes.CE-1.site.prefix" in message and word in message


@pytest.mark.parametrize("prefix,pool", [("10.1.0.0/25", "AS 1's loopbacks pool 10.1.0.0/24"),
                                         ("10.2.1.4/30", "AS 2's links pool 10.2.1.0/24"),
                                         ("10.255.0.0/16", "the interconnect pool")])
def test_site_prefix_inside_an_address_pool(tmp_path, prefix, pool):
    message = error_of(write(tmp_path, BASE.replace("prefix: 149.27.2.0/24", f"prefix: {prefix}")))
    assert "nodes.CE-1.site.prefix" in message and pool in message


def test_two_vrfs_on_one_vlan(tmp_path):
    text = BASE.replace("{VPN-A: 101, VPN-B: 102}", "{VPN-A: 101, VPN-B: 101}")
    message = error_of(write(tmp_path, text))
    assert "VLAN 101 is given to both VPN-A and VPN-B" in message
    assert f"lab.yml:{line_of(BASE, 'name: inter-as')}: links[4]" in message


def test_subnet_on_a_link_of_several_vlans(tmp_path):
    text = BASE.replace("vrfs: {VPN-A: 101, VPN-B: 102}",
                        "vrfs: {VPN-A: 101, VPN-B: 102}, subnet: 10.9.9.0/30")
    assert "remove subnet" in error_of(write(tmp_path, text))


@pytest.mark.parametrize("name", ["eth1", "eth0", "lo", "default", "vlan101", "site0", "all"])
def test_vpn_named_like_an_interface(tmp_path, name):
    message = error_of(write(tmp_path, BASE.replace("VPN-A", name)))
    assert f"vpns.{name}" in message and "taken" in message


@pytest.mark.parametrize("value,fragment", [
    ("1:4294967296", "at most 4294967295"), ("70000:65536", "4-byte ASN"),
    ("300.1.1.1:5", "not an IPv4 address"), ("10.0.0.1:65536", "at most 65535"),
    ("4294967296:1", "ASN is at most"), ("1-27", "ASN:nn or IPv4:nn"),
])
def test_rd_out_of_range_for_its_type(tmp_path, value, fragment):
    message = error_of(write(tmp_path, BASE.replace('rd: "1:27"', f'rd: "{value}"', 1)))
    assert "vpns.VPN-A.rd" in message and fragment in message


def test_rt_out_of_range(tmp_path):
    text = BASE.replace('route_targets: ["1:231"]', 'route_targets: ["1:231", "70000:70000"]')
    assert "vpns.VPN-A.route_targets[1]" in error_of(write(tmp_path, text))


def test_unquoted_rd_says_to_quote_it(tmp_path):
    message = error_of(write(tmp_path, BASE.replace('rd: "1:27"', "rd: 1:27", 1)))
    assert "the number 87" in message and 'quote it: rd: "1:27"' in message


def test_ce_attached_to_a_p_router(tmp_path):
    text = BASE.replace("{endpoints: [PE-1, CE-1]}", "{endpoints: [P-1, CE-1]}")
    message = error_of(write(tmp_path, text))
    assert "links[0].endpoints" in message and "CE-1 (a ce) is attached to P-1, a p" in message


def test_pe_without_a_core_link(tmp_path):
    text = BASE.replace("  - {endpoints: [PE-1, P-1]}\n", "")
    message = error_of(write(tmp_path, text))
    assert "nodes.PE-1" in message and "PE-1 has no core link to the rest of AS 1" in message


def test_customer_without_a_link(tmp_path):
    text = BASE.replace("  - {endpoints: [PE-1, CE-1]}\n", "")
    assert "CE-1 is a ce with no link" in error_of(write(tmp_path, text))


def test_same_session_twice(tmp_path):
    text = BASE.replace("  - {name: as2-vpnv4,",
                        "  - {between: [PE-ASBR-1, PE-1], families: [ipv4-vpn]}\n"
                        "  - {name: as2-vpnv4,")
    message = error_of(write(tmp_path, text))
    assert "bgp[1].between" in message and "already have a BGP session" in message
    assert f"lab.yml:{line_of(BASE, 'as1-vpnv4')}: bgp[0]" in message


def test_parallel_links_need_names(tmp_path):
    text = BASE.replace("  - {endpoints: [PE-1, P-1]}\n",
                        "  - {endpoints: [PE-1, P-1]}\n  - {endpoints: [PE-1, P-1]}\n")
    assert "a second link between PE-1 and P-1" in error_of(write(tmp_path, text))


def test_vrfs_on_a_core_link_says_so(tmp_path):
    text = BASE.replace("{endpoints: [PE-1, P-1]}", "{endpoints: [PE-1, P-1], vrfs: {VPN-A: 5}}")
    message = error_of(write(tmp_path, text))
    assert "links[2].vrfs" in message and "on a core link" in message and "eBGP" not in message


def test_vrfs_need_routers_holding_vrfs(tmp_path):
    text = BASE.replace("PE-ASBR-2: {role: pe-asbr, asn: 2}", "PE-ASBR-2: {role: asbr, asn: 2}")
    assert "PE-ASBR-2 is a asbr" in error_of(write(tmp_path, text))


def test_site_name_is_one_line(tmp_path):
    text = BASE.replace("name: VPN-A-1,", 'name: "VPN\\nrouter bgp 1",')
    assert "nodes.CE-1.site.name" in error_of(write(tmp_path, text))


def test_regex_is_explained_not_printed(tmp_path):
    message = error_of(write(tmp_path, BASE.replace("name: option1", "name: Option_1")))
    assert "lowercase letter" in message and "[a-z]" not in message


def test_variant_patch_error_points_at_the_patch(tmp_path):
    text = BASE.replace("patch: {links: {inter-as: {protocol: ospf}}}",
                        "patch: {links: {inter-as: {protocol: isis}}}")
    message = error_of(write(tmp_path, text), "ospf")
    assert f"lab.yml:{line_of(text, 'protocol: isis')}: links[4].protocol" in message
    assert "variant ospf's patch" in message


def test_variant_patch_replacing_a_list_points_into_the_patch(tmp_path):
    text = BASE.replace("patch: {links: {inter-as: {protocol: ospf}}}",
                        "patch:\n      bgp:\n        - {between: [PE-1, PE-9], "
                        "families: [ipv4-vpn]}")
    message = error_of(write(tmp_path, text), "ospf")
    assert f"lab.yml:{line_of(text, 'PE-9')}: bgp[0].between[1]" in message


def test_variant_name_is_a_name(tmp_path):
    text = BASE.replace("  ospf:\n", "  'o s p f':\n")
    assert "variant name 'o s p f'" in error_of(write(tmp_path, text))


def test_every_variant_is_validated(tmp_path):
    from emulator.model.build import load_all_variants

    text = BASE.replace("patch: {links: {inter-as: {protocol: rip}}}",
                        "patch: {links: {inter-as: {vrfs: {VPN-A: 101, VPN-B: 101}}}}")
    path = write(tmp_path, text)
    assert load_lab(str(path)).variant == "ebgp"
    with pytest.raises(LabError) as info:
        load_all_variants(str(path))
    assert "VLAN 101" in str(info.value) and "variant rip" in str(info.value)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "variant rip" in result.output
    assert CliRunner().invoke(app, ["validate", str(path), "--variant", "ospf"]).exit_code == 0


def test_cli_prints_user_text_verbatim(tmp_path):
    path = write(tmp_path, BASE.replace("scenario: option1", 'scenario: "[/]:100:[a-z]"'))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "'[/]:100:[a-z]'" in result.output


def test_cli_render_refuses_a_file_as_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    result = CliRunner().invoke(app, ["render", "option1", "--out", str(target)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_timers_that_would_flap_are_refused_naming_the_field(tmp_path):
    path = write(tmp_path, BASE + "timers: {ospf_hello: 5, ospf_dead: 10}\n")
    message = error_of(path)
    assert "timers" in message and "ospf_dead (10 s) must be at least three times ospf_hello" \
        in message
    path = write(tmp_path, BASE + "timers: {rip_update: 1}\n")
    assert "timers.rip_update" in error_of(path)


def test_a_labs_timers_reach_every_suite_it_runs(tmp_path):
    """What `timers:` says is what FRR and BIRD are told; the rest keep the lab defaults."""
    from emulator.render import bird, frr

    wan = "timers: {ospf_hello: 10, ospf_dead: 40, ldp_hello: 5, bgp_connect_retry: 7}\n"
    lab = load_lab(str(write(tmp_path, (labs_dir() / "csc-vpn.yml").read_text() + wan)))
    config = "\n".join(frr.render_frr_conf(lab, node) for node in lab.nodes)
    for line in ("ip ospf hello-interval 10", "ip ospf dead-interval 40",
                 "discovery hello interval 5", "timers connect 7", "timers bgp 10 30"):
        assert line in config
    assert "hello-interval 1\n" not in config and "timers connect 1\n" not in config
    carrier_pe = next(node for node in lab.nodes if node.runs(bird.SUITE))
    text = bird.files(lab, carrier_pe)[0]["bird.conf"]
    assert "connect delay time 7;" in text and "hold time 30;" in text
