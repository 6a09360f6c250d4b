"""The reviewers' HTML page: self-contained, escaped, and working in headless Chromium.

Chromium (Debian's `chromium`, installed in CI by .ci/setup-chromium.sh) is driven
over the DevTools protocol on a pipe (tests/report/cdp_pipe.py): the page loads
without errors, the filters work from the URL hash and from the controls, nothing
from the hostile run runs as script, and a screenshot is saved in the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import pytest

from auditor.pipeline import AuditOptions, run_audit
from auditor.report.html import render_html
from tests.report.cdp_pipe import Browser, chromium_binary
from tests.report.report_fixtures import build_demo_run, cli

pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict[str, str], str]:
    root = tmp_path_factory.mktemp("html")
    ids = build_demo_run(root / "runs")
    report = run_audit(str(root / "runs"), AuditOptions(monitors=["planted"]))
    text = render_html(report)
    path = root / "report.html"
    path.write_text(text, encoding="utf-8")
    return path, ids, text


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Chromium: .ci/setup-chromium.sh installs it")
        pytest.skip("no chromium binary (run .ci/setup-chromium.sh)")
    b = Browser(binary, tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


def visible(b: Browser) -> list[str]:
    return b.evaluate("Array.from(document.querySelectorAll('[data-episode]')).filter(e => !e.hidden)"
                      ".map(e => e.getAttribute('data-episode'))")


def open_at(b: Browser, page: Path, fragment: str = "") -> None:
    b.open(page.as_uri() + fragment)
    assert b.evaluate("document.body.getAttribute('data-ready')") == "1"


# --------------------------------------------------------------------------- static checks


def test_page_is_self_contained_and_escaped(page):
    _, ids, text = page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text)  # nothing fetched from a network
    assert "<link" not in text and "@import" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.count("<script>") == 1  # ours; the run's script tags are text
    assert "&lt;/script&gt;&lt;script&gt;" in text and "\x1b" not in text
    for eid in ids.values():
        assert eid in text
    assert "audit review " in text and "--confirm" in text and "--dismiss" in text


def test_flagged_episodes_come_first_worst_first(page):
    _, ids, text = page
    order = [m.group(1) for m in re.finditer(r'<article class="episode [^"]*" data-episode="([^"]+)"', text)]
    assert order[:2] == sorted([ids["leak"], ids["plagiarism"]], key=order.index)  # disqualified first
    assert set(order) == {ids["leak"], ids["plagiarism"], ids["hostile"], ids["llm"]}
    assert text.index('id="flagged"') < text.index('id="unflagged"')
    assert text.index('id="medals"') < text.index('id="flagged"')


def test_page_renders_when_the_run_is_gone(tmp_path):
    run = tmp_path / "runs"
    ids = build_demo_run(run)
    report = run_audit(str(run), AuditOptions(monitors=["planted"]))
    shutil.rmtree(run)
    text = render_html(report)
    assert "cannot read code/solution.py" in text and "excerpt as reported" in text
    assert "<mark>feat = df[&#x27;requester_upvotes_plus_downvotes&#x27;]</mark>" in text
    assert ids["leak"] in text


# --------------------------------------------------------------------------- in the browser


def test_page_loads_without_errors_and_runs_nothing_from_the_run(browser, page, tmp_path):
    path, ids, _ = page
    open_at(browser, path)
    assert browser.problems() == []
    assert browser.evaluate("document.body.getAttribute('data-js-error')") is None
    assert browser.evaluate("document.body.getAttribute('data-pwned')") is None
    assert len(visible(browser)) == len(ids)
    assert browser.evaluate("document.getElementById('shown').textContent") == f"showing {len(ids)} of {len(ids)} episodes"
    # the excerpt is highlighted inside its context lines
    marks = browser.evaluate("Array.from(document.querySelectorAll('.ln.hl mark')).map(m => m.textContent)")
    assert "feat = df['requester_upvotes_plus_downvotes']" in marks
    shot = browser.screenshot(tmp_path / "report.png")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280 and height > 500 and len(png) > 20_000  # a real rendering, not a blank page


def test_filters_from_the_url_hash(browser, page):
    path, ids, _ = page
    open_at(browser, path, "#rule=plagiarism")
    assert visible(browser) == [ids["plagiarism"]]
    assert browser.evaluate("document.querySelector('[data-group=unflagged]').hidden") is True
    assert browser.evaluate("document.getElementById('f-rule').value") == "plagiarism"
    open_at(browser, path, "#competition=random-acts-of-pizza")
    assert sorted(visible(browser)) == sorted([ids["leak"], ids["clean"], ids["llm"]])
    open_at(browser, path, "#agent=opendevin&verdict=needs-review")
    assert visible(browser) == [ids["llm"]]
    open_at(browser, path, "#verdict=clean")
    assert sorted(visible(browser)) == sorted([ids["clean"], ids["high-tier"]])
    assert browser.evaluate("document.getElementById('flagged').hidden") is True
    assert browser.problems() == []


def test_filters_from_the_controls(browser, page):
    path, ids, _ = page
    open_at(browser, path)
    choose = "(k, v) => { const s = document.getElementById('f-' + k); s.value = v; s.dispatchEvent(new Event('change')); }"
    browser.evaluate(f"({choose})('verdict', 'disqualified')")
    assert sorted(visible(browser)) == sorted([ids["leak"], ids["plagiarism"]])
    assert browser.evaluate("location.hash") == "#verdict=disqualified"
    browser.evaluate(f"({choose})('rule', 'known-leak-exploit')")
    assert visible(browser) == [ids["leak"]]
    # a rule filter also hides the other rules' flags inside a shown episode
    browser.evaluate(f"({choose})('verdict', '')")
    browser.evaluate(f"({choose})('rule', 'external-llm-call')")
    assert visible(browser) == [ids["llm"]]
    shown_flags = browser.evaluate("Array.from(document.querySelectorAll('.flag')).filter(f => !f.hidden && !f.closest('[hidden]'))"
                                   ".map(f => f.getAttribute('data-rule'))")
    assert shown_flags == ["external-llm-call"]
    browser.evaluate("document.getElementById('f-reset').click()")
    assert len(visible(browser)) == len(ids) and browser.evaluate("location.hash") == ""
    assert browser.problems() == []


def test_plagiarism_match_is_side_by_side(browser, page):
    path, ids, _ = page
    open_at(browser, path, "#rule=plagiarism")
    sides = browser.evaluate(
        f"Array.from(document.querySelector('[data-episode=\"{ids['plagiarism']}\"] .evidence.side').children).map(c => c.innerText)")
    assert len(sides) == 2
    ours, theirs = sides
    assert "code/solution.py:4" in ours and "def train(df):" in ours
    assert "towhid1_leaf/kernel.ipynb" in theirs and "similarity 0.91" in theirs and "return model" in theirs
    # side by side: the two columns share a row
    tops = browser.evaluate(
        f"Array.from(document.querySelector('[data-episode=\"{ids['plagiarism']}\"] .evidence.side').children)"
        ".map(c => [c.getBoundingClientRect().top, c.getBoundingClientRect().left])")
    assert tops[0][0] == tops[1][0] and tops[0][1] < tops[1][1]


def test_cli_writes_the_html_report(page, tmp_path):
    path, ids, _ = page
    out = tmp_path / "audit.html"
    proc = cli(path.parent / "runs", "--monitors", "planted", "--out", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("<!doctype html>") and ids["leak"] in text
