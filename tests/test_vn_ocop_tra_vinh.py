import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.vn_ocop_tra_vinh import VnOcopTraVinhSpider


def test_sample_parses_every_product():
    items, rejects = parse_file(VnOcopTraVinhSpider, SAMPLES / "vn_ocop_tra_vinh.json")
    assert (len(items), rejects) == (37, [])
    assert items[5] == {
        "id": "vn_ocop_tra_vinh:6", "source": "vn_ocop_tra_vinh", "source_id": "6",
        "url": "https://ocop.gov.vn",
        "scheme": "OCOP", "rating": "3 sao", "product": "Măng cụt Tân Quy", "holder": "HTX Tân Qui",
        "kind": "rating", "status": "rated", "rating_text": "3 sao · 3 stars",
        "address": "Xã An Phú Tân, huyện Cầu Kè, tỉnh Trà Vinh", "province": "Trà Vinh", "jurisdiction": "VN",
        "raw": json.dumps({"id": 6, "name": "Măng cụt Tân Quy", "author": "HTX Tân Qui, xã An Phú Tân",
                           "address": "Xã An Phú Tân", "star": 3, "detail": "", "createdTime": "", "idDoc": ""},
                          ensure_ascii=False, sort_keys=True),
    }
    unrated = [item for item in items if item["rating"] is None]
    # star 0 in the source: not rated, which is no OCOP recognition (ground truth: the raw `star`)
    assert [(i["source_id"], i["status"]) for i in unrated] == [("3", "not rated")]
    assert [json.loads(i["raw"])["star"] for i in unrated] == [0]
    assert "không phải sản phẩm OCOP" in unrated[0]["rating_text"]
    assert not any(", xã" in item["holder"] for item in items)


def test_full_shared_list_parses():
    shared = shared_file("raw/vn-ocop-cau-ke-tra-vinh/ocop-products-cau-ke.json")
    items, rejects = parse_file(VnOcopTraVinhSpider, shared)
    assert (len(items), rejects) == (37, [])
    assert sorted({item["rating"] or "-" for item in items}) == ["-", "3 sao", "4 sao", "5 sao"]
