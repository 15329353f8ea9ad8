from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.us_fda_recalls import UsFdaRecallsSpider


def test_sample():
    items, rejects = parse_file(UsFdaRecallsSpider, SAMPLES / "us_fda_recalls.json")
    assert (len(items), rejects) == (40, [])
    first = {k: v for k, v in items[0].items() if k not in ("raw", "hazard", "distribution")}
    assert first == {
        "id": "us_fda_recalls:219865", "source": "us_fda_recalls", "source_id": "219865",
        "company": "Philips North America", "category": "Devices", "risk_class": "Class 2",
        "product": "Philips SmartPath to dStream for XR and 3.0T with MR Elastography (MRE). "
                   "1. Model Number (REF): 781270. 2. Model Number (REF): 782113.",
        "title": "Z-1967-2026: Philips SmartPath to dStream for XR and 3.0T with MR Elastography (MRE). "
                 "1. Model Number (REF): 781270. 2. Model Number (REF): 782113.",
        "jurisdiction": "US", "authority": "FDA CDRH",
        "url": "https://www.accessdata.fda.gov/scripts/ires/index.cfm?Product=219865",
        # FDA published it in the Enforcement Report of 05/06/2026; the firm started it on 04/14/2026.
        "published": "2026-05-06", "published_precision": "day",
        "initiated": "2026-04-14", "initiated_precision": "day",
        "status": "ongoing", "kind": "device", "counterfeit": 0, "gtins": None,
    }
    assert items[0]["hazard"].startswith("The potential for stiffness value errors")


def test_full_recorded_response():
    items, rejects = parse_file(UsFdaRecallsSpider, shared_file("raw/us-fda-ires-recalls/iresapi-recalls-2026-04-28.json"))
    assert (len(items), rejects) == (120, [])
    assert all(item["published_precision"] == "day" for item in items)
