"""`mplslab report --html`: one page with the topology, the verify results and the walks with
live labels, checked in a real browser (Debian's headless Chromium).

The verify results are those of real routers: the option3 and carrier labs' recordings
replayed (tests/unit/test_probes.py), so that no VM is needed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from shipped import lab_variants
from test_probes import load, replay
from typer.testing import CliRunner

from emulator.cli import app
from emulator.paths import PROJECT_DIR

ARTEFACTS = PROJECT_DIR / ".artifacts"
BROWSER = "chromium-headless-shell"


class Elements(HTMLParser):
    """Tags with their classes and ids, as the browser's DOM has them."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def count(self, tag: str, cls: str | None = None, **attrs) -> int:
        return sum(1 for t, a in self.found if t == tag
                   and (cls is None or cls in (a.get("class") or "").split())
                   and all(a.get(k) == v for k, v in attrs.items()))


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict]:
    model, recording = load("option3")
    report, failed = replay(model, recording)
    assert not failed
    folder = tmp_path_factory.mktemp("report")
    results = folder / "option3.json"
    results.write_text(json.dumps(report.as_dict()))
    answer = CliRunner().invoke(app, ["report", "option3", "--results", str(results),
                                      "--html", str(folder / "html")])
    assert answer.exit_code == 0, answer.output
    return folder / "html" / "index.html", report.as_dict()


def test_the_page_has_every_check_and_the_live_labels_on_each_walk(page):
    path, results = page
    text = path.read_text()
    elements = Elements()
    elements.feed(text)
    assert elements.count("tr", "check") == len(results["checks"])
    assert elements.count("tr", "fail") == 0
    # PE-2 pushes PE-1's VPN label for 152.12.4.0/24: the number the live router held.
    label = next(c["observed"]["label"] for c in results["checks"]
                 if c["name"] == "PE-2: 1:27:152.12.4.0/24")
    walk = text.split('id="walk-152.12.4.0-24"')[1].split('<div class="walk')[0]
    assert f'<td class="live-label">{label}</td>' in walk
    # The labels captured on the wire, drawn on the path from CE-3.
    wire = next(c["observed"] for c in results["checks"] if c["kind"] == "wire-labels"
                and "152.12.4.1" in c["name"])
    assert wire["ASBR-2→ASBR-1"].split("[")[1].split(",")[0] in walk


def test_a_report_of_another_lab_is_refused(page, tmp_path):
    _, results = page
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**results, "lab": "option2"}))
    answer = CliRunner().invoke(app, ["report", "option3", "--results", str(other),
                                      "--html", str(tmp_path / "html")])
    assert answer.exit_code == 2 and "reports lab option2" in answer.output
    assert not (tmp_path / "html" / "index.html").exists()


def test_the_page_renders_in_a_real_browser(page):
    path, results = page
    browser = shutil.which(BROWSER)
    assert browser, f"{BROWSER} is missing: make setup installs it (Debian package)"
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*flags, "--dump-dom", path.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    elements = Elements()
    elements.feed(dom)
    assert elements.count("section", id="topology") == 1
    assert elements.count("svg") >= 1 + len(load("option3")[0].sites())  # topology + walks
    assert elements.count("tr", "check") == len(results["checks"])
    assert elements.count("div", "walk") == len(load("option3")[0].sites())
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report-option3.png"
    shot.unlink(missing_ok=True)
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,2400", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000, "the screenshot is empty"
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("name,variant", list(lab_variants()))
def test_the_checks_a_walk_names_are_checks_verify_runs(name, variant):
    """`explain` on a running lab runs just the checks that observe the walk, by name: every
    name it asks for must be one verify derives (a renamed check would leave it blind). The
    capture is the one exception: verify captures one path per VPN (per carrier)."""
    from emulator.model.build import load_lab
    from emulator.training.report import check_names, loopback_checks, walk_checks, walked
    from emulator.verify.families import derive

    model = load_lab(name, variant)
    names = {c.name for c in derive(model)}
    captured = 0
    for walk in walked(model):
        routes, wire = walk_checks(walk)
        assert set(routes) <= names
        assert check_names(walk) - names <= {wire}
        captured += wire in names
        if walk.loopback is not None:  # every router that pushes a label the checks read
            read = set(loopback_checks(walk))
            pushing = {h.router for h in walk.loopback.holders if h.label_from}
            assert read <= pushing and read, (walk.prefix, read, pushing)
    assert captured, f"{name}: no walk is the path verify captures"


