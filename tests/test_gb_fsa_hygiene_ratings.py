import json

import pytest

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.gb_fsa_hygiene_ratings import GbFsaHygieneRatingsSpider


def test_sample_parses_every_establishment():
    items, rejects = parse_file(GbFsaHygieneRatingsSpider, SAMPLES / "gb_fsa_hygiene_ratings.csv",
                                local_authority="Westminster")
    assert (len(items), rejects) == (50, [])
    assert items[0] == {
        "id": "gb_fsa_hygiene_ratings:134504", "source": "gb_fsa_hygiene_ratings", "source_id": "134504",
        "url": "https://ratings.food.gov.uk/business/134504", "scheme": "Food Hygiene Rating Scheme",
        "holder": "@SIAM", "rating": "3", "authority": "Westminster", "jurisdiction": "GB",
        "valid_from": "2013-07-22", "valid_from_precision": "day", "latitude": 51.513497, "longitude": -0.131753,
        "raw": json.dumps({"": "134504", "businessname": "@SIAM", "ratingvalue": "3", "structural": "10",
                           "hygiene": "10", "confidenceinmanagement": "5", "ratingdate": "2013-07-22",
                           "latitude": "51.513497", "longitude": "-0.131753"}, sort_keys=True),
    }
    assert sum(item["latitude"] is None and item["longitude"] is None for item in items) == 6
    assert {"Exempt", "AwaitingInspection"} <= {item["rating"] for item in items}
    assert all(item["url"] and "quality_flags" not in item for item in items)


@pytest.mark.parametrize("code, count, without_point", [("533", 3987, 59), ("876", 1756, 210)])
def test_full_authority_files_parse(code, count, without_point):
    items, rejects = parse_file(GbFsaHygieneRatingsSpider, shared_file(f"raw/uk-fsa-fhrs-2015/{code}.csv"))
    assert (len(items), rejects) == (count, [])
    assert sum(item["latitude"] is None for item in items) == without_point
    assert all(item["authority"] is None for item in items)  # the file does not name its authority
