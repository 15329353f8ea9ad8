"""/ban-do is the map (issue 17, item 3), in Debian's Chromium through Playwright, at 375 px and 1280 px:
it opens on Vietnam with the site's header, one h1 and a legend; penalties near a ward are on it; a popup
says what happened, when, the fine with the source's hedge word and links to the record; the list beside
the map reaches every visible point by keyboard; the page fits the screen and passes the contrast check.
Expected values come from SQL on the same database. Screenshots go to tests/artifacts/."""
import re
import sqlite3

import pytest

import test_browser
from test_browser import ARTIFACTS, CHROMIUM, CONTRAST_JS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian chromium not installed")]

WIDTHS = [375, 1280]


# The server and the browser of tests/test_browser.py (one definition; each module starts its own).
site, browser = test_browser.site, test_browser.browser


def open_page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN", is_mobile=width < 500)
    # No network in tests: the OpenStreetMap tiles are refused at once instead of timing out.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def wait_for_map(page, renders=1):
    """Until the map drew its answer (polled: the site's CSP forbids the eval wait_for_function uses)."""
    for _ in range(150):
        if page.evaluate("Number(document.body.dataset.mapReady || 0)") >= renders:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the map did not draw")


def db_value(demo_db, sql, *params):
    conn = sqlite3.connect(demo_db)
    try:
        return conn.execute(sql, params).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_map_opens_on_vietnam_with_legend_and_header(site, browser, demo_db, width):
    context, page, errors = open_page(browser, width)
    page.goto(site + "/ban-do")
    wait_for_map(page)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").count() == 1
    assert page.locator("nav.site-nav").count() == 1                          # the site's header
    bounds = page.evaluate("(() => { const b = window.__banDo.map.getBounds(); "
                           "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")
    south, west, north, east = bounds
    # Vietnam (Mũi Cà Mau 8.6 N to Lũng Cú 23.4 N) is in view, and the view is not the world.
    assert south <= 8.6 and north >= 23.3 and west <= 104.5 and east >= 109.0, bounds
    assert north - south < 40 and east - west < 60, bounds
    legend = page.locator(".legend").all_inner_texts()
    text = " ".join(legend)
    for word in ("xử phạt", "vị trí chính xác", "phường", "quận, huyện cũ", "trung tâm tỉnh"):
        assert word in text.lower(), (word, text)
    # precision counts in the legend are the file's (summary_geo, SQL on the same rows)
    point, district = db_value(demo_db, "select sum(geo_precision = 'point'), sum(geo_precision = 'district') from violations")
    assert f"({point})" in text and f"({district})" in text
    # every row in the box the map asked for is listed (points mode at the national view in the demo)
    w, s, e, n = map(float, page.evaluate("window.__banDo.bbox"))
    in_box = db_value(demo_db, """select count(*) from violations where latitude between ? and ?
                                  and longitude between ? and ?""", s, n, w, e)[0]
    assert in_box and page.locator("#map-list li").count() == in_box
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / f"ban-do-{width}.png"), full_page=True)
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_penalties_near_a_ward_popup_and_keyboard_list(site, browser, demo_db, width):
    """Penalties in Đà Nẵng (placed at Hải Châu's wards), their popup, and the list reached by Tab."""
    ARTIFACTS.mkdir(exist_ok=True)
    row = db_value(demo_db, """select id, establishment, violation, decided, fine_vnd, fine_qualifier, province_code
                               from violations where latitude is not null and fine_vnd is not null and decided is not null
                               and province_code is not null order by fine_qualifier is null, id limit 1""")
    record_id, name, violation, decided, fine_vnd, qualifier, province_code = row
    in_province = db_value(demo_db, "select count(*) from violations where province_code = ? and latitude is not null",
                           province_code)[0]
    context, page, errors = open_page(browser, width)
    page.goto(site + f"/ban-do?kind=violations&province_code={province_code}")
    wait_for_map(page)
    items = page.locator("#map-list li")
    assert items.count() == in_province
    # Tab from the top of the page reaches a record link in the list beside the map.
    page.locator("body").click(position={"x": 1, "y": 1})
    reached = False
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("!!(document.activeElement && document.activeElement.closest('#map-list a'))"):
            reached = True
            break
    assert reached, "the list beside the map is not reachable by Tab"
    # The row's "show on the map" button opens its popup: what, when, the fine with its hedge word, a link.
    href = "/minhbach/violations/" + record_id.replace(":", "~3A")
    item = page.locator("#map-list li").filter(has=page.locator(f"a[href='{href}']"))
    item.locator("button").focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert popup.locator(f"a[href='{href}']").count() == 1 and name in text
    assert (violation or "")[:40] in text
    y, m, d = (decided.split("-") + [None, None])[:3]
    assert "/".join(p for p in (d, m, y) if p) in text
    amount = f"{fine_vnd:,}".replace(",", ".")
    assert (f"{qualifier} {amount}" if qualifier else amount) + " đồng" in text, text
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert page.locator("h1").count() == 1
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / f"ban-do-popup-{width}.png"), full_page=True)
    context.close()
    assert not errors, errors


