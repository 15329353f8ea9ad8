"""Issue 13 (trust), source-parsing classes: each page and API value says what its source says.

Expected values come from the raw records (the bundled samples, the raw and curated files of
../shared) or from SQL on the same demo database the pages are served from.
"""
import csv
import json
import re
from datetime import datetime
from urllib.parse import quote_plus, unquote

import pytest
from conftest import SAMPLES, parse_file, shared_file
from stdnum import ean
from test_site import Page, check_accessible, get, query, row_path

from scrapers.spiders.gb_fsa_prosecutions import GbFsaProsecutionsSpider
from scrapers.spiders.us_cpsc_recalls import UsCpscRecallsSpider
from scrapers.spiders.us_fda_recalls import UsFdaRecallsSpider
from scrapers.spiders.vn_news_listings import VnNewsListingsSpider
from scrapers.spiders.vn_news_recalls import VnNewsRecallsSpider
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
from vn.ids import extract_labelled_gtins, normalise_gtin
from vn.text import repair_text


def raw(row):
    return json.loads(row["raw"])


def api_row(datasette, table, pk):
    return json.loads(get(datasette, row_path(table, pk) + ".json?_shape=array"))[0]


def mdy(text):
    """FDA's MM/DD/YYYY as the site prints dates (dd/mm/yyyy)."""
    return datetime.strptime(text, "%m/%d/%Y").strftime("%d/%m/%Y")


def text_between(page_text, start, end):
    return page_text[page_text.index(start):page_text.index(end, page_text.index(start))]


# ---- 1. Counterfeits: the maker printed on a fake is not the responsible party -----------------

def test_curated_recalls_name_only_the_party_the_source_names_as_responsible():
    items, rejects = parse_file(VnNewsRecallsSpider, shared_file("curated/vn-news/thu-hoi-san-pham.csv"))
    assert rejects == []
    fakes = [item for item in items if item["counterfeit"]]
    assert fakes   # the file has fake-drug warnings
    for item in items:
        row = raw(item)
        responsible, maker = row["Cơ sở chịu trách nhiệm"].strip(), row["Cơ sở sản xuất"].strip()
        if not responsible:
            assert item["company"] is None, row      # never the maker in its place
        if item["counterfeit"] and maker:
            assert item["manufacturer"] is None and maker in item["name_on_product"], row
        if item["company"]:
            assert item["company"] == responsible
    # A genuine owner the curator marks as the reporter of a fake is the name on it, not the responsible party.
    tobrex = next(item for item in items if item["product"] == "Tobrex 5ml")
    assert tobrex["company"] is None and "Novartis" in tobrex["name_on_product"] and tobrex["kind"] == "counterfeit"


def test_counterfeit_page_warns_that_the_maker_on_the_fake_is_not_responsible(datasette, demo_db):
    rows = query(demo_db, "select * from recalls where counterfeit = 1 and name_on_product is not null")
    assert rows
    for r in rows:
        maker = raw(r)["Cơ sở sản xuất"]
        html = get(datasette, row_path("recalls", r["id"]))
        body = check_accessible(html).body
        assert "Cảnh báo hàng giả" in body and f"Tên “{maker}”" in body
        assert "không phải bên chịu trách nhiệm, cũng không phải người bán" in body
        assert "Công ty chịu trách nhiệm" not in body and "hoàn tiền" not in body
        assert "Không mua, không dùng" in body and "không phải người bán" in body
        assert api_row(datasette, "recalls", r["id"])["company"] is None


# ---- 5. Barcodes in the text of every source, any form finds the record ------------------------

def test_fda_upcs_printed_in_product_text_are_extracted_with_their_check_digit():
    items, _ = parse_file(UsFdaRecallsSpider, shared_file("raw/us-fda-ires-recalls/iresapi-recalls-2026-04-28.json"))
    by_id = {item["source_id"]: item for item in items}
    printed = 0
    for item in items:
        text = raw(item)["PRODUCTDESCRIPTIONTXT"] or ""
        # Ground truth: "UPC: " then one unbroken 12- or 13-digit run, as FDA prints most of them.
        for code in re.findall(r"UPC:? ([0-9]{12,13})\b", text):
            printed += 1
            gtins = json.loads(item["gtins"] or "[]")
            if ean.is_valid(code):
                assert normalise_gtin(code) in gtins, (item["source_id"], code)
            else:   # a misprinted check digit is flagged, not stored
                assert code not in gtins and code in (item.get("quality_flags") or ""), code
    assert printed >= 10
    assert json.loads(by_id["219722"]["gtins"]) == ["042743190266"]
    # Grouped as on the pack, and a GS1 element string "(01)" + GTIN-14.
    assert json.loads(by_id["219415"]["gtins"]) == ["875343000013"]        # "UPC 8 75343 00001 3"
    assert json.loads(by_id["169110"]["gtins"]) == ["10817134020432"]      # "UPC 0110817134020432"


