"""The public site (templates/, static/, plugins/site_pages.py) on the demo data, through Datasette's
in-process client: every page answers with real rows, links resolve, feeds are Atom, scraped text is
escaped."""
import asyncio
import csv
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote, unquote

import pytest
from datasette.utils import tilde_encode

from conftest import ROOT, SAMPLES

ATOM = "{http://www.w3.org/2005/Atom}"


def get(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:500])
    return response.text


def query(db_path, sql, params=()):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def row_path(table, pk):
    return f"/minhbach/{table}/{tilde_encode(pk)}"


class Page(HTMLParser):
    """Links, headings, form inputs and visible text of a page."""

    def __init__(self, html):
        super().__init__()
        self.links, self.headings, self.inputs, self.labels, self.text = [], [], [], set(), []
        self.lang = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in ("input", "select") and attrs.get("type") != "hidden":
            self.inputs.append(attrs.get("id"))
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])

    def handle_data(self, data):
        self.text.append(data)

    @property
    def body(self):
        return " ".join(" ".join(self.text).split())


def check_accessible(html):
    """lang="vi", one h1 first, no skipped heading level, every input labelled."""
    page = Page(html)
    assert page.lang == "vi"
    assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1, page.headings
    for before, after in zip(page.headings, page.headings[1:]):
        assert after <= before + 1, page.headings
    assert all(i and i in page.labels for i in page.inputs), (page.inputs, page.labels)
    return page


# ---- Home ----------------------------------------------------------------------------------------

def test_home_shows_latest_records_counts_and_sources(datasette, demo_db):
    html = get(datasette, "/")
    page = check_accessible(html)
    # Ties: a weekly FDA Enforcement Report publishes many recalls on one date; any of them may be listed.
    newest = query(demo_db, "select id, coalesce(title, product) as name from recalls where withdrawn is null "
                            "and published = (select max(published) from recalls where withdrawn is null)")
    shown = [r for r in newest if row_path("recalls", r["id"]) in page.links]
    assert shown and shown[0]["name"][:100] in page.body   # long titles are shortened on display
    penalty = query(demo_db, "select id, establishment from violations where withdrawn is null "
                             "order by decided is null, decided desc, first_seen desc limit 1")[0]
    assert penalty["establishment"] in page.body and row_path("violations", penalty["id"]) in page.links
    (n_recalls,), = query(demo_db, "select count(*) from recalls where withdrawn is null")
    assert f'<span class="n">{n_recalls}</span>' in html
    for source in query(demo_db, "select source from sources"):
        assert row_path("sources", source["source"]) in page.links
    for path in ("/ma-vach", "/gan-toi", "/ban-do", "/thong-ke", "/nguon", "/api",
                 "/minhbach/recent_recalls.atom", "/minhbach/recent_violations.atom"):
        assert path in page.links, path
    assert 'action="/minhbach/search"' in html


def test_every_internal_link_on_home_resolves(datasette):
    page = Page(get(datasette, "/"))
    internal = {link for link in page.links if link.startswith("/") and not link.endswith(".db")}
    assert len(internal) > 30
    for link in sorted(internal):
        get(datasette, link.replace("&amp;", "&"))


# ---- Search --------------------------------------------------------------------------------------

def result_links(html):
    return [link for link in Page(html).links if re.match(r"/minhbach/(recalls|violations|listings|establishments)/", link)]


def test_search_with_and_without_diacritics_finds_the_same_rows_highlighted(datasette):
    plain = get(datasette, "/minhbach/search?q=da+nang")
    marked = get(datasette, "/minhbach/search?q=" + quote("Đà Nẵng"))
    check_accessible(marked)
    assert result_links(plain) and result_links(plain) == result_links(marked)
    assert "<mark>Đà</mark> <mark>Nẵng</mark>" in marked and "<mark>Nẵng</mark>" in plain
    assert 'value="Đà Nẵng"' in marked and 'value="da nang"' in plain    # the query as typed
    api = asyncio.run(datasette.client.get("/minhbach/search.json?_shape=array&q=da+nang")).json()
    assert sorted(result_links(plain)) == sorted(row_path(r["kind"], r["id"]) for r in api)
    assert 'id="violations"' in marked and "Xử phạt" in marked        # grouped by kind
    for link in result_links(marked):
        get(datasette, link)


