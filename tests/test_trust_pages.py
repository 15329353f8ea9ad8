"""Pages say only what their source says (issue 13; README "What a page may say").

Each class of statement is checked on the text a reader sees through Datasette (or the API value),
with the expected value read from the real sample or curated file, or by SQL on the same database:
listings are ratings, awards or certificates in their scheme's own terms; hedged amounts keep the
source's word; a press article is a press report, not the official page; a lag is shown only where it
measures something; freshness is stated from evidence.
"""
import asyncio
import csv
import datetime
import json
import re
from collections import Counter

import pytest
from datasette.app import Datasette
from datasette.utils import tilde_decode

from conftest import ROOT, SAMPLES, run_db, shared_file
from db.build import _overdue
from db.serving import datasette_kwargs
from scrapers.spiders import all_spiders
from test_site import Page, get, query, row_path

HEDGES = ("gần", "hơn", "trên", "khoảng", "chừng", "hàng")
# The FSA's own wording for FHRS 0–5 (ratings.food.gov.uk)
FSA_WORDS = {"0": "urgent improvement necessary", "1": "major improvement necessary", "2": "improvement necessary",
             "3": "generally satisfactory", "4": "good", "5": "very good"}


def body(ds, path):
    return Page(get(ds, path)).body


def english(path):
    """The same page in English (the catalogue's second language)."""
    return path + ("&" if "?" in path else "?") + "lang=en"


def statements(ds, path, lang="vi"):
    """What the page states in its own words: the text above the "All fields" dump of the raw record
    (whose source headings, e.g. "Cơ quan công nhận", are the source's and are shown as such)."""
    if lang == "en":
        return body(ds, english(path)).split("All fields")[0]
    return body(ds, path).split("Tất cả các trường")[0]


