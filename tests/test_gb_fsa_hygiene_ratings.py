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
        "kind": "rating", "status": "rated", "rating_text": "3 — nhìn chung đạt yêu cầu · generally satisfactory",
        "valid_from": "2013-07-22", "valid_from_precision": "day", "latitude": 51.513497, "longitude": -0.131753,
        "raw": json.dumps({"": "134504", "businessname": "@SIAM", "ratingvalue": "3", "structural": "10",
                           "hygiene": "10", "confidenceinmanagement": "5", "ratingdate": "2013-07-22",
                           "latitude": "51.513497", "longitude": "-0.131753"}, sort_keys=True),
    }
    assert sum(item["latitude"] is None and item["longitude"] is None for item in items) == 6
    assert {"Exempt", "AwaitingInspection"} <= {item["rating"] for item in items}
    assert all(item["url"] for item in items)
    # every rating value is one of the scheme's own: none is flagged (a repaired name may be)
    assert not any('"column": "rating"' in item.get("quality_flags", "") for item in items)


@pytest.mark.parametrize("code, count, without_point", [("533", 3987, 59), ("876", 1756, 210)])
def test_full_authority_files_parse(code, count, without_point):
    items, rejects = parse_file(GbFsaHygieneRatingsSpider, shared_file(f"raw/uk-fsa-fhrs-2015/{code}.csv"))
    assert (len(items), rejects) == (count, [])
    assert sum(item["latitude"] is None for item in items) == without_point
    assert all(item["authority"] is None for item in items)  # the file does not name its authority


def test_every_rating_value_is_a_rating_in_the_fsa_wording():
    """Ground truth: the `ratingvalue` column of the sample; 0–5 in the FSA's words, the rest as pending/exempt."""
    import csv
    rows = list(csv.DictReader(open(SAMPLES / "gb_fsa_hygiene_ratings.csv", encoding="utf-8-sig")))
    items, _ = parse_file(GbFsaHygieneRatingsSpider, SAMPLES / "gb_fsa_hygiene_ratings.csv")
    assert [i["rating"] for i in items] == [r["ratingvalue"] for r in rows]
    assert {i["kind"] for i in items} == {"rating"}   # never a certificate
    words = {i["rating"]: (i["status"], i["rating_text"]) for i in items}
    assert words["0"] == ("rated", "0 — cần cải thiện khẩn cấp · urgent improvement necessary")
    assert words["1"] == ("rated", "1 — cần cải thiện nhiều · major improvement necessary")
    assert words["5"] == ("rated", "5 — rất tốt · very good")
    assert words["Exempt"] == ("exempt", "được miễn xếp hạng · exempt")
    assert words["AwaitingInspection"][0] == "pending"


def test_scottish_terms_and_unknown_values(tmp_path):
    path = tmp_path / "fhis.csv"
    path.write_text(",businessname,ratingvalue,ratingdate,latitude,longitude\n"
                    "1,A,Pass and Eat Safe,2015-01-02,,\n2,B,Improvement Required,2015-01-02,,\n3,C,7,2015-01-02,,\n")
    items, _ = parse_file(GbFsaHygieneRatingsSpider, path)
    assert [(i["scheme"], i["status"]) for i in items[:2]] == [("Food Hygiene Information Scheme", "rated")] * 2
    assert items[1]["rating_text"] == "cần cải thiện · improvement required"
    assert items[2]["status"] is None and "not a value of the FHRS" in items[2]["quality_flags"]