def test_search_page_without_a_query(datasette):
    html = get(datasette, "/minhbach/search")
    check_accessible(html)
    assert 'name="q"' in html and "kết quả" not in html


# ---- Record pages --------------------------------------------------------------------------------

def test_recall_page(datasette, demo_db):
    r = query(demo_db, "select * from recalls where quality_flags is not null and url like 'http%' limit 1")[0]
    html = get(datasette, row_path("recalls", r["id"]))
    page = check_accessible(html)
    assert r["title"] in page.body
    # The advice depends on the recall's kind and status (tests/test_trust_recalls.py checks each).
    assert "Người tiêu dùng nên làm gì" in html and "Trạng thái:" in page.body
    english = Page(get(datasette, row_path("recalls", r["id"]) + "?lang=en"))
    assert english.lang == "en" and "What to do" in english.body and "Status:" in english.body
    assert f'href="{r["url"]}"' in html
    (licence,), = query(demo_db, "select licence from sources where source = ?", (r["source"],))
    assert licence in page.body
    history = [link for link in page.links if link.startswith("/minhbach/versions?record_id=")]
    assert [unquote(link.split("=", 1)[1]) for link in history] == [r["id"]]
    flag = query(demo_db, "select json_extract(value, '$.value') as v, json_extract(value, '$.reason') as why "
                          "from json_each(?)", (r["quality_flags"],))[0]
    assert str(flag["v"]) in page.body and flag["why"] in page.body
    assert "Thấy lần cuối" in html


def test_recall_page_shows_no_lag_for_a_record_a_fresh_build_collected(datasette, demo_db):
    """The demo build collected every recall years after its date: a lag would measure the build
    (tests/test_trust_pages.py shows the lag of a record a later run picked up)."""
    r = query(demo_db, "select id, cast(julianday(substr(first_seen, 1, 10)) - julianday(published) as integer) as lag "
                       "from recalls where published_precision = 'day' and length(published) = 10 limit 1")[0]
    html = get(datasette, row_path("recalls", r["id"]))
    assert f"{r['lag']} ngày sau khi công bố" not in html and "Minh Bạch thu thập lần đầu" in html


def test_recall_links_only_to_the_establishment_with_its_own_key(datasette, demo_db):
    # Never by a name or key prefix (tests/test_identity.py: a recall and its business, full files).
    recalls = query(demo_db, "select id, establishment_id from recalls where establishment_id is not null "
                             "order by id limit 20")
    assert recalls
    for r in recalls:
        links = {link for link in Page(get(datasette, row_path("recalls", r["id"]))).links
                 if link.startswith("/minhbach/establishments/")}
        known = query(demo_db, "select id from establishments where id = ?", (r["establishment_id"],))
        assert links == {row_path("establishments", e["id"]) for e in known}


def test_violation_page(datasette, demo_db):
    v = query(demo_db, "select * from violations where source = 'vn_news_violations' and fine_vnd > 0 "
                       "and establishment_id is not null and decision_no is not null limit 1")[0]
    html = get(datasette, row_path("violations", v["id"]))
    page = check_accessible(html)
    assert v["establishment"] in page.body and v["decision_no"] in page.body
    assert f"{v['fine_vnd']:,}".replace(",", ".") in page.body
    assert row_path("establishments", v["establishment_id"]) in page.links
    assert "Ngày quyết định" in html


def test_listing_page(datasette, demo_db):
    item = query(demo_db, "select * from listings where scheme = 'OCOP' and establishment_id is not null limit 1")[0]
    html = get(datasette, row_path("listings", item["id"]))
    page = check_accessible(html)
    assert "OCOP" in page.body and item["rating"] in page.body
    assert row_path("establishments", item["establishment_id"]) in page.links


