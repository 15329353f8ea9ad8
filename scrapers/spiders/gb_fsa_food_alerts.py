"""UK Food Standards Agency food alerts: allergy alerts (AA), product recall information notices
(PRIN) and food alerts for action (FAFA), from the FSA's open-data API.

Quirks (SOURCES.md B5): ``country[].label`` is a *list* (the same name repeated); a
``problem`` can hold a risk statement without allergens, or allergens with an empty statement;
``reportingBusiness`` may be missing or have an empty ``commonName``; early alerts link to
``beta.food.gov.uk`` (kept as published). The list view omits ``consumerAdvice`` and
``actionTaken`` (``_view=full`` or ``…/food-alerts/id/{notation}`` has them): they fill
``remedy`` when present. In the FSA's API model ``productDetails[].batchDescription`` is a list of
``{batchCode, lotNumber, bestBeforeDescription, bestBeforeDate, useByDescription}`` and
``riskStatement`` may be a list.
"""
import re

from scrapers.bases import JsonSpider, clean
from vn import fold

# The alert type is the last segment of a `type` URI (…/food-alerts/def/AA); "Alert" is the common parent.
TYPES = {
    "AA": "Allergy alert",
    "PRIN": "Product recall information notice",
    "FAFA": "Food alert for action",
}
BATCH_PARTS = (("batchCode", "batch code"), ("lotNumber", "lot"), ("bestBeforeDescription", "best before"),
               ("useByDescription", "use by"))


def squash(value):
    """Cleaned text with its whitespace runs (newlines included) collapsed to one space."""
    value = clean(value)
    if value is None:
        return None
    return fold.squash(str(value)) or None


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def labels(values, key="label"):
    """Labels of linked resources, in order, once each (a label may itself be a list)."""
    found = []
    for value in as_list(values):
        for label in as_list(value.get(key) if isinstance(value, dict) else value):
            label = squash(label)
            if label and label not in found:
                found.append(label)
    return found


def statement(text):
    """'Nuts\\nThis product contains…' -> 'Nuts: This product contains…' (a heading line, then prose)."""
    lines = [fold.squash(line) for line in str(text).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and not re.search(r"[.:;!?]$", lines[0]):
        lines[0] = lines[0].rstrip(",") + ":"
    return " ".join(lines) or None


class GbFsaFoodAlertsSpider(JsonSpider):
    name = "gb_fsa_food_alerts"
    table = "recalls"
    title = "Food alerts: allergy alerts, product recalls and food alerts for action"
    publisher = "Food Standards Agency"
    jurisdiction = "GB"
    licence = "Open Government Licence v3.0"
    licence_url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    live_url = "https://data.food.gov.uk/food-alerts/id?_limit=100&_sort=-created"
    sample = "gb_fsa_food_alerts.json"
    cadence_days = 14  # the FSA issues alerts most weeks
    complete_listing = False  # the feed shows the latest records only
    records_path = ("items",)
    fields = {"notation": "source_id", "title": "title"}

    def post_process(self, record, row):
        record["url"] = clean(row.get("alertURL")) or clean(row.get("@id"))
        record["title"] = squash(record["title"])

        codes = [str(t.get("@id") if isinstance(t, dict) else t).rstrip("/").rsplit("/", 1)[-1]
                 for t in as_list(row.get("type"))]
        code = next((c for c in codes if c in TYPES), None)
        record["category"] = TYPES.get(code)
        record["risk_class"] = code

        problems = [p for p in as_list(row.get("problem")) if isinstance(p, dict)]
        statements = [statement(s) for p in problems for s in as_list(p.get("riskStatement")) if clean(s)]
        allergens = labels([a for p in problems for a in as_list(p.get("allergen"))])
        hazard = " ".join(filter(None, statements))
        if allergens:
            hazard += ("" if not hazard or hazard.endswith((".", "!", "?")) else ".")
            hazard = f"{hazard} Allergens: {', '.join(allergens)}.".strip()
        record["hazard"] = hazard or None

        products, lots = [], []
        details = [d for d in as_list(row.get("productDetails")) if isinstance(d, dict)]
        for detail in details:
            name = squash(re.sub(r"^\s*Name:\s*", "", str(detail.get("productName") or "")))
            pack = squash(detail.get("packSizeDescription"))
            products.append(f"{name} ({pack})" if name and pack else name or pack)
            for batch in as_list(detail.get("batchDescription")):
                if not isinstance(batch, dict):
                    batch = {"batchCode": batch}
                if not squash(batch.get("bestBeforeDescription")) and squash(batch.get("bestBeforeDate")):
                    batch = {**batch, "bestBeforeDescription": batch["bestBeforeDate"]}
                described = ", ".join(f"{label} {squash(batch[key])}" for key, label in BATCH_PARTS
                                      if squash(batch.get(key)))
                if described:
                    lots.append(f"{name}: {described}" if name and len(details) > 1 else described)
        record["product"] = "; ".join(filter(None, products)) or None
        record["lots"] = "; ".join(lots) or None

        business = row.get("reportingBusiness")
        record["company"] = squash(business.get("commonName")) if isinstance(business, dict) else None
        record["distribution"] = ", ".join(labels(row.get("country"))) or None
        record["remedy"] = " ".join(filter(None, (squash(row.get("actionTaken")),
                                                  squash(row.get("consumerAdvice"))))) or None
        record["authority"] = "Food Standards Agency"
        # `status` of an alert is its publication state ("Published"), not the recall's progress.
        record["status"] = "unknown"
        record["kind"] = "food"
        record["counterfeit"] = 0
        self.set_gtins(record, record["product"], record["lots"])
        self.set_date(record, "published", row.get("created"))
        return record
