import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.vn_news_recalls import VnNewsRecallsSpider


def test_sample():
    items, rejects = parse_file(VnNewsRecallsSpider, SAMPLES / "vn_news_recalls.csv")
    assert (len(items), rejects) == (50, [])
    first = {k: v for k, v in items[0].items() if k != "raw"}
    assert first == {
        "id": "vn_news_recalls:bd717a5655e66a2b", "source": "vn_news_recalls", "source_id": "bd717a5655e66a2b",
        "title": "Chloramphenicol 250 mg (viên nang cứng)", "product": "Chloramphenicol 250 mg (viên nang cứng)",
        "category": "thuốc", "lots": "0218", "hazard": "Không đạt chỉ tiêu độ hòa tan", "risk_class": None,
        "distribution": "toàn quốc", "authority": "Cục Quản lý Dược",
        # "Cơ sở chịu trách nhiệm" is empty: the maker is not put in its place.
        "company": None, "name_on_product": None, "counterfeit": 0, "kind": "drug", "status": "unknown", "gtins": None,
        "manufacturer": "Công ty cổ phần Dược phẩm và sinh học y tế", "registration_no": "VD-24891-16",
        "published": "2020-03-27", "published_precision": "day",
        "manufactured": "2018-05-17", "manufactured_precision": "day",
        "expires": "2021-05-17", "expires_precision": "day",
        "url": "https://thanhnien.vn/suc-khoe/thu-hoi-lo-thuoc-khong-dat-chat-luong-1202813.html",
        "notes": 'Bài ghi "ngày 27.3", năm theo ngày đăng 03/2020. Mẫu lấy tại tỉnh Bình Thuận.',
        "jurisdiction": "VN",
    }


def test_full_curated_file_every_date_parsed_or_flagged():
    path = shared_file("curated/vn-news/thu-hoi-san-pham.csv")
    items, rejects = parse_file(VnNewsRecallsSpider, path)
    assert (len(items), rejects) == (278, [])
    assert len({item["id"] for item in items}) == 278     # product + lot + date + … is unique
    for item in items:
        raw = json.loads(item["raw"])
        flagged = {f["column"] for f in json.loads(item.get("quality_flags") or "[]")}
        for column, heading in (("published", "Ngày thông báo"), ("manufactured", "Ngày sản xuất"),
                                ("expires", "Hạn dùng")):
            if raw[heading].strip():
                assert item[column] or column in flagged, (heading, raw[heading])
