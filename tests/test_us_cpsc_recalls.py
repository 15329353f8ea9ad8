import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.us_cpsc_recalls import UsCpscRecallsSpider


def test_sample_items():
    items, rejects = parse_file(UsCpscRecallsSpider, SAMPLES / "us_cpsc_recalls.xml")
    assert (len(items), rejects) == (35, [])
    assert all(item["url"] and item["title"] and item["published"] for item in items)
    item = dict(next(i for i in items if i["source_id"] == "ba914c9c-687e-4ff5-bf42-138fe18ef4e8"))
    assert json.loads(item.pop("raw"))["pubDate"] == "\tSeptember 29, 2021"   # tab and non-RFC date, as fed
    assert item == {
        "url": "https://www.cpsc.gov/Recalls/2021/"
               "Macys-Recalls-Martha-Stewart-Collection-Oil-Vinegar-Cruets-Due-to-Laceration-Hazard",
        "source_id": "ba914c9c-687e-4ff5-bf42-138fe18ef4e8",
        # The feed has `&amp;amp;`: HTML-escaped twice.
        "title": "Macy’s Recalls Martha Stewart Collection Oil & Vinegar Cruets Due to Laceration Hazard",
        "hazard": "The glass portion of the cruets can break during use, posing a laceration hazard.",
        "product": "Martha Stewart Collection Oil & Vinegar Cruets",
        "company": "Macy’s",
        "manufacturer": None,
        "jurisdiction": "US",
        "authority": "CPSC",
        "published": "2021-09-29",
        "published_precision": "day",
        "status": "unknown", "kind": "other", "counterfeit": 0, "gtins": None,   # the feed gives no status
        "source": "us_cpsc_recalls",
        "id": "us_cpsc_recalls:ba914c9c-687e-4ff5-bf42-138fe18ef4e8",
    }


def test_whole_recorded_feed():
    path = shared_file("raw/us-cpsc-recalls-rss/cpsc-recalls-rss-2021-11-12.xml")
    items, rejects = parse_file(UsCpscRecallsSpider, path)
    assert (len(items), rejects) == (40, [])
    assert len({item["id"] for item in items}) == 40
    assert all(item["published_precision"] == "day" and not item.get("quality_flags") for item in items)
