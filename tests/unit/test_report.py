"""`mplslab report --html`: one page with the topology, the verify results and the walks with
live labels, checked in a real browser (Debian's headless Chromium).

The verify results are those of real FRR 10.3 routers: the option3 recording replayed
(tests/unit/test_probes.py), so that no VM is needed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
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
    walk = text.split('id="walk-152.12.4.0-24"')[1].split('class="walk"')[0]
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


def test_the_checks_a_walk_names_are_checks_verify_runs():
    """`explain` on a running lab runs just the checks that observe the walk, by name: every
    name it asks for must be one verify derives (a renamed check would leave it blind)."""
    from emulator.training.explain import walkthrough
    from emulator.training.report import walk_checks
    from emulator.verify.families import derive

    model, _ = load("option3")
    names = {c.name for c in derive(model)}
    for ce in model.sites():
        routes, wire = walk_checks(walkthrough(model, str(ce.site.prefix)),
                                   str(ce.site.address.ip))
        assert set(routes) <= names
    routes, wire = walk_checks(walkthrough(model, "152.12.4.0/24"), "152.12.4.1")
    assert wire in names  # the slide's walk: CE-3 to 152.12.4.1