def test_filters_use_stored_counts_and_the_year(site, browser, demo_db):
    """The year filter draws that year's rows only; the choices carry the counts stored at finalize."""
    year = db_value(demo_db, """select year from violations where latitude is not null and year is not null
                                and jurisdiction = 'VN' group by year order by count(*) desc limit 1""")[0]
    context, page, errors = open_page(browser, 1280)
    page.goto(site + f"/ban-do?kind=violations&year={year}")
    wait_for_map(page)
    w, s, e, n = map(float, page.evaluate("window.__banDo.bbox"))
    in_box = db_value(demo_db, """select count(*) from violations where year = ? and latitude between ? and ?
                                  and longitude between ? and ?""", year, s, n, w, e)[0]
    assert in_box and page.locator("#map-list li").count() == in_box
    stored = db_value(demo_db, """select count from facet_counts where table_name = 'violations' and filter_column = ''
                                  and facet_column = 'year' and value = ?""", year)[0]
    assert f"{year} ({stored})" in page.locator("#year").inner_text()
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_near_a_ward_page(site, browser, demo_db, width):
    """/gan-toi around a 2025 ward: fits the screen, one h1, every distance with its precision, contrast."""
    ward_code, province_code = db_value(demo_db, "select ward_code, province_code from wards where ward = 'Phường Hải Châu'")
    context, page, errors = open_page(browser, width)
    page.goto(site + f"/gan-toi?province={province_code}&ward={ward_code}")
    assert page.locator("h1").count() == 1
    items = page.locator("ol.cards li")
    assert items.count() > 0
    for text in items.all_inner_texts():
        km = float(re.search(r"([\d.]+) km", text).group(1))
        assert km <= 100 and re.search(r"vị trí chính xác|trung tâm (đường phố|thị trấn|phường|quận)", text), text
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / f"gan-toi-{width}.png"), full_page=True)
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_from_near_me_to_the_map_around_a_ward(site, browser, demo_db, width):
    """"Xem trên bản đồ" on /gan-toi opens the map around the ward: the penalties there, from SQL."""
    ward_code, province_code, lat, lon = db_value(
        demo_db, "select ward_code, province_code, latitude, longitude from wards where ward = 'Phường Hải Châu'")
    context, page, errors = open_page(browser, width)
    page.goto(site + f"/gan-toi?province={province_code}&ward={ward_code}")
    page.click(f"a[href='/ban-do?ward={ward_code}']")
    wait_for_map(page)
    assert page.locator("h1").count() == 1 and "Phường Hải Châu" in page.inner_text("main")
    south, west, north, east = page.evaluate("(() => { const b = window.__banDo.map.getBounds(); "
                                             "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")
    assert south < lat < north and west < lon < east and north - south < 1
    w, s, e, n = map(float, page.evaluate("window.__banDo.bbox"))
    ids = {r[0] for r in sqlite3.connect(demo_db).execute(
        "select id from violations where latitude between ? and ? and longitude between ? and ?", (s, n, w, e))}
    assert ids, "the demo holds penalties near Hải Châu"
    hrefs = page.eval_on_selector_all("#map-list li > a", "els => els.map(a => a.getAttribute('href'))")
    assert {h.rsplit("/", 1)[1].replace("~3A", ":") for h in hrefs} == ids
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert page.evaluate(CONTRAST_JS) == []
    page.screenshot(path=str(ARTIFACTS / f"ban-do-ward-{width}.png"), full_page=True)
    context.close()
    assert not errors, errors