def test_the_slides_walk_is_the_path_verify_captures():
    from emulator.training.explain import walkthrough
    from emulator.training.report import walk_checks
    from emulator.verify.families import derive

    model, _ = load("option3")
    names = {c.name for c in derive(model)}
    _, wire = walk_checks(walkthrough(model, "152.12.4.0/24"), "152.12.4.1")
    assert wire in names  # the slide's walk: CE-3 to 152.12.4.1


def replayed(name: str) -> tuple:
    """Every check of the recorded lab replayed: the observed values are the real routers'."""
    model, recording = load(name)
    report, _ = replay(model, recording)
    return model, report.as_dict()


def test_the_labelled_loopback_walk_shows_the_labels_the_recorded_routers_held():
    """Option 3 on real FRR 10.3 routers: the labelled-unicast labels of PE-1's loopback (the
    slides' L2 from ASBR-1, L3 from ASBR-2) are the ones captured on the wire."""
    from emulator.training.explain import walkthrough
    from emulator.training.report import live_walk

    model, results = replayed("option3")
    live = live_walk(walkthrough(model, "152.12.4.1"), None, results)
    labels = live.loopback_labels
    assert labels["ASBR-1"] == 3  # implicit-null from PE-1: LDP alone
    assert labels["PE-2"] == labels["RR-2"]  # both push ASBR-2's L3
    # On the wire: [LDP, L3, L1] leaving PE-2, [L2, L1] between the ASBRs.
    assert live.stacks["PE-2→P-2"].split("[")[1].split(", ")[1] == str(labels["PE-2"])
    assert live.stacks["ASBR-2→ASBR-1"].split("[")[1].split(",")[0] == str(labels["ASBR-2"])
    assert live.stacks["ASBR-2→ASBR-1"].split(", ")[1].rstrip("]") == str(live.labels["PE-2"])


def test_explain_on_a_running_lab_reads_the_walks_labels(monkeypatch):
    """`mplslab explain LAB PREFIX --json` with the lab up, the routers' answers replayed:
    the holders' labels, the stacks and the labelled loopback's labels, as check_live_walk
    (tests/e2e/labkit.py) reads them."""
    from test_probes import ReplayRuntime

    from emulator import lifecycle

    model, recording = load("option3")
    monkeypatch.setattr(lifecycle, "model_of", lambda lab, variant: (model, True))
    monkeypatch.setattr(lifecycle, "live_runtime",
                        lambda lab: (None, ReplayRuntime(recording)))
    answer = CliRunner().invoke(app, ["explain", "option3", "152.12.4.1", "--json",
                                      "--deadline", "0"])
    assert answer.exit_code == 0, answer.output
    told = json.loads(answer.output)
    live = told["live"]
    depths = {link["link"].replace(" → ", "→"): link["labels"] for link in told["links"]}
    assert {link: int(stack.split()[0]) for link, stack in live["stacks"].items()} == depths
    assert {live["labels"][h["router"]] for h in told["holders"]} - {None} and \
        len({live["labels"][h["router"]] for h in told["holders"]}) == 1  # all PE-1's L1
    assert set(live["loopback_labels"]) == {"ASBR-1", "ASBR-2", "PE-2", "RR-2"}


def stack(seen: str) -> list[int]:
    """A captured stack as verify reports it ("2 [16, 50001]"), as labels."""
    inside = seen.split("[", 1)[1].rstrip("]")
    return [int(label) for label in inside.split(", ") if label]


