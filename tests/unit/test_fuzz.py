"""Hostile input: every bad lab file gets one clear message and exit code 2.

Property, for every case: `validate` and `render` exit with 0 or 2, print no traceback, and
never hang (HANG_SECONDS). The cases are the hostile inputs found so far (fixtures, each
also checked for its message) and seeded random mutations of the shipped labs: deleted
keys, changed types, duplicated entries, swapped values, huge numbers, odd strings,
truncated files and binary garbage. FUZZ_SEED and FUZZ_CASES change the run.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from emulator.cli import app
from emulator.paths import PROJECT_DIR, labs_dir

SEED = int(os.environ.get("FUZZ_SEED", "20240610"))
CASES = int(os.environ.get("FUZZ_CASES", "400"))
# Not a speed limit (benchmarks measure speed): a case still running after this long is
# taken for a hang (an alias bomb, a runaway expansion), which no input may cause.
HANG_SECONDS = 30
SHIPPED = sorted(labs_dir().glob("*.yml"))
OPTION1 = (labs_dir() / "option1.yml").read_text()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import labgen  # noqa: E402

# What the mutations start from: the shipped labs and labs in the documented format that
# are not the shipped ones (other names, AS numbers, pools, VPN counts).
TEXTS = {path.stem: path.read_text() for path in SHIPPED} | {
    f"generated-{seed}": labgen.generate(seed).text for seed in range(12)}


class Timeout(Exception):
    pass


@contextlib.contextmanager
def deadline(seconds: float):
    """Interrupt a case that runs too long (a hang is a failure, not a stuck test run)."""
    def expire(signum, frame):
        raise Timeout(f"took more than {seconds}s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(args: list[str]) -> tuple[int, str]:
    with deadline(HANG_SECONDS):
        result = CliRunner().invoke(app, args)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\nTraceback: {type(result.exception).__name__}: {result.exception}"
    return result.exit_code, output


def check_case(path: Path, out: Path) -> str:
    """Run validate and render on one file; assert the property; return validate's output."""
    outputs = []
    for args in (["validate", str(path)], ["render", str(path), "--out", str(out)]):
        code, output = run_cli(args)
        context = f"{' '.join(args[:1])} on:\n{path.read_bytes()[:800]!r}\n-> {output}"
        assert code in (0, 2), context
        assert "Traceback" not in output, context
        assert "internal error" not in output, context
        if code == 2:
            assert output.count("error:") == 1, context
        outputs.append(output)
    return outputs[0]


# -- fixed hostile cases ------------------------------------------------------------------
def swap(old: str, new: str, text: str = OPTION1) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join("  " + line for line in lines)


