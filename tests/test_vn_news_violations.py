import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider


def test_sample():
    items, rejects = parse_file(VnNewsViolationsSpider, SAMPLES / "vn_news_violations.csv")
    assert (len(items), rejects) == (50, [])
    first = {k: v for k, v in items[0].items() if k != "raw"}
    assert first == {
        "id": "vn_news_violations:a3e8f0e59d9ecf74", "source": "vn_news_violations", "source_id": "a3e8f0e59d9ecf74",
        "establishment": "Công ty Cổ phần Dược phẩm Trung ương 3",
        "address": "số 16 Lê Đại Hành, phường Minh Khai, quận Hồng Bàng (cũ), Thành phố Hải Phòng",
        "province": "Hải Phòng", "tax_code": "0200572501",
        "violation": "Không đăng ký thay đổi, bổ sung giấy đăng ký lưu hành trước khi lưu hành 3 thuốc",
        "sanction": "phạt tiền", "fine_vnd": 90000000, "fine_text": "90 triệu đồng", "decision_no": "818/QĐ-XPHC",
        "authority": "Cục Quản lý Dược", "decided": "2025-12-30", "decided_precision": "day",
        "url": "https://kienthuc.net.vn/cong-ty-duoc-pham-trung-uong-3-bi-cuc-quan-ly-duoc-phat-90-trieu-post1595408.html",
        "notes": 'Mã số thuế ghi theo "mã số doanh nghiệp". Thuốc liên quan: Tetracyclin TW3, Daleston-D, Rodomax; '
                 "có tình tiết tăng nặng (vi phạm nhiều lần).",
        "jurisdiction": "VN",
    }


def test_full_curated_file_every_amount_and_date_parsed_or_flagged():
    items, rejects = parse_file(VnNewsViolationsSpider, shared_file("curated/vn-news/xu-phat-co-so.csv"))
    assert (len(items), rejects) == (150, [])
    for item in items:
        raw = json.loads(item["raw"])
        flagged = {f["column"] for f in json.loads(item.get("quality_flags") or "[]")}
        if raw["Số tiền phạt"].strip():
            assert item["fine_vnd"] is not None or "fine_vnd" in flagged, raw["Số tiền phạt"]
        if raw["Ngày quyết định"].strip():
            assert item["decided"] or "decided" in flagged, raw["Ngày quyết định"]
    lower_bounds = [i for i in items if i.get("fine_note") == "lower bound"]
    assert lower_bounds and all(i["fine_text"].startswith("hơn") for i in lower_bounds)
