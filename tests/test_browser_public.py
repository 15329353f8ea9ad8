"""The public pages of issue 17 in Debian's Chromium at 375 px and 1280 px: a shopper's tasks, one h1,
no horizontal scroll, WCAG AA text contrast, ≤ 100 KB of compressed HTML; screenshots in tests/artifacts/."""
import gzip
import sqlite3
import urllib.request

import pytest

import test_browser
from test_browser import ARTIFACTS, CONTRAST_JS

pytestmark = test_browser.pytestmark   # browser mark, skipped without Debian's chromium
WIDTHS = [375, 1280]
PAGES = {"home": "/", "thu-hoi": "/thu-hoi", "xu-phat": "/xu-phat", "xep-hang": "/xep-hang-chung-nhan",
         "thu-hoi-en": "/thu-hoi?lang=en", "404": "/khong-co-trang-nay", "home-en": "/?lang=en"}


# The server and the browser of tests/test_browser.py (one definition; each module starts its own).
site, browser = test_browser.site, test_browser.browser


@pytest.fixture(params=WIDTHS)
def page(browser, request):
    context = browser.new_context(viewport={"width": request.param, "height": 900}, is_mobile=request.param < 500)
    page = context.new_page()
    page.width = request.param
    yield page
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"public-{name}-{page.width}.png"), full_page=True)


def check_page(page, name):
    assert page.locator("h1").count() == 1, name
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width + 1, name
    assert page.evaluate(CONTRAST_JS) == [], name
    shot(page, name)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_is_readable_and_small(site, page, name):
    page.goto(site + PAGES[name])
    check_page(page, name)
    request = urllib.request.Request(site + PAGES[name], headers={"Accept-Encoding": "gzip"})
    try:
        response = urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:   # the 404 page
        response = error
    body = response.read()
    assert response.headers.get("Content-Encoding") == "gzip"
    assert len(body) <= 100_000
    gzip.decompress(body)


@pytest.mark.parametrize("q", ["sữa", "sua"])
def test_search_a_product_with_and_without_diacritics(site, page, q):
    page.goto(site + "/thu-hoi")
    page.fill("main input[name=q]", q)
    page.press("main input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert "/thu-hoi?" in page.url
    cards = page.locator(".public-cards li")
    assert cards.count() > 0
    check_page(page, "search-" + ("marked" if q == "sữa" else "plain"))


def test_open_a_recall_from_the_list(site, page, demo_db):
    page.goto(site + "/thu-hoi?jurisdiction=VN")
    first = page.locator(".public-cards li a").first
    title = first.inner_text().rstrip("…")
    first.click()
    page.wait_for_load_state("networkidle")
    assert "/minhbach/recalls/" in page.url
    assert title[:40] in page.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width + 1
    shot(page, "recall-from-list")


def test_open_a_penalised_business(site, page, demo_db):
    conn = sqlite3.connect(demo_db)
    (n,), = conn.execute("select count(*) from violations where establishment_id is not null").fetchall()
    conn.close()
    assert n > 0
    page.goto(site + "/xu-phat")
    page.locator(".public-cards a.more").first.click()
    page.wait_for_load_state("networkidle")
    assert "/minhbach/establishments/" in page.url
    assert page.locator("h1").count() == 1
    shot(page, "business-from-list")


def test_switch_to_english(site, page):
    page.goto(site + "/thu-hoi")
    page.click("nav.site-nav a[hreflang=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Product recalls and warnings"
    page.click("nav.site-nav a[hreflang=vi]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Thu hồi, cảnh báo sản phẩm"


RATIO_JS = """el => {
  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number).slice(0, 3);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const s = getComputedStyle(el);
  const [a, b] = [lum(parse(s.color)), lum(parse(s.backgroundColor))].sort((x, y) => y - x);
  return {ratio: (a + 0.05) / (b + 0.05), size: parseFloat(s.fontSize)};
}"""


def test_datasette_table_page_buttons_and_facets(site, page):
    """Power users' pages: buttons at WCAG AA, "Export CSV" readable, facet values not broken inside a word."""
    page.goto(site + "/minhbach/violations?_facet=authority")
    for selector in ["form input[type=submit]", ".advanced-export input[type=submit]"]:
        for el in page.locator(selector).all():
            if el.is_visible():
                style = el.evaluate(RATIO_JS)
                assert style["ratio"] >= 4.5 and style["size"] >= 14, (selector, style)
    # A facet list as Datasette writes one (its facets may time out on a busy machine, so one is added
    # to the page under the site's stylesheet): wrapped between words only.
    page.evaluate("""() => { const d = document.createElement('div'); d.className = 'facet-info';
        d.innerHTML = '<ul class="tight-bullets"><li>Sở Nông nghiệp và Phát triển nông thôn thành phố Đà Nẵng</li></ul>';
        document.querySelector('main').appendChild(d); }""")
    breaks = page.eval_on_selector_all(
        "ul.tight-bullets li", "els => els.map(e => getComputedStyle(e).wordBreak)")
    assert breaks and set(breaks) == {"normal"}
    shot(page, "datasette-violations")
