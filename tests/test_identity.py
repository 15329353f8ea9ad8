"""Business identity (issue 13, item 3): two records are one establishment only on evidence.

The ladder (db/enrich.py): a shared official id (tax code, the source's premises id, FDA FEI), or the
same folded name at the same street address; otherwise a record is an establishment of its own, and
same-name establishments in one province are at most "possibly related". Reviewed decisions in
db/resolver.csv are applied at every build. The rows used here are real: curated and raw files.
"""
import csv
import sqlite3

import pytest

from conftest import SAMPLES, SHARED, parse_file, run_db, shared_file
from db import build, enrich
from db.enrich import address_key, establishment_id_of, name_key, read_resolver, split_company
from scrapers.spiders.gb_fsa_hygiene_ratings import GbFsaHygieneRatingsSpider
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
from test_site import Page, check_accessible, get, row_path


def enriched(table, items):
    return [enrich.enrich(table, item) for item in items]


# ---- The key rules -------------------------------------------------------------------------------

def test_two_clinics_of_one_name_in_two_communes_are_two_establishments(resolver_file):
    items, _ = parse_file(VnNewsViolationsSpider, shared_file("curated/vn-news/xu-phat-co-so.csv"))
    clinics = enriched("violations", [i for i in items if i["establishment"] == "Nha khoa Việt Mỹ"])
    assert sorted(c["address"] for c in clinics) == ["tổ 1, xã Đức An", "xã Đức Lập"]   # as the file says
    assert len({c["establishment_id"] for c in clinics}) == 2
    # Neither address names a street, so neither is joined with anything: one record each.
    assert {c["establishment_id"] for c in clinics} == {f"rec:{c['id']}" for c in clinics}


def test_same_name_at_two_street_addresses_stays_apart_and_tax_code_joins(resolver_file):
    items, _ = parse_file(VnNewsViolationsSpider, shared_file("curated/vn-news/xu-phat-co-so.csv"))
    rows = enriched("violations", items)
    by_name = {}
    for r in rows:
        by_name.setdefault((name_key(r["establishment"]), r["province_code"]), []).append(r)
    for group in by_name.values():
        for a in group:
            for b in group:
                same = a["establishment_id"] == b["establishment_id"]
                if a["tax_code"] and a["tax_code"] == b["tax_code"]:
                    assert same
                elif a is not b and not (a["tax_code"] or b["tax_code"]):
                    assert same == (address_key(a["address"]) is not None
                                    and address_key(a["address"]) == address_key(b["address"]))
    # One company written two ways, at one house written two ways ("Đường 14/9", "đường 14 Tháng 9";
    # "Phường 5" before 2025): the rules keep them apart; only the reviewed judgement joins them.
    cuu_long = [r for r in rows if name_key(r["establishment"]) == "duoc pham cuu long"]
    assert len(cuu_long) == 2 and len({r["address"] for r in cuu_long}) == 2
    assert len({r["establishment_id"] for r in cuu_long}) == 2


def test_the_shipped_judgement_joins_the_two_cuu_long_rows():
    enrich.forget_resolver()
    items, _ = parse_file(VnNewsViolationsSpider, shared_file("curated/vn-news/xu-phat-co-so.csv"))
    cuu_long = [r for r in enriched("violations", items) if name_key(r["establishment"]) == "duoc pham cuu long"]
    judgements, merged = read_resolver(enrich.RESOLVER)
    assert {j["left_id"] for j in judgements} | {j["right_id"] for j in judgements} >= \
        {merged.get(r["establishment_id"], r["establishment_id"]) for r in cuu_long}
    assert len({r["establishment_id"] for r in cuu_long}) == 1


def test_a_tax_code_is_the_key_whatever_the_address():
    record = {"id": "t:1", "source": "t", "source_id": "1", "establishment": "Công ty X", "jurisdiction": "VN",
              "tax_code": "0200572501", "province_code": "31", "address": "số 16 Lê Đại Hành, phường Minh Khai"}
    other = {**record, "id": "t:2", "source_id": "2", "address": "xã Đức Lập", "establishment": "X"}
    assert establishment_id_of("violations", record) == establishment_id_of("violations", other) == "tax:0200572501"


