"""The API's contract with a journalist (issue #14, items 1, 2, 4, 5), through the real Datasette app,
against the truth: SQL on the same file.

- every facet count equals the number of filtered rows with that value, for any combination of
  filters, search, range filters, facets and sort a user can build;
- following `next_url` (JSON), the "Next page" link (HTML) or streaming CSV returns each filtered row
  exactly once, in the order asked for, for every sort, every page size, the last page included;
- a range filter on a date stored at mixed precision compares each date as the first day of its
  period and each bound as its whole period (the rule /api and the README document);
- a bad parameter is a 400 with a reason in Vietnamese and English, in JSON and HTML.
"""
import asyncio
import csv
import datetime
import html
import io
import math
import re
import sqlite3
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from vn.fold import fts_query

DATE_COLUMNS = {"published", "decided", "valid_from", "valid_until", "manufactured", "expires",
                "first_seen", "last_seen", "withdrawn", "started", "finished", "replaced"}
MAX_PAGES = 40          # page sizes are chosen so that one walk stays under this many requests


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def get_json(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, (path, response.text[:400])
    return response.json()


def relative(url):
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# ---- What the file holds: the tables a visitor can page through, and values to filter on ----

class Table:
    def __init__(self, db, listing):
        self.name, self.is_view = listing["name"], listing.get("is_view", False)
        with sqlite3.connect(db) as conn:
            info = conn.execute(f"select name, pk from pragma_table_info('{self.name}')").fetchall()
            self.columns = [c for c, _pk in info]
            self.pks = [c for c, pk in sorted(info, key=lambda r: r[1]) if pk] if not self.is_view else []
            self.key = self.pks or (["id"] if "id" in self.columns else ["rowid"])
            self.fts = listing.get("fts_table")
            self.values = {}
            for column in self.columns:
                rows = conn.execute(f"select [{column}], count(*) from [{self.name}] where [{column}] is not null "
                                    f"group by 1 order by 2 desc limit 51").fetchall()
                if 0 < len(rows) <= 50 and all(isinstance(v, (str, int)) and len(str(v)) < 80 for v, _n in rows):
                    self.values[column] = [str(v) for v, _n in rows]
            self.words = ["zzqxj"]          # a word no row has: the empty case
            if self.fts:
                for (text,) in conn.execute(f"select folded from [{self.fts}] limit 40"):
                    self.words.extend(w for w in re.findall(r"\w{3,}", text or "")[:3])
        self.dates = [c for c in self.columns if c in DATE_COLUMNS]

    def __repr__(self):
        return self.name


@pytest.fixture(scope="module")
def tables(datasette, demo_db):
    listing = get_json(datasette, "/minhbach.json")
    public = [dict(t) for t in listing["tables"] if not t["hidden"]]
    public += [{"name": v["name"], "is_view": True} for v in listing.get("views", [])]
    found = [Table(demo_db, t) for t in public]
    assert {"recalls", "violations", "listings", "establishments"} <= {t.name for t in found}
    return found


@pytest.fixture(scope="module")
def small_pages(demo_db):
    """The site as configured, with 7 rows per page by default: a CSV stream (which pages at the
    default page size) then crosses pages on every table."""
    from datasette.app import Datasette

    from db.serving import datasette_kwargs
    kwargs = datasette_kwargs(ROOT)
    kwargs["settings"]["default_page_size"] = 7
    return Datasette([], immutables=[str(demo_db)], **kwargs)


# ---- The truth: the same filters, written in SQL from the documented rules ----

def period(year, month, day):
    """(first day, first day after) of a bound given as a year, a month or a day."""
    if day:
        start = datetime.date(year, month, day)
        return start, start + datetime.timedelta(days=1)
    if month:
        start = datetime.date(year, month, 1)
        return start, (start + datetime.timedelta(days=31)).replace(day=1)
    start = datetime.date(year, 1, 1)
    return start, start.replace(year=year + 1)


def written(year, month, day, style):
    if style == "iso":
        return "-".join([f"{year:04d}"] + ([f"{month:02d}"] if month else []) + ([f"{day:02d}"] if day else []))
    return "/".join(([f"{day:02d}"] if day else []) + ([f"{month:02d}"] if month else []) + [f"{year:04d}"])


class Query:
    """One request a user can build, and its meaning in SQL."""

    def __init__(self, table):
        self.table, self.args, self.where, self.params = table, [], [], []

    def equal(self, column, value):
        self.args.append((column, value))
        self.where.append(f"[{column}] = ?")
        self.params.append(value)

    def date_range(self, column, op, bound):
        (year, month, day), style = bound
        self.args.append((f"{column}__{op}", written(year, month, day, style)))
        start, following = period(year, month, day)
        # A stored date counts as the first day of its period ("2025-01" is 2025-01-01).
        first_day = f"substr([{column}] || '-01-01', 1, 10)"
        sql_op, day = {"gte": (">=", start), "lt": ("<", start), "gt": (">=", following), "lte": ("<", following)}[op]
        self.where.append(f"{first_day} {sql_op} ?")
        self.params.append(day.isoformat())

    def search(self, word):
        self.args.append(("_search", word))
        self.where.append(f"rowid in (select rowid from [{self.table.fts}] where [{self.table.fts}] match ?)")
        self.params.append(fts_query(word))

    def sql_where(self, extra=""):
        clauses = self.where + ([extra] if extra else [])
        return ("where " + " and ".join(clauses)) if clauses else ""

    def url(self, extension, *extra):
        return f"/minhbach/{self.table.name}.{extension}?" + urllib.parse.urlencode(self.args + list(extra))


@st.composite
def queries(draw, tables):
    table = draw(st.sampled_from(tables))
    query = Query(table)
    for column in draw(st.lists(st.sampled_from(sorted(table.values) or ["-"]), max_size=2, unique=True)):
        if column in table.values:
            query.equal(column, draw(st.sampled_from(table.values[column])))
    if table.dates and draw(st.booleans()):
        bound = (draw(st.tuples(st.integers(2010, 2027), st.one_of(st.none(), st.integers(1, 12)),
                                st.one_of(st.none(), st.integers(1, 28)))), draw(st.sampled_from(["iso", "vn"])))
        if bound[0][1] is None:
            bound = ((bound[0][0], None, None), bound[1])
        query.date_range(draw(st.sampled_from(table.dates)), draw(st.sampled_from(["gte", "gt", "lt", "lte"])), bound)
    if table.fts and draw(st.booleans()):
        query.search(draw(st.sampled_from(table.words)))
    for column in draw(st.lists(st.sampled_from(sorted(table.values) or ["-"]), max_size=2)):
        if column in table.values:
            query.args.append(("_facet", column))
    sort = draw(st.sampled_from([None, "_sort", "_sort_desc"]))
    if sort:
        query.args.append((sort, draw(st.sampled_from(table.columns))))
    return query


def truth(demo_db, query, select):
    with sqlite3.connect(demo_db) as conn:
        return conn.execute(f"select {select} from [{query.table.name}] {query.sql_where()}", query.params).fetchall()


def expected_keys(demo_db, query):
    return sorted(tuple(str(v) for v in row) for row in truth(demo_db, query, ", ".join(f"[{k}]" for k in query.table.key)))


def row_key(table, row):
    return tuple(str(row[k]) for k in table.key)


def page_size(draw_size, total):
    return max(draw_size, math.ceil(total / MAX_PAGES), 1)


def sqlite_order(value):
    """SQLite's order of values of different storage classes: NULL, numbers, text, blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, value) if isinstance(value, str) else (3, value)


def check_facets(demo_db, query, body):
    facets = body["facet_results"]
    names = [f["name"] for f in facets.values()]
    assert len(names) == len(set(names)), names          # each column once: no `province_2`
    for facet in facets.values():
        if facet["type"] != "column":
            continue
        column = facet["name"]
        with sqlite3.connect(demo_db) as conn:
            rows = conn.execute(f"select [{column}], count(*) from [{query.table.name}] "
                                f"{query.sql_where(f'[{column}] is not null')} group by 1", query.params).fetchall()
        counts = {str(v): n for v, n in rows}
        shown = {str(v["value"]): v["count"] for v in facet["results"]}
        assert len(shown) == len(facet["results"]), (column, facet["results"])
        for value, count in shown.items():
            assert counts.get(value) == count, (query.url("json"), column, value, count, counts.get(value))
        hidden = [n for v, n in counts.items() if v not in shown]
        assert not hidden or min(shown.values()) >= max(hidden), (column, shown, counts)   # the top values
        assert facet["truncated"] == bool(hidden), column


# ---- Properties ----

@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_facet_counts_equal_the_filtered_counts(datasette, demo_db, tables, data):
    query = data.draw(queries(tables))
    body = get_json(datasette, query.url("json", ("_size", "1")))
    assert body["filtered_table_rows_count"] == len(truth(demo_db, query, "1")), query.url("json")
    check_facets(demo_db, query, body)


@pytest.mark.slow   # pages through whole tables for every generated case
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_json_paging_returns_each_row_once_in_order(datasette, demo_db, tables, data):
    query = data.draw(queries(tables))
    expected = expected_keys(demo_db, query)
    size = page_size(data.draw(st.sampled_from([1, 2, 3, 5, 10, 100])), len(expected))
    sort = dict(query.args).get("_sort") or dict(query.args).get("_sort_desc")
    descending = "_sort_desc" in dict(query.args)
    url, seen, values, pages = query.url("json", ("_size", str(size)), ("_shape", "objects")), [], [], 0
    while url:
        body = get_json(datasette, url)
        pages += 1
        assert len(body["rows"]) <= size
        seen.extend(row_key(query.table, row) for row in body["rows"])
        if sort:
            values.extend(row[sort] for row in body["rows"] if sort in row)
        if pages == 2:      # a later page counts the same rows as the first
            check_facets(demo_db, query, body)
        url = relative(body["next_url"]) if body.get("next_url") else None
        assert pages <= len(expected) + 1
    assert sorted(seen) == expected, (query.url("json"), size)
    assert len(seen) == len(set(seen))
    if sort and values and not query.table.is_view:
        keys = [sqlite_order(v) for v in values]
        assert keys == sorted(keys, reverse=descending), (query.url("json"), sort)


@pytest.mark.slow   # pages through whole tables for every generated case
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_html_next_links_return_each_row_once(datasette, demo_db, tables, data):
    query = data.draw(queries(tables))
    expected = expected_keys(demo_db, query)
    size = page_size(data.draw(st.sampled_from([1, 3, 10, 100])), len(expected))
    column = query.table.key[0]
    cell = re.compile(rf'<td class="col-{re.escape(column)} type-[a-z]+">(?:<a href="[^"]*">)?([^<]*)<')
    url, seen = query.url("json", ("_size", str(size))).replace(".json?", "?"), []
    while url:
        response = get(datasette, url)
        assert response.status_code == 200, (url, response.text[:300])
        seen.extend(html.unescape(v) for v in cell.findall(response.text))
        link = re.search(r'<a href="([^"]+)">Next page</a>', response.text)
        url = relative(html.unescape(link.group(1))) if link else None
    if len(query.table.key) == 1:
        assert sorted(seen) == sorted(k[0] for k in expected), (query.url("html"), size)


@pytest.mark.slow   # pages through whole tables for every generated case
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_streamed_csv_returns_each_row_once(small_pages, demo_db, tables, data):
    """Seven rows per page here, so a stream crosses pages (inside ties and NULLs too)."""
    query = data.draw(queries(tables))
    response = get(small_pages, query.url("csv", ("_stream", "on")))
    assert response.status_code == 200, response.text[:300]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    seen = sorted(tuple(row[k] for k in query.table.key) for row in rows)
    with sqlite3.connect(demo_db) as conn:
        expected = sorted(tuple("" if v is None else str(v) for v in r) for r in conn.execute(
            f"select {', '.join(f'[{k}]' for k in query.table.key)} from [{query.table.name}] {query.sql_where()}",
            query.params))
    assert seen == expected, query.url("csv")


# ---- Worked examples from the issue, with the truth from SQL ----

def test_a_default_facet_asked_for_again_is_counted_once(datasette, demo_db):
    body = get_json(datasette, "/minhbach/violations.json?year=2025&jurisdiction=VN&_facet=province&_size=0")
    assert "province_2" not in body["facet_results"]
    with sqlite3.connect(demo_db) as conn:
        expected = dict(conn.execute("select province, count(*) from violations where year = '2025' and "
                                     "jurisdiction = 'VN' and province is not null group by 1"))
    assert expected
    assert {v["value"]: v["count"] for v in body["facet_results"]["province"]["results"]} == expected


def test_the_issues_recalls_walk_returns_every_recall_once(datasette, demo_db):
    url, ids = "/minhbach/recalls.json?_size=100&_shape=objects", []
    while url:
        body = get_json(datasette, url)
        ids += [r["id"] for r in body["rows"]]
        url = relative(body["next_url"]) if body.get("next_url") else None
    with sqlite3.connect(demo_db) as conn:
        assert sorted(ids) == sorted(i for (i,) in conn.execute("select id from recalls"))


@pytest.mark.parametrize("path", [
    "/minhbach/recalls.json?_size=5", "/minhbach/violations.json?_size=5&province_code=01",
    "/minhbach/listings.json?_size=5&_sort=valid_from", "/minhbach/violations.json?_size=5&jurisdiction=VN",
])
def test_sorted_pages_read_in_index_order(datasette, demo_db, path):
    """The tie-breaker (rowid, same direction) keeps ORDER BY on the index: no temp b-tree, first
    page and later pages alike."""
    for page in range(2):
        body = get_json(datasette, path)
        sql, params = body["query"]["sql"], body["query"]["params"]
        with sqlite3.connect(demo_db) as conn:
            plan = " | ".join(r[3] for r in conn.execute("explain query plan " + sql, params))
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (sql, plan)
        path = relative(body["next_url"])


@pytest.mark.parametrize("table,column", [("recalls", "published"), ("violations", "decided"),
                                          ("listings", "valid_from")])
def test_partial_dates_compare_as_the_first_day_of_their_period(datasette, demo_db, table, column):
    with sqlite3.connect(demo_db) as conn:
        dated = conn.execute(f"select count(*) from {table} where {column} is not null").fetchone()[0]
        years = [y for (y,) in conn.execute(f"select distinct substr({column}, 1, 4) from {table} "
                                            f"where {column} is not null order by 1")]
    for year in years[-3:]:
        for bound in (f"{year}-01-01", year, f"01/{year}", f"01/01/{year}", f"{year}-07-15"):
            start = {f"{year}-07-15": f"{year}-07-15"}.get(bound, f"{year}-01-01")
            since = get_json(datasette, f"/minhbach/{table}.json?{column}__gte={bound}&_size=0")["filtered_table_rows_count"]
            before = get_json(datasette, f"/minhbach/{table}.json?{column}__lt={bound}&_size=0")["filtered_table_rows_count"]
            with sqlite3.connect(demo_db) as conn:
                expected = conn.execute(f"select count(*) from {table} where substr({column} || '-01-01', 1, 10) >= ?",
                                        [start]).fetchone()[0]
            assert since == expected and since + before == dated, (bound, since, before, expected, dated)
    # A month-only row is inside its month and its year, whichever way the bounds are written.
    with sqlite3.connect(demo_db) as conn:
        month = conn.execute(f"select {column} from {table} where length({column}) = 7 limit 1").fetchone()
    if month:
        y, m = month[0].split("-")
        for lower, upper in ((f"{y}-{m}-01", f"{y}-{m}"), (f"01/{m}/{y}", f"{m}/{y}"), (y, y)):
            body = get_json(datasette, f"/minhbach/{table}.json?{column}__gte={lower}&{column}__lte={upper}"
                                       f"&_size=max&_shape=objects")
            assert month[0] in {r[column] for r in body["rows"]}, (lower, upper)


def test_changes_since_accepts_vietnamese_dates_and_refuses_bad_ones(datasette):
    iso = get_json(datasette, "/minhbach/changes.json?since=2026-01-01&_shape=array")
    assert get_json(datasette, "/minhbach/changes.json?since=01/01/2026&_shape=array") == iso
    for bad in ("", "abc", "31/02/2026", "2026-13-01"):
        response = get(datasette, f"/minhbach/changes.json?since={bad}")
        assert response.status_code == 400, bad
        assert " · " in response.json()["error"]
    form = get(datasette, "/minhbach/changes")      # the form, before a date is typed: no rows
    assert form.status_code == 200


BAD = [
    "/minhbach/violations.json?_sort=nope", "/minhbach/violations.json?_sort_desc=nope",
    "/minhbach/violations.json?_sort=decided&_sort_desc=decided", "/minhbach/violations.json?_timelimit=abc",
    "/minhbach/recalls.json?published__gt=99999999999999999999999", "/minhbach/violations.json?fine_vnd__gt=99999999999999999999999",
    "/minhbach/violations.json?fine_vnd__gt=%C2%B2", "/minhbach/violations.json?_facet=%00",
    "/minhbach/violations.json?_facet=nope", "/minhbach/violations.json?_size=abc", "/minhbach/violations.json?_size=100000",
    "/minhbach/violations.json?_next=abc", "/minhbach/map_violations.json?_next=abc",
    "/minhbach/recalls.json?published__gtx=2025", "/minhbach/recalls.json?nope=1", "/minhbach/recalls.json?_shape=nope",
    "/minhbach/recalls.json?published__gte=2025-02-30", "/minhbach/nearby.json?lat=abc&lon=105",
    "/minhbach/province_violations.json?province_code=x", "/minhbach/changes.json?since=abc",
]


@pytest.mark.parametrize("path", BAD)
def test_a_bad_parameter_is_a_400_with_a_reason_in_both_languages(datasette, path):
    response = get(datasette, path)
    assert response.status_code == 400, (path, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert " · " in error and "\n" not in error, error
    page = get(datasette, path.replace(".json", "", 1))
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]
    assert html.escape(error.split(" · ")[0], quote=True) in page.text or error.split(" · ")[0] in html.unescape(page.text)


def test_every_sort_of_every_table_returns_each_row_once(datasette, demo_db, tables):
    """Every column, both directions, three or four pages each (ties, NULLs and columns declared
    without a type, whose integers sort before any text, included). The reference tables of
    thousands of wards are left to the properties above (the time of the suite)."""
    for table in tables:
        expected = expected_keys(demo_db, Query(table))
        if len(expected) > 1000:
            continue
        size = max(1, math.ceil(len(expected) / 3))
        for column in table.columns:
            for direction in ("_sort", "_sort_desc"):
                shown = {column, *table.key} - set(table.pks) - {"rowid"}   # (Datasette always adds the key)
                light = "&_nofacet=1&_nocount=1" + "".join(f"&_col={c}" for c in sorted(shown))
                url, seen = f"/minhbach/{table.name}.json?{direction}={column}&_size={size}&_shape=objects{light}", []
                while url:
                    body = get_json(datasette, url)
                    seen.extend(row_key(table, row) for row in body["rows"])
                    url = relative(body["next_url"]) if body.get("next_url") else None
                assert sorted(seen) == expected, (table.name, direction, column)
