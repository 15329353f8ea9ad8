"""JSON shapes (plugins/json_shapes.py) and the unified search (metadata.yml `search`,
templates/query-minhbach-search.html): list columns are arrays, every row links to its page, the
search gives exact totals per kind and pages through every match once."""
import asyncio
import io
import json
import re
import sqlite3
from urllib.parse import urlsplit

import pytest
from datasette.utils import tilde_encode

from conftest import query
from db import schema
from vn.fold import fold

KINDS = ["recalls", "violations", "listings", "establishments"]


def get(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response


def page_path(table, pk):
    return f"/minhbach/{table}/{tilde_encode(pk)}"


# ---- list columns ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["array", "objects", "object", "arrays"])
def test_list_columns_are_json_arrays_in_every_shape(datasette, demo_db, shape):
    truth = dict(query(demo_db, "select id, gtins from recalls where gtins is not null"))
    assert truth
    data = get(datasette, f"/minhbach/recalls.json?gtins__notblank=1&_size=max&_shape={shape}").json()
    if shape == "array":
        rows = {r["id"]: r["gtins"] for r in data}
    elif shape == "object":
        rows = {r["id"]: r["gtins"] for r in data.values()}
    elif shape == "objects":
        rows = {r["id"]: r["gtins"] for r in data["rows"]}
    else:
        rows = {r[data["columns"].index("id")]: r[data["columns"].index("gtins")] for r in data["rows"]}
    assert rows == {pk: json.loads(text) for pk, text in truth.items()}
    assert all(isinstance(v, list) for v in rows.values())


def test_every_declared_list_column_is_a_list_or_null(datasette, demo_db):
    for table, columns in schema.JSON_LISTS.items():
        for column in columns:
            data = get(datasette, f"/minhbach/{table}.json?_shape=array&_size=5&{column}__notblank=1").json()
            stored = dict(query(demo_db, f"select rowid, [{column}] from [{table}] where [{column}] != '' limit 1"))
            if not stored:
                assert data == [], (table, column)     # the empty case: no row carries a list
                continue
            assert data and all(isinstance(r[column], list) for r in data), (table, column)


def test_a_record_page_json_has_its_lists_as_arrays(datasette, demo_db):
    (pk, gtins), = query(demo_db, "select id, gtins from recalls where gtins is not null order by id limit 1")
    row, = get(datasette, page_path("recalls", pk) + ".json?_shape=array").json()
    assert row["gtins"] == json.loads(gtins)


def test_the_barcode_query_still_matches_and_csv_keeps_the_stored_text(datasette, demo_db):
    (pk, gtins), = query(demo_db, "select id, gtins from recalls where gtins is not null order by id limit 1")
    gtin = json.loads(gtins)[0]
    rows = get(datasette, f"/minhbach/barcode.json?gtin={gtin}&_shape=array").json()
    assert pk in {r["id"] for r in rows}
    csv_text = get(datasette, f"/minhbach/recalls.csv?id={pk}&_col=gtins").content.decode("utf-8-sig")
    assert json.dumps(json.loads(gtins)) in csv_text.replace('""', '"') or gtins in csv_text.replace('""', '"')


# ---- record URLs ----------------------------------------------------------------------------------

def assert_resolves(datasette, url, table, pk):
    path = urlsplit(url).path
    assert path == page_path(table, pk), (url, table, pk)
    row, = get(datasette, path + ".json?_shape=array").json()
    assert row["id"] == pk


@pytest.mark.parametrize("table", KINDS)
def test_every_table_row_carries_its_page_url(datasette, demo_db, table):
    rows = get(datasette, f"/minhbach/{table}.json?_shape=array&_size=max").json()
    assert len(rows) == min(1000, query(demo_db, f"select count(*) from [{table}]")[0][0])
    for row in rows:
        assert urlsplit(row["record_url"]).path == page_path(table, row["id"])
        assert row["record_url"].startswith("http://localhost/")
    assert_resolves(datasette, rows[-1]["record_url"], table, rows[-1]["id"])


def test_the_default_arrays_shape_lists_urls_beside_the_rows(datasette):
    data = get(datasette, "/minhbach/violations.json?_size=7").json()
    ids = [r[data["columns"].index("id")] for r in data["rows"]]
    assert [urlsplit(u).path for u in data["record_urls"]] == [page_path("violations", i) for i in ids]
    assert all(len(r) == len(data["columns"]) for r in data["rows"])   # rows keep their columns


def test_tilde_encoding_of_awkward_ids(datasette, demo_db):
    awkward = query(demo_db, "select id from recalls where id like '%/%' or id like '%.%' limit 5")
    assert awkward, "the demo data has ids with / or ."
    for (pk,) in awkward:
        row, = get(datasette, f"/minhbach/recalls.json?_shape=array&id={pk.replace('/', '%2F')}").json()
        assert_resolves(datasette, row["record_url"], "recalls", pk)


def test_map_views_and_canned_queries_link_to_the_record(datasette, demo_db):
    row = get(datasette, "/minhbach/map_violations.json?_shape=array&_size=1").json()[0]
    assert_resolves(datasette, row["record_url"], "violations", row["id"])
    (gtin,), = query(demo_db, "select g.value from recalls r join json_each(r.gtins) g limit 1")
    row = get(datasette, f"/minhbach/barcode.json?gtin={gtin}&_shape=array").json()[0]
    assert_resolves(datasette, row["record_url"], "recalls", row["id"])
    for row in get(datasette, "/minhbach/changes.json?since=2000-01-01&_shape=array").json()[:20]:
        assert urlsplit(row["record_url"]).path == page_path(row["table_name"], row["id"])


def test_no_rows_no_urls(datasette):
    assert get(datasette, "/minhbach/recalls.json?_shape=array&id=nope").json() == []
    assert get(datasette, "/minhbach/recalls.json?id=nope").json()["record_urls"] == []


def test_errors_and_other_json_pass_through(datasette):
    response = asyncio.run(datasette.client.get("/minhbach/no_such_table.json"))
    assert response.status_code == 404 and "record_url" not in response.text
    assert "record_url" not in get(datasette, "/minhbach.json").text


# ---- the unified search ---------------------------------------------------------------------------

def folded_words(text):
    return re.findall(r"\w+", fold(text or ""))


def truth_ids(db, kind, word):
    """Rows of a kind whose indexed columns hold a word starting with ``word`` (the search matches the
    last word as a prefix), from the raw rows, folded in Python."""
    columns = schema.TABLES[kind]["fts"]
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(f"select id, {', '.join(f'[{c}]' for c in columns)} from [{kind}]").fetchall()
    finally:
        conn.close()
    return {r[0] for r in rows if any(w.startswith(word) for value in r[1:] for w in folded_words(value))}


def search(datasette, **params):
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    return get(datasette, f"/minhbach/search.json?_shape=array&{qs}").json()


def busiest_word(db):
    """A word with more than one page (20) of matches in some kind, from the data itself."""
    best = (0, None, None)
    for kind in KINDS:
        counts = {}
        for pk in query(db, f"select {', '.join(schema.TABLES[kind]['fts'])} from [{kind}]"):
            for word in {w for value in pk for w in folded_words(value) if len(w) >= 4 and not w.isdigit()}:
                counts[word] = counts.get(word, 0) + 1
        word, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        best = max(best, (n, word, kind))
    assert best[0] > 20, best
    return best[2], best[1]


def test_search_totals_are_exact_per_kind(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    rows = search(datasette, q=word)
    for k in KINDS:
        truth = truth_ids(demo_db, k, word)
        got = [r for r in rows if r["kind"] == k]
        assert len(got) == min(20, len(truth)), k
        assert {r["total"] for r in got} <= {len(truth)}, k
    assert len([r for r in rows if r["kind"] == kind]) == 20


def test_search_pages_through_every_match_once(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    truth = truth_ids(demo_db, kind, word)
    seen, page = [], 1
    while True:
        rows = search(datasette, q=word, kind=kind, page=page)
        assert {r["kind"] for r in rows} <= {kind}
        if not rows:
            break
        assert all(r["total"] == len(truth) for r in rows)
        assert len(rows) == 20 or page == -(-len(truth) // 20)          # only the last page is short
        seen += [r["id"] for r in rows]
        page += 1
    assert page - 1 == -(-len(truth) // 20)
    assert len(seen) == len(set(seen)) and set(seen) == truth
    scores = [r["score"] for p in range(1, page) for r in search(datasette, q=word, kind=kind, page=p)]
    assert scores == sorted(scores)                                     # best first, across pages


def test_search_empty_and_bad_paging(datasette, demo_db):
    assert search(datasette, q="zzqxv") == []
    kind, word = busiest_word(demo_db)
    assert search(datasette, q=word, kind=kind, page=9999) == []
    assert search(datasette, q=word, page="abc") == search(datasette, q=word)     # not a number: page 1
    assert search(datasette, q=word, kind="nope") == []


def test_search_rows_use_table_names_and_link_to_their_pages(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    rows = search(datasette, q=word)
    assert rows and {r["kind"] for r in rows} <= set(KINDS)
    for row in rows:
        assert urlsplit(row["record_url"]).path == page_path(row["kind"], row["id"])


def test_search_page_shows_totals_and_pager(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    total = len(truth_ids(demo_db, kind, word))
    html = get(datasette, f"/minhbach/search?q={word}").text
    assert f'id="{kind}"' in html and f"({total:,})".replace(",", ".") in html
    assert f"kind={kind}&amp;page=2" in html and "100+" not in html
    last = -(-total // 20)
    html = get(datasette, f"/minhbach/search?q={word}&kind={kind}&page={last}").text
    assert f"Trang {last}/{last}" in html and 'rel="next"' not in html and 'rel="prev"' in html
    html = get(datasette, f"/minhbach/search?q={word}&kind={kind}&page={last + 1}").text
    assert "không còn kết quả" in html


# ---- XLSX and GeoJSON exports (plugins/exports.py) --------------------------------------------------

def exports_module(datasette):
    from datasette.plugins import pm
    return next(p for p in pm.get_plugins() if getattr(p, "__name__", "") == "exports.py")


def read_xlsx(content):
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book.worksheets[0].values)
    about = {r[0]: r[1] for r in book.worksheets[1].values}
    return rows[0], rows[1:], about


def test_xlsx_of_a_table_has_every_row_across_pages(datasette, demo_db):
    response = get(datasette, "/minhbach/wards.xlsx?_sort=ward_code")   # 3,321 rows: several internal pages
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="wards.xlsx"' in response.headers["content-disposition"]
    header, rows, about = read_xlsx(response.content)
    truth = query(demo_db, "select ward_code, ward, province from wards order by ward_code")
    assert len(rows) == len(truth) > 1000 and about["Số dòng · Rows"] == len(truth)
    index = [header.index(c) for c in ("ward_code", "ward", "province")]
    assert [tuple(r[i] for i in index) for r in rows] == truth       # Vietnamese text intact, in order
    assert "x-minhbach-rows-capped" not in response.headers


def test_xlsx_keeps_filters_lists_as_stored_and_links(datasette, demo_db):
    header, rows, _ = read_xlsx(get(datasette, "/minhbach/recalls.xlsx?gtins__notblank=1").content)
    truth = dict(query(demo_db, "select id, gtins from recalls where gtins is not null and gtins != ''"))
    got = {r[header.index("id")]: r[header.index("gtins")] for r in rows}
    assert {k: json.loads(v) for k, v in got.items()} == {k: json.loads(v) for k, v in truth.items()}
    assert header[-1] == "record_url"
    assert all(urlsplit(r[-1]).path == page_path("recalls", r[header.index("id")]) for r in rows)


def test_xlsx_of_a_query_a_record_and_nothing(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    header, rows, _ = read_xlsx(get(datasette, f"/minhbach/search.xlsx?q={word}&kind={kind}").content)
    assert len(rows) == 20 and {r[header.index("kind")] for r in rows} == {kind}
    (pk,), = query(demo_db, "select id from recalls order by id limit 1")
    header, rows, _ = read_xlsx(get(datasette, page_path("recalls", pk) + ".xlsx").content)
    assert len(rows) == 1 and rows[0][header.index("id")] == pk
    header, rows, about = read_xlsx(get(datasette, "/minhbach/recalls.xlsx?id=nope").content)
    assert rows == [] and about["Số dòng · Rows"] == 0 and "id" in header


def test_xlsx_is_capped_and_says_so(datasette, demo_db):
    module = exports_module(datasette)
    saved, module.MAX_ROWS = module.MAX_ROWS, 1500
    try:
        response = get(datasette, "/minhbach/wards.xlsx?_sort_desc=ward_code")   # a URL no other test asks for
    finally:
        module.MAX_ROWS = saved
    _header, rows, about = read_xlsx(response.content)
    assert len(rows) == 1500 and response.headers["x-minhbach-rows-capped"] == "1500"
    assert "1,500" in about["Giới hạn · Limit"]


def test_xlsx_cells_are_never_formulas_and_never_too_long(datasette):
    module = exports_module(datasette)
    cut = []
    cell = module.excel_value(None, "=HYPERLINK(\"http://x\")", cut)
    assert cell.data_type == "s" and cell.value.startswith("=")
    assert len(module.excel_value(None, "a" * 40_000, cut)) == module.EXCEL_MAX_CELL and cut == [1]
    assert module.excel_value(None, "nước\x07 mắm", cut) == "nước mắm"
    assert module.excel_value(None, ["893"], cut) == '["893"]'


def test_geojson_of_the_map_views_and_tables(datasette, demo_db):
    response = get(datasette, "/minhbach/map_violations.geojson")
    assert response.headers["content-type"] == "application/geo+json"
    data = response.json()
    truth = {pk: (lon, lat) for pk, lat, lon in query(demo_db, "select id, latitude, longitude from map_violations")}
    assert data["type"] == "FeatureCollection" and len(data["features"]) == len(truth) > 0
    for f in data["features"]:
        assert tuple(f["geometry"]["coordinates"]) == truth[f["id"]]           # RFC 7946: longitude first
        assert urlsplit(f["properties"]["record_url"]).path == page_path("violations", f["id"])
    # A table keeps the rows without coordinates, with a null geometry: nothing is dropped.
    features = get(datasette, "/minhbach/violations.geojson?jurisdiction=VN").json()["features"]
    (total,), = query(demo_db, "select count(*) from violations where jurisdiction = 'VN'")
    (placed,), = query(demo_db, "select count(*) from violations where jurisdiction = 'VN' and latitude is not null")
    assert len(features) == total and sum(f["geometry"] is not None for f in features) == placed
    assert get(datasette, "/minhbach/listings.geojson?id=nope").json() == {"type": "FeatureCollection", "features": []}


def test_geojson_needs_coordinates(datasette):
    response = asyncio.run(datasette.client.get("/minhbach/recalls.geojson"))
    assert response.status_code == 400 and "latitude" in response.text


# ---- paging of canned queries ---------------------------------------------------------------------

def follow(datasette, url, key):
    """Every row of a canned query, following `next_url` (objects) or the Link header (array)."""
    rows, pages = [], 0
    while url:
        response = get(datasette, url)
        pages += 1
        if "_shape=array" in url:
            rows += response.json()
            link = response.headers.get("link")
            url = re.match(r"<([^>]+)>", link).group(1) if link else None
        else:
            data = response.json()
            rows += data["rows"]
            url = data["next_url"]
        url = url and url.replace("http://localhost", "")
        assert pages < 100
    return [key(r) for r in rows], pages


def km(lat1, lon1, lat2, lon2):
    import math
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def canned_truth(db):
    """The record pages each paged canned query must list, from SQL on the same file."""
    def pages(sql):
        return {page_path(table, pk) for table, pk in query(db, sql)}
    box = "latitude between 20.028 and 22.028 and longitude between 104.854 and 106.854"
    return {
        "/minhbach/recent_recalls.json?": pages("select 'recalls', id from recalls where withdrawn is null"),
        "/minhbach/recent_violations.json?": pages("select 'violations', id from violations where withdrawn is null"),
        "/minhbach/province_violations.json?province_code=79&": pages(
            "select 'violations', id from violations where withdrawn is null and province_code = '79'"),
        # within 100 km, province centres left out (issue 17): distances computed here, not in SQL
        "/minhbach/nearby.json?lat=21.028&lon=105.854&": {
            page_path(table, pk) for table, pk, lat, lon in query(db, (
                f"select 'violations', id, latitude, longitude from violations where {box} and geo_precision is not 'province' "
                f"union all select 'listings', id, latitude, longitude from listings where {box} and geo_precision is not 'province'"))
            if km(21.028, 105.854, lat, lon) <= 100},
        "/minhbach/changes.json?since=2000-01-01&": pages(
            "select 'recalls', id from recalls union all select 'violations', id from violations "
            "union all select 'listings', id from listings union all select table_name, record_id from versions"),
    }


@pytest.mark.parametrize("shape", ["objects", "array"])
def test_canned_queries_page_through_every_row_once(datasette, demo_db, shape):
    for url, truth in canned_truth(demo_db).items():
        paths, pages = follow(datasette, f"{url}_shape={shape}", lambda r: urlsplit(r["record_url"]).path)
        assert len(paths) == len(set(paths)) and set(paths) == truth, url
        size = int(re.search(r"limit (\d+) offset", yaml_sql(url)).group(1))
        assert pages == len(truth) // size + 1, url        # a full last page is followed by an empty one


def yaml_sql(url):
    import yaml
    from conftest import ROOT
    name = url.split("/")[2].split(".")[0]
    return yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]["queries"][name]["sql"]


def test_the_search_pages_with_next_url_until_every_kind_is_done(datasette, demo_db):
    kind, word = busiest_word(demo_db)
    ids, pages = follow(datasette, f"/minhbach/search.json?q={word}&_shape=objects", lambda r: (r["kind"], r["id"]))
    truth = {(k, pk) for k in KINDS for pk in truth_ids(demo_db, k, word)}
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert pages == -(-max(len(truth_ids(demo_db, k, word)) for k in KINDS) // 20)    # no empty last page


def test_a_kind_with_too_many_matches_pages_newest_added_first(datasette, demo_db):
    """Above the ranking threshold (10,000 matches in the file; 5 here, on the same SQL) a kind is
    listed by rowid, newest first, with an empty score; its total stays exact and every match
    appears once."""
    import yaml
    from conftest import ROOT
    sql = yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]["queries"]["search"]["sql"]
    assert sql.count("between 1 and 10000") == 4 and sql.count("> 10000") == 4
    small = sql.replace("between 1 and 10000", "between 1 and 5").replace("> 10000", "> 5")
    kind, word = busiest_word(demo_db)
    truth = truth_ids(demo_db, kind, word)
    rowids = dict(query(demo_db, f"select id, rowid from [{kind}]"))
    db = datasette.get_database("minhbach")
    seen, page = [], 1
    while True:
        rows = [dict(r) for r in asyncio.run(db.execute(small, {"q": word, "kind": kind, "page": str(page)})).rows]
        if not rows:
            break
        assert all(r["score"] is None and r["total"] == len(truth) for r in rows)
        seen += [r["id"] for r in rows]
        page += 1
    assert len(seen) == len(set(seen)) and set(seen) == truth
    assert [rowids[i] for i in seen] == sorted((rowids[i] for i in seen), reverse=True)


def test_exports_refuse_bad_input_and_failed_pages_clearly(datasette, monkeypatch):
    for url in ("/minhbach/violations.xlsx?_sort=nope", "/minhbach/violations.geojson?_sort=nope"):
        response = asyncio.run(datasette.client.get(url))
        assert response.status_code == 400, url
    module = exports_module(datasette)
    real_get = datasette.client.get

    async def failing_second_page(path, *args, **kwargs):
        if "_next=" in path:       # as if the second page ran into the SQL time limit
            class Answer:
                status_code = 400
                text = "SQL query took too long"

                def json(self):
                    return {"ok": False, "error": "SQL query took too long"}
            return Answer()
        return await real_get(path, *args, **kwargs)
    monkeypatch.setattr(datasette.client, "get", failing_second_page)
    response = asyncio.run(real_get("/minhbach/wards.xlsx?ward__notblank=1"))   # a URL no other test asks for
    assert response.status_code == 400 and "1,000 rows read, then: SQL query took too long" in response.text
    assert module.MAX_ROWS == 50_000