def test_uk_premises_with_distinct_fhrs_ids_never_share_an_establishment(resolver_file):
    items = []
    for code in ("533", "876"):
        parsed, _ = parse_file(GbFsaHygieneRatingsSpider, shared_file(f"raw/uk-fsa-fhrs-2015/{code}.csv"))
        items += parsed
    rows = enriched("listings", items)
    assert all(r["establishment_id"] == f"fhrs:{r['source_id']}" for r in rows)
    # The cases the old key merged: one name at one rounded point, and one name with no point.
    at_point, no_point = {}, {}
    for r in rows:
        if r["latitude"] is None:
            no_point.setdefault(name_key(r["holder"]), []).append(r)
        else:
            at_point.setdefault((name_key(r["holder"]), f"{r['latitude']:.4f},{r['longitude']:.4f}"), []).append(r)
    shared_point = [g for g in at_point.values() if len(g) > 1]
    shared_nothing = [g for g in no_point.values() if len(g) > 1]
    assert shared_point and shared_nothing, "the real files hold both cases"
    for group in shared_point + shared_nothing:
        assert len({r["establishment_id"] for r in group}) == len({r["source_id"] for r in group}) == len(group)


@pytest.mark.parametrize("one, other", [("Quán Cô Ba", "Quán Ba"), ("Cô Ba", "Ba"), ("Co Ba Cafe", "Ba Cafe")])
def test_words_inside_a_name_are_never_legal_forms(one, other):
    assert name_key(one) != name_key(other)


@pytest.mark.parametrize("name, key", [
    ("Công ty TNHH MTV Thực phẩm Á Châu", "thuc pham a chau"),
    ("Công ty Cổ phần Dược phẩm Trung ương 3", "duoc pham trung uong 3"),
    ("CTCP Dược Hậu Giang", "duoc hau giang"),
    ("Hộ kinh doanh Cô Ba", "co ba"),
    ("HTX Nông nghiệp Tân Lập", "nong nghiep tan lap"),
    ("Guangdong Zonegoing Food Co., LTD", "guangdong zonegoing food"),
    ("Phu Hung Me., JSC", "phu hung me"),
    ("Rude Health Foods Ltd", "rude health foods"),
    ("DSAM Consulting S.A.", "dsam consulting s a"),   # not in the list: kept
    ("Công ty TNHH", "cong ty trach nhiem huu han"),    # only a legal form: kept whole
    ("", None), (None, None),
])
def test_legal_forms_are_stripped_only_as_whole_leading_or_trailing_tokens(name, key):
    assert name_key(name) == key


def test_keys_are_stable_and_deterministic():
    items, _ = parse_file(VnNewsViolationsSpider, SAMPLES / "vn_news_violations.csv")
    first = [r["establishment_id"] for r in enriched("violations", items)]
    name_key.cache_clear()
    address_key.cache_clear()
    assert [r["establishment_id"] for r in enriched("violations", items)] == first
    assert all(k and k.startswith(("tax:", "addr:", "rec:")) for k in first)


# ---- Recalls: the responsible party only, tax code first ----------------------------------------------

