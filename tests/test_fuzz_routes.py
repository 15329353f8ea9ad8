"""No request to a public route answers 500: every route, with any parameters a user (or a script
gone wrong) can send (issue #14, item 4). Hypothesis builds the requests: Datasette's own parameters,
every column filter and operator, the canned queries' and pages' parameters, with values that are
valid, empty, huge, malformed, NUL or non-ASCII. A 4xx is fine (a bad parameter is a 400 that says
why); a 5xx is a bug.
"""
import asyncio
import sqlite3
import urllib.parse

import pytest
import yaml
from datasette.filters import Filters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]
PAGES = ["/", "/api", "/ban-do", "/gan-toi", "/ma-vach", "/nguon", "/thong-ke", "/sitemap.xml",
         "/minhbach", "/minhbach.json", "/minhbach/datapackage.json", "/-/map.json"]
SPECIAL = ["_sort", "_sort_desc", "_size", "_next", "_facet", "_facet_size", "_facet_array", "_facet_date",
           "_search", "_col", "_nocol", "_shape", "_json", "_labels", "_label", "_timelimit", "_stream", "_dl",
           "_nl", "_header", "_nofacet", "_nocount", "_hide_sql", "_where", "_through", "_sort_by_desc"]
QUERY_PARAMS = ["q", "kind", "page", "since", "province_code", "gtin", "lat", "lon", "zoom", "bbox", "by"]
LOOKUPS = sorted(f.key for f in Filters._filters)
EXTENSIONS = ["", ".json", ".csv"]

values = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "max", "abc", "2025", "2025-01", "2025-01-15", "15/01/2025", "01/2025",
                     "31/02/2025", "2025-13-01", "9" * 30, "-" + "9" * 30, "1e400", "nan", "²", "$null", "$null,x",
                     "a,b", "a,b,c", "~3A", "%", "'", '"', "\x00", "Hà Nội", "đ", "*", "()", "NEAR(a b)", "id",
                     "decided", "published", "province", "rowid", "VN", "79", "01", "99", "sữa"]),
    st.text(max_size=30),
    st.integers(-2 ** 70, 2 ** 70).map(str),
)


def get(ds, path):
    return asyncio.run(ds.client.get(path))


@pytest.fixture(scope="module")
def routes(datasette, demo_db):
    """Tables and views with their columns and one record each; the canned queries."""
    listing = asyncio.run(datasette.client.get("/minhbach.json")).json()
    names = [t["name"] for t in listing["tables"] if not t["hidden"]] + [v["name"] for v in listing.get("views", [])]
    tables = {}
    with sqlite3.connect(demo_db) as conn:
        for name in names:
            columns = [c for (c,) in conn.execute(f"select name from pragma_table_info('{name}')")]
            pks = [c for c, pk in conn.execute(f"select name, pk from pragma_table_info('{name}')") if pk]
            row = conn.execute(f"select {', '.join(f'[{p}]' for p in pks) or 'rowid'} from [{name}] limit 1").fetchone() \
                if name not in [v["name"] for v in listing.get("views", [])] else None
            tables[name] = (columns, row)
    return tables, sorted(METADATA.get("queries", {}))


def check(ds, path, params):
    url = path + ("?" + urllib.parse.urlencode(params) if params else "")
    response = get(ds, url)
    assert response.status_code < 500, (url, response.status_code, response.text[:500])


@pytest.mark.slow   # hundreds of generated requests through Datasette
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_table_routes_never_answer_500(datasette, routes, data):
    tables, _queries = routes
    name = data.draw(st.sampled_from(sorted(tables)))
    columns, _row = tables[name]
    filters = st.tuples(st.sampled_from(columns + ["nope"]), st.sampled_from(LOOKUPS + ["nope", ""])).map(
        lambda c: f"{c[0]}__{c[1]}" if c[1] else c[0])
    keys = st.one_of(st.sampled_from(SPECIAL), filters, st.sampled_from(["_search_" + c for c in columns[:3]]))
    params = data.draw(st.lists(st.tuples(keys, st.one_of(values, st.sampled_from(columns))), max_size=4))
    check(datasette, f"/minhbach/{name}{data.draw(st.sampled_from(EXTENSIONS))}", params)


@pytest.mark.slow   # hundreds of generated requests through Datasette
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_queries_feeds_and_pages_never_answer_500(datasette, routes, data):
    _tables, queries = routes
    path = data.draw(st.one_of(
        st.sampled_from(PAGES),
        st.tuples(st.sampled_from(queries), st.sampled_from(EXTENSIONS + [".atom"])).map(
            lambda q: f"/minhbach/{q[0]}{q[1]}"),
    ))
    keys = st.one_of(st.sampled_from(QUERY_PARAMS), st.sampled_from(SPECIAL))
    params = data.draw(st.lists(st.tuples(keys, values), max_size=4))
    check(datasette, path, params)


@pytest.mark.slow   # hundreds of generated requests through Datasette
@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_record_pages_never_answer_500(datasette, routes, data):
    tables, _queries = routes
    name = data.draw(st.sampled_from(sorted(n for n, (_c, row) in tables.items() if row)))
    _columns, row = tables[name]
    key = data.draw(st.one_of(st.just(",".join(urllib.parse.quote(str(v), safe="") for v in row)),
                              st.text(min_size=1, max_size=20).map(lambda t: urllib.parse.quote(t, safe=""))))
    params = data.draw(st.lists(st.tuples(st.sampled_from(SPECIAL), values), max_size=2))
    check(datasette, f"/minhbach/{name}/{key}{data.draw(st.sampled_from(['', '.json']))}", params)


@pytest.mark.parametrize("path", [
    # Found by the properties above (Datasette 0.65 answered 500 to each), kept as fixed cases.
    "/minhbach/establishment_judgements/0", "/minhbach/establishment_links/%2C.json",
    "/minhbach/establishment_judgements?_through=", "/minhbach/violations.json?fine_vnd__gt=%C2%B2",
    "/minhbach/recalls.json?published__gt=99999999999999999999999", "/minhbach/violations.json?_timelimit=abc",
    "/minhbach/violations?_sort=nope", "/minhbach/violations.json?_sort=id&_sort_desc=id",
    "/minhbach/violations.json?_facet=%00", "/minhbach/map_violations.json?_next=abc",
    "/minhbach/search_feed.atom?q=zzqxj", "/minhbach/province_violations.atom",
])
def test_inputs_that_once_answered_500(datasette, path):
    response = get(datasette, path)
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