def api(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response.json()


def sample_csv(name):
    with open(SAMPLES / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def amount(vnd):
    return f"{vnd:,}".replace(",", ".")


# ---- Listings: a rating is a rating, an award an award (item 2) -----------------------------------

def test_every_food_hygiene_rating_value_reads_as_a_rating_in_the_fsa_words(datasette):
    first_of_value = {}
    for row in sample_csv("gb_fsa_hygiene_ratings.csv"):
        first_of_value.setdefault(row["ratingvalue"], row[""])   # FHRSID of the first row with each value
    assert {"0", "1", "Exempt", "AwaitingInspection"} <= set(first_of_value)
    for value, fhrsid in first_of_value.items():
        text = statements(datasette, row_path("listings", f"gb_fsa_hygiene_ratings:{fhrsid}"))
        assert "Loại Chứng nhận" not in text and "công nhận" not in text, value
        assert "Loại Xếp hạng" in text, value
        en = statements(datasette, row_path("listings", f"gb_fsa_hygiene_ratings:{fhrsid}"), "en")
        assert "Kind Rating" in en and "Certificate" not in en, value
        if value in FSA_WORDS:
            assert f"Food Hygiene Rating Scheme: {value} — " in text and FSA_WORDS[value] in text, value
    exempt = body(datasette, row_path("listings", f"gb_fsa_hygiene_ratings:{first_of_value['Exempt']}"))
    assert "được miễn xếp hạng · exempt" in exempt and "Tình trạng được miễn xếp hạng" in exempt
    assert "Status exempt" in body(datasette, english(row_path("listings", f"gb_fsa_hygiene_ratings:{first_of_value['Exempt']}")))
    waiting = body(datasette, row_path("listings", f"gb_fsa_hygiene_ratings:{first_of_value['AwaitingInspection']}"))
    assert "chờ kiểm tra, chưa được xếp hạng · awaiting inspection" in waiting and "đang chờ kết quả" in waiting


def test_listing_kind_and_status_in_the_api_follow_the_source_values(datasette):
    rows = sample_csv("gb_fsa_hygiene_ratings.csv")
    expected = Counter({"Exempt": "exempt", "AwaitingInspection": "pending"}.get(r["ratingvalue"], "rated") for r in rows)
    listed = api(datasette, "/minhbach/listings.json?source=gb_fsa_hygiene_ratings&_shape=array&_size=max")
    assert Counter(r["status"] for r in listed) == expected
    assert {r["kind"] for r in listed} == {"rating"}
    # OCOP Trà Vinh: star 0 in the raw list is "not rated", every other star count is a rating
    raw = json.loads((SAMPLES / "vn_ocop_tra_vinh.json").read_text(encoding="utf-8"))
    ocop = {r["id"]: r for r in api(datasette, "/minhbach/listings.json?source=vn_ocop_tra_vinh&_shape=array&_size=max")}
    for product in raw:
        row = ocop[f"vn_ocop_tra_vinh:{product['id']}"]
        assert row["status"] == ("not rated" if product["star"] == 0 else "rated")
        assert row["rating"] == (None if product["star"] == 0 else f"{product['star']} sao")


def test_an_unrated_ocop_product_is_not_shown_as_recognised(datasette):
    raw = json.loads((SAMPLES / "vn_ocop_tra_vinh.json").read_text(encoding="utf-8"))
    unrated = [p for p in raw if p["star"] == 0]
    assert unrated
    for product in unrated:
        text = statements(datasette, row_path("listings", f"vn_ocop_tra_vinh:{product['id']}"))
        assert product["name"] in text
        assert "chưa được xếp hạng" in text and "không phải sản phẩm OCOP được công nhận" in text
        assert "Loại Chứng nhận" not in text and not re.search(r"\d sao", text)


def test_a_consumer_voted_award_is_an_award_not_a_certificate(datasette, demo_db):
    titles = [r for r in sample_csv("vn_news_listings.csv") if r["Chương trình"] == "HVNCLC"]
    awards = query(demo_db, "select id, holder, rating from listings where source = 'vn_news_listings' and scheme = 'HVNCLC'")
    assert len(awards) == len(titles) > 0
    for award in awards:
        text = statements(datasette, row_path("listings", award["id"]))
        assert "Loại Danh hiệu" in text and "người tiêu dùng bình chọn" in text and award["rating"] in text
        assert "Loại Chứng nhận" not in text and "công nhận" not in text.replace("không phải chứng nhận", "")
        assert "Kind Award" in statements(datasette, row_path("listings", award["id"]), "en")


def test_a_council_score_awaiting_its_decision_reads_as_pending(published):
    """The full curated file: rows whose note says the council's result goes to the People's
    Committee for approval are pending, not a recognition."""
    path = shared_file("curated/vn-news/san-pham-an-toan.csv")
    run_db("ingest", f"vn_news_listings={path}", db=published)
    ds = Datasette([], immutables=[str(published)], **datasette_kwargs(ROOT))
    with open(path, encoding="utf-8-sig", newline="") as f:
        awaiting = [r for r in csv.DictReader(f) if "trình UBND tỉnh phê duyệt" in r["Ghi chú"]]
    pending = query(published, "select id, product, authority from listings where source = 'vn_news_listings' "
                               "and status = 'pending'")
    assert sorted(r["product"] for r in pending) == sorted(r["Tên sản phẩm"] for r in awaiting) and pending
    for r in pending:
        text = statements(ds, row_path("listings", r["id"]))
        assert "Tình trạng đang chờ kết quả" in text and "chờ quyết định công nhận" in text
        assert f"được {r['authority']} xếp hạng" not in text and "Loại Chứng nhận" not in text
        assert "Status pending" in statements(ds, row_path("listings", r["id"]), "en")


def test_ratings_read_in_the_scheme_words_on_search_business_page_and_map(datasette, demo_db):
    row = next(r for r in sample_csv("gb_fsa_hygiene_ratings.csv") if r["ratingvalue"] == "0")
    listing = query(demo_db, "select id, establishment_id from listings where id = ?",
                    (f"gb_fsa_hygiene_ratings:{row['']}",))[0]
    words = "0 — cần cải thiện khẩn cấp · urgent improvement necessary"
    assert words in body(datasette, f"/minhbach/search?q={row['businessname']}")
    assert words in body(datasette, row_path("establishments", listing["establishment_id"]))
    popup = api(datasette, f"/minhbach/map_listings.json?id={listing['id']}&_shape=array")
    if popup:   # the premises has a point in the sample
        assert words in json.loads(popup[0]["popup"])["description"]
    assert "xếp hạng, danh hiệu, chứng nhận" in body(datasette, "/")


# ---- Hedged amounts keep the source's word (item 4) ------------------------------------------------

def test_a_hedged_fine_keeps_the_source_word_on_every_page_and_in_the_api(datasette, demo_db):
    hedged = [r for r in sample_csv("vn_news_violations.csv") if r["Số tiền phạt"].split()[:1]
              and r["Số tiền phạt"].split()[0] in HEDGES]
    assert hedged, "the sample carries a hedged amount (gần 40 triệu đồng)"
    for row in hedged:
        word = row["Số tiền phạt"].split()[0]
        v = query(demo_db, "select id, fine_vnd, establishment_id from violations where fine_text = ?",
                  (row["Số tiền phạt"],))[0]
        record = api(datasette, f"{row_path('violations', v['id'])}.json?_shape=array")[0]
        assert (record["fine_qualifier"], record["fine_vnd"]) == (word, v["fine_vnd"])
        text = body(datasette, row_path("violations", v["id"]))
        assert f"phạt tiền {word} {amount(v['fine_vnd'])} đồng" in text
        assert f"{word} {amount(v['fine_vnd'])} đ " in text
        # the number never stands alone, as if exact
        assert text.count(amount(v["fine_vnd"])) == text.count(f"{word} {amount(v['fine_vnd'])}")
        business = body(datasette, row_path("establishments", v["establishment_id"]))
        assert f"phạt {word} {amount(v['fine_vnd'])} đ" in business


def test_every_hedge_of_the_full_curated_file_is_kept_as_written():
    """Ground truth: the first word of each `Số tiền phạt` cell of the full curated penalties file."""
    from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
    from conftest import parse_file
    path = shared_file("curated/vn-news/xu-phat-co-so.csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        cells = [row["Số tiền phạt"] for row in csv.DictReader(f)]
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    assert (len(items), rejects) == (len(cells), [])
    expected = [cell.split()[0] if cell.split()[:1] and cell.split()[0] in HEDGES else None for cell in cells]
    assert [item.get("fine_qualifier") for item in items] == expected
    assert Counter(filter(None, expected)) == {"hơn": 2, "gần": 2}


def test_an_exact_fine_has_no_qualifier(datasette, demo_db):
    row = next(r for r in sample_csv("vn_news_violations.csv") if r["Số tiền phạt"] == "90 triệu đồng")
    v = query(demo_db, "select id, fine_qualifier from violations where fine_text = ? and establishment = ?",
              (row["Số tiền phạt"], row["Tên cơ sở"]))[0]
    assert v["fine_qualifier"] is None
    assert "phạt tiền 90.000.000 đồng" in body(datasette, row_path("violations", v["id"]))


def test_home_shows_each_latest_fine_with_its_qualifier(datasette, demo_db):
    """The home page lists the newest Vietnamese penalties ("Xử phạt mới nhất tại Việt Nam"); each card's
    fine is the record's amount with the source's hedge, read by SQL from the record the card links to."""
    html = get(datasette, "/")
    section = html.split('id="latest-violations"')[1].split("</section>")[0]
    cards = re.findall(r'<li><a href="/minhbach/violations/([^"]+)">.*?</li>', section, re.S)
    assert cards
    shown_ids = [tilde_decode(pk) for pk in cards]
    rows = {r["id"]: r for r in query(demo_db, "select id, jurisdiction, withdrawn, decided, fine_vnd, fine_qualifier "
                                               f"from violations where id in ({','.join('?' * len(shown_ids))})",
                                      shown_ids)}
    assert set(rows) == set(shown_ids)
    # the newest Vietnamese penalties still listed, and no newer one left out
    assert all(rows[i]["jurisdiction"] == "VN" and rows[i]["withdrawn"] is None for i in shown_ids)
    oldest_shown = min(rows[i]["decided"] for i in shown_ids)
    (newer_left_out,), = query(demo_db, "select count(*) from violations where jurisdiction = 'VN' and withdrawn is null "
                                        f"and decided > ? and id not in ({','.join('?' * len(shown_ids))})",
                               (oldest_shown, *shown_ids))
    assert newer_left_out == 0
    assert any(rows[i]["fine_vnd"] for i in shown_ids)
    for pk, i in zip(cards, shown_ids):
        card = Page(re.search(rf'<li><a href="/minhbach/violations/{re.escape(pk)}">.*?</li>', section, re.S).group(0)).body
        v = rows[i]
        if v["fine_vnd"]:
            shown = (v["fine_qualifier"] + " " if v["fine_qualifier"] else "") + amount(v["fine_vnd"])
            assert f"phạt {shown} đ" in card, i


# ---- A press article is a press report (item 10) ---------------------------------------------------

@pytest.mark.parametrize("table, source", [("violations", "vn_news_violations"), ("recalls", "vn_news_recalls"),
                                           ("listings", "vn_news_listings")])
def test_curated_rows_link_to_a_press_report_naming_the_outlet(datasette, demo_db, table, source):
    for r in query(demo_db, f"select id, url from {table} where source = ? limit 5", (source,)):
        text = body(datasette, row_path(table, r["id"]))
        outlet = r["url"].split("/")[2]
        assert f"Bài báo đưa tin Bài báo trên {outlet}" in text
        en = body(datasette, english(row_path(table, r["id"])))
        assert f"Press report Press report ({outlet})" in en and "Official source" not in en


def test_a_press_report_names_the_decision_number_where_known(datasette, demo_db):
    v = query(demo_db, "select id, decision_no from violations where source = 'vn_news_violations' "
                       "and decision_no is not null limit 1")[0]
    assert f"Bài báo đưa tin quyết định số {v['decision_no']}" in body(datasette, row_path("violations", v["id"]))
    # OCOP: the decision number is in the curator's note ("Quyết định số 5445/QĐ-UBND ngày 23/12/2019")
    note = next(r["Ghi chú"] for r in sample_csv("vn_news_listings.csv") if "5445/QĐ-UBND" in r["Ghi chú"])
    assert note.startswith("Quyết định số 5445/QĐ-UBND")
    listing = query(demo_db, "select id from listings where certificate_no = '5445/QĐ-UBND' limit 1")[0]
    assert "Bài báo đưa tin quyết định số 5445/QĐ-UBND" in body(datasette, row_path("listings", listing["id"]))


def test_official_sources_keep_the_official_label_and_the_api_says_which(datasette, demo_db):
    fhrs = query(demo_db, "select id from listings where source = 'gb_fsa_hygiene_ratings' limit 1")[0]
    assert "Trang chính thức Trang chính thức của nguồn" in body(datasette, row_path("listings", fhrs["id"]))
    assert "Official source Official page" in body(datasette, english(row_path("listings", fhrs["id"])))
    kinds = {s["source"]: s["url_kind"] for s in api(datasette, "/minhbach/sources.json?_shape=array")}
    assert kinds == {spider.name: spider.url_kind for spider in all_spiders()}
    assert {name for name, kind in kinds.items() if kind == "press"} == {
        "vn_news_listings", "vn_news_recalls", "vn_news_violations"}


# ---- A lag only where it measures something (item 11) ---------------------------------------------

def test_a_fresh_build_shows_no_publication_lag(datasette, demo_db):
    """Every demo record was first collected by the build that loaded its source for the first time:
    "N days after publication" would measure the build, not the source."""
    for table, date in (("recalls", "published"), ("violations", "decided"), ("listings", "valid_from")):
        for r in query(demo_db, f"select id from {table} where length({date}) = 10 limit 3"):
            text = body(datasette, row_path(table, r["id"]))
            assert "ngày sau khi công bố" not in text and "Minh Bạch thu thập lần đầu" in text
            en = body(datasette, english(row_path(table, r["id"])))
            assert "days after publication" not in en and "First collected by Minh Bạch" in en


@pytest.fixture
def second_run(published):
    """The demo copy after a real later run: the full curated penalties file loaded over the sample."""
    run_db("ingest", f"vn_news_violations={shared_file('curated/vn-news/xu-phat-co-so.csv')}", db=published)
    return published


def test_a_record_picked_up_by_a_later_run_shows_its_lag(second_run):
    ds = Datasette([], immutables=[str(second_run)], **datasette_kwargs(ROOT))
    first_load, = query(second_run, "select min(finished) from runs where source = 'vn_news_violations' and status = 'ok'")[0]
    later = query(second_run, "select id, first_seen, cast(julianday(substr(first_seen, 1, 10)) - julianday(decided) as integer) as lag "
                              "from violations where source = 'vn_news_violations' and first_seen > ? "
                              "and decided_precision = 'day' limit 3", (first_load,))
    assert later
    for r in later:
        assert f"{r['lag']} ngày sau khi công bố" in body(ds, row_path("violations", r["id"]))
        assert f"{r['lag']} days after publication" in body(ds, english(row_path("violations", r["id"])))
    # a row of the sample, first collected by the first load, still shows none
    early = query(second_run, "select id from violations where source = 'vn_news_violations' and first_seen <= ? "
                              "and decided_precision = 'day' limit 1", (first_load,))[0]
    assert "ngày sau khi công bố" not in body(ds, row_path("violations", early["id"]))


# ---- Freshness from evidence (item 13) -------------------------------------------------------------

def source_card(html, source):
    match = re.search(rf'<li><a href="/minhbach/sources/{source}">.*?</li>', html, re.S)
    assert match, source
    return Page(match.group(0)).body


def test_home_and_sources_page_state_freshness_from_the_records(datasette, demo_db):
    home, nguon, nguon_en = get(datasette, "/"), get(datasette, "/nguon"), get(datasette, "/nguon?lang=en")
    assert "cập nhật tốt gần nhất" not in home
    today = datetime.datetime.now(datetime.timezone.utc).date()
    for spider in all_spiders():
        date = {"recalls": "published", "violations": "decided", "listings": "valid_from"}[spider.table]
        (newest,), = query(demo_db, f"select max({date}) from {spider.table} where source = ?", (spider.name,))
        card = source_card(home, spider.name)
        shown = "/".join(reversed(newest.split("-"))) if newest else None
        # no dated record: the home card (its words from the catalogue) says "ngày không rõ", /nguon "không rõ ngày"
        assert f"bản ghi mới nhất {shown or 'ngày không rõ'}" in card, spider.name
        assert ("dữ liệu lịch sử" in card) == bool(spider.historical), spider.name
        overdue = _overdue(newest, spider, today)
        assert ("cũ hơn nhịp công bố thường lệ" in card) == bool(overdue), spider.name
        section = Page(nguon.split(f'id="{spider.name}"')[1].split("</li>")[0]).body
        assert f"Bản ghi mới nhất {shown or 'không rõ ngày'}" in section, spider.name
        assert "Kiểm tra lần cuối" in section
        section_en = Page(nguon_en.split(f'id="{spider.name}"')[1].split("</li>")[0]).body
        assert f"Newest record {shown or 'no dated record'}" in section_en and "Last checked" in section_en, spider.name


def test_the_prosecutions_file_is_a_historical_2014_15_dataset(datasette):
    rows = sample_csv("gb_fsa_prosecutions.csv")
    assert rows
    source = api(datasette, "/minhbach/sources.json?source=gb_fsa_prosecutions&_shape=array")[0]
    assert source["historical"] == 1 and source["overdue"] is None
    assert source["newest_record"][:4] in ("2014", "2015")
    assert "dữ liệu lịch sử, cố định, không còn cập nhật" in source_card(get(datasette, "/"), "gb_fsa_prosecutions") \
        or "dữ liệu lịch sử" in source_card(get(datasette, "/"), "gb_fsa_prosecutions")


class _Spider:
    def __init__(self, cadence_days=7, historical=False):
        self.cadence_days, self.historical = cadence_days, historical


@pytest.mark.parametrize("newest, spider, expected", [
    ("2026-11-24", _Spider(7), 0),             # exactly the cadence: not late (tie)
    ("2026-11-23", _Spider(7), 1),             # one day more
    ("2026-11", _Spider(7), 0),                # a month counts as its last day (30 Nov)
    ("2026-10", _Spider(7), 1),
    ("2026", _Spider(7), 0),                   # a year counts as 31 Dec
    ("2015-02", _Spider(7, historical=True), None),   # historical: never late
    ("2015-02", _Spider(None), None),          # no cadence
    (None, _Spider(7), None),                  # no dated record: nothing to say
    ("not a date", _Spider(7), None),
])
def test_overdue_against_the_cadence(newest, spider, expected):
    assert _overdue(newest, spider, datetime.date(2026, 12, 1)) == expected


@pytest.mark.parametrize("text, word, vnd", [
    ("hàng trăm triệu đồng", "hàng", None),   # an order of magnitude, not an amount: no number is stored
    ("hàng hóa", None, None),                # "hàng" as a word, not a hedge
    ("Phạt tiền: gần 8,3 triệu", "gần", 8_300_000),
    ("Hơn 188 triệu đồng", "hơn", 188_000_000),
    ("90 triệu đồng", None, 90_000_000),
    ("", None, None),
])
def test_the_hedge_word_as_the_source_wrote_it(text, word, vnd):
    from vn.money import money_hedge, parse_money_vnd
    assert (money_hedge(text), parse_money_vnd(text).vnd) == (word, vnd)