@pytest.mark.parametrize("text, name, address", [
    ("Công ty TNHH Shynh Beauty (194-2 Nguyễn Trọng Tuyển, phường 8, quận Phú Nhuận, TP HCM)",
     "Công ty TNHH Shynh Beauty", "194-2 Nguyễn Trọng Tuyển, phường 8, quận Phú Nhuận, TP HCM"),
    ("Công ty TNHH Quốc tế Đại Cát Á (Phú Nhuận, TPHCM)", "Công ty TNHH Quốc tế Đại Cát Á", None),
    ("Mercedes-Benz Việt Nam (nhập khẩu, phân phối)", "Mercedes-Benz Việt Nam", None),
    ("LeeNguyen., JSC-Hanoi-Vietnam (số 267 Hồ Tùng Mậu, phường Cầu Diễn, Nam Từ Liêm, Hà Nội) (nhập khẩu, phân phối)",
     "LeeNguyen., JSC-Hanoi-Vietnam", "số 267 Hồ Tùng Mậu, phường Cầu Diễn, Nam Từ Liêm, Hà Nội"),
    ("Tesco", "Tesco", None),
])
def test_recall_company_text_is_split_from_its_address(text, name, address):
    assert split_company(text) == (name, address, None)


def test_recall_links_by_tax_code_first_and_never_by_a_name_alone():
    base = {"id": "t:1", "source": "vn_news_recalls", "source_id": "1", "jurisdiction": "VN"}
    assert establishment_id_of("recalls", {**base, "company": "Công ty X (MST: 0200572501)"}) == "tax:0200572501"
    assert establishment_id_of("recalls", {**base, "company": "Công ty Cổ phần Dược phẩm Trung ương 3"}) is None
    assert establishment_id_of("recalls", {**base, "company": "Công ty TNHH Quốc tế Đại Cát Á (Phú Nhuận, TPHCM)"}) is None
    # A name printed on a counterfeit is never read: only `company` is.
    assert establishment_id_of("recalls", {**base, "company": None, "manufacturer": "Công ty X",
                                           "name_on_product": "Công ty X"}) is None


def test_fda_recalls_are_keyed_by_the_firm_fei():
    from scrapers.spiders.us_fda_recalls import UsFdaRecallsSpider
    import json
    items, _ = parse_file(UsFdaRecallsSpider, SAMPLES / "us_fda_recalls.json")
    for item in items:
        fei = json.loads(item["raw"]).get("FIRMFEINUM")
        assert establishment_id_of("recalls", item) == (f"fei:{fei}" if fei and str(fei).isdigit() and int(fei) else None)
        # The worker process gets the raw record for this source only (db/store.Enricher).
        assert enrich.enrich("recalls", enrich.inputs("recalls", item))["establishment_id"] == \
            establishment_id_of("recalls", item)


# ---- The resolver file ------------------------------------------------------------------------------

def test_every_shipped_judgement_names_keys_the_rules_give_to_real_rows(resolver_file):
    """A judgement whose keys no row has any more (a rule changed) would silently do nothing."""
    from scrapers.spiders.vn_news_listings import VnNewsListingsSpider
    from scrapers.spiders.vn_ocop_tra_vinh import VnOcopTraVinhSpider
    judgements, _merged = read_resolver(enrich.RESOLVER)
    keys = set()
    for spider, table, path in ((VnNewsViolationsSpider, "violations", "curated/vn-news/xu-phat-co-so.csv"),
                                (VnNewsListingsSpider, "listings", "curated/vn-news/san-pham-an-toan.csv"),
                                (VnOcopTraVinhSpider, "listings", "raw/vn-ocop-cau-ke-tra-vinh/ocop-products-cau-ke.json")):
        items, _ = parse_file(spider, shared_file(path))
        keys |= {r["establishment_id"] for r in enriched(table, items)}
    for j in judgements:
        assert {j["left_id"], j["right_id"]} <= keys, j


HEADER = "left_id,right_id,judgement,reason,date,reviewer\n"


def test_the_shipped_resolver_file_is_valid():
    judgements, merged = read_resolver(enrich.RESOLVER)
    assert enrich.RESOLVER.read_text(encoding="utf-8").startswith(HEADER)
    assert all(j["judgement"] in enrich.JUDGEMENTS for j in judgements)


