"""The pages people see first, in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Screenshots are saved to tests/artifacts/ for a person to look at.
"""
import shutil
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from db.serving import free_port, serve_args

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (.ci/run installs it)")]


def serve_command(db, port):
    """`make serve`'s Datasette options (db/serving.py), one process, for the given database file."""
    return [str(ROOT / ".venv/bin/datasette"), "serve", "-i", str(db), *serve_args(),
            "--host", "127.0.0.1", "--port", str(port)]


def serve(db):
    """`make serve`, on a free port, for the given database file."""
    port = free_port()
    process = subprocess.Popen(serve_command(db, port), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("datasette did not start")


@pytest.fixture(scope="module")
def site(demo_db):
    process, base = serve(demo_db)
    yield base
    process.terminate()
    process.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_from_the_home_page(site, page):
    page.goto(site + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.fill("input[name=q]", "da nang")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert "/minhbach/search" in page.url
    assert page.locator("input[name=q]").input_value() == "da nang"     # what the user typed
    marks = page.locator("mark")
    assert marks.count() > 0
    assert any("Đà Nẵng" in text or "Đà" in text for text in marks.all_inner_texts())
    shot(page, "search-da-nang")


def test_map_shows_markers_for_demo_violations(site, page):
    page.goto(site + "/ban-do")
    page.click("a[href*='/minhbach/map_violations']")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster", timeout=15000)
    assert page.locator(".leaflet-marker-icon, .marker-cluster").count() > 0
    # Zoom out to the single clusters and open one marker's popup: it names the business and links to it.
    page.locator(".leaflet-marker-icon").last.click()
    popup = page.locator(".leaflet-popup-content")
    if popup.count() == 0:   # a cluster: clicking zooms in; click a single marker after
        page.wait_for_timeout(800)
        page.locator(".leaflet-marker-icon:not(.marker-cluster)").first.click()
    page.wait_for_selector(".leaflet-popup-content a[href*='/minhbach/violations/']", timeout=5000)
    shot(page, "map-violations")


def test_business_page(site, page, demo_db):
    conn = sqlite3.connect(demo_db)
    establishment_id, name = conn.execute(
        "select id, name from establishments where violations_count > 0 and id like 'tax:%' limit 1").fetchone()
    conn.close()
    page.goto(site + "/minhbach/establishments/" + establishment_id.replace(":", "~3A"))
    assert name in page.locator("h1").inner_text()
    assert page.get_by_text("Cục Quản lý Dược").count() + page.locator("a[href*='/minhbach/violations/']").count() > 0
    shot(page, "business")


def test_barcode_lookup(site, page):
    page.goto(site + "/ma-vach")
    page.fill("input[name=gtin]", "3555801358876")
    page.press("input[name=gtin]", "Enter")
    page.wait_for_load_state("networkidle")
    body = page.locator("main, body").first.inner_text()
    assert "thu hồi" in body.lower() and "3555801358876" in body
    shot(page, "barcode")


def test_record_page_at_phone_width(site, browser, demo_db):
    conn = sqlite3.connect(demo_db)
    record_id, product = conn.execute(
        "select id, product from recalls where source = 'vn_news_recalls' and lots is not null limit 1").fetchone()
    conn.close()
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    page = context.new_page()
    page.goto(site + "/minhbach/recalls/" + record_id.replace(":", "~3A"))
    assert product in page.inner_text("body")
    # Nothing wider than the phone: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    shot(page, "recall-phone")
    context.close()


def test_scraped_html_stays_inert(browser, tmp_path):
    """Text with <script>, javascript: links and Markdown links renders as text; nothing runs."""
    from db import build
    db = tmp_path / "minhbach.db"
    build.prepare(db)
    conn = sqlite3.connect(db)
    conn.execute("""insert into violations (id, source, source_id, url, establishment, violation, address, jurisdiction)
                    values ('x:1', 'x', '1', 'javascript:window.__xss=1',
                            '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">',
                            '[bấm vào đây](javascript:window.__xss=1)', '<b>bold</b>', 'VN')""")
    conn.commit()
    conn.close()
    build.finalize(db)
    process, base = serve(db)
    try:
        page = browser.new_page()
        for path in ("/minhbach/violations/x~3A1", "/minhbach/violations", "/minhbach/search?q=script"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__xss") is None, path
            assert page.locator("a[href^='javascript:']").count() == 0, path
            assert "<script>window.__xss=1</script>" in page.inner_text("body"), path   # shown as text
        page.close()
    finally:
        process.terminate()
        process.wait()


CONTRAST_JS = """() => {
  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
                               if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3); } return [255, 255, 255]; };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.visibility === 'hidden' || style.display === 'none' || !el.getClientRects().length) continue;
    const fg = parse(style.color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} < ${needed} "${el.textContent.trim().slice(0, 40)}"`);
  }
  return failures;
}"""
PAGES = ["/", "/minhbach/search?q=sua", "/ma-vach?gtin=3555801358876", "/nguon", "/thong-ke", "/api", "/gan-toi",
         "/ban-do", "/minhbach/recalls/us_fda_recalls~3A219865"]


@pytest.mark.parametrize("path", PAGES)
def test_accessibility_basics(site, page, path):
    """lang="vi", one h1 and no skipped heading level, every input labelled, text contrast ≥ WCAG AA."""
    page.goto(site + path)
    assert page.locator("html").get_attribute("lang") == "vi"
    levels = [int(tag[1]) for tag in page.eval_on_selector_all("main h1, main h2, main h3, main h4, h1",
                                                                 "els => els.map(e => e.tagName)")]
    assert levels.count(1) == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    unlabelled = page.eval_on_selector_all(
        "input:not([type=hidden]):not([type=submit]), select, textarea",
        "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)")
    assert unlabelled == []
    assert page.evaluate(CONTRAST_JS) == []


def test_contrast_check_catches_pale_text(page):
    page.set_content('<html lang="vi"><body><p style="color:#ccc">nhạt quá</p><p>đủ đậm</p></body></html>')
    failures = page.evaluate(CONTRAST_JS)
    assert len(failures) == 1 and "nhạt quá" in failures[0]