def test_labelled_gtins_ignore_registration_numbers_and_unlabelled_digits():
    assert extract_labelled_gtins("SĐK 893100493025, lô 0218") == ([], [])
    assert extract_labelled_gtins("UPC: NA\nVanilla") == ([], [])
    assert extract_labelled_gtins("") == ([], [])
    assert extract_labelled_gtins("UPC (on can): 078000037975, \nUPC (on carton): 078000037982") == (
        ["078000037975", "078000037982"], [])
    assert normalise_gtin("00042743190266") == normalise_gtin("0042743190266") == "042743190266"


@pytest.mark.parametrize("form", ["{upc}", "0{upc}", "00{upc}", "{spaced}", "{hyphens}"])
def test_barcode_page_finds_a_recall_by_upc_a_ean13_gtin14_and_printed_forms(datasette, demo_db, form):
    r = query(demo_db, "select r.id, coalesce(r.title, r.product) as name, g.value as gtin from recalls r "
                       "join json_each(r.gtins) g where r.source = 'us_fda_recalls' and length(g.value) = 12 "
                       "order by r.id limit 1")[0]
    code = r["gtin"]
    typed = form.format(**{"upc": code, "spaced": f"{code[0]} {code[1:6]} {code[6:11]} {code[11]}",
                           "hyphens": f"{code[:6]}-{code[6:11]}-{code[11]}"})
    html = get(datasette, "/ma-vach?gtin=" + quote_plus(typed))
    page = check_accessible(html)
    assert row_path("recalls", r["id"]) in page.links, typed
    assert "thông báo thu hồi nêu mã vạch này" in page.body
    if typed.isdigit():   # the JSON API takes digits only (plugins/parameter_errors.py); the page strips the rest
        api = json.loads(get(datasette, "/minhbach/barcode.json?_shape=array&gtin=" + typed))
        assert r["id"] in [row["id"] for row in api]


def test_barcode_page_negative_answer_says_what_the_data_covers(datasette, demo_db):
    typed = "893 0000 00000 2"      # a valid EAN-13 that no recall names
    assert ean.is_valid(typed.replace(" ", ""))
    assert not query(demo_db, "select 1 from recalls r join json_each(r.gtins) g where ltrim(g.value, '0') = '8930000000002'")
    page = Page(get(datasette, "/ma-vach?gtin=" + quote_plus(typed)))
    body = page.body
    assert "Không thông báo thu hồi nào trong dữ liệu của Minh Bạch ghi mã vạch này" in body
    assert "không có nghĩa là sản phẩm an toàn" in body
    (total, with_codes), = query(demo_db, "select count(*), sum(gtins is not null) from recalls where withdrawn is null")
    assert f"chỉ {with_codes} trong {total} thông báo thu hồi có ghi mã vạch" in body
    for source, n, with_barcodes, publisher in query(
            demo_db, "select source, count(*), sum(gtins is not null), (select publisher from sources s "
                     "where s.source = r.source) from recalls r where withdrawn is null group by source"):
        expected = (f"{publisher}: {with_barcodes} / {n} thông báo có mã vạch" if with_barcodes
                    else f"{publisher}: không ghi mã vạch ({n} thông báo)")
        assert expected in body, expected
    assert "/minhbach/search?q=" + typed in [unquote(link) for link in page.links]   # the code as typed


# ---- 6. Whole text stored and searchable; shortened only on display, visibly --------------------

def test_fda_product_text_is_whole_searchable_and_shortened_only_on_the_page(datasette, demo_db):
    sample = json.loads((SAMPLES / "us_fda_recalls.json").read_text())["RESULT"]
    longest = max(sample, key=lambda row: len(row["PRODUCTDESCRIPTIONTXT"] or ""))
    whole = " ".join(longest["PRODUCTDESCRIPTIONTXT"].split())
    assert len(whole) > 500
    record_id = f"us_fda_recalls:{longest['PRODUCTID']}"
    api = api_row(datasette, "recalls", record_id)
    assert api["product"] == whole and api["title"] == f"{longest['RECALLNUM']}: {whole}"
    # A word only found after the 500th character still finds the record.
    tail_words = [w for w in re.findall(r"[A-Za-z]{6,}", whole[500:]) if w.lower() not in whole[:500].lower()]
    assert tail_words
    found = json.loads(get(datasette, f"/minhbach/recalls.json?_search={tail_words[0]}&_shape=array&_col=id"))
    assert record_id in [row["id"] for row in found]
    body = check_accessible(get(datasette, row_path("recalls", record_id))).body
    assert "Tiêu đề đã được rút gọn" in body and "Tiêu đề đầy đủ" in body
    assert " ".join(f"{longest['RECALLNUM']}: {whole}".split()) in body


