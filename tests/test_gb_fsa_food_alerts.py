import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.gb_fsa_food_alerts import GbFsaFoodAlertsSpider


def test_sample_items():
    items, rejects = parse_file(GbFsaFoodAlertsSpider, SAMPLES / "gb_fsa_food_alerts.json")
    assert (len(items), rejects) == (35, [])
    assert all(item["url"] and item["title"] and item["published"] for item in items)
    item = dict(next(i for i in items if i["source_id"] == "FSA-AA-15-2018"))
    assert json.loads(item.pop("raw"))["country"][0]["label"] == ["Northern Ireland", "Northern Ireland"]
    assert item == {
        "source_id": "FSA-AA-15-2018",
        "title": "Lidl recalls Favorina Dip Eggs as allergenic ingredients are not declared in English",
        "url": "https://beta.food.gov.uk/news-alerts/alert/FSA-AA-15-2018",
        "category": "Allergy alert",
        "risk_class": "AA",
        "hazard": "Milk: These products contain milk making them a possible health risk for anyone with an allergy or "
                  "intolerance to milk or milk constituents. They may also pose a risk to anyone with an allergy or "
                  "intolerance to: cereals containing gluten, egg and/or an allergy to peanut, soya, nuts. Allergens: "
                  "Egg, Gluten, Milk, Nuts, Peanuts, Soya.",
        "product": "Favorina Dip Eggs Cocoa Crème; Favorina Dip Eggs Milk Crème",
        "lots": None,
        "company": "Lidl",
        "distribution": "Northern Ireland",
        "remedy": None,
        "jurisdiction": "GB",
        "authority": "Food Standards Agency",
        "published": "2018-02-23",
        "published_precision": "day",
        "status": "unknown", "kind": "food", "counterfeit": 0, "gtins": None,   # the alert's status is "Published"
        "source": "gb_fsa_food_alerts",
        "id": "gb_fsa_food_alerts:FSA-AA-15-2018",
    }


def test_whole_recorded_file():
    path = shared_file("raw/uk-fsa-food-alerts/food-alerts-AA-2018-2020-items.json")
    items, rejects = parse_file(GbFsaFoodAlertsSpider, path)
    assert (len(items), rejects) == (35, [])
    # Three alerts name no reporting business (two lack it, one has an empty commonName).
    no_company = sorted(i["source_id"] for i in items if not i["company"])
    assert no_company == ["FSA-AA-65-2019", "FSA-AA-71-2018", "FSA-AA-97-2018"]
