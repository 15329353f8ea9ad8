import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.eu_safety_gate import EuSafetyGateSpider

GTINS = [f"805518666{tail}" for tail in ("9918", "9925", "9932", "9949", "9956", "9963", "9970", "9987")]
AS_NONE = ["alert_submitted_by", "case_url", "company_recall_page", "compulsory_measures", "counterfeit",
           "found_and_measures_taken_in", "model_type_number", "packaging_description", "risk_legal_provision",
           "type_of_alert", "voluntary_measures"]  # the literal string `None` in the export


def test_sample_parses_every_alert():
    items, rejects = parse_file(EuSafetyGateSpider, SAMPLES / "eu_safety_gate.csv")
    assert (len(items), rejects) == (50, [])
    helmet = next(item for item in items if item["source_id"] == "A12/01135/24")
    assert {**helmet, "raw": json.loads(helmet["raw"])} == {
        "id": "eu_safety_gate:A12/01135/24", "source": "eu_safety_gate", "source_id": "A12/01135/24",
        "url": "https://ec.europa.eu/safety-gate-alerts/screen/search",
        "title": "Bicycle helmet — LIMAR Limar Torino", "product": "Bicycle helmet", "brand": "LIMAR",
        "model": "Limar Torino", "category": "Protective equipment", "lots": "2022/04", "gtins": json.dumps(GTINS),
        "hazard": "Injuries", "remedy": None, "risk_class": "Serious risk", "origin_country": "Unknown",
        "distribution": None, "jurisdiction": "EU", "authority": "Safety Gate",
        "published": "2024", "published_precision": "year",
        "status": "unknown", "kind": "other", "counterfeit": 0,   # the export's `counterfeit` is `None`
        "notes": "Published: year of the alert number (the export gives no date)",
        "raw": {"alert_number": "A12/01135/24", "barcode": "\n".join(GTINS), "batch_number": "2022/04",
                "brand": "LIMAR", "company_recall_code": "", "country_of_origin": "Unknown", "images": "",
                "product_category": "Protective equipment", "product_description": "Limar Torino",
                "product_name": "Bicycle helmet", "production_dates": "", "published_on": "",
                "risk_description": "", "risk_type": "Injuries", **dict.fromkeys(AS_NONE, "None")},
    }
    assert all(item["title"] and item["risk_class"] or item["source_id"].startswith("EM/") for item in items)
    assert not any("None" in (item[c] or "") for item in items for c in ("model", "authority", "remedy", "url"))


def test_full_seed_every_row_parses():
    seed = shared_file("raw/eu-safety-gate-derived/safety-gate-alerts-seed.csv")
    items, rejects = parse_file(EuSafetyGateSpider, seed)
    assert (len(items), rejects) == (280, [])
    assert [i["origin_country"] for i in items].count("Vietnam") == 0  # the seed has none; the full feed does
    flagged = [i["source_id"] for i in items if i.get("quality_flags")]
    assert len(flagged) == 10  # 9 barcodes that are not GTINs (ASINs, bad check digits), 1 unknown prefix EM