# ---- 7. Status first; advice by kind and status ------------------------------------------------

def test_fda_status_comes_from_phasetxt_and_is_shown_first(datasette, demo_db):
    sample = json.loads((SAMPLES / "us_fda_recalls.json").read_text())["RESULT"]
    statuses = dict(query(demo_db, "select source_id, status from recalls where source = 'us_fda_recalls'"))
    assert statuses == {row["PRODUCTID"]: row["PHASETXT"].lower() for row in sample}
    terminated = next(row for row in sample if row["PHASETXT"] == "Terminated" and row["TERMINATIONDT"])
    body = check_accessible(get(datasette, row_path("recalls", f"us_fda_recalls:{terminated['PRODUCTID']}"))).body
    html = get(datasette, row_path("recalls", f"us_fda_recalls:{terminated['PRODUCTID']}"))
    assert html.index('class="status status-terminated"') < html.index("<h1>")   # status first
    assert f"đã kết thúc ngày {mdy(terminated['TERMINATIONDT'])}" in body
    english = Page(get(datasette, row_path("recalls", f"us_fda_recalls:{terminated['PRODUCTID']}") + "?lang=en")).body
    assert f"Status: terminated on {mdy(terminated['TERMINATIONDT'])}" in english and "This recall has ended" in english
    advice = text_between(body, "Người tiêu dùng nên làm gì", "Cơ sở liên quan" if "Cơ sở liên quan" in body else "Tất cả các trường")
    assert "Đợt thu hồi này đã kết thúc" in advice
    assert "Ngừng sử dụng" not in advice and "Không ăn" not in advice
    ongoing = next(row for row in sample if row["PHASETXT"] == "Ongoing")
    body = get(datasette, row_path("recalls", f"us_fda_recalls:{ongoing['PRODUCTID']}"))
    assert "Trạng thái: đang thu hồi" in Page(body).body
    assert "Status: ongoing" in Page(get(datasette, row_path("recalls", f"us_fda_recalls:{ongoing['PRODUCTID']}") + "?lang=en")).body


def test_sources_without_status_say_so(datasette, demo_db):
    r = query(demo_db, "select id from recalls where source = 'vn_news_recalls' and status = 'unknown' limit 1")[0]
    assert "nguồn không nêu trạng thái" in Page(get(datasette, row_path("recalls", r["id"]))).body
    assert "the source gives no status" in Page(get(datasette, row_path("recalls", r["id"]) + "?lang=en")).body


def test_vehicle_recalls_get_vin_advice_and_no_refund(datasette, demo_db):
    rows = query(demo_db, "select * from recalls where kind = 'vehicle' and source = 'vn_news_recalls'")
    assert any("Toyota" in r["product"] for r in rows)
    for r in rows:
        assert raw(r)["Loại"] == "xe"
        advice = text_between(Page(get(datasette, row_path("recalls", r["id"]))).body, "Người tiêu dùng nên làm gì",
                              "Tất cả các trường")
        assert "Kiểm tra số khung (VIN)" in advice and "đại lý ủy quyền" in advice
        assert "hoàn tiền" not in advice and "trả lại" not in advice.lower() and "refund" not in advice.lower()


def test_cosmetic_notification_withdrawals_get_no_safety_advice(datasette, demo_db):
    rows = query(demo_db, "select * from recalls where kind = 'withdrawal'")
    assert rows
    for r in rows:
        assert re.search(r"(rút|thu hồi) số (tiếp nhận|đăng ký|công bố)", raw(r)["Lý do"], re.I)
        advice = text_between(Page(get(datasette, row_path("recalls", r["id"]))).body, "Người tiêu dùng nên làm gì",
                              "Tất cả các trường")
        assert "thủ tục hành chính" in advice and "không đưa ra khuyến cáo an toàn" in advice
        assert "Ngừng sử dụng" not in advice and "hoàn tiền" not in advice and "refund" not in advice.lower()


def test_drug_advice_does_not_tell_people_to_stop_a_prescribed_medicine(datasette, demo_db):
    r = query(demo_db, "select id from recalls where kind = 'drug' and status in ('ongoing', 'unknown') limit 1")[0]
    advice = Page(get(datasette, row_path("recalls", r["id"]))).body
    assert "Không tự ý ngừng thuốc đang được kê đơn" in advice and "trả lại nhà thuốc" in advice


