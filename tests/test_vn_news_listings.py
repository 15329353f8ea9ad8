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
        "jurisdiction": "VN",
    }


def test_full_curated_file():
    items, rejects = parse_file(VnNewsListingsSpider, shared_file("curated/vn-news/san-pham-an-toan.csv"))
    assert (len(items), rejects) == (145, [])
    assert {item["scheme"] for item in items} == {"OCOP", "HVNCLC"}