def test_business_page_of_an_establishment_from_the_sample(datasette, demo_db):
    with open(SAMPLES / "vn_news_violations.csv", encoding="utf-8-sig", newline="") as f:
        name = next(csv.DictReader(f))["Tên cơ sở"]
    (eid,), = query(demo_db, "select establishment_id from violations where establishment = ?", (name,))
    html = get(datasette, row_path("establishments", eid))
    page = check_accessible(html)
    assert name in page.body
    for v in query(demo_db, "select id from violations where establishment_id = ?", (eid,)):
        assert row_path("violations", v["id"]) in page.links


def test_business_page_counts_only_recalls_with_its_key(demo_db):
    # The page itself is tested on the full files (tests/test_identity.py): no sample recall names a
    # sample business on evidence (tax code, or the same name at the same address).
    counted = query(demo_db, "select coalesce(sum(recalls_count), 0) as n from establishments")[0]["n"]
    linked = query(demo_db, "select count(*) as n from recalls r join establishments e on e.id = r.establishment_id "
                            "where r.withdrawn is null")[0]["n"]
    assert counted == linked


# ---- Pages ---------------------------------------------------------------------------------------

def test_statistics_bars_link_to_their_rows(datasette, demo_db):
    html = get(datasette, "/thong-ke")
    page = check_accessible(html)
    top = query(demo_db, "select province_code, count(*) as n from violations where province_code is not null "
                         "group by 1 order by 2 desc limit 1")[0]
    assert f"/minhbach/violations?province_code={top['province_code']}" in page.links
    month = query(demo_db, "select substr(published, 1, 7) as m, count(*) as n from recalls where length(published) >= 7 "
                           "group by 1 order by 1 desc limit 1")[0]
    assert f"/minhbach/recalls?published__startswith={month['m']}" in page.links
    for link in page.links:
        if "__startswith=" in link or "province_code=" in link:
            get(datasette, link.replace("&amp;", "&"))


def test_barcode_page_finds_the_recall_of_a_known_gtin(datasette, demo_db):
    r = query(demo_db, "select r.id, coalesce(r.title, r.product) as name, g.value as gtin "
                       "from recalls r join json_each(r.gtins) g where r.gtins is not null limit 1")[0]
    html = get(datasette, f"/ma-vach?gtin={r['gtin']}")
    page = check_accessible(html)
    assert r["name"] in page.body and row_path("recalls", r["id"]) in page.links
    assert "Hợp lệ" in html and "Không hợp lệ" not in html


def test_barcode_page_names_gs1_vietnam_and_checks_the_digit(datasette):
    from stdnum import ean
    html = get(datasette, "/ma-vach?gtin=8930000000001")
    assert "GS1 Vietnam" in html and "893" in html
    assert not ean.is_valid("8930000000001") and "Không hợp lệ" in html
    assert "số cuối phải là " + ean.calc_check_digit("893000000000") in html
    html = get(datasette, "/ma-vach?gtin=8930000000002")
    assert ean.is_valid("8930000000002") and "Hợp lệ" in html and "Không hợp lệ" not in html
    assert "không phải một mã GTIN" in get(datasette, "/ma-vach?gtin=12345")
    check_accessible(get(datasette, "/ma-vach"))


def test_near_me_by_coordinates_and_by_ward(datasette, demo_db):
    v = query(demo_db, "select id, latitude, longitude from violations where jurisdiction = 'VN' and latitude is not null limit 1")[0]
    html = get(datasette, f"/gan-toi?lat={v['latitude']}&lon={v['longitude']}")
    page = check_accessible(html)
    assert row_path("violations", v["id"]) in page.links and "0.0 km" in html
    assert "navigator.geolocation" in html
    w = query(demo_db, "select ward_code, ward, province_code from wards where province_code = ? limit 1",
              (query(demo_db, "select province_code from violations where province_code is not null limit 1")[0][0],))[0]
    html = get(datasette, f"/gan-toi?province={w['province_code']}&ward={w['ward_code']}")
    check_accessible(html)
    assert f"Kết quả gần {w['ward']}" in html and " km" in html
    assert "Tọa độ không hợp lệ" in get(datasette, "/gan-toi?lat=abc&lon=1")