@pytest.mark.parametrize("name", ["csc-ip", "csc-mpls", "csc-vpn"])
def test_a_carrier_walk_shows_the_labels_the_recorded_routers_held(name):
    """The carrier labs on real routers (FRR 10.3 and BIRD 2.17, replayed): the labels the
    walk reads from the carrier's checks are the ones captured on the wire. CSC-CE-2 pushes
    PE-2's label (the slide's 2), PE-2 swaps it onto PE-1's VPN label (1) under LDP, PE-1
    swaps that onto CSC-CE-1's label (or pops it, csc-ip)."""
    from emulator.training.explain import walkthrough
    from emulator.training.report import live_walk, render

    model, results = replayed(name)
    walk = walkthrough(model, "198.51.100.1")
    live = live_walk(walk, None, results)
    held, wire = live.loopback_labels, {k: stack(v) for k, v in live.stacks.items()}
    assert set(held) == {"PE-1", "PE-2", "CSC-CE-2"}
    assert wire["CSC-CE-2→PE-2"][0] == held["CSC-CE-2"]
    assert wire["PE-2→P-1"][1] == wire["P-1→PE-1"][0] == held["PE-2"]
    if name == "csc-ip":
        assert held["PE-1"] == 3 and wire["PE-1→CSC-CE-1"] == []  # implicit-null: a pop
    else:
        assert wire["PE-1→CSC-CE-1"][0] == held["PE-1"]
    if walk.kind == "carrier":  # the backbone's VPNv4 route of ASBR-1's loopback
        assert live.labels == {"PE-1": held["PE-2"], "PE-2": held["PE-2"]}
    else:  # csc-vpn: the ISP's VPN label (I-PE1's, the slide's 12) at the bottom
        assert {wire[link][-1] for link in wire} == {live.labels["I-PE2"]}
    page = render(model, results)
    assert f'<td class="live-label">{held["CSC-CE-2"]}</td>' in page


def test_explain_on_a_running_carrier_lab_reads_the_carriers_checks(monkeypatch):
    """`mplslab explain csc-mpls 198.51.100.1 --json` with the lab up (replayed): what
    check_live_walk (tests/e2e/labkit.py) reads, and the loopback level's labels."""
    from test_probes import ReplayRuntime

    from emulator import lifecycle

    model, recording = load("csc-mpls")
    monkeypatch.setattr(lifecycle, "model_of", lambda lab, variant: (model, True))
    monkeypatch.setattr(lifecycle, "live_runtime",
                        lambda lab: (None, ReplayRuntime(recording)))
    answer = CliRunner().invoke(app, ["explain", "csc-mpls", "198.51.100.1", "--json",
                                      "--deadline", "0"])
    assert answer.exit_code == 0, answer.output
    told = json.loads(answer.output)
    live = told["live"]
    depths = {link["link"].replace(" → ", "→"): link["labels"] for link in told["links"]}
    assert {link: int(seen.split()[0]) for link, seen in live["stacks"].items()} == depths
    assert len({live["labels"][h["router"]] for h in told["holders"]}) == 1  # PE-1's
    assert set(live["loopback_labels"]) == {"PE-1", "PE-2", "CSC-CE-2"}


def test_every_report_compares_the_options_and_highlights_its_own(tmp_path):
    """The options compared, from the same facts as docs/training.md, in a carrier lab's
    page (rendered without a running lab), checked in the browser's DOM."""
    from emulator.training.compare import LABS, comparison

    answer = CliRunner().invoke(app, ["report", "csc-mpls", "--html", str(tmp_path)])
    assert answer.exit_code == 0, answer.output
    path = tmp_path / "index.html"
    text = path.read_text()
    elements = Elements()
    elements.feed(text)
    assert elements.count("section", id="options") == 1
    assert elements.count("tr", "option") == len(LABS)
    assert elements.count("tr", "this-lab") == 1
    assert elements.count("tr", "this-lab", **{"data-lab": "csc-mpls"}) == 1
    for row in comparison():
        assert row.boundary.replace("'", "&#39;") in text
    # The carrier's walks: to each external prefix another of its sites sends to.
    assert elements.count("div", "carrier") == 4
    assert elements.count("table", "loopback") == 4
    browser = shutil.which(BROWSER)
    assert browser, f"{BROWSER} is missing: make setup installs it (Debian package)"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    rendered = Elements()
    rendered.feed(dom)
    assert rendered.count("tr", "option") == len(LABS)
    assert rendered.count("div", "carrier") == 4