@pytest.mark.parametrize("body, message", [
    ("left,right\n", "header"),
    (HEADER + "a,b,maybe,r,2026-01-01,x\n", "judgement must be"),
    (HEADER + "a,b,merge,,2026-01-01,x\n", "empty reason"),
    (HEADER + "a,b,merge,r,1/1/2026,x\n", "YYYY-MM-DD"),
    (HEADER + "a,a,merge,r,2026-01-01,x\n", "the same"),
    (HEADER + "a,b,merge,r,2026-01-01,x\nb,a,do-not-merge,r,2026-01-01,x\n", "both merge and do-not-merge"),
    (HEADER + "fhrs:1,rec:x,merge,r,2026-01-01,x\nrec:x,fhrs:2,merge,r,2026-01-01,x\n", "two official ids"),
    (HEADER + "a,b,merge,r,2026-01-01,x\nb,c,merge,r,2026-01-01,x\na,c,do-not-merge,r,2026-01-01,x\n", "do-not-merge"),
    (HEADER + "a,b,merge\n", "expected 6 cells"),
])
def test_a_malformed_resolver_file_is_a_clear_error(tmp_path, body, message):
    path = tmp_path / "resolver.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(enrich.ResolverError, match=message):
        read_resolver(path)


def test_merges_choose_the_official_id_and_are_transitive(tmp_path):
    path = tmp_path / "resolver.csv"
    path.write_text(HEADER + "rec:a,addr:b,merge,r,2026-01-01,x\naddr:b,tax:0200572501,merge,r,2026-01-01,x\n",
                    encoding="utf-8")
    _judgements, merged = read_resolver(path)
    assert merged == {"rec:a": "tax:0200572501", "addr:b": "tax:0200572501"}
    assert read_resolver(tmp_path / "absent.csv") == ([], {})


@pytest.fixture
def resolver_file(tmp_path, monkeypatch):
    """A temporary resolver file in place of db/resolver.csv (the shipped one is never touched)."""
    path = tmp_path / "resolver.csv"
    path.write_text(HEADER, encoding="utf-8")
    monkeypatch.setenv("MINHBACH_RESOLVER", str(path))
    enrich.forget_resolver()
    yield path
    enrich.forget_resolver()


def establishments_of(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute("select * from establishments")}
    finally:
        conn.close()


def test_resolver_judgements_are_applied_at_build_and_undone_when_removed(published, resolver_file):
    def sql(q, *p):
        conn = sqlite3.connect(published)
        try:
            return conn.execute(q, p).fetchall()
        finally:
            conn.close()
    # Two real establishments of the demo linked as possibly related (same name, one ward).
    (left, right), = sql("select establishment_id, related_id from establishment_links "
                         "where establishment_id < related_id order by 1, 2 limit 1")
    before = establishments_of(published)
    rows_left = sql("select id from listings where establishment_id = ? union all "
                    "select id from violations where establishment_id = ?", left, left)
    rows_right = sql("select id from listings where establishment_id = ? union all "
                     "select id from violations where establishment_id = ?", right, right)
    resolver_file.write_text(HEADER + f"{right},{left},merge,same producer in both lists,2026-11-30,test\n",
                             encoding="utf-8")
    enrich.forget_resolver()
    build.finalize(published)
    after = establishments_of(published)
    assert left in after and right not in after and len(after) == len(before) - 1   # min of two rec: keys
    merged = after[left]
    assert merged["violations_count"] + merged["listings_count"] == len(rows_left) + len(rows_right)
    assert sql("select left_id, right_id, judgement from establishment_judgements") == [(right, left, "merge")]
    page = Page(get_page(published, row_path("establishments", left)))
    assert "Các bản ghi được gộp theo quyết định đã xem xét" in page.body and "same producer in both lists" in page.body
    assert all(row_path("listings", r) in page.links or row_path("violations", r) in page.links
               for (r,) in rows_left + rows_right)
    assert not sql("select 1 from establishment_links where ? in (establishment_id, related_id) "
                   "and ? in (establishment_id, related_id)", left, right)

    # Removed from the file, the merge is undone by the next build.
    resolver_file.write_text(HEADER, encoding="utf-8")
    enrich.forget_resolver()
    build.finalize(published)
    assert establishments_of(published) == before
    assert sql("select count(*) from establishment_judgements") == [(0,)]

    # do-not-merge: the question was answered, so the pair is no longer shown as possibly related.
    resolver_file.write_text(HEADER + f"{left},{right},do-not-merge,different products and owners,2026-11-30,test\n",
                             encoding="utf-8")
    enrich.forget_resolver()
    build.finalize(published)
    assert establishments_of(published) == before
    assert not sql("select 1 from establishment_links where establishment_id in (?, ?) and related_id in (?, ?)",
                   left, right, left, right)


