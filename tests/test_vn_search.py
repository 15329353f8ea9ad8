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


# ---- issue 17, item 5: short prefixes, typed diacritics, joined place names (truth: FTS and SQL)

def fts_ids(demo_db, table, match):
    import sqlite3
    conn = sqlite3.connect(demo_db)
    try:
        return sorted(str(r[0]) for r in conn.execute(
            f"select t.id from {table}_fts f join {table} t on t.rowid = f.rowid where {table}_fts match ?", (match,)))
    finally:
        conn.close()


def unified(datasette, q, kind):
    response = asyncio.run(datasette.client.get(f"/minhbach/search.json?q={quote(q)}&kind={kind}&_shape=array"))
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_a_two_letter_word_is_not_a_prefix(datasette, demo_db):
    """"ty" finds the word ty (công ty), not every word starting with ty (TYPES, tỷ)."""
    whole = fts_ids(demo_db, "recalls", '"ty"')
    prefixed = fts_ids(demo_db, "recalls", '"ty"*')
    assert set(prefixed) > set(whole), "the demo data should hold words starting with ty"
    rows = unified(datasette, "ty", "recalls")
    assert rows and rows[0]["total"] == len(whole)
    assert {r["id"] for r in rows} <= set(whole)
    # from three letters the last word is a prefix again (search as you type)
    assert unified(datasette, "typ", "recalls")[0]["total"] == len(fts_ids(demo_db, "recalls", '"typ"*'))


@pytest.mark.parametrize("joined,spaced", [("hanoi", "ha noi"), ("danang", "da nang"), ("HaNoi", "Hà Nội"),
                                           ("hochiminh", "Hồ Chí Minh"), ("saigon", "Sài Gòn")])
def test_joined_place_names_find_the_place(datasette, joined, spaced):
    for table in ("violations", "listings", "establishments"):
        assert ids(datasette, f"/minhbach/{table}.json?_search={quote(joined)}&_size=max&_shape=arrays") == \
            ids(datasette, f"/minhbach/{table}.json?_search={quote(spaced)}&_size=max&_shape=arrays"), table
    found = ids(datasette, f"/minhbach/search.json?q={quote(joined)}&_shape=arrays")
    assert found and found == ids(datasette, f"/minhbach/search.json?q={quote(spaced)}&_shape=arrays")


TEXTS = {"recalls": "title, product, brand, hazard, company", "violations": "establishment, violation, address, sanction",
         "listings": "product, holder, address, rating", "establishments": "name, address"}


@pytest.mark.parametrize("typed", ["sửa", "sữa", "phạt"])
def test_typed_diacritics_rank_first(datasette, demo_db, typed):
    """Within each kind, the rows holding the word as typed (accents and all) come before those holding
    it only under another accent ("sửa" before "sữa")."""
    import sqlite3
    import unicodedata
    conn = sqlite3.connect(demo_db)
    mixed = 0
    try:
        for kind, columns in TEXTS.items():
            rows = unified(datasette, typed, kind)
            if not rows or rows[0]["total"] > 20:
                continue
            exact = []
            for r in rows:
                text = " ".join(v or "" for v in conn.execute(f"select {columns} from {kind} where id = ?", (r["id"],)).fetchone())
                words = unicodedata.normalize("NFC", text).casefold().split()
                words = {w.strip(".,;:()[]\"'“”") for w in words}
                exact.append(typed in words)
            assert exact == sorted(exact, reverse=True), (kind, exact)
            mixed += len(set(exact)) == 2
    finally:
        conn.close()
    if typed in ("sửa", "sữa"):
        assert mixed, "the demo data should hold both sửa and sữa in one kind"