# (id, file content, a fragment the message must contain)
HOSTILE: list[tuple[str, str | bytes, str]] = [
    ("not-utf8", swap("AS #1", "AS \xff1").encode("latin-1"), "not UTF-8"),
    ("binary", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "not UTF-8"),
    ("nul-character", swap("title: ", "title: \x00"), "not allowed"),
    ("markup-in-value", swap("scenario: option1", 'scenario: "[/]"'), "[/]"),
    ("markup-in-name", swap("  CE-1: ", "  '[/]bold': "), "[/]bold"),
    ("regex-shown-whole", swap("name: option1", "name: Option_1"), "lowercase"),
    ("variant-named-1", swap("  ospf:\n", "  1:\n").replace(
        "{protocol: ospf}", "{protocol: bogus}", 1), "variant 1"),
    ("variant-named-yes", swap("  ospf:\n", "  yes:\n").replace(
        "{protocol: ospf}", "{protocol: bogus}", 1), "variant yes"),
    ("links-pool-smaller-than-30", swap('{asn: 1, name: "AS #1"',
                                        '{asn: 1, links: 10.1.1.0/31, name: "AS #1"'), "/30"),
    ("asn-5000-digits", swap("{asn: 1, name", "{asn: " + "9" * 5000 + ", name"), "digits"),
    ("nested-brackets", "name: x\ntitle: " + "[" * 100_000 + "\n", "nested"),
    ("nested-braces", "name: x\ntitle: " + "{a: " * 100_000 + "\n", "nested"),
    ("alias-bomb-scenario", swap("scenario: option1\n", "scenario:\n" + bomb() + "\n"),
     "expands"),
    ("alias-bomb-description", swap("description: >-\n", "description:\n" + bomb()
                                    + "\nx_description: >-\n"), "expands"),
    ("recursive-alias", swap("scenario: option1", "scenario: &r [*r]"), "alias"),
    ("huge-link-subnet", swap("{endpoints: [PE-1, P-1]}",
                              "{endpoints: [PE-1, P-1], subnet: 11.0.0.0/8}"), ""),
    ("huge-as-pools", swap('{asn: 1, name: "AS #1"',
                           '{asn: 1, links: 11.0.0.0/8, loopbacks: 12.0.0.0/8, name: "AS #1"'),
     ""),
    ("site-in-loopback-pool", swap("prefix: 149.27.2.0/24", "prefix: 10.1.0.0/25"),
     "overlaps AS 1's loopbacks pool"),
    ("site-in-link-pool", swap("prefix: 149.27.2.0/24", "prefix: 10.2.0.0/16"), "pool"),
    ("two-vrfs-one-vlan", swap("{VPN-A: 101, VPN-B: 102}", "{VPN-A: 101, VPN-B: 101}"),
     "VLAN 101"),
    ("vpn-named-eth1", OPTION1.replace("VPN-A", "eth1"), "taken"),
    ("vpn-named-lo", OPTION1.replace("VPN-A", "lo"), "taken"),
    ("vpn-named-default", OPTION1.replace("VPN-A", "default"), "taken"),
    ("vpn-named-vlan", OPTION1.replace("VPN-A", "vlan101"), "taken"),
    ("negative-customer-asn", swap("  CE-1:      {role: ce,", "  CE-1:      {role: ce, asn: -5,"),
     "asn"),
    ("customer-asn-over-32-bits", swap("  CE-1:      {role: ce,",
                                       "  CE-1:      {role: ce, asn: 4294967296,"), "asn"),
    ("negative-provider-asn", OPTION1.replace("asn: 2", "asn: -2"), "asn"),
    ("customer-asn-base-negative", swap("autonomous_systems:",
                                        "defaults: {customer_asn_base: -70000}\n"
                                        "autonomous_systems:"), "customer_asn_base"),
    ("customer-asn-base-overflows", swap("autonomous_systems:",
                                         "defaults: {customer_asn_base: 4294967294}\n"
                                         "autonomous_systems:"), "largest AS number"),
    ("platform-labels-zero", swap("autonomous_systems:", "defaults: {platform_labels: 0}\n"
                                  "autonomous_systems:"), "platform_labels"),
    ("platform-labels-negative", swap("autonomous_systems:", "defaults: {platform_labels: -1}"
                                      "\nautonomous_systems:"), "platform_labels"),
    ("platform-labels-too-large", swap("autonomous_systems:",
                                       "defaults: {platform_labels: 1048576}\n"
                                       "autonomous_systems:"), "platform_labels"),
    ("loopback-0.0.0.0", swap("PE-1:      {role: pe, asn: 1}",
                              "PE-1:      {role: pe, asn: 1, loopback: 0.0.0.0}"), "range"),
    ("loopback-127.0.0.1", swap("PE-1:      {role: pe, asn: 1}",
                                "PE-1:      {role: pe, asn: 1, loopback: 127.0.0.1}"), "range"),
    ("loopback-multicast", swap("PE-1:      {role: pe, asn: 1}",
                                "PE-1:      {role: pe, asn: 1, loopback: 224.0.0.5}"),
     "multicast"),
    ("site-multicast", swap("prefix: 149.27.2.0/24", "prefix: 239.1.1.0/24"), "multicast"),
    ("site-reserved", swap("prefix: 149.27.2.0/24", "prefix: 250.1.1.0/24"), "reserved"),
    ("site-default-route", swap("prefix: 149.27.2.0/24", "prefix: 0.0.0.0/0"), "range"),
    ("ce-on-p-router", swap("{endpoints: [PE-1, CE-1]}", "{endpoints: [P-1, CE-1]}"),
     "only a pe or pe-asbr"),
    ("pe-without-core-link", swap("  - {endpoints: [PE-1, P-1]}\n", ""), "no core link"),
    ("session-listed-twice", swap("  - {name: as2-vpnv4,",
                                  "  - {between: [PE-ASBR-1, PE-1], families: [ipv4-vpn]}\n"
                                  "  - {name: as2-vpnv4,"), "already have a BGP session"),
    ("rd-number-too-large", swap('rd: "1:27"', 'rd: "1:4294967296"'), "4294967295"),
    ("rd-4-byte-asn", swap('rd: "1:27"', 'rd: "70000:70000"'), "65535"),
    ("rt-bad-ip", swap('["1:231"]', '["300.1.1.1:5"]'), "not an IPv4 address"),
    ("rt-ip-number-too-large", swap('["1:231"]', '["10.0.0.1:70000"]'), "65535"),
    ("subnet-on-vlan-link", swap("vrfs: {VPN-A: 101, VPN-B: 102}",
                                 "vrfs: {VPN-A: 101, VPN-B: 102}, subnet: 10.9.9.0/30"),
     "remove subnet"),
    ("asn-true", swap("{asn: 1, name", "{asn: true, name"), "boolean"),
    ("asn-quoted", swap("{asn: 1, name", '{asn: "1", name'), "without quotes"),
    ("vpn-defined-twice", swap('  VPN-B: {rd: "1:27", route_targets: ["1:222"]}',
                               '  VPN-B: {rd: "1:27", route_targets: ["1:222"]}\n'
                               '  VPN-B: {rd: "1:28", route_targets: ["1:222"]}'), "repeated"),
    ("key-repeated", swap("scenario: option1", "scenario: option1\nscenario: option2"),
     "repeated"),
    ("unquoted-rd", swap('rd: "1:27"', "rd: 1:27"), 'quote it: rd: "1:27"'),
    ("unquoted-rt", swap('route_targets: ["1:231"]', "route_targets: [1:23]"), "quote"),
    ("patch-error-at-patch-line", swap("{links: {inter-as: {protocol: ospf}}}",
                                       "{links: {inter-as: {protocol: isis}}}"), "patch"),
    ("patch-names-no-item", swap("{links: {inter-as: {protocol: ospf}}}",
                                 "{links: {nowhere: {protocol: ospf}}}"), "nowhere"),
    ("patch-not-a-mapping", swap("{links: {inter-as: {protocol: ospf}}}", "[1, 2]"),
     "patch is a mapping"),
    ("vrfs-on-core-link", swap("{endpoints: [PE-1, P-1]}",
                               "{endpoints: [PE-1, P-1], vrfs: {VPN-A: 5}}"), "core link"),
    ("lone-ce", swap("  - {endpoints: [PE-1, CE-1]}\n", ""), "no link"),
    ("complex-key", swap("scenario: option1", "? [a, b]\n: 1\nscenario: option1"),
     "mapping key"),
    ("top-level-list", "- 1\n- 2\n", "mapping"),
    ("empty-file", "", "mapping"),
    ("unknown-tag", swap("scenario: option1", "scenario: !!python/object:os.system ls"),
     "YAML"),
    ("binary-tag", swap("scenario: option1", "scenario: !!binary aGVsbG8="), "scenario"),
    ("date-title", swap('title: "Inter-AS Option 1 (A): back-to-back VRFs"',
                        "title: 2024-01-01"), "quote it"),
    ("many-ases-without-pools", swap(
        "autonomous_systems:\n",
        "autonomous_systems:\n" + "".join(f"  - {{asn: {n}}}\n" for n in range(100, 400))),
     "no default"),
    ("site-slash-32", swap("prefix: 149.27.2.0/24", "prefix: 149.27.2.1/32"), ""),
    ("emoji-code-in-value", swap("scenario: option1", 'scenario: ":100:"'), ":100:"),
    ("emoji-code-in-variant", swap("  ospf:\n", "  ':thumbs_up:':\n"), ":thumbs_up:"),
    ("newline-in-site-name", swap("name: VPN-A-1,", 'name: "VPN\\nrouter bgp 1",'), "one line"),
    ("tab-indent", swap("  - {asn: 1", "\t- {asn: 1"), "tabs"),
    ("two-documents", OPTION1 + "---\nname: x\n", "one YAML document"),
    ("ce-in-provider-as", swap("  CE-1:      {role: ce,", "  CE-1:      {role: ce, asn: 2,"),
     "provider AS"),
    ("parallel-named-attachments", swap("  - {endpoints: [PE-1, CE-1]}\n",
                                        "  - {name: a, endpoints: [PE-1, CE-1]}\n"
                                        "  - {name: b, endpoints: [PE-1, CE-1]}\n"), "twice"),
    ("parallel-unnamed-links", swap("  - {endpoints: [PE-1, P-1]}\n",
                                    "  - {endpoints: [PE-1, P-1]}\n"
                                    "  - {endpoints: [PE-1, P-1]}\n"), "second link"),
]


