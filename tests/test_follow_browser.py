"""Issue 18 in a real Chromium: a shopper reports a recalled product, a business page offers the reply
link, a follow link gives a valid feed, and the QR code on a page decodes to that page's address.

Datasette and Chromium are started as in tests/test_browser.py (whose fixtures are reused). Expected
channels come from db/channels.csv, records from SQL on the same demo file. QR codes are decoded with
zxing-cpp from a screenshot of the code as the browser drew it.
"""
import io
import sqlite3
import types
import urllib.request

import pytest
from datasette.utils import tilde_encode

import test_browser
from test_feeds import validate
from test_report_reply_follow import expected_channels

# Datasette, Chromium and a page as tests/test_browser.py starts them (its fixtures and markers, reused).
browser, page, site, shot, pytestmark = (test_browser.browser, test_browser.page, test_browser.site, test_browser.shot,
                                         test_browser.pytestmark)


def channels_on(page):
    return set(page.locator("li.channel").evaluate_all("els => els.map(e => e.dataset.channel)"))


def report_from_recall(site, page, demo_db, kind, province_code):
    """Open a recall of `kind`, follow its report link and choose the province, as a shopper would."""
    with sqlite3.connect(demo_db) as conn:
        recall_id = conn.execute("select id from recalls where kind = ? and not counterfeit order by source not like 'vn_%', id limit 1",
                                 [kind]).fetchone()[0]
    path = "/minhbach/recalls/" + tilde_encode(recall_id)
    page.goto(site + path)
    page.click("a.report-link")
    page.wait_for_load_state("networkidle")
    assert "/phan-anh" in page.url
    assert page.locator("select#kind").input_value() == kind          # prefilled from the record
    page.select_option("select#province", province_code)
    page.click("form.report-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert site + path in page.locator("main, body").first.inner_text()  # the record's address, ready to quote
    return path


def test_a_drug_recall_in_ha_noi_reaches_the_ha_noi_channel(site, page, demo_db):
    report_from_recall(site, page, demo_db, "drug", "01")
    shown = channels_on(page)
    assert shown == expected_channels("drug", "01")
    assert page.locator("li.channel .authority", has_text="Sở Y tế Hà Nội").count() >= 1
    shot(page, "report-drug-ha-noi")


def test_a_food_recall_in_another_province_reaches_the_national_food_channel(site, page, demo_db):
    report_from_recall(site, page, demo_db, "food", "48")
    shown = channels_on(page)
    assert shown == expected_channels("food", "48")
    assert page.locator("li.channel .authority", has_text="Cục An toàn thực phẩm").count() == 1
    assert page.locator("li.channel .authority", has_text="Hà Nội").count() == 0
    shot(page, "report-food-da-nang")


@pytest.fixture(scope="module")
def business(demo_db):
    with sqlite3.connect(demo_db) as conn:
        return conn.execute("select id, name from establishments where tax_code is not null "
                            "and violations_count > 0 order by id limit 1").fetchone()


def test_a_business_page_shows_the_reply_link(site, page, business):
    page.goto(site + "/minhbach/establishments/" + tilde_encode(business[0]))
    link = page.locator("a.reply-link")
    assert link.is_visible()
    assert "Báo sai sót / Phản hồi của cơ sở" in link.inner_text()
    link.click()
    page.wait_for_load_state("networkidle")
    assert "/phan-hoi" in page.url
    assert page.locator("h1").inner_text().startswith("Báo sai sót")
    shot(page, "reply")


def test_a_follow_link_gives_a_valid_feed(site, page, business):
    page.goto(site + "/minhbach/establishments/" + tilde_encode(business[0]))
    hrefs = page.locator("a.follow-link").evaluate_all("els => els.map(e => e.href)")
    assert any("/establishment_feed.atom" in h for h in hrefs) and any("/tax_code_feed.atom" in h for h in hrefs)
    for href in hrefs:
        with urllib.request.urlopen(href, timeout=10) as answer:
            response = types.SimpleNamespace(status_code=answer.status, headers=answer.headers, content=answer.read())
        entries = validate(response, href)
        if "/establishment_feed.atom" in href:
            assert entries, "this business has penalties: its feed has entries"


@pytest.mark.parametrize("table", ["establishments", "listings"])
def test_the_qr_code_decodes_to_the_pages_address(site, page, demo_db, table):
    import zxingcpp
    from PIL import Image
    with sqlite3.connect(demo_db) as conn:
        pk = conn.execute(f"select id from {table} order by id limit 1").fetchone()[0]
    path = f"/minhbach/{table}/" + tilde_encode(pk)
    page.goto(site + path)
    code = page.locator("figure.qr svg")
    code.scroll_into_view_if_needed()
    image = Image.open(io.BytesIO(code.screenshot()))
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [site + path], decoded
    assert page.locator("figure.qr").get_attribute("data-url") == site + path
    page.locator("section.carry-record details summary").click()      # the badge, as a shop would embed it
    assert page.locator("section.carry-record img").evaluate("img => img.complete && img.naturalWidth > 0")
    shot(page, f"qr-{table}")
