"""Narrower list pages (plugins/list_columns.py, configured in metadata.yml): `raw` is left out of the
HTML and JSON list pages, kept on the record page and in CSV; HTML list pages show fewer columns and
`size_html` rows. Through Datasette, against SQL on the demo file."""
import asyncio
import csv
import io
import json
import re
import sqlite3

import pytest
import yaml

from conftest import ROOT

METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())["databases"]["minhbach"]["tables"]
TABLES = [t for t, m in METADATA.items() if (m.get("plugins") or {}).get("list-columns")]


def get(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response


def config(table):
    return METADATA[table]["plugins"]["list-columns"]


def columns(db, table):
    with sqlite3.connect(db) as conn:
        # generated columns (`year`) are columns to Datasette too; hidden=1 is a virtual table's own
        return [r[1] for r in conn.execute(f"pragma table_xinfo([{table}])") if r[6] != 1]


def test_configured_on_the_searchable_tables():
    assert set(TABLES) >= {"recalls", "violations", "listings"}
    for table in TABLES:
        assert "raw" in config(table)["hide"]


@pytest.mark.parametrize("table", TABLES)
def test_json_list_leaves_out_raw_and_the_record_keeps_it(datasette, demo_db, table):
    body = get(datasette, f"/minhbach/{table}.json?_shape=objects&_size=5").json()
    expected = [c for c in columns(demo_db, table) if c not in config(table)["hide"]]
    assert [c for c in body["rows"][0] if c in columns(demo_db, table)] == expected
    record_id = body["rows"][0]["id"]
    with sqlite3.connect(demo_db) as conn:
        (raw,) = conn.execute(f"select raw from [{table}] where id = ?", [record_id]).fetchone()
    from datasette.utils import tilde_encode
    record = get(datasette, f"/minhbach/{table}/{tilde_encode(record_id)}.json?_shape=objects").json()
    assert record["rows"][0]["raw"] == raw
    # a request choosing its columns gets what it chose, Datasette's way
    chosen = get(datasette, f"/minhbach/{table}.json?_shape=objects&_size=5&_col=raw").json()
    assert {r["id"]: r["raw"] for r in chosen["rows"]} == {
        i: v for i, v in sqlite3.connect(demo_db).execute(
            f"select id, raw from [{table}] where id in ({','.join('?' * len(chosen['rows']))})",
            [r["id"] for r in chosen["rows"]])}
    assert "raw" in get(datasette, f"/minhbach/{table}.json?_shape=objects&_size=1&_nocol=notes").json()["rows"][0]


@pytest.mark.parametrize("table", TABLES)
def test_csv_keeps_every_column(datasette, demo_db, table):
    text = get(datasette, f"/minhbach/{table}.csv?_size=max").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == columns(demo_db, table)
    with sqlite3.connect(demo_db) as conn:
        truth = dict(conn.execute(f"select id, coalesce(raw, '') from [{table}]"))
    assert {r["id"]: r["raw"] for r in rows} == {i: truth[i] for i in (r["id"] for r in rows)}
    streamed = get(datasette, f"/minhbach/{table}.csv?_stream=on").text.lstrip("\ufeff")
    assert next(csv.reader(io.StringIO(streamed))) == columns(demo_db, table)


@pytest.mark.parametrize("table", TABLES)
def test_html_list_is_narrower_and_shorter_and_pages_through_everything(datasette, demo_db, table):
    hidden = set(config(table)["hide"]) | set(config(table).get("hide_html", []))
    size = config(table)["size_html"]
    page = get(datasette, f"/minhbach/{table}").text
    shown = set(re.findall(r"<th [^>]*class=\"col-([\w-]+)\"", page))
    assert shown and not shown & hidden
    assert shown >= set(columns(demo_db, table)) - hidden - {"id"}
    with sqlite3.connect(demo_db) as conn:
        (total,) = conn.execute(f"select count(*) from [{table}]").fetchone()
        ids = {i for (i,) in conn.execute(f"select id from [{table}]")}
    seen, url = [], f"/minhbach/{table}"
    while url:
        page = get(datasette, url).text
        rows = re.findall(r'<td class="col-id type-\w+"><a href="[^"]*">([^<]*)</a>', page)
        assert len(rows) == min(size, total - len(seen)), url
        seen += rows
        link = re.search(r'<a href="([^"]+)">Next page</a>', page)
        url = re.sub(r"^https?://[^/]+", "", link.group(1).replace("&amp;", "&")) if link else None
    import html
    assert {html.unescape(s) for s in seen} == ids and len(seen) == total
    # ?_size= still chooses
    page = get(datasette, f"/minhbach/{table}?_size=3").text
    assert len(re.findall(r'<td class="col-id type-', page)) == 3


def test_sort_column_is_never_hidden(datasette):
    body = get(datasette, "/minhbach/violations.json?_shape=objects&_size=2&_sort_desc=raw").json()
    assert "raw" in body["rows"][0] and body["next_url"]
    assert json.loads(json.dumps(get(datasette, body["next_url"].split("localhost", 1)[-1]).json()))["rows"]
