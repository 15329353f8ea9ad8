"""Vietnamese search through Datasette on the demo database: the same rows with and without
diacritics, in any case, NFC or NFD, old or new tone placement, and common aliases."""
import asyncio
import unicodedata
from urllib.parse import quote

import pytest

from db import schema

PROBES = [
    ["da nang", "Đà Nẵng", "ĐÀ NẴNG"], ["duong", "đường"], ["hoa", "hòa", "hoà"], ["nuoc mam", "nước mắm"],
    ["tran hung dao", "Trần Hưng Đạo"], ["ha noi", "Hà Nội"], ["thu hoi", "thu hồi"], ["duoc pham", "dược phẩm"],
    ["cong ty", "công ty"], ["my pham", "mỹ phẩm"], ["quang ninh", "Quảng Ninh"], ["dong nai", "Đồng Nai"],
    ["ho chi minh", "Hồ Chí Minh"],
]
ALIASES = [["TP.HCM", "TP HCM", "Thành phố Hồ Chí Minh", "Sài Gòn", "tphcm"], ["Cty", "Công ty"],
           ["CTCP", "Công ty cổ phần"]]
SEARCHABLE = [name for name, spec in schema.TABLES.items() if spec["fts"]]


def ids(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return sorted(str(row[0]) for row in response.json()["rows"])


def variants(group):
    # NFD input (macOS, some keyboards) must behave like NFC.
    return group + [unicodedata.normalize("NFD", group[-1])]


@pytest.mark.parametrize("group", PROBES + ALIASES, ids=lambda g: g[0])
def test_every_spelling_finds_the_same_rows(datasette, group):
    found_any = False
    for table in SEARCHABLE:
        results = [ids(datasette, f"/minhbach/{table}.json?_search={quote(q)}&_size=max&_shape=arrays") for q in variants(group)]
        assert all(r == results[0] for r in results), (table, group)
        found_any = found_any or bool(results[0])
    unified = [ids(datasette, f"/minhbach/search.json?q={quote(q)}&_shape=arrays") for q in variants(group)]
    assert all(r == unified[0] for r in unified), group
    assert found_any and unified[0], f"the demo data should contain {group[0]!r}"


def test_unified_search_ranks_by_relevance_and_highlights(datasette):
    response = asyncio.run(datasette.client.get("/minhbach/search.json?q=nuoc+mam&_shape=array"))
    rows = response.json()
    assert rows and [r["score"] for r in rows] == sorted(r["score"] for r in rows)   # bm25: lower is better
    page = asyncio.run(datasette.client.get("/minhbach/search?q=nuoc+mam")).text
    assert "<mark>" in page and 'value="nuoc mam"' in page


def test_province_facet_on_every_placed_list(datasette):
    for table in ("violations", "listings", "establishments"):
        data = asyncio.run(datasette.client.get(f"/minhbach/{table}.json?_facet=province_code&_size=0")).json()
        assert data["facet_results"]["province_code"]["results"], table
