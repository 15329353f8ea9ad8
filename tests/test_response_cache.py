"""plugins/response_cache.py: an immutable file's pages are computed once per process, and nothing
that may differ between requests or visitors is replayed."""
import asyncio
import shutil

import yaml
from datasette.app import Datasette

from conftest import ROOT


def make(db, mutable=False):
    files = {"files": [str(db)]} if mutable else {"immutables": [str(db)]}
    return Datasette(**files, metadata=yaml.safe_load((ROOT / "metadata.yml").read_text()),
                     plugins_dir=str(ROOT / "plugins"), template_dir=str(ROOT / "templates"),
                     settings={"suggest_facets": False})


def fetch(ds, path, **kwargs):
    async def go():
        return await ds.client.get(path, **kwargs)
    return asyncio.run(go())


def test_second_request_is_served_from_the_cache_with_the_same_answer(demo_db):
    ds = make(demo_db)
    for path in ("/", "/minhbach/violations.json?_facet=source", "/minhbach/recalls", "/thong-ke"):
        first, second = fetch(ds, path), fetch(ds, path)
        assert first.status_code == second.status_code == 200, path
        assert (first.headers["x-minhbach-cache"], second.headers["x-minhbach-cache"]) == ("miss", "hit"), path
        assert first.content == second.content
        assert first.headers["content-type"] == second.headers["content-type"]
        assert second.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_errors_and_other_hosts_are_not_replayed(demo_db):
    ds = make(demo_db)
    assert [fetch(ds, "/minhbach/nope").headers["x-minhbach-cache"] for _ in range(2)] == ["miss", "miss"]
    a = fetch(ds, "/minhbach/violations.json?_size=1", headers={"host": "a.example"})
    b = fetch(ds, "/minhbach/violations.json?_size=1", headers={"host": "b.example"})
    assert b.headers["x-minhbach-cache"] == "miss"
    assert "a.example" in a.text and "b.example" in b.text and "a.example" not in b.text


def test_a_signed_in_actor_bypasses_the_cache(demo_db):
    ds = make(demo_db)
    cookies = {"ds_actor": ds.sign({"a": {"id": "root"}}, "actor")}
    fetch(ds, "/minhbach/recalls.json")
    assert "x-minhbach-cache" not in fetch(ds, "/minhbach/recalls.json", cookies=cookies).headers


def test_nothing_is_cached_while_a_database_can_change(demo_db, tmp_path):
    db = tmp_path / "minhbach.db"
    shutil.copy(demo_db, db)
    ds = make(db, mutable=True)
    for _ in range(2):
        assert "x-minhbach-cache" not in fetch(ds, "/minhbach/recalls.json").headers


def test_the_cache_can_be_turned_off(demo_db, monkeypatch):
    monkeypatch.setenv("MINHBACH_CACHE_MB", "0")
    ds = make(demo_db)
    for _ in range(2):
        assert "x-minhbach-cache" not in fetch(ds, "/minhbach/recalls.json").headers


def load_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("response_cache", ROOT / "plugins" / "response_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cache_keeps_to_its_size_counting_keys_and_headers(monkeypatch):
    module = load_module()
    start = {"status": 200, "headers": [(b"content-type", b"text/html")]}
    one = module.entry_size((b"GET", b"/x" * 500, 0), start, b"x" * 300)
    assert one > 300 + 1000 + len(b"content-typetext/html")       # key and headers count, not only the body
    cache = module.Cache(limit=3 * one + 10)
    for i in range(10):
        cache.put((b"GET", b"/x" * 500, i), start, b"x" * 300)
    assert cache.size <= cache.limit and len(cache.entries) == 3
    assert cache.get((b"GET", b"/x" * 500, 0)) is None
    assert cache.get((b"GET", b"/x" * 500, 9)) == (start, b"x" * 300)


def test_expired_entries_go_by_themselves(monkeypatch):
    module = load_module()
    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    cache = module.Cache(limit=10 ** 6)
    for i in range(5):
        cache.put(("old", i), {"status": 200}, b"x" * 100)
    clock[0] += module.TTL_SECONDS + 1
    cache.put(("new",), {"status": 200}, b"y")           # another URL: the old ones are not asked for again
    assert list(cache.entries) == [("new",)] and cache.size == module.entry_size(("new",), {"status": 200}, b"y")
    clock[0] += module.TTL_SECONDS + 1
    cache.expire()                                       # what any uncached request does
    assert not cache.entries and cache.size == 0


def test_unique_long_urls_do_not_grow_the_cache(demo_db):
    ds = make(demo_db)
    long_query = "x" * (load_module().MAX_QUERY_STRING + 1)
    for i in range(3):
        response = fetch(ds, f"/minhbach/recalls.json?_size=1&source={i}{long_query}")
        assert response.status_code == 200 and "x-minhbach-cache" not in response.headers


def test_a_request_with_any_cookie_is_never_cached_or_replayed(demo_db):
    ds = make(demo_db)
    # An attacker's request carrying a CSRF cookie: its answer must not be replayed to anyone.
    first = fetch(ds, "/-/messages", cookies={"ds_csrftoken": "attacker-token"})
    assert "x-minhbach-cache" not in first.headers
    fresh = fetch(ds, "/-/messages")
    assert "attacker-token" not in fresh.text and "x-minhbach-cache" not in fresh.headers
    for _ in range(2):
        response = fetch(ds, "/minhbach/recalls.json?_size=1", cookies={"anything": "1"})
        assert "x-minhbach-cache" not in response.headers


def test_no_dash_page_is_cached(demo_db):
    ds = make(demo_db)
    for path in ("/-/versions.json", "/-/static/app.css", "/-/map.json"):
        for _ in range(2):
            assert "x-minhbach-cache" not in fetch(ds, path).headers, path