def get_page(db, path):
    """A page of the site served over one database file (the real app, as `make serve` runs it)."""
    from datasette.app import Datasette
    from conftest import ROOT
    from db.serving import datasette_kwargs
    return get(Datasette([], immutables=[str(db)], **datasette_kwargs(ROOT)), path)


def test_a_bad_resolver_file_fails_the_build_and_leaves_the_published_file(published, resolver_file):
    resolver_file.write_text(HEADER + "a,b,perhaps,r,2026-01-01,x\n", encoding="utf-8")
    before = published.read_bytes()
    result = run_db("ingest", f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}", db=published, check=False,
                    env={"MINHBACH_RESOLVER": str(resolver_file)})
    assert result.returncode != 0 and "judgement must be one of" in result.stdout + result.stderr
    assert published.read_bytes() == before


# ---- The business page ---------------------------------------------------------------------------

def test_business_page_lists_possibly_related_establishments_apart(datasette, demo_db):
    conn = sqlite3.connect(demo_db)
    try:
        eid, count = conn.execute("select establishment_id, count(*) from establishment_links group by 1 "
                                  "order by 2 desc, 1 limit 1").fetchone()
        related = [r[0] for r in conn.execute("select related_id from establishment_links where establishment_id = ?",
                                              [eid])]
    finally:
        conn.close()
    page = check_accessible(get(datasette, row_path("establishments", eid)))
    assert f"Có thể liên quan ({count})" in page.body
    assert f"Possibly related ({count})" in Page(get(datasette, row_path("establishments", eid) + "?lang=en")).body
    assert all(row_path("establishments", r) in page.links for r in related)
    assert "không có bằng chứng" in page.body


def test_business_page_says_how_it_was_identified(datasette, demo_db):
    conn = sqlite3.connect(demo_db)
    try:
        ids = {prefix: conn.execute("select id from establishments where id like ? || '%' order by id limit 1",
                                    [prefix]).fetchone()[0] for prefix in ("tax:", "fhrs:", "addr:", "rec:")}
        lonely = conn.execute("select id from establishments where id not in (select establishment_id from "
                              "establishment_links) order by id limit 1").fetchone()[0]
    finally:
        conn.close()
    said = {"tax:": "Nhận diện theo mã số thuế", "fhrs:": "theo mã FHRS của nguồn",
            "addr:": "chỉ các bản ghi cùng tên, cùng địa chỉ", "rec:": "Một bản ghi"}
    for prefix, eid in ids.items():
        assert said[prefix] in Page(get(datasette, row_path("establishments", eid))).body
    assert "Có thể liên quan" not in Page(get(datasette, row_path("establishments", lonely))).body


# ---- The full curated and raw files, through the real ingest ---------------------------------------

