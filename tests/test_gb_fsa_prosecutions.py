from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.gb_fsa_prosecutions import GbFsaProsecutionsSpider


def test_sample():
    items, rejects = parse_file(GbFsaProsecutionsSpider, SAMPLES / "gb_fsa_prosecutions.csv")
    assert (len(items), rejects) == (50, [])
    first = {k: v for k, v in items[0].items() if k != "raw"}
    assert first == {
        "id": "gb_fsa_prosecutions:14-15-132", "source": "gb_fsa_prosecutions", "source_id": "14-15-132",
        # The defendant is the party convicted; the premises is where it happened; the address is the source's.
        "establishment": "Sanu Miah", "defendant": "Sanu Miah",
        "premises": "Achari Restaurant, Crook Street, Bolton", "address": "Achari Restaurant, Crook Street, Bolton",
        "geo_precision": "street",   # the geocoder found "Crook Street, Bolton, Bolton BL3, UK": no number, no full postcode
        "authority": None, "jurisdiction": "GB", "url": "https://www.food.gov.uk/enforcement/prosecutions",
        "violation": "Guilty Plea to 3 x FH(E)", "fine_text": "£100",
        "sanction": "fine £100; costs £1634; at Bolton Magistrates Court",
        "latitude": 53.5737872, "longitude": -2.4290353,
        "decided": "2014-10", "decided_precision": "month",   # "??/10/2014" in the source
    }


def test_full_recorded_file_messy_dates_and_prose_fines():
    items, rejects = parse_file(GbFsaProsecutionsSpider, shared_file("raw/uk-fsa-prosecutions-2014/prosecutions.csv"))
    assert len(items) + len(rejects) == 180 and not rejects
    by_id = {item["source_id"]: item for item in items}
    assert by_id["14-15-138"]["decided"] == "2014-06-02"          # "2014-06-02 00:00:00"
    assert by_id["14-15-138"]["fine_text"] == "8 Month Custodial (Suspended), 300 Hours CSO & 750"
    assert "; " in by_id["14-15-138"]["violation"]                 # two charges in one cell
    precisions = {item["decided_precision"] for item in items}
    assert {"day", "month"} <= precisions
