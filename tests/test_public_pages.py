"""The public list pages, home page, error pages and site plumbing of issue 17, through Datasette.

Expected values come from SQL on the same demo file: what a list page shows, filter by filter and
page by page, is the rows the same conditions select, each exactly once, newest first.
"""
import asyncio
import gzip
import re
import sqlite3
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "plugins"))
import public_lists  # noqa: E402
import vi_collation  # noqa: E402

from db import hazards  # noqa: E402
from vn.fold import fts_query  # noqa: E402

CARD = re.compile(r'<li>\s*(?:<span class="status[^>]*>[^<]*</span>\s*)?<a href="/minhbach/(\w+)/([^"]+)"')


def get(datasette, path, **headers):
    return asyncio.run(datasette.client.get(path, headers=headers or None))


def ids_on(html):
    from datasette.utils import tilde_decode
    section = html.split('<ol class="cards public-cards">', 1)[1].split("</ol>", 1)[0] if "public-cards" in html else ""
    return [tilde_decode(key) for _table, key in CARD.findall(section)]


def walk(datasette, path):
    """Every id a list page shows, following "Trang sau" to the end; the number of pages."""
    seen, pages = [], 0
    while path:
        response = get(datasette, path)
        assert response.status_code == 200, path
        html = response.text
        assert html.count("<h1") == 1
        seen += ids_on(html)
        pages += 1
        match = re.search(r'<a rel="next" href="([^"]+)"', html)
        path = match.group(1).replace("&amp;", "&") if match else None
    return seen, pages


def expected(demo_db, spec, where="1", params=()):
    conn = sqlite3.connect(demo_db)
    sort = spec["sort"]
    rows = [r[0] for r in conn.execute(
        f"select id from [{spec['table']}] where {where} order by [{sort}] is null, [{sort}] desc, rowid desc", params)]
    conn.close()
    return rows


