import json

from conftest import SAMPLES, parse_file, shared_file
from scrapers.spiders.fr_rappelconso import FrRappelconsoSpider


def test_sample_items():
    items, rejects = parse_file(FrRappelconsoSpider, SAMPLES / "fr_rappelconso.json")
    assert (len(items), rejects) == (10, [])
    assert all(item["url"] and item["title"] and item["published"] for item in items)
    item = dict(next(i for i in items if i["source_id"] == "2022-03-0006"))
    assert json.loads(item.pop("raw"))["record"]["fields"]["distributeurs"] == "GMS\r\nGROSSISTE"
    assert item == {
        "source_id": "2022-03-0006",
        "url": "https://data.economie.gouv.fr/api/v2/catalog/datasets/rappelconso0/records/"
               "39329709aa0781e30937e68efc1533873959f50e",
        "brand": "Le Pic",
        "product": "BUCHE BLANCHE LS",
        "title": "Le Pic – BUCHE BLANCHE LS",
        "category": "Alimentation / Lait et produits laitiers",
        "gtins": '["3548783000017"]',  # 18012224 is a lot number that passes the GTIN-8 check: dropped
        "lots": "3548783000017 18012224 Date de durabilité minimale 02/03/2022",
        "hazard": "Suspicion de présence Listéria Monocytogenes — Risques : Listeria monocytogenes (agent responsable de "
                  "la listériose)",
        "remedy": "Ne plus consommer — Compensation : Remboursement",
        "distribution": "Régions: Nouvelle-Aquitaine Occitanie — Distributeurs : GMS; GROSSISTE",
        "notes": "Volontaire (sans arrêté préfectoral)",
        "jurisdiction": "FR",
        "authority": "RappelConso (DGCCRF / DGAL)",
        "published": "2022-03",
        "published_precision": "month",
        "status": "unknown", "kind": "food", "counterfeit": 0,   # RappelConso has no status field
        "ended": None, "ended_precision": None,
        "source": "fr_rappelconso",
        "id": "fr_rappelconso:2022-03-0006",
    }
    bibs = next(i for i in items if i["source_id"] == "2022-03-0002")
    assert bibs["notes"] == "Volontaire (sans arrêté préfectoral) — Fin de la procédure de rappel : 2022-03-31"
    assert len(json.loads(bibs["gtins"])) == 5
    assert (bibs["ended"], bibs["ended_precision"], bibs["kind"]) == ("2022-03-31", "day", "children")


def test_whole_recorded_file():
    path = shared_file("raw/fr-rappelconso/rappelconso0-records-api-v2-2022-03.json")
    items, rejects = parse_file(FrRappelconsoSpider, path)
    assert (len(items), rejects) == (10, [])
    # The toy's GTIN sits in the model field, not in identification_des_produits.
    assert next(i for i in items if i["source_id"] == "2022-03-0009")["gtins"] == '["3555801358876"]'