RAW_JOBS = {
    "vn_news_violations": "curated/vn-news/xu-phat-co-so.csv",
    "vn_news_listings": "curated/vn-news/san-pham-an-toan.csv",
    "vn_news_recalls": "curated/vn-news/thu-hoi-san-pham.csv",
    "gb_fsa_prosecutions": "raw/uk-fsa-prosecutions-2014/prosecutions.csv",
    "us_fda_recalls": "raw/us-fda-ires-recalls/iresapi-recalls-2026-04-28.json",
    "us_cpsc_recalls": "raw/us-cpsc-recalls-rss/cpsc-recalls-rss-2021-11-12.xml",
    "gb_fsa_food_alerts": "raw/uk-fsa-food-alerts/food-alerts-AA-2018-2020-items.json",
    "fr_rappelconso": "raw/fr-rappelconso/rappelconso0-records-api-v2-2022-03.json",
    "eu_safety_gate": "raw/eu-safety-gate-derived/safety-gate-alerts-seed.csv",
    "vn_ocop_tra_vinh": "raw/vn-ocop-cau-ke-tra-vinh/ocop-products-cau-ke.json",
}
FHRS_FILES = ("raw/uk-fsa-fhrs-2015/533.csv", "raw/uk-fsa-fhrs-2015/876.csv")


@pytest.fixture(scope="module")
def full_db(tmp_path_factory):
    """Every curated and raw file in one database, through `python -m db ingest`. The two FHRS
    authority files are one source's listing: they are joined into one file (one header)."""
    shared_file("curated/vn-news")         # skips, naming what it needs, on a checkout without ../shared
    shared_file("raw")
    folder = tmp_path_factory.mktemp("full")
    fhrs = folder / "fhrs.csv"
    with open(fhrs, "w", encoding="utf-8", newline="") as out:
        for n, name in enumerate(FHRS_FILES):
            lines = (SHARED / name).read_text(encoding="utf-8").splitlines(keepends=True)
            out.writelines(lines if n == 0 else lines[1:])
    db = folder / "minhbach.db"
    jobs = [f"{spider}={SHARED / path}" for spider, path in RAW_JOBS.items()] + [f"gb_fsa_hygiene_ratings={fhrs}"]
    run_db("ingest", *jobs, db=db)
    return db


def sql(db, q, *params):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(q, params).fetchall()
    finally:
        conn.close()


RECORDS = """select establishment_id, address, tax_code, source, source_id from violations where withdrawn is null
             union all select establishment_id, address, tax_code, source, source_id from listings where withdrawn is null"""


@pytest.mark.slow
def test_full_files_no_establishment_joins_different_addresses_without_an_official_id(full_db):
    joined = sql(full_db, f"""select establishment_id, count(distinct coalesce(address, '')) from ({RECORDS})
                              where establishment_id is not null and establishment_id not like 'tax:%'
                                and establishment_id not like 'fhrs:%' and establishment_id not like 'fei:%'
                              group by 1 having count(distinct coalesce(address, '')) > 1""")
    # Only a reviewed merge (db/resolver.csv, as applied in the file) joins two addresses.
    reviewed = {key for row in sql(full_db, "select left_id, right_id from establishment_judgements "
                                            "where judgement = 'merge'") for key in row}
    assert [key for key, _n in joined if key not in reviewed] == []
    assert {key for key, _n in joined} <= reviewed
    # A tax key groups only rows published with that tax code.
    assert sql(full_db, f"select count(*) from ({RECORDS}) where establishment_id like 'tax:%' "
                        "and 'tax:' || tax_code != establishment_id") == [(0,)]
    # Rows without any evidence are establishments of their own.
    assert sql(full_db, f"select count(*) from ({RECORDS}) where establishment_id like 'rec:%' "
                        "and establishment_id != 'rec:' || source || ':' || source_id") == [(0,)]
    # Every row with a name has an establishment, and the table has one row per key.
    assert sql(full_db, "select count(distinct establishment_id) from (" + RECORDS + ")") == \
        sql(full_db, "select count(*) from establishments")


@pytest.mark.slow
def test_full_files_no_uk_premises_merged_across_fhrs_ids(full_db):
    ids = set()
    for name in FHRS_FILES:
        with open(SHARED / name, encoding="utf-8", newline="") as handle:
            ids |= {row[""] for row in csv.DictReader(handle)}
    assert sql(full_db, "select establishment_id from listings where source = 'gb_fsa_hygiene_ratings' "
                        "group by 1 having count(distinct source_id) > 1") == []
    stored = sql(full_db, "select id from establishments where id like 'fhrs:%'")
    assert {i for (i,) in stored} == {f"fhrs:{i}" for i in ids}