# ---- 8. UK prosecutions: the defendant is the penalised party; the premises is where -----------

def test_prosecution_pages_name_the_defendants_and_the_premises(datasette, demo_db):
    rows = query(demo_db, "select * from violations where source = 'gb_fsa_prosecutions'")
    assert rows
    several = 0
    for r in rows:
        source = raw(r)
        defendants = [d for d in re.split(r"\s{2,}", source["DEFENDANT"].strip()) if d]
        several += len(defendants) > 1
        assert r["defendant"] == ("; ".join(defendants) or None)
        assert r["premises"] == source["PREMISES"]
        assert r["establishment"] == (r["defendant"] or source["PREMISES"])
    assert several
    r = next(r for r in rows if r["defendant"] and r["defendant"] != r["premises"])
    page = check_accessible(get(datasette, row_path("violations", r["id"])))
    assert f"Bị cáo bị kết án {r['defendant']}" in page.body
    assert f"Nơi xảy ra vi phạm {r['premises']}" in page.body
    english = Page(get(datasette, row_path("violations", r["id"]) + "?lang=en")).body
    assert f"Defendant(s) convicted {r['defendant']}" in english and f"Premises (where it happened) {r['premises']}" in english
    assert "Bị cáo nêu trên đã bị tòa án kết án" in page.body and "đã xử phạt cơ sở này" not in page.body
    assert "<h1>" + r["defendant"].replace("&", "&amp;").replace("'", "&#39;") + "</h1>" in get(
        datasette, row_path("violations", r["id"]))


def test_prosecution_without_a_defendant_is_flagged_not_guessed():
    items, rejects = parse_file(GbFsaProsecutionsSpider, shared_file("raw/uk-fsa-prosecutions-2014/prosecutions.csv"))
    missing = [item for item in items if not raw(item)["DEFENDANT"].strip()]
    assert missing and not rejects
    for item in missing:
        assert item["defendant"] is None and "names no defendant" in item["quality_flags"]


# ---- 9. The source's address, and precision from evidence ---------------------------------------

