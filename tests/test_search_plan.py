"""A table search answers the same rows, count and facets with the faster plan (plugins/search_plan.py,
the facet cap of plugins/facet_counts.py), through Datasette, against SQL on the demo file.

The demo has a few hundred rows, so the thresholds are lowered here to force each plan on every word."""
import asyncio
import re
import sqlite3
from collections import Counter

import pytest
from datasette.database import Database
from datasette.plugins import pm

from vn.fold import fts_query

TABLES = {"recalls": "published", "violations": "decided", "listings": "valid_from"}


def get(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response


def connect(db):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.create_function("escape_fts", 1, lambda q: fts_query(q or ""), deterministic=True)
    return conn


def words(db, table, n=6):
    """The most common words of the table's index, and a rare one."""
    with connect(db) as conn:
        counts = Counter(w for (text,) in conn.execute(f"select folded from [{table}_fts]")
                         for w in set(re.findall(r"[a-z]{4,}", text or "")))
    common = [w for w, _ in counts.most_common(n)]
    return common + [min(counts, key=lambda w: (counts[w], w))]


def truth(db, table, sort, word):
    """Datasette's own SQL for `?_search=word` (ids in page order, count)."""
    where = f"rowid in (select rowid from [{table}_fts] where [{table}_fts] match escape_fts(:search))"
    with connect(db) as conn:
        ids = [r[0] for r in conn.execute(f"select id from [{table}] where {where} order by [{sort}] desc, rowid desc",
                                          {"search": word})]
        (count,) = conn.execute(f"select count(*) from [{table}] where {where}", {"search": word}).fetchone()
    return ids, count


@pytest.fixture
def plan():
    """The search_plan module's globals (its thresholds), restored after the test."""
    execute = Database.execute           # other plugins may wrap it too (each names the next in __wrapped__)
    while "SCAN_MIN" not in execute.__globals__ and hasattr(execute, "__wrapped__"):
        execute = execute.__wrapped__
    module = execute.__globals__
    assert module.get("SCAN_MIN") is not None, "plugins/search_plan.py is not loaded"
    saved = module["SCAN_MIN"]
    yield module
    module["SCAN_MIN"] = saved
    module["_hits"].clear()


@pytest.fixture
def facets():
    cls = next(c for cs in pm.hook.register_facet_classes() for c in cs if c.__name__ == "PrecomputedColumnFacet")
    module = cls.facet_results.__globals__
    saved = module["FACET_CAP"]
    yield module
    module["FACET_CAP"] = saved


@pytest.mark.parametrize("scan_min", [0, 10 ** 9], ids=["index-order", "hits-sorted"])
@pytest.mark.parametrize("table", TABLES)
def test_search_pages_and_counts_equal_sql(datasette, demo_db, plan, table, scan_min):
    plan["SCAN_MIN"] = scan_min
    plan["_hits"].clear()
    sort = TABLES[table]
    for word in words(demo_db, table):
        ids, count = truth(demo_db, table, sort, word)
        assert count > 0, word
        url, seen = f"/minhbach/{table}.json?_search={word}&_size=7&_shape=objects", []
        body = get(datasette, url).json()
        assert body["filtered_table_rows_count"] == count, (table, word)
        while True:
            seen += [row["id"] for row in body["rows"]]
            if not body.get("next_url"):
                break
            body = get(datasette, body["next_url"].split("localhost", 1)[-1]).json()
        assert seen == ids, (table, word)


def test_the_faster_plan_is_the_one_sqlite_runs(datasette, demo_db, plan):
    """Above SCAN_MIN hits the page reads the sort index in order (no sort of all hits), and the count
    is taken on the full-text index alone."""
    plan["SCAN_MIN"] = 0
    plan["_hits"].clear()
    sql = ("select id from violations where rowid in (select rowid from violations_fts where violations_fts "
           "match escape_fts(:search)) order by decided desc, rowid desc limit 101")
    count = ("select count(*) from violations where rowid in (select rowid from violations_fts where violations_fts "
             "match escape_fts(:search)) ")
    db = datasette.get_database("minhbach")
    word = words(demo_db, "violations")[0]
    planned = asyncio.run(plan["planned"](db, sql, {"search": word}))
    assert "+rowid in" in planned
    with connect(demo_db) as conn:
        steps = " ".join(r[3] for r in conn.execute("explain query plan " + planned, {"search": word}))
    assert "USING INDEX idx_violations_decided" in steps and "TEMP B-TREE" not in steps, steps
    assert asyncio.run(plan["planned"](db, count, {"search": word})) == (
        "select count(*) from violations_fts where violations_fts match escape_fts(:search)")
    # anything else passes through untouched: a facet query, another filter's count, a sort with no index
    for other in ["select province, count(*) from (" + sql.split(" order by")[0] + ") group by province",
                  count + "and province_code = :p0",
                  sql.replace("order by decided desc", "order by violation desc")]:
        assert asyncio.run(plan["planned"](db, other, {"search": word, "p0": "79"})) == other


def test_a_search_past_the_cap_is_not_faceted_unless_asked(datasette, demo_db, facets):
    word = words(demo_db, "violations")[0]
    _ids, count = truth(demo_db, "violations", "decided", word)
    facets["FACET_CAP"] = count - 1
    body = get(datasette, f"/minhbach/violations.json?_search={word}&_size=1").json()
    assert body["filtered_table_rows_count"] == count
    assert body["facet_results"] == {}
    page = get(datasette, f"/minhbach/violations?_search={word}").text
    assert "These facets timed out: province" in page
    # asked: every facet counted, equal to SQL
    body = get(datasette, f"/minhbach/violations.json?_search={word}&_size=1&_facet_all=1").json()
    where = "rowid in (select rowid from violations_fts where violations_fts match escape_fts(:search))"
    for column in ["province", "jurisdiction", "source", "authority"]:
        with connect(demo_db) as conn:
            expected = {str(v): n for v, n in conn.execute(
                f"select [{column}], count(*) from violations where {where} and [{column}] is not null group by 1",
                {"search": word})}
        shown = {str(v["value"]): v["count"] for v in body["facet_results"][column]["results"]}
        assert bool(shown) == bool(expected) and all(expected[v] == n for v, n in shown.items()), column
    # at or under the cap: counted as before (another URL: the response cache keeps answers per URL)
    facets["FACET_CAP"] = count
    assert set(get(datasette, f"/minhbach/violations.json?_search={word}&_size=2").json()["facet_results"]) >= {
        "province", "source"}


def test_every_searchable_table_has_one_index_entry_per_row(demo_db):
    """The count is taken on `<table>_fts` alone: true only while the index holds exactly the table's rowids
    (db/build.py writes both). Every table metadata.yml makes searchable, checked on the built file."""
    import yaml

    from conftest import ROOT
    tables = yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]["tables"]
    searchable = {t: m["fts_table"] for t, m in tables.items() if m.get("fts_table")}
    assert set(searchable) >= set(TABLES)
    with connect(demo_db) as conn:
        for table, fts in searchable.items():
            assert fts == f"{table}_fts", table      # the only name plugins/search_plan.py rewrites
            rows = {r for (r,) in conn.execute(f"select rowid from [{table}]")}
            entries = [r for (r,) in conn.execute(f"select rowid from [{fts}]")]
            assert rows and len(entries) == len(set(entries)) and set(entries) == rows, table