@pytest.mark.slow
def test_full_files_possibly_related_are_same_name_same_province_and_apart(full_db):
    links = sql(full_db, """select a.name_key = b.name_key, a.province_code = b.province_code, a.id != b.id, l.reason,
                                   coalesce(a.ward_code = b.ward_code, 0)
                            from establishment_links l join establishments a on a.id = l.establishment_id
                            join establishments b on b.id = l.related_id""")
    assert links and all(same_name and same_province and apart for same_name, same_province, apart, _r, _w in links)
    assert all((reason == "same name, same ward") == bool(same_ward) for *_x, reason, same_ward in links)
    assert sql(full_db, "select count(*) from establishment_links l where not exists (select 1 from establishment_links "
                        "m where m.establishment_id = l.related_id and m.related_id = l.establishment_id)") == [(0,)]
    # The two clinics of the issue: apart, and shown as possibly related.
    clinics = sql(full_db, "select id from establishments where name = 'Nha khoa Việt Mỹ' order by id")
    assert len(clinics) == 2
    assert sql(full_db, "select count(*) from establishment_links where establishment_id = ? and related_id = ?",
               clinics[0][0], clinics[1][0]) == [(1,)]


@pytest.mark.slow
def test_full_files_recalls_link_only_on_evidence(full_db):
    linked = sql(full_db, """select r.establishment_id, r.company from recalls r
                             join establishments e on e.id = r.establishment_id""")
    for key, company in linked:
        assert key.startswith(("tax:", "addr:", "fei:")), key
        name, address, tax = split_company(company)
        if key.startswith("tax:"):
            assert key == f"tax:{tax}"
        else:
            assert key.startswith(f"addr:{name_key(name)}|") and address
    assert sql(full_db, "select count(*) from recalls where establishment_id like 'rec:%' "
                        "or establishment_id like 'name:%'") == [(0,)]
    counted = sql(full_db, "select sum(recalls_count) from establishments")[0][0]
    assert counted == len([1 for key, _c in linked]) == \
        sql(full_db, "select count(*) from recalls r join establishments e on e.id = r.establishment_id "
                     "where r.withdrawn is null")[0][0]


@pytest.mark.slow
def test_full_files_a_linked_recall_and_its_business_page_name_each_other(full_db):
    from datasette.app import Datasette
    from conftest import ROOT
    from db.serving import datasette_kwargs

    linked = sql(full_db, "select r.id, r.establishment_id from recalls r join establishments e "
                          "on e.id = r.establishment_id order by r.id")
    if not linked:
        pytest.skip("no recall in the files names a business on evidence")
    ds = Datasette([], immutables=[str(full_db)], **datasette_kwargs(ROOT))
    for rid, eid in linked:
        assert row_path("establishments", eid) in Page(get(ds, row_path("recalls", rid))).links
        assert row_path("recalls", rid) in Page(get(ds, row_path("establishments", eid))).links


def test_possibly_related_groups_are_bounded(published, monkeypatch):
    """A name shared by more establishments than MAX_RELATED in one province gets no links (a chain
    or a generic word; pairs grow as the square). Checked on the demo's own groups."""
    def groups():
        return dict(sql(published, "select establishment_id, count(*) from establishment_links group by 1"))
    sizes = groups()
    assert sizes, "the demo has same-name establishments in one province"
    biggest = max(sizes.values()) + 1          # members of a group of n have n - 1 links
    for limit in (biggest, biggest - 1, 1):
        monkeypatch.setattr(build, "MAX_RELATED", limit)
        conn = build.connect(published)
        try:
            build.build_establishment_links(conn, [])
        finally:
            conn.close()
        assert groups() == {e: n for e, n in sizes.items() if n + 1 <= limit}
