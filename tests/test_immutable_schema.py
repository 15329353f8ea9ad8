"""Schema answers cached for immutable files only (plugins/immutable_schema.py): a served immutable file is
asked for its schema once, pages stay the same as SQL on the file says, and a mutable file's schema
changes are seen at once."""
import asyncio
import json
import sqlite3

from datasette.app import Datasette
from datasette.database import Database
from datasette.utils import tilde_encode

from conftest import ROOT


def run(coro):
    return asyncio.run(coro)


class Counting:
    """Counts the calls that reach a database's SQL thread (execute_fn), per database name."""

    def __init__(self):
        self.calls = {}

    def __enter__(self):
        self.original = Database.execute_fn
        counting = self

        async def execute_fn(db, fn, *args, **kwargs):
            counting.calls[db.name] = counting.calls.get(db.name, 0) + 1
            return await counting.original(db, fn, *args, **kwargs)
        Database.execute_fn = execute_fn
        return self

    def __exit__(self, *exc):
        Database.execute_fn = self.original


def test_record_page_asks_the_immutable_file_only_for_its_own_rows(datasette, demo_db):
    with sqlite3.connect(demo_db) as conn:
        ids = [r[0] for r in conn.execute("select id from violations order by rowid limit 3")]
        expected = {}
        for i in ids:
            cursor = conn.execute("select * from violations where id = ?", [i])
            expected[i] = dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
    path = f"/minhbach/violations/{tilde_encode(ids[0])}.json"
    first = run(datasette.client.get(path))            # the schema is read here (or earlier)
    assert first.status_code == 200
    for record_id in ids[1:]:
        with Counting() as counting:
            response = run(datasette.client.get(f"/minhbach/violations/{tilde_encode(record_id)}.json"))
        assert response.status_code == 200
        body = response.json()
        row = dict(zip(body["columns"], body["rows"][0]))
        assert {c: row.get(c) for c in expected[record_id]} == expected[record_id]
        # the row itself, nothing else: no PRAGMA schema_version, no table lookup, no key or foreign-key PRAGMA
        assert counting.calls.get("minhbach") == 1, counting.calls


def test_table_page_schema_is_the_file_schema(datasette, demo_db):
    with sqlite3.connect(demo_db) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        pks = [r[1] for r in conn.execute("pragma table_info(recalls)") if r[5]]
    for _ in range(2):                                  # cached answers are the same answers
        body = run(datasette.client.get("/minhbach.json")).json()
        assert {t["name"] for t in body["tables"]} == tables
        table = run(datasette.client.get("/minhbach/recalls.json?_size=1&_shape=objects")).json()
        assert table["primary_keys"] == pks


def test_a_mutable_file_is_never_cached(tmp_path):
    path = tmp_path / "m.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (id integer primary key, a text)")
        conn.execute("insert into t values (1, 'x')")
    ds = Datasette([str(path)], plugins_dir=str(ROOT / "plugins"))
    assert run(ds.client.get("/m/t.json?_shape=objects")).json()["rows"] == [{"id": 1, "a": "x"}]
    with sqlite3.connect(path) as conn:
        conn.execute("alter table t add column b text")
        conn.execute("create table u (k text primary key)")
        conn.execute("update t set b = 'y'")
    assert run(ds.client.get("/m/t.json?_shape=objects")).json()["rows"] == [{"id": 1, "a": "x", "b": "y"}]
    assert "u" in {t["name"] for t in run(ds.client.get("/m.json")).json()["tables"]}
    assert json.loads(run(ds.client.get("/m/u.json")).text)["primary_keys"] == ["k"]