def test_sources_page_lists_every_source_and_its_runs(datasette, demo_db):
    html = get(datasette, "/nguon")
    page = check_accessible(html)
    for s in query(demo_db, "select source, publisher, licence from sources"):
        assert s["source"] in page.body and s["publisher"] in page.body and s["licence"] in page.body
    assert "28/11" in page.body or "/20" in page.body                # dd/mm/yyyy run dates
    ok_sources = len(query(demo_db, "select distinct source from runs where status = 'ok'"))
    assert html.count("<td>ổn</td>") >= ok_sources
    assert get(datasette, "/nguon?lang=en").count("<td>ok</td>") >= ok_sources


def test_api_page_examples_answer(datasette):
    html = get(datasette, "/api")
    page = check_accessible(html)
    for needle in ("_shape=array", "_next", "_dl=1", "BOM", "/minhbach.db", "Access-Control-Allow-Origin", ".atom", "_facet="):
        assert needle in html, needle
    examples = [link.replace("&amp;", "&") for link in page.links if link.startswith("/minhbach/")]
    assert len(examples) >= 15
    for link in examples:
        get(datasette, link)
    plain, marked = (asyncio.run(datasette.client.get(u)).json() for u in
                     ("/minhbach/violations.json?_shape=array&_search=da+nang",
                      "/minhbach/violations.json?_shape=array&_search=" + quote("Đà Nẵng")))
    assert plain and plain == marked


def test_map_page_counts_rows_without_coordinates(datasette, demo_db):
    html = get(datasette, "/ban-do")
    page = check_accessible(html)
    for table in ("violations", "listings"):
        (missing,), = query(demo_db, f"select count(*) from {table} where latitude is null or longitude is null")
        assert f"{missing} không có tọa độ" in page.body, table
        assert f"/minhbach/{table}?latitude__isnull=1" in page.links
    assert 'name="province_code"' in html            # the map filters by province (issue 17)


# ---- Feeds ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/minhbach/recent_recalls.atom", "/minhbach/recent_violations.atom",
                                  "/minhbach/province_violations.atom?province_code=01", "/minhbach/search_feed.atom?q=sua"])
