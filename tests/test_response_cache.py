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


def test_the_cache_keeps_to_its_size(monkeypatch):
    import importlib.util
    spec = importlib.util.spec_from_file_location("response_cache", ROOT / "plugins" / "response_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cache = module.Cache(limit=1000)
    for i in range(10):
        cache.put(i, {"status": 200}, b"x" * 300)
    assert cache.size <= 1000 and len(cache.entries) == 3
    assert cache.get(0) is None and cache.get(9) == ({"status": 200}, b"x" * 300)
    monkeypatch.setattr(module.time, "monotonic", lambda: 10 ** 9)
    assert cache.get(9) is None and cache.size == 600
