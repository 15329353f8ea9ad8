from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.vn_news_listings import VnNewsListingsSpider


def test_sample():
    items, rejects = parse_file(VnNewsListingsSpider, SAMPLES / "vn_news_listings.csv")
    assert (len(items), rejects) == (50, [])
    first = {k: v for k, v in items[0].items() if k != "raw"}
    assert first == {
        "id": "vn_news_listings:65b54a4155b7e06d", "source": "vn_news_listings", "source_id": "65b54a4155b7e06d",
        "scheme": "OCOP", "rating": "4 sao", "product": "Dưa lưới taki", "holder": None, "address": "Quảng Xương",
        "province": "Thanh Hóa", "authority": "UBND tỉnh Thanh Hóa",
        "valid_from": "2019-12-23", "valid_from_precision": "day", "url": "https://lhhtxocop.vn/?p=955",
        "notes": "Quyết định số 5445/QĐ-UBND ngày 23/12/2019. Bài chỉ ghi tên địa phương (huyện) trong ngoặc chung "
                 "cho nhóm sản phẩm; không nêu chủ thể.",
        "jurisdiction": "VN", "certificate_no": "5445/QĐ-UBND",
        "kind": "rating", "status": "rated", "rating_text": "4 sao · 4 stars",
    }


def test_full_curated_file():
    items, rejects = parse_file(VnNewsListingsSpider, shared_file("curated/vn-news/san-pham-an-toan.csv"))
    assert (len(items), rejects) == (145, [])
    assert {item["scheme"] for item in items} == {"OCOP", "HVNCLC"}


def test_kinds_and_statuses_in_the_schemes_own_terms():
    """Ground truth: the curated file's own columns (Chương trình, Hạng, Ghi chú)."""
    import csv
    path = shared_file("curated/vn-news/san-pham-an-toan.csv")
    rows = list(csv.DictReader(open(path, encoding="utf-8-sig")))
    items, _ = parse_file(VnNewsListingsSpider, path)
    assert len(items) == len(rows)
    for row, item in zip(rows, items):
        if row["Chương trình"] == "HVNCLC":   # consumer-voted award, never a certificate
            assert (item["kind"], item["status"]) == ("award", "awarded")
            assert "người tiêu dùng bình chọn" in item["rating_text"]
        else:
            assert item["kind"] == "rating"
            pending = "trình UBND tỉnh phê duyệt" in row["Ghi chú"]
            assert item["status"] == ("pending" if pending else "rated")
            assert item["rating_text"].startswith(row["Hạng"])
    # the decision the article reports, never the programme "theo Quyết định 148/QĐ-TTg"
    numbers = {item.get("certificate_no") for item in items}
    assert "148/QĐ-TTg" not in numbers and "4261/QĐ-UBND" in numbers
    assert sum(item["status"] == "pending" for item in items) == sum(
        "trình UBND tỉnh phê duyệt" in row["Ghi chú"] for row in rows) == 3
