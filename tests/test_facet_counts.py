"""Counts computed when the file is built (db/facets.py, db/schema.py SUMMARIES) answer exactly what
Datasette and the pages would compute live, through Datasette."""
import asyncio
import sqlite3

import pytest
import yaml

from conftest import ROOT
from db import schema

METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]["tables"]


def get_json(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response.json()


def live_counts(db, table, column, where="", params=()):
    with sqlite3.connect(db) as conn:
        return [list(r) for r in conn.execute(
            f"select [{column}], count(*) from [{table}] {where} "
            f"{'and' if where else 'where'} [{column}] is not null group by 1 order by 2 desc, 1", params)]


def shown(facet):
    return [[v["value"], v["count"]] for v in facet["results"]]


@pytest.mark.parametrize("table", [t for t in METADATA if (t in schema.TABLES or t in schema.VIEWS)
                                   and METADATA[t].get("facets")])
def test_whole_table_facets_come_from_the_file_and_match_a_group_by(datasette, demo_db, table):
    stored = {c for (c,) in sqlite3.connect(demo_db).execute(
        "select distinct facet_column from facet_counts where table_name = ? and filter_column = ''", [table])}
    body = get_json(datasette, f"/minhbach/{table}.json?_size=1")
    for column in METADATA[table]["facets"]:
        facet = body["facet_results"][column]
        expected = live_counts(demo_db, table, column)
        assert column in stored or not expected, (table, column)
        assert shown(facet) == expected[:30], (table, column)
        assert facet["truncated"] == (len(expected) > 30)


def test_a_filtered_page_gets_the_counts_under_its_filter(datasette, demo_db):
    with sqlite3.connect(demo_db) as conn:
        codes = [c for (c,) in conn.execute(
            "select province_code from violations where province_code is not null group by 1 order by count(*) desc")]
    assert len(codes) >= 5
    for code in codes[:5]:
        body = get_json(datasette, f"/minhbach/violations.json?province_code={code}&_facet=source&_size=1")
        assert body["filtered_table_rows_count"] == sum(n for _v, n in live_counts(
            demo_db, "violations", "province_code", "where province_code = ?", [code]))
        for column in METADATA["violations"]["facets"] + ["source"]:
            facet = body["facet_results"][column]
            assert shown(facet) == live_counts(demo_db, "violations", column, "where province_code = ?", [code])[:30]
            selected = [v for v in facet["results"] if v["selected"]]
            assert (column == "province_code") == bool(selected)


def test_pages_the_file_cannot_answer_are_counted_by_datasette(datasette, demo_db):
    """A search and two filters: not in facet_counts, the same numbers as SQL all the same."""
    body = get_json(datasette, "/minhbach/violations.json?_search=pham&_size=1")
    assert body["filtered_table_rows_count"] > 0
    for column in ("province", "source"):
        assert sum(v["count"] for v in body["facet_results"][column]["results"]) <= body["filtered_table_rows_count"]
    with sqlite3.connect(demo_db) as conn:
        code, source = conn.execute("select province_code, source from violations where province_code is not null "
                                    "group by 1, 2 order by count(*) desc limit 1").fetchone()
    body = get_json(datasette, f"/minhbach/violations.json?province_code={code}&source={source}&_size=1")
    assert shown(body["facet_results"]["year"]) == live_counts(
        demo_db, "violations", "year", "where province_code = ? and source = ?", [code, source])[:30]


@pytest.mark.parametrize("path", [
    "/minhbach/listings.json?_facet=province_code", "/minhbach/listings.json?scheme=OCOP",
    "/minhbach/violations.json?_search=pham", "/minhbach/violations.json?jurisdiction=VN&source=vn_news_violations",
    "/minhbach/recalls.json?year__gte=2020&_facet_size=3", "/minhbach/establishments.json?province=Hà%20Nội",
    "/minhbach/map_listings.json?_facet=rating", "/minhbach/map_violations.json?source=vn_news_violations",
])
def test_facets_are_exactly_what_datasettes_own_facet_class_returns(datasette, path, monkeypatch):
    """Same page, counted by Datasette's stock ColumnFacet: identical facets, values, counts, links."""
    from datasette.facets import ColumnFacet
    from datasette.plugins import pm

    ours = get_json(datasette, path + "&_size=1")["facet_results"]
    klass = next(k for ks in pm.hook.register_facet_classes() for k in ks if k.type == "column")
    assert klass is not ColumnFacet
    monkeypatch.setattr(klass, "facet_results", ColumnFacet.facet_results)
    stock = get_json(datasette, path + "&_size=1&_stock=1")["facet_results"]
    assert ours and ours.keys() == stock.keys()
    for column in ours:
        for facet in (ours[column], stock[column]):
            for value in facet["results"]:
                value["toggle_url"] = value["toggle_url"].replace("&_stock=1", "")
            facet["toggle_url"] = facet["toggle_url"].replace("&_stock=1", "")
        assert ours[column] == stock[column], column


@pytest.mark.parametrize("name", list(schema.SUMMARIES))
def test_summary_tables_equal_their_query_on_the_built_file(demo_db, name):
    with sqlite3.connect(demo_db) as conn:
        stored = sorted(conn.execute(f"select * from [{name}]"), key=repr)
        live = sorted(conn.execute(schema.SUMMARIES[name]), key=repr)
    assert stored == live and stored


def test_statistics_page_shows_the_stored_province_counts(datasette, demo_db):
    response = asyncio.run(datasette.client.get("/thong-ke"))
    assert response.status_code == 200
    with sqlite3.connect(demo_db) as conn:
        province, n = conn.execute("select province, count(*) from violations where withdrawn is null "
                                   "and province_code is not null group by province_code order by 2 desc limit 1").fetchone()
    assert f'<span class="label">{province}</span>' in response.text
    assert f'<span class="count">{n}<' in response.text