def test_atom_feeds_are_valid_with_entries(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    feed = ET.fromstring(response.content)
    assert feed.tag == ATOM + "feed" and feed.find(ATOM + "title").text and feed.find(ATOM + "updated").text
    entries = feed.findall(ATOM + "entry")
    assert entries
    for entry in entries:
        for child in ("id", "title", "updated"):
            assert (entry.find(ATOM + child).text or "").strip(), (path, child)
        assert re.match(r"\d{4}-\d\d-\d\dT", entry.find(ATOM + "updated").text)


# ---- Scraped text is escaped ---------------------------------------------------------------------

XSS = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def hostile(demo_db, tmp_path_factory):
    """The demo database plus records whose scraped text is HTML, served with the site's templates."""
    import sqlite_utils
    import yaml
    from datasette.app import Datasette

    path = tmp_path_factory.mktemp("hostile") / "minhbach.db"
    shutil.copy(demo_db, path)
    db = sqlite_utils.Database(path)
    seen = "2026-01-02T03:04:05Z"
    eid = "name:xss " + XSS + "|79"
    db["recalls"].insert({"id": "evil:1", "source": "vn_news_recalls", "source_id": "1", "url": "javascript:alert(1)",
                          "title": XSS + " Sữa độc", "hazard": '<img src=x onerror="alert(2)">', "remedy": XSS,
                          "gtins": '["8930000000002"]', "first_seen": seen, "last_seen": seen,
                          "quality_flags": '[{"column": "lots", "value": "' + XSS.replace("'", "") + '", "reason": "<b>bad</b>"}]',
                          "published": "2026-01-01", "published_precision": "day", "jurisdiction": "VN"})
    rowid = db.execute("select rowid from recalls where id = 'evil:1'").fetchone()[0]
    db.execute("insert into recalls_fts (rowid, folded) values (?, 'script alert sua doc')", [rowid])
    db["violations"].insert({"id": "evil:2", "source": "vn_news_violations", "source_id": "2", "url": "https://x.test/?a=<b>",
                             "establishment": XSS, "establishment_id": eid, "violation": XSS, "province_code": "79", "withdrawn": "2026-02-03",
                             "first_seen": seen, "last_seen": seen, "jurisdiction": "VN"})
    db["listings"].insert({"id": "evil:3", "source": "vn_news_listings", "source_id": "3", "url": "data:text/html,x",
                           "scheme": "OCOP", "rating": "5 sao", "product": XSS, "holder": XSS, "establishment_id": eid,
                           "first_seen": seen, "last_seen": seen, "jurisdiction": "VN"})
    db["establishments"].insert({"id": eid, "name": XSS, "province": "Thành phố Hồ Chí Minh", "province_code": "79",
                                 "violations_count": 1, "listings_count": 1, "recalls_count": 0, "jurisdiction": "VN"})
    db.conn.commit()
    db.conn.close()
    return Datasette([], immutables=[str(path)], metadata=yaml.safe_load((ROOT / "metadata.yml").read_text()),
                     plugins_dir=str(ROOT / "plugins"), template_dir=str(ROOT / "templates"),
                     settings={"suggest_facets": False})


@pytest.mark.parametrize("path", [row_path("recalls", "evil:1"), row_path("violations", "evil:2"),
                                  row_path("listings", "evil:3"), row_path("establishments", "name:xss " + XSS + "|79"),
                                  "/", "/minhbach/search?q=script", "/ma-vach?gtin=8930000000002",
                                  "/ma-vach?gtin=" + quote(XSS), "/minhbach/search?q=" + quote(XSS),
                                  "/gan-toi?lat=" + quote(XSS) + "&lon=1"])
def test_scraped_html_is_shown_as_text(hostile, path):
    html = get(hostile, path)
    assert "<script>alert" not in html and "onerror=\"alert" not in html and "<b>bad</b>" not in html
    assert 'href="javascript:' not in html and 'href="data:' not in html
    if "evil" in path or "name~3Axss" in path or "8930000000002" in path:
        assert "&lt;script&gt;alert(" in html
    if "q=script" in path:                  # found, highlighted, still escaped
        assert "&lt;<mark>script</mark>&gt;alert(" in html


def test_certified_business_that_was_penalised_gets_a_notice(hostile):
    html = get(hostile, row_path("establishments", "name:xss " + XSS + "|79"))
    assert "có chứng nhận hoặc xếp hạng, và cũng đã bị xử phạt" in html
    assert "cũng đã bị xử phạt 1 lần" in get(hostile, row_path("listings", "evil:3"))


def test_withdrawn_record_says_so(hostile):
    html = get(hostile, row_path("violations", "evil:2"))
    assert "Nguồn đã ngừng liệt kê bản ghi này từ 03/02/2026" in html and "nguồn đã ngừng liệt kê từ 03/02/2026" in html
    english = get(hostile, row_path("violations", "evil:2") + "?lang=en")
    assert "The source stopped listing this record on 03/02/2026" in english and "no longer listed since 03/02/2026" in english
    assert "nguồn vẫn đang liệt kê" in get(hostile, row_path("listings", "evil:3"))


def test_non_web_source_url_is_not_a_link(hostile):
    html = get(hostile, row_path("recalls", "evil:1"))
    assert "javascript:alert(1)" in html and "không phải liên kết web" in html


def test_map_page_links_to_the_aggregated_national_map(datasette):
    import asyncio
    import re
    # /ban-do draws the aggregated map itself (issue 17): its script asks /-/map/<db>/<table>.json
    page = asyncio.run(datasette.client.get("/ban-do")).text
    assert 'id="map"' in page and 'data-db="minhbach"' in page and 'data-table="violations"' in page
    script = asyncio.run(datasette.client.get("/static/map/ban-do.js")).text
    assert '"-/map/" + encodeURIComponent(db)' in script and 'from "./tilde.js"' in script
    assert 'data-table="listings"' in asyncio.run(datasette.client.get("/ban-do?kind=listings")).text
    assert re.search(r'<option value="listings"', page)
    data = asyncio.run(datasette.client.get("/-/map/violations.json?zoom=5&bbox=100,8,118,24")).json()
    assert data