@pytest.mark.parametrize("name,content,fragment", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_case(tmp_path, name, content, fragment):
    path = tmp_path / "lab.yml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    output = check_case(path, tmp_path / "out")
    if fragment:
        assert fragment in " ".join(output.split()), output


def test_size_cap(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text(OPTION1 + "# " + "x" * (1 << 20) + "\n")
    assert "larger than 1024 KiB" in " ".join(check_case(path, tmp_path / "out").split())


def test_render_onto_a_file_or_an_unwritable_place(tmp_path):
    lab = str(labs_dir() / "option1.yml")
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, fragment in ((afile, "is a file"), (afile / "sub", "is a file"),
                          (Path("/proc/mplslab-out"), "")):
        code, output = run_cli(["render", lab, "--out", str(out)])
        assert code == 2 and "Traceback" not in output, output
        assert fragment in output


def test_list_shows_a_broken_lab_and_the_good_ones(tmp_path, monkeypatch):
    for path in SHIPPED:
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "broken.yml").write_bytes(b"name: broken\ntitle: \xff\n")
    (tmp_path / "markup.yml").write_text("name: [/]\n")
    monkeypatch.setenv("MPLSLAB_LABS", str(tmp_path))
    code, output = run_cli(["list"])
    assert code == 0, output
    assert "broken" in output and "not UTF-8" in " ".join(output.split())
    assert all(path.stem in output for path in SHIPPED)
    code, output = run_cli(["list", "--json"])
    assert code == 0, output
    import json

    labs = {lab["name"]: lab for lab in json.loads(output)["labs"]}
    assert "error" in labs["broken"] and "error" in labs["markup"]
    assert all("error" not in labs[path.stem] for path in SHIPPED)


def test_verify_refuses_an_unwritable_report_before_any_check(tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("")
    for option in ("--json", "--junit"):
        code, output = run_cli(["verify", "option1", option, str(afile / "report")])
        assert code == 2 and "Traceback" not in output, output
        assert f"{option} {afile / 'report'} cannot be written" in " ".join(output.split())


# -- a few in a separate process, with a memory limit: no runaway memory ------------------
@pytest.mark.parametrize("name", ["alias-bomb-scenario", "nested-brackets", "huge-as-pools"])
def test_hostile_case_in_a_bounded_process(tmp_path, name):
    content = next(c for n, c, _ in HOSTILE if n == name)
    path = tmp_path / "lab.yml"
    path.write_text(content)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    result = subprocess.run([sys.executable, "-m", "emulator", "validate", str(path)],
                            capture_output=True, text=True, timeout=60, preexec_fn=limit,
                            cwd=PROJECT_DIR)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# -- random mutations of the shipped labs -------------------------------------------------
WEIRD = [
    None, True, False, 0, -1, 1.5, 2**32, 2**64, 10**30, -(2**40), "", " ", "[/]", "[bold]x",
    "\u202e\u0000"[:1], "é✓", "x" * 300, "1:27", "1:4294967296", "300.1.1.1:5", "eth1",
    "default", "lo", "0.0.0.0/0", "11.0.0.0/8", "10.1.0.0/24", "10.1.1.1/31", "127.0.0.1",
    "255.255.255.255", "10.1.0.1", "ce", "pe", "p", "ospf", "ebgp", "ipv4-vpn", "../../x",
    [], {}, [None], {"a": 1}, ["PE-1", "PE-1"], ["x", "y", "z"], {"VPN-A": 4095},
    {"VPN-A": 0}, {"x": {"y": {"z": []}}},
]


def paths(node, prefix=()):
    """Every (path, value) in a parsed document."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def parent_of(doc, path):
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


def names_in(doc) -> list:
    """Names the lab uses, so that mutations also make plausible references."""
    names = [key for field in ("nodes", "vpns") if isinstance(doc.get(field), dict)
             for key in doc[field]]
    links = doc.get("links") if isinstance(doc.get("links"), list) else []
    return names + [link["name"] for link in links if isinstance(link, dict) and "name" in link]


def mutate_data(doc, rng: random.Random) -> None:
    candidates = [p for p, _ in paths(doc) if p]
    if not candidates:
        return
    path = rng.choice(candidates)
    parent, key = parent_of(doc, path), path[-1]
    action = rng.choice(["delete", "weird", "name", "duplicate", "swap", "number", "wrap",
                         "string"])
    if action == "delete":
        del parent[key]
    elif action == "weird":
        parent[key] = copy.deepcopy(rng.choice(WEIRD))
    elif action == "name":
        parent[key] = rng.choice(names_in(doc) or ["x"])
    elif action == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[f"{key}-copy" if isinstance(key, str) else key] = copy.deepcopy(parent[key])
    elif action == "swap":
        other = rng.choice(candidates)
        if other[:len(path)] != path and path[:len(other)] != other:
            other_parent = parent_of(doc, other)
            parent[key], other_parent[other[-1]] = (copy.deepcopy(other_parent[other[-1]]),
                                                    copy.deepcopy(parent[key]))
    elif action == "number":
        parent[key] = rng.choice([0, -1, 1, 2**16, 2**31, 2**32 - 1, 2**32, 4095, 4094,
                                  rng.randrange(-10**9, 10**12)])
    elif action == "wrap":
        parent[key] = rng.choice([[parent[key]], {"x": parent[key]}])
    else:
        value = parent[key]
        if isinstance(value, str) and value:
            cut = rng.randrange(len(value))
            parent[key] = rng.choice([value[:cut], value + value, value.upper(),
                                      value[:cut] + rng.choice("[]:/.-_ \t{}#&*!|>'\"") +
                                      value[cut:]])


def mutate_text(text: str, rng: random.Random) -> bytes:
    data = text.encode()
    action = rng.choice(["truncate", "garbage", "line-dup", "line-swap", "char"])
    if action == "truncate":
        return data[:rng.randrange(len(data))]
    if action == "garbage":
        at = rng.randrange(len(data))
        return data[:at] + rng.randbytes(rng.randrange(1, 64)) + data[at:]
    lines = data.splitlines(keepends=True)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if action == "line-dup":
        lines.insert(i, lines[j])
    elif action == "line-swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        at = rng.randrange(len(data))
        return data[:at] + rng.choice([b"[", b"{", b"&a ", b"*a", b": ", b"\t", b"- ", b"!!",
                                       b"'", b'"', b"\n  ", b"#"]) + data[at + 1:]
    return b"".join(lines)


def random_lab(rng: random.Random) -> dict:
    """A lab of random shape, valid by construction most of the time, to reach the builder
    and the templates: 1-3 ASes of chained provider routers, customers on PEs, inter-AS
    links (some with back-to-back VRFs), random BGP sessions and options."""
    asns = rng.sample([1, 2, 3, 100, 65000, 70000, 4200000000], rng.randint(1, 3))
    ases = []
    for asn in asns:
        system: dict = {"asn": asn}
        if rng.random() < 0.3:
            system["label_distribution"] = rng.choice([["ldp"], ["bgp-lu"], ["ldp", "bgp-lu"]])
        if rng.random() < 0.2:
            system["links"] = f"172.{16 + len(ases)}.0.0/{rng.choice([24, 28, 29])}"
        ases.append(system)
    vpns = {f"V{i}": {"rd": rng.choice(["1:1", "70000:5", "10.0.0.1:7", "1:4294967295"]),
                      "route_targets": [rng.choice(["1:1", "1:2", "2:1"])]}
            for i in range(rng.randint(1, 3))}
    nodes: dict = {}
    links: list = []
    routers: dict[int, list[str]] = {}
    for system in ases:
        chain = []
        for _ in range(rng.randint(1, 4)):
            name = f"R{len(nodes)}"
            nodes[name] = {"role": rng.choice(["pe", "p", "rr", "asbr", "pe-asbr"]),
                           "asn": system["asn"]}
            if rng.random() < 0.1:
                nodes[name]["loopback"] = f"172.31.0.{len(nodes)}"
            if chain:
                links.append({"endpoints": [rng.choice(chain), name]})
            chain.append(name)
        routers[system["asn"]] = chain
    for here, there in itertools.pairwise(asns):
        a, b = rng.choice(routers[here]), rng.choice(routers[there])
        link = {"endpoints": [a, b]}
        if rng.random() < 0.4:
            nodes[a]["role"] = nodes[b]["role"] = "pe-asbr"
            link["vrfs"] = {v: 100 + j for j, v in enumerate(vpns)}
            link["protocol"] = rng.choice(["ebgp", "ospf", "rip", "static"])
        links.append(link)
    vrf_routers = [n for n, body in nodes.items() if body["role"] in ("pe", "pe-asbr")]
    for i in range(rng.randint(0, 4) if vrf_routers else 0):
        name = f"C{i}"
        nodes[name] = {"role": rng.choice(["ce", "ce", "host"]),
                       "site": {"name": f"S{i}", "vpn": rng.choice(list(vpns)),
                                "prefix": f"192.168.{i}.0/24"}}
        link = {"endpoints": [rng.choice(vrf_routers), name]}
        if rng.random() < 0.3:
            link["protocol"] = rng.choice(["ebgp", "ospf", "rip", "static"])
        links.append(link)
    bgp: list = []
    providers = [n for n, body in nodes.items() if "site" not in body]
    pairs: set = set()
    for _ in range(rng.randint(0, 5) if len(providers) > 1 else 0):
        between = rng.sample(providers, 2)
        if frozenset(between) in pairs:
            continue
        pairs.add(frozenset(between))
        session: dict = {"between": between, "families": rng.choice(
            [["ipv4-vpn"], ["ipv4-labeled-unicast"], ["ipv4-unicast"],
             ["ipv4-vpn", "ipv4-labeled-unicast"]])}
        for flag in ("rr_clients", "next_hop_self", "next_hop_unchanged"):
            if rng.random() < 0.2:
                session[flag] = [rng.choice(between)]
        if rng.random() < 0.2:
            session["multihop"] = True
        bgp.append(session)
    lab = {"name": "fuzz", "title": "t", "description": "d",
           "scenario": rng.choice(["option1", "option2", "option3", "l3vpn"]),
           "autonomous_systems": ases, "vpns": vpns, "nodes": nodes, "links": links,
           "bgp": bgp}
    if rng.random() < 0.2:
        lab["defaults"] = {"pe_ce_protocol": rng.choice(["ebgp", "ospf", "rip", "static"])}
    return lab


def mutated_cases():
    rng = random.Random(SEED)
    docs = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
    for index in range(CASES):
        name = rng.choice(sorted(TEXTS))
        if rng.random() < 0.25:
            yield index, mutate_text(TEXTS[name], rng)
            continue
        if rng.random() < 0.25:
            doc = random_lab(rng)
            mutations = rng.choice([0, 0, 1])
        else:
            doc = copy.deepcopy(docs[name])
            mutations = rng.choice([1, 1, 1, 2, 3])
        for _ in range(mutations):
            mutate_data(doc, rng)
        yield index, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()


def test_random_mutations_of_the_shipped_labs(tmp_path):
    outcomes = {0: 0, 2: 0}
    for index, content in mutated_cases():
        path = tmp_path / f"case{index}.yml"
        path.write_bytes(content)
        output = check_case(path, tmp_path / f"out{index}")
        outcomes[0 if output.startswith("ok") else 2] += 1
    # Mostly refused, some still valid: the mutations reach past the first check.
    assert outcomes[2] > CASES // 2 and outcomes[0] > 0, outcomes
