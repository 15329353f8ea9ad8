"""Canonical authorities (db/authorities.csv, applied at finalize by db/authorities.py): one code per
body whatever the spelling; spellings nobody reviewed stay NULL."""
import asyncio
import csv
import sqlite3

from conftest import ROOT, SAMPLES, query, shared_file
from db import authorities, schema

TABLE = list(csv.DictReader(open(ROOT / "db" / "authorities.csv", newline="", encoding="utf-8")))
HCM_INSPECTORATE = ["Thanh tra Sở Y tế TP HCM", "Thanh tra Sở Y tế TP.HCM", "Thanh tra Sở Y tế TPHCM",
                    "Thanh tra Sở Y tế TP Hồ Chí Minh", "Thanh tra Sở Y tế TP. Hồ Chí Minh"]


def sample_spellings():
    """Authority spellings as the bundled Vietnamese samples publish them (the raw files)."""
    spellings = set()
    for name in ("vn_news_recalls.csv", "vn_news_violations.csv", "vn_news_listings.csv"):
        rows = list(csv.DictReader(open(SAMPLES / name, newline="", encoding="utf-8-sig")))
        column = next(c for c in rows[0] if c.startswith("Cơ quan"))
        spellings |= {r[column].strip() for r in rows if r[column].strip()}
    return spellings


def test_the_table_is_well_formed():
    spellings = [r["spelling"] for r in TABLE]
    assert len(spellings) == len(set(spellings)), "a spelling is listed twice"
    by_code = {}
    for row in TABLE:
        assert bool(row["authority_code"]) == bool(row["authority_canonical"]), row
        if row["authority_code"]:
            by_code.setdefault(row["authority_code"], set()).add(row["authority_canonical"])
            assert row["authority_code"].startswith(row["jurisdiction"] + "-"), row
        else:
            assert row["note"], f"an unmapped spelling says why: {row}"
    assert all(len(names) == 1 for names in by_code.values()), "one canonical name per code"


def test_every_sample_spelling_of_the_hcm_inspectorate_maps_to_one_code():
    present = [s for s in HCM_INSPECTORATE if s in sample_spellings()]
    assert len(present) == 5, present         # all five spellings are in the samples
    mapping = authorities.load()
    assert {mapping[s] for s in present} == {
        ("Thanh tra Sở Y tế Thành phố Hồ Chí Minh", "VN-thanh-tra-so-y-te-thanh-pho-ho-chi-minh")}


def test_every_spelling_in_the_samples_is_reviewed():
    listed = {r["spelling"] for r in TABLE}
    assert sample_spellings() - listed == set()


def test_every_listed_spelling_was_found_in_a_sample_or_the_curated_files(demo_db):
    found = sample_spellings()
    for table in authorities.tables_with_authority():
        found |= {a for (a,) in query(demo_db, f"select distinct authority from [{table}] where authority is not null")}
    curated = shared_file("curated/vn-news")
    for path in curated.glob("*.csv"):
        rows = list(csv.DictReader(open(path, newline="", encoding="utf-8-sig")))
        column = next(c for c in rows[0] if c.startswith("Cơ quan"))
        found |= {r[column].strip() for r in rows}
    assert {r["spelling"] for r in TABLE} - found == set()


def test_the_build_applies_the_table_to_every_row(demo_db):
    rows = {r["spelling"]: r for r in TABLE}
    for table in authorities.tables_with_authority():
        for authority, canonical, code in query(
                demo_db, f"select authority, authority_canonical, authority_code from [{table}]"):
            listed = rows.get(authority)
            if listed and listed["authority_code"]:
                assert (canonical, code) == (listed["authority_canonical"], listed["authority_code"]), authority
            else:
                assert (canonical, code) == (None, None), authority


def test_unknown_spellings_stay_null_and_nothing_is_folded():
    conn = sqlite3.connect(":memory:")
    conn.execute("create table violations (authority text, authority_canonical text, authority_code text)")
    spellings = ["Thanh tra Sở Y tế  TP HCM ",      # only spaces differ: the same spelling
                 "Thanh tra So Y te TP HCM",         # no diacritics: not reviewed
                 "thanh tra sở y tế tp hcm",         # other case: not reviewed
                 "Thanh tra Sở Y tế",                # reviewed, but which Sở cannot be told
                 "Sở Y tế Atlantis", None]
    conn.executemany("insert into violations (authority) values (?)", [(s,) for s in spellings])
    authorities.apply(conn, tables=["violations"])
    codes = [c for (c,) in conn.execute("select authority_code from violations order by rowid")]
    assert codes == ["VN-thanh-tra-so-y-te-thanh-pho-ho-chi-minh", None, None, None, None, None]


def test_the_schema_and_the_facet_carry_the_canonical_columns(datasette, demo_db):
    for table in ("recalls", "violations", "listings"):
        assert {"authority_canonical", "authority_code"} <= set(schema.TABLES[table]["columns"])
    response = asyncio.run(datasette.client.get("/minhbach/violations.json?_facet=authority_canonical&_facet_size=max&_size=0"))
    assert response.status_code == 200
    facet = {r["value"]: r["count"] for r in response.json()["facet_results"]["authority_canonical"]["results"]}
    truth = dict(query(demo_db, "select authority_canonical, count(*) from violations "
                                "where authority_canonical is not null group by 1"))
    assert facet == truth
    assert facet["Thanh tra Sở Y tế Thành phố Hồ Chí Minh"] == len(query(
        demo_db, f"select 1 from violations where authority in ({','.join('?' * 5)})", *HCM_INSPECTORATE))