def test_prosecutions_keep_the_source_address_and_town_geocodes_are_not_points(datasette, demo_db):
    rows = query(demo_db, "select * from violations where source = 'gb_fsa_prosecutions'")
    api = {row["id"]: row for row in json.loads(get(
        datasette, "/minhbach/violations.json?source=gb_fsa_prosecutions&_shape=array&_size=max"))}
    assert set(api) == {r["id"] for r in rows}
    towns = 0
    for r in rows:
        source = raw(r)
        assert r["address"] == api[r["id"]]["address"] == source["address"]   # not the geocoder's formatted_address
        assert api[r["id"]]["geo_precision"] == r["geo_precision"]
        geocoded = source["formatted_address"]
        full_postcode = re.search(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b", geocoded)
        house_number = re.match(r"[0-9]+", geocoded)
        if r["geo_precision"] == "point":
            assert full_postcode or house_number, geocoded
        if geocoded.split(",")[0].strip() in {p.strip() for p in geocoded.split(",")[1:]} or geocoded.count(",") == 1:
            towns += 1
            assert r["geo_precision"] == "town", geocoded                 # "Swindon, Swindon, Swindon, UK"
    assert towns


def test_map_page_counts_town_centres_apart_from_points(datasette, demo_db):
    """The map's precision legend (penalties, the default kind) counts exact positions apart from town and
    street centres: a UK prosecution geocoded to its town is never counted as an exact point."""
    (towns,), = query(demo_db, "select count(*) from violations where geo_precision = 'town'")
    (streets,), = query(demo_db, "select count(*) from violations where geo_precision = 'street'")
    (points,), = query(demo_db, "select count(*) from violations where geo_precision = 'point'")
    assert towns
    html = get(datasette, "/ban-do")
    legend = Page(html.split('aria-labelledby="precision-h"')[1].split("</ul>")[0]).body
    assert f"vị trí chính xác ({points})" in legend
    assert f"trung tâm đường, thị trấn ({streets + towns})" in legend
    html = get(datasette, "/ban-do?lang=en")
    legend = Page(html.split('aria-labelledby="precision-h"')[1].split("</ul>")[0]).body
    assert f"exact position ({points})" in legend and f"street or town centre ({streets + towns})" in legend


def test_prosecutions_raw_file_swindon_is_a_town():
    items, _ = parse_file(GbFsaProsecutionsSpider, shared_file("raw/uk-fsa-prosecutions-2014/prosecutions.csv"))
    swindon = next(item for item in items if raw(item)["formatted_address"] == "Swindon, Swindon, Swindon, UK")
    assert swindon["geo_precision"] == "town" and swindon["address"] == raw(swindon)["address"]
    assert "Swindon, Swindon" not in swindon["address"]


# ---- 11. FDA: published is the Enforcement Report date; the firm's start is its own date -------

def test_fda_published_is_the_enforcement_report_date(datasette, demo_db):
    sample = json.loads((SAMPLES / "us_fda_recalls.json").read_text())["RESULT"]
    rows = {r["source_id"]: r for r in query(demo_db, "select * from recalls where source = 'us_fda_recalls'")}
    for source in sample:
        r = rows[source["PRODUCTID"]]
        report, started = source["ENFORCEMENTREPORTDT"], source["RECALLINITIATIONDT"]
        assert r["published"] == (datetime.strptime(report, "%m/%d/%Y").date().isoformat() if report else None)
        assert r["initiated"] == datetime.strptime(started, "%m/%d/%Y").date().isoformat()
    source = next(s for s in sample if s["ENFORCEMENTREPORTDT"] != s["RECALLINITIATIONDT"])
    body = Page(get(datasette, row_path("recalls", f"us_fda_recalls:{source['PRODUCTID']}"))).body
    assert f"Ngày cơ quan công bố {mdy(source['ENFORCEMENTREPORTDT'])}" in body
    assert f"Công ty bắt đầu thu hồi {mdy(source['RECALLINITIATIONDT'])}" in body
    english = Page(get(datasette, row_path("recalls", f"us_fda_recalls:{source['PRODUCTID']}") + "?lang=en")).body
    assert f"Published {mdy(source['ENFORCEMENTREPORTDT'])}" in english
    assert f"Firm started the recall {mdy(source['RECALLINITIATIONDT'])}" in english


# ---- 12. Entities and mojibake repaired at parse time, and flagged -----------------------------

def test_repair_text_undoes_mojibake_and_entities_and_says_so():
    assert repair_text("CafÃ© Italia") == ("Café Italia", ("mojibake repaired",))
    assert repair_text("&lt;b&gt;Recall&lt;/b&gt;") == ("Recall", ("HTML entities unescaped", "HTML tags removed"))
    assert repair_text("Oil &amp;amp; Vinegar") == ("Oil & Vinegar", ("HTML entities unescaped",))
    assert repair_text("AT&T, 5 < 6") == ("AT&T, 5 < 6", ())
    assert repair_text("") == ("", ()) and repair_text(None) == (None, ())


def test_hygiene_listing_with_mojibake_is_shown_repaired_and_flagged(datasette, demo_db):
    sample = list(csv.DictReader((SAMPLES / "gb_fsa_hygiene_ratings.csv").open(encoding="utf-8")))
    broken = [row for row in sample if "Ã" in row["businessname"]]
    assert broken
    for row in broken:
        fixed = row["businessname"].encode("latin-1").decode("utf-8")      # ground truth: the bytes as meant
        r = query(demo_db, "select * from listings where source = 'gb_fsa_hygiene_ratings' and source_id = ?", (row[""],))[0]
        assert r["holder"] == fixed
        flags = json.loads(r["quality_flags"])
        assert {"column": "holder", "value": row["businessname"], "reason": "mojibake repaired"} in flags
        body = Page(get(datasette, row_path("listings", r["id"]))).body
        assert fixed in body and "mojibake repaired" in body


def test_cpsc_titles_carry_no_html_entities():
    items, _ = parse_file(UsCpscRecallsSpider, shared_file("raw/us-cpsc-recalls-rss/cpsc-recalls-rss-2021-11-12.xml"))
    for item in items:
        for column in ("title", "hazard", "product", "company"):
            assert not re.search(r"&(?:amp|lt|gt|quot|#\d+);", item[column] or ""), (column, item[column])


@pytest.mark.parametrize("spider, name", [(VnNewsRecallsSpider, "thu-hoi-san-pham.csv"),
                                          (VnNewsViolationsSpider, "xu-phat-co-so.csv"),
                                          (VnNewsListingsSpider, "san-pham-an-toan.csv")])
def test_clean_vietnamese_text_is_left_untouched(spider, name):
    items, _ = parse_file(spider, shared_file(f"curated/vn-news/{name}"))
    for item in items:
        reasons = [flag["reason"] for flag in json.loads(item.get("quality_flags") or "[]")]
        assert not any("mojibake" in reason or "HTML" in reason for reason in reasons), item["raw"]
