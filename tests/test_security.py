"""The public site is read-only and sends its security headers."""
import asyncio

import pytest


def get(datasette, path, **kwargs):
    return asyncio.run(datasette.client.get(path, **kwargs))


def test_security_headers_on_pages_and_api(datasette):
    for path in ("/", "/minhbach/violations", "/minhbach/recalls.json"):
        response = get(datasette, path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "object-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("sql", [
    "insert into violations (id, source, source_id, url, establishment) values ('x:1', 'x', '1', 'https://x', 'X')",
    "delete from recalls",
    "update listings set rating = '5 sao'",
    "drop table recalls",
    "attach database '/tmp/evil.db' as evil",
    "pragma writable_schema = 1",
])
def test_arbitrary_sql_cannot_write(datasette, sql):
    response = get(datasette, "/minhbach.json", params={"sql": sql})
    assert response.status_code in (400, 403) or response.json().get("ok") is False, response.text


def test_no_write_endpoints(datasette):
    for path in ("/minhbach/violations/-/insert", "/minhbach/-/create", "/minhbach/violations/-/drop",
                 "/-/upload-csvs", "/minhbach/search"):
        response = asyncio.run(datasette.client.post(path, json={"rows": [{"id": "x"}]}))
        assert response.status_code in (400, 403, 404, 405), (path, response.status_code)
    (count,), = asyncio.run(datasette.get_database("minhbach").execute("select count(*) from violations")).rows
    assert count > 0


def test_database_is_opened_immutable(datasette):
    assert datasette.get_database("minhbach").is_mutable is False


def test_expensive_sql_is_cut_off_with_a_clear_message(datasette):
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) "
            "select count(*) from n")
    response = get(datasette, "/minhbach.json", params={"sql": slow})
    assert response.status_code == 400 and "time limit" in response.text.lower()
    assert get(datasette, "/minhbach/recalls.json").status_code == 200   # still up
