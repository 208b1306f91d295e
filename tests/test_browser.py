"""The built site in a real browser: every page loads without errors and without leaving
127.0.0.1, math typesets, notebook images show, and search, the claims filter and the
palette toggle work.

Drives the system's Chromium (Debian package `chromium`) through Playwright; nothing here
downloads a browser. Set PAPERNOTES_CHROMIUM to use another binary.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
MATH = re.compile(r"\$[^$\n]+\$|\$\$")
TIMEOUT_MS = 20_000


def _chromium() -> str | None:
    candidates = [os.environ["PAPERNOTES_CHROMIUM"]] if "PAPERNOTES_CHROMIUM" in os.environ else CHROMIUM_NAMES
    return next(filter(None, map(shutil.which, candidates)), None)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass  # one line per request would bury the test's own output


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("browser-site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site_dir)],
        cwd=ROOT, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return site_dir


@pytest.fixture(scope="module")
def base_url(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def requests_made() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def browser_page(requests_made, page_errors):
    chromium = _chromium()
    if chromium is None:
        pytest.skip(f"chromium not installed: no executable {os.environ.get('PAPERNOTES_CHROMIUM') or CHROMIUM_NAMES} found; "
                    "`apt-get install -y chromium`, or set PAPERNOTES_CHROMIUM to a Chromium binary")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda message: message.type == "error" and page_errors.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: requests_made.append(request.url))
        yield page
        browser.close()


def _page_urls(site: Path) -> list[str]:
    urls = []
    for html in sorted(site.rglob("*.html")):
        relative = html.relative_to(site).as_posix()
        urls.append(relative.removesuffix("index.html"))
    return urls


def _twin(url: str) -> Path | None:
    match = re.fullmatch(r"companions/([^/]+)/", url)
    return ROOT / "companions" / f"{match.group(1)}.ipynb" if match else None


def _notebook_has(twin: Path, predicate) -> bool:
    cells = json.loads(twin.read_text(encoding="utf-8"))["cells"]
    return any(predicate(cell) for cell in cells)


def _has_math(site: Path, url: str) -> bool:
    twin = _twin(url)
    if twin is not None:
        return _notebook_has(twin, lambda c: c["cell_type"] == "markdown" and MATH.search("".join(c["source"])))
    html = site / url / "index.html" if url == "" or url.endswith("/") else site / url
    return 'class="arithmatex"' in html.read_text(encoding="utf-8")


def _has_images(url: str) -> bool:
    twin = _twin(url)
    return twin is not None and _notebook_has(
        twin, lambda c: any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
    )


# Each test asks for browser_page first: without Chromium it skips before the site is built.
def test_every_page_loads_cleanly_with_math_and_images(browser_page, page_errors, site, base_url):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, problems = browser_page, []
    for url in _page_urls(site):
        page_errors.clear()
        page.goto(base_url + url, wait_until="load")
        if _has_math(site, url):
            try:
                page.wait_for_function("document.querySelectorAll('mjx-container').length > 0")
            except PlaywrightTimeout:
                problems.append(f"/{url}: has math but MathJax typeset none of it")
        if _has_images(url):
            images = page.locator(".jupyter-wrapper img[src^='data:image/png']").count()
            if images == 0:
                problems.append(f"/{url}: the twin has image outputs but the page shows none")
        problems += [f"/{url}: {error}" for error in page_errors]
    assert not problems, "\n".join(problems)


def _distinctive_title_word():
    """A note and the word of its title that the notes use least: its page must rank in the results."""
    from papersite.layout import Layout
    from papersite.notes import read_notes

    notes = read_notes(Layout(ROOT))[0]
    corpus = " ".join(f"{n.meta['title']} {n.body}" for n in notes).lower()
    candidates = [(n, w) for n in notes for w in re.findall(r"[A-Za-z]{5,}", n.meta["title"])]
    return min(candidates, key=lambda pair: (corpus.count(pair[1].lower()), -len(pair[1])))


def test_search_finds_a_paper_by_a_word_of_its_title(browser_page, base_url):
    note, word = _distinctive_title_word()
    page = browser_page
    page.goto(base_url, wait_until="load")
    page.locator("input.md-search__input").fill(word)
    target = note.path.relative_to("docs").with_suffix("").as_posix() + "/"
    page.wait_for_selector(f".md-search-result__link[href*='{target}']")


def test_claims_filter_shows_only_the_chosen_verdict(browser_page, base_url):
    from papersite.claims_format import Verdict

    page = browser_page
    page.goto(base_url + "claims/", wait_until="load")
    rows = page.locator("#claims-table tbody tr")
    verdicts = [rows.nth(i).get_attribute("data-verdict") for i in range(rows.count())]
    assert verdicts, "the claims page has no rows"
    for verdict in Verdict:
        page.select_option("#claims-verdict-filter", verdict.value)
        shown = page.eval_on_selector_all("#claims-table tbody tr", "rows => rows.map(r => !r.hidden)")
        assert shown == [v == verdict.value for v in verdicts], verdict.value
    page.select_option("#claims-verdict-filter", "")
    assert page.locator("#claims-table tbody tr:visible").count() == len(verdicts)


def test_claims_filter_by_paper_combines_with_verdict(browser_page, base_url):
    page = browser_page
    page.goto(base_url + "claims/", wait_until="load")
    rows = page.eval_on_selector_all("#claims-table tbody tr", "rows => rows.map(r => [r.dataset.paper, r.dataset.verdict])")
    paper, verdict = rows[0]
    page.select_option("#claims-paper-filter", paper)
    shown = page.eval_on_selector_all("#claims-table tbody tr", "rows => rows.map(r => !r.hidden)")
    assert shown == [p == paper for p, _ in rows]
    page.select_option("#claims-verdict-filter", verdict)
    shown = page.eval_on_selector_all("#claims-table tbody tr", "rows => rows.map(r => !r.hidden)")
    assert shown == [(p, v) == (paper, verdict) for p, v in rows]
    assert 0 < sum(shown) < len(rows)


def test_claims_filters_in_the_address_show_exactly_the_filtered_rows(browser_page, base_url, site):
    from urllib.parse import urlencode

    claims = json.loads((site / "claims.json").read_text(encoding="utf-8"))["claims"]
    first = claims[0]
    query = {"verdict": first["verdict"], "paper": first["slug"], "test": first["test"]["kind"]}
    page = browser_page
    page.goto(base_url + "claims/?" + urlencode(query), wait_until="load")
    shown = page.eval_on_selector_all("#claims-table tbody tr:not([hidden])", "rows => rows.map(r => r.id)")
    expected = [f"claim-{c['slug']}-{c['id']}" for c in claims
                if (c["verdict"], c["slug"], c["test"]["kind"]) == (query["verdict"], query["paper"], query["test"])]
    assert sorted(shown) == sorted(expected) and shown
    page.select_option("#claims-verdict-filter", "")
    assert "verdict=" not in page.url and f"paper={first['slug']}" in page.url, page.url


def test_a_claim_permalink_shows_its_row(browser_page, base_url, site):
    claims = json.loads((site / "claims.json").read_text(encoding="utf-8"))["claims"]
    claim = claims[-1]
    other_verdict = next(c["verdict"] for c in claims if c["verdict"] != claim["verdict"])
    page = browser_page
    page.goto(f"{base_url}claims/?verdict={other_verdict}#claim-{claim['slug']}-{claim['id']}", wait_until="load")
    assert page.locator(f"#claim-{claim['slug']}-{claim['id']}").is_visible(), "a permalinked row stayed hidden by the filters"


def test_verdict_bars_agree_with_claims_json(browser_page, base_url, site):
    from collections import Counter

    claims = json.loads((site / "claims.json").read_text(encoding="utf-8"))["claims"]
    expected = {}
    for claim in claims:
        expected.setdefault(claim["slug"], Counter())[claim["verdict"]] += 1
    page = browser_page
    for url, slug in [(f"{base_url}{claims[0]['note']}", claims[0]["slug"])] + [(f"{base_url}papers/", None)]:
        page.goto(url, wait_until="load")
        bars = page.eval_on_selector_all(
            ".verdict-bar", "bars => bars.map(b => Array.from(b.querySelectorAll('rect')).map(r => [r.dataset.verdict, +r.dataset.count]))"
        )
        found = [Counter(dict(bar)) for bar in bars]
        wanted = [expected[slug]] if slug else list(expected.values())
        assert sorted(map(sorted, map(Counter.items, found))) == sorted(map(sorted, map(Counter.items, wanted))), url


def test_the_navigation_lists_each_paper_once(browser_page, base_url):
    from papersite.layout import Layout
    from papersite.notes import read_notes

    page = browser_page
    page.goto(base_url + "papers/", wait_until="load")
    labels = page.eval_on_selector_all(".md-sidebar--primary .md-nav__link", "links => links.map(l => l.textContent.trim())")
    for note in read_notes(Layout(ROOT))[0]:
        assert labels.count(note.meta["title"]) == 1, f"{note.meta['title']!r} appears {labels.count(note.meta['title'])} times"


WIDTHS = {"desktop": 1280, "phone": 390}
SCREENSHOTS = ROOT / "screenshots"


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_no_page_is_wider_than_the_screen(browser_page, base_url, site, device):
    page = browser_page
    page.set_viewport_size({"width": WIDTHS[device], "height": 900})
    try:
        too_wide = []
        for url in _page_urls(site):
            page.goto(base_url + url, wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTHS[device]:
                too_wide.append(f"/{url}: {width} px")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    assert not too_wide, f"wider than {WIDTHS[device]} px:\n" + "\n".join(too_wide)


def test_screenshots_for_review(browser_page, base_url, site):
    """Home, one note, the claims page and one companion at both widths, for a reviewer without a browser."""
    claims = json.loads((site / "claims.json").read_text(encoding="utf-8"))["claims"]
    shots = {"home": "", "note": claims[0]["note"], "claims": "claims/", "companion": claims[0]["check"].split("#")[0]}
    SCREENSHOTS.mkdir(exist_ok=True)
    page = browser_page
    try:
        for device, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            for name, url in shots.items():
                page.goto(base_url + url, wait_until="load")
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{device}.png"), full_page=False)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 2 * len(shots)


def test_no_serious_accessibility_violation_on_any_page(browser_page, base_url, site):
    """axe-core (bundled by axe-playwright-python, nothing fetched) on every page, in both palettes."""
    from axe_playwright_python.sync_playwright import Axe

    axe, found = Axe(), []
    for scheme in ("light", "dark"):  # the site follows the reader's preference: light is 'default', dark is 'slate'
        context = browser_page.context.browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        for url in _page_urls(site):
            page.goto(base_url + url, wait_until="load")
            for violation in axe.run(page).response["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
                    found.append(f"/{url} [{scheme}] {violation['impact']} {violation['id']}: {violation['help']} at {targets}")
        context.close()
    assert not found, "\n".join(found)


def test_palette_toggle_switches_the_color_scheme(browser_page, base_url):
    page = browser_page
    page.goto(base_url, wait_until="load")
    before = page.get_attribute("body", "data-md-color-scheme")
    page.locator("[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') !== {json.dumps(before)}")


def test_no_request_leaves_127_0_0_1(browser_page, requests_made):
    assert requests_made, "no requests were recorded: the other browser tests did not run"
    remote = [url for url in requests_made if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert not remote, f"requests to other hosts: {sorted(set(remote))}"