@pytest.mark.parametrize("path", list(public_lists.LISTS))
def test_every_row_exactly_once_newest_first(datasette, demo_db, path):
    spec = public_lists.LISTS[path]
    seen, pages = walk(datasette, "/" + path)
    want = expected(demo_db, spec)
    assert seen == want
    assert pages == max(1, -(-len(want) // public_lists.PAGE_SIZE))     # the last page is full or short, never empty


@pytest.mark.parametrize("path", list(public_lists.LISTS))
def test_each_filter_lists_what_sql_selects(datasette, demo_db, path):
    spec = public_lists.LISTS[path]
    conn = sqlite3.connect(demo_db)
    for param, column in spec["filters"].items():
        values = [r[0] for r in conn.execute(
            "select value from facet_counts where table_name = ? and filter_column = '' and facet_column = ? "
            "order by count desc limit 2", (spec["table"], column))]
        assert values, (path, param)
        for value in values:
            seen, _ = walk(datasette, f"/{path}?{param}={value}")
            assert seen == expected(demo_db, spec, f"[{column}] = ?", (value,)), (param, value)
    conn.close()


def test_two_filters_and_a_search(datasette, demo_db):
    spec = public_lists.LISTS["thu-hoi"]
    seen, _ = walk(datasette, "/thu-hoi?jurisdiction=EU&kind=children")
    assert seen == expected(demo_db, spec, "jurisdiction = 'EU' and kind = 'children'") and seen
    for q in ("sữa", "sua", "Serious"):
        seen, _ = walk(datasette, f"/thu-hoi?q={q}")
        want = expected(demo_db, spec, "rowid in (select rowid from recalls_fts where recalls_fts match ?)", (fts_query(q),))
        assert seen == want, q
    assert walk(datasette, "/thu-hoi?q=sữa")[0] == walk(datasette, "/thu-hoi?q=sua")[0]


def test_empty_case_and_a_bad_cursor(datasette):
    html = get(datasette, "/xu-phat?year=1800").text
    assert ids_on(html) == [] and "Không có bản ghi nào khớp" in html and 'rel="next"' not in html
    assert get(datasette, "/xu-phat?_next=nonsense").status_code == 404


def test_ties_on_the_date_are_split_by_rowid(demo_db):
    """Paging through many rows of one date with a page size of 1: each once, none lost."""
    from datasette.app import Datasette
    spec = public_lists.LISTS["thu-hoi"]
    conn = sqlite3.connect(demo_db)
    date, n = conn.execute("select published, count(*) from recalls group by published having count(*) > 1 "
                           "order by count(*) desc limit 1").fetchone()
    conn.close()
    ds = Datasette([], immutables=[str(demo_db)])

    async def run():
        db, cursor, seen = ds.get_database(), None, []
        while True:
            rows, token, _broad = await public_lists.list_rows(db, spec, {}, "", cursor, limit=1)
            seen += [r["id"] for r in rows if r["published"] == date]
            if token is None:
                return seen
            cursor = public_lists.parse_cursor(token)
    seen = asyncio.run(run())
    assert len(seen) == n == len(set(seen))


@pytest.mark.parametrize("filters", [{}, {"jurisdiction": "VN"}])
def test_a_broad_search_lists_newest_added_first_each_once(demo_db, filters):
    """Above the sort limit (2 here) a search walks the full-text index in rowid order, newest-added first."""
    from datasette.app import Datasette
    spec = public_lists.LISTS["thu-hoi"]
    q = "cong"
    ds = Datasette([], immutables=[str(demo_db)])

    async def run():
        db, cursor, seen, modes = ds.get_database(), None, [], set()
        while True:
            rows, token, broad = await public_lists.list_rows(db, spec, filters, q, cursor, limit=3, sort_limit=2)
            seen += [r["id"] for r in rows]
            modes.add(broad)
            if token is None:
                return seen, modes
            cursor = public_lists.parse_cursor(token)
    seen, modes = asyncio.run(run())
    conn = sqlite3.connect(demo_db)
    extra = " and jurisdiction = 'VN'" if filters else ""
    want = [r[0] for r in conn.execute(
        f"select id from recalls where rowid in (select rowid from recalls_fts where recalls_fts match ?){extra} "
        "order by rowid desc", (fts_query(q),))]
    plan = " | ".join(r[3] for r in conn.execute(
        "explain query plan " + public_lists.broad_query(spec, filters, q, None, 4)[0],
        public_lists.broad_query(spec, filters, q, None, 4)[1]))
    conn.close()
    assert len(want) > 3 and seen == want and modes == {True}
    assert "TEMP B-TREE" not in plan and "INTEGER PRIMARY KEY" in plan, plan


@pytest.mark.parametrize("path", list(public_lists.LISTS))
def test_every_page_query_reads_an_index(demo_db, path):
    """EXPLAIN QUERY PLAN: no full table scan, no sort in a temporary b-tree, filtered or not, deep page or not."""
    spec = public_lists.LISTS[path]
    conn = sqlite3.connect(demo_db)
    cases = [{}] + [{column: "x"} for column in spec["filters"].values()]
    for filters in cases:
        for cursor in (None, ("2024-01-01", 10), (None, 10)):
            for sql, params in public_lists.page_queries(spec, filters, "", cursor, 21):
                plan = " | ".join(row[3] for row in conn.execute("explain query plan " + sql, params))
                assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (filters, cursor, plan)
                assert "TEMP B-TREE" not in plan, (filters, cursor, plan)
                assert not re.search(rf"SCAN {spec['table']}\b(?! USING)", plan), plan
    conn.close()


def test_pages_are_gzipped_and_small(datasette):
    for path in ["/", "/thu-hoi", "/xu-phat", "/xep-hang-chung-nhan", "/nope"]:
        response = asyncio.run(datasette.client.get(path, headers={"Accept-Encoding": "gzip"}))
        assert response.headers.get("content-encoding") == "gzip", path
        assert len(gzip.compress(response.content)) <= 100_000
    csv = get(datasette, "/minhbach/recalls.csv?_size=5", **{"Accept-Encoding": "gzip"})
    assert csv.status_code == 200 and "content-encoding" not in csv.headers


def test_error_pages_are_vietnamese_with_a_search_box(datasette):
    response = get(datasette, "/khong-co-trang-nay")
    assert response.status_code == 404
    html = response.text
    assert "Không tìm thấy trang" in html and 'role="search"' in html and html.count("<h1") == 1
    assert 'class="site-nav"' in html
    english = get(datasette, "/khong-co-trang-nay?lang=en").text
    assert "Page not found" in english


def test_robots_and_health(datasette):
    robots = get(datasette, "/robots.txt")
    assert robots.status_code == 200 and "User-agent: *" in robots.text and "Sitemap:" in robots.text
    health = get(datasette, "/-/health")
    assert health.status_code == 200 and health.json()["ok"] is True


def test_home_shows_vietnamese_notices_first_and_summarises_international_ones(datasette, demo_db):
    html = get(datasette, "/").text
    conn = sqlite3.connect(demo_db)
    conn.row_factory = sqlite3.Row
    vn = [r["id"] for r in conn.execute("select id from recalls where jurisdiction = 'VN' and withdrawn is null "
                                        "order by published desc limit 8")]
    intl = list(conn.execute("select id, kind, jurisdiction, hazard_code from recalls where jurisdiction != 'VN' "
                             "and withdrawn is null order by published desc limit 8"))
    conn.close()
    from datasette.utils import tilde_encode
    first_recall = re.search(r'href="/minhbach/recalls/([^"]+)"', html).group(1)
    assert first_recall == tilde_encode(vn[0])
    labels = hazards.vocabulary()
    section = html.split('id="intl-recalls"', 1)[1]
    for r in intl:
        link = re.search(rf'href="/minhbach/recalls/{re.escape(tilde_encode(r["id"]))}">([^<]+)</a>', section).group(1)
        country = labels[("jurisdiction", r["jurisdiction"])][0]
        assert link.startswith(f"Thu hồi {labels[('kind', r['kind'])][0]} tại {country}")
        if r["hazard_code"]:
            assert link.endswith("nguy cơ " + labels[("hazard_code", r["hazard_code"])][0])
        else:
            assert "nguy cơ" not in link          # unmapped: no phrase, never a guess


def test_hazard_codes_follow_the_mapping(demo_db):
    rules = hazards.check()
    conn = sqlite3.connect(demo_db)
    for source, field, value, code in conn.execute("select source, hazard, category, hazard_code from recalls"):
        want = None
        for r in rules:
            text = (field if r["field"] == "hazard" else value) or ""
            if r["source"] != source:
                continue
            p, t = r["pattern"].lower(), text.lower()
            if (r["match"] == "exact" and t == p) or (r["match"] == "prefix" and t.startswith(p)) \
                    or (r["match"] == "contains" and p in t):
                want = r["hazard_code"]
                break
        assert code == want, (source, field, value)
    assert conn.execute("select count(*) from recalls where hazard_code is not null").fetchone()[0] > 0
    conn.close()


def test_provinces_sort_in_vietnamese_order(datasette):
    names = ["Thành phố Hồ Chí Minh", "Tỉnh Điện Biên", "Thành phố Đà Nẵng", "Tỉnh Cà Mau", "Tỉnh An Giang",
             "Tỉnh Đắk Lắk", "Thành phố Cần Thơ", "Tỉnh Yên Bái"]
    assert sorted(names, key=vi_collation.sort_key) == [
        "Tỉnh An Giang", "Tỉnh Cà Mau", "Thành phố Cần Thơ", "Thành phố Đà Nẵng", "Tỉnh Đắk Lắk", "Tỉnh Điện Biên",
        "Thành phố Hồ Chí Minh", "Tỉnh Yên Bái"]
    html = get(datasette, "/xu-phat").text
    select = html.split('name="province"', 1)[1].split("</select>", 1)[0]
    shown = [re.sub(r" \(\d+\)$", "", o.strip()) for o in re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)]
    assert shown and shown == sorted(shown, key=vi_collation.sort_key)


def test_english_comes_from_the_catalogue(datasette):
    import i18n
    html = get(datasette, "/thu-hoi?lang=en").text
    assert '<html lang="en">' in html and "Product recalls and warnings" in html and "Next page" in html
    assert "lang=en" in re.search(r'<a rel="next" href="([^"]+)"', html).group(1)
    assert all(i18n.ENGLISH.values())


MY_TEMPLATES = ["base.html", "_footer.html", "index.html", "error.html", "_public_list.html", "public-recalls.html",
                "public-violations.html", "public-listings.html"]


def test_every_string_of_the_translated_pages_is_in_the_catalogue():
    from babel.messages.extract import extract_from_file
    import i18n
    missing = []
    for name in MY_TEMPLATES:
        for _line, message, _comments, _context in extract_from_file(
                "jinja2", str(ROOT / "templates" / name), options={"extensions": "jinja2.ext.i18n"}):
            if isinstance(message, str) and message not in i18n.ENGLISH:
                missing.append((name, message))
    missing += [("LISTS", spec["title"]) for spec in public_lists.LISTS.values() if spec["title"] not in i18n.ENGLISH]
    assert missing == []


def test_the_500_page_is_vietnamese_with_a_search_box(datasette):
    html = asyncio.run(datasette.render_template("error.html", {"status": 500, "error": "boom", "title": None}))
    assert "Máy chủ gặp lỗi" in html and 'role="search"' in html and html.count("<h1") == 1 and "boom" not in html
