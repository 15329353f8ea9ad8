import re

from scrapers.bases import CsvSpider, clean
from vn.ids import extract_gtins

SEARCH_PAGE = "https://ec.europa.eu/safety-gate-alerts/screen/search"

# Risk level by alert-number prefix, where the prefix says it. A12/A11 are notifications under
# Art. 12 (serious risk) and Art. 11 (risk other than serious) of the General Product Safety
# Directive; SR is the serious-risk series numbered since late 2024; INFO are notifications for
# information. Other prefixes (EM, OR…) are left empty and flagged rather than guessed.
# product_category -> the kind that chooses the advice shown.
KINDS = {"Motor vehicles": "vehicle", "Cosmetics": "cosmetic", "Toys": "children",
         "Childcare articles and childrens equipment": "children", "Electrical appliances and equipment": "device",
         "Laser pointers": "device", "Machinery": "device", "Lighting chains": "device", "Gadgets": "device",
         "Hand tools": "device"}
RISK_BY_PREFIX = {"A12": "Serious risk", "SR": "Serious risk", "A11": "Risk other than serious",
                  "INFO": "For information"}


class EuSafetyGateSpider(CsvSpider):
    """Safety Gate alerts, in the shape a third party exported them to CSV (see SOURCES.md B7).

    Live: the official search screen offers an XML export (``<notifications>`` with caseNumber,
    product, brand, type_numberOfModel, barcode, riskType, measures…), and an OpenDataSoft mirror
    serves JSON (``public.opendatasoft.com/api/records/1.0/search?dataset=healthref-europe-rapex-en``,
    ``records[].fields{alert_number, alert_date, product_name, risk_type…}``). Neither is this CSV:
    until a parser for one of them exists, a live run fails cleanly (missing columns) and keeps
    the rows; feed files of this shape with ``make ingest SOURCE=eu_safety_gate FILE=…``.
    """
    name = "eu_safety_gate"
    table = "recalls"
    title = "EU Safety Gate (RAPEX) alerts on dangerous non-food products"
    publisher = "European Commission (DG JUST), Safety Gate"
    jurisdiction = "EU"
    licence = "Commission reuse policy (Decision 2011/833/EU)"
    licence_url = "https://eur-lex.europa.eu/eli/dec/2011/833/oj"
    live_url = SEARCH_PAGE
    file_only = True   # the live export is XML; this spider reads the CSV seed: files only until then
    sample = "eu_safety_gate.csv"
    empty_values = {"None"}   # the export writes the literal `None` for an empty cell
    fields = {
        "alert_number": "source_id",
        "product_name": "product",
        "brand": "brand",
        "product_category": "category",
        "batch_number": "lots",
        "country_of_origin": "origin_country",
        "found_and_measures_taken_in": "distribution",
        "alert_submitted_by": "authority",
        "case_url": "url",
    }

    def record(self, row):
        # The one place `empty_values` apply: fields and post_process both see a blank; raw keeps the row.
        blanked = {key: "" if isinstance(value, str) and value.strip() in self.empty_values else value
                   for key, value in row.items()}
        return super().record(blanked)

    def post_process(self, record, row):
        text = {key: clean(value) for key, value in row.items()}
        # product_description holds the product's own name (a car model, a perfume line…).
        record["model"] = "; ".join(dict.fromkeys(filter(None, [
            text.get("product_description"), text.get("model_type_number")]))) or None
        brand_model = " ".join(filter(None, [record["brand"], record["model"]]))
        record["title"] = " — ".join(filter(None, [record["product"], brand_model])) or None
        barcode = text.get("barcode")
        self.set_gtins(record, barcode, labelled=False)
        found = extract_gtins(barcode)
        if barcode and any(code not in found for code in re.split(r"[\s,;]+", barcode) if code):
            self.flag(record, "gtins", barcode, "not a valid GTIN (check digit or length)")
        # The export's `counterfeit` column; the brand on a fake is the genuine owner's, not the party responsible.
        record["counterfeit"] = int((text.get("counterfeit") or "").lower() in ("yes", "true", "1", "counterfeit"))
        record["status"] = "unknown"
        record["kind"] = "counterfeit" if record["counterfeit"] else KINDS.get(record["category"], "other")
        if record["counterfeit"]:
            record["name_on_product"], record["brand"] = record["brand"], None
        record["hazard"] = ": ".join(filter(None, [text.get("risk_type"), text.get("risk_description")])) or None
        record["remedy"] = "; ".join(f"{kind}: {text[key]}" for kind, key in (
            ("Compulsory", "compulsory_measures"), ("Voluntary", "voluntary_measures")) if text.get(key)) or None
        prefix = (record["source_id"] or "").split("/")[0]
        record["risk_class"] = text.get("type_of_alert") or RISK_BY_PREFIX.get(prefix)
        if not record["risk_class"]:
            self.flag(record, "risk_class", prefix, "alert-number prefix of unknown meaning")
        record["authority"] = record["authority"] or "Safety Gate"
        # Alert pages are addressed by an internal id (…/webReport/alertDetail/10118487), not by the
        # alert number: without case_url the search page is the best link we can give.
        record["url"] = record["url"] or SEARCH_PAGE
        notes = [f"{label}: {'; '.join(filter(None, map(str.strip, text[key].splitlines())))}" for label, key in (
            ("Production dates", "production_dates"), ("Company recall code", "company_recall_code"),
            ("Company recall page", "company_recall_page"), ("Counterfeit", "counterfeit")) if text.get(key)]
        # published_on is empty in all 280 seed rows; the site prints dd/mm/yyyy, the API ISO dates.
        self.set_date(record, "published", text.get("published_on"))
        year = re.search(r"/(\d{2})$", record["source_id"] or "")
        if not record["published"] and year:
            self.set_date(record, "published", f"20{year[1]}")
            notes.append("Published: year of the alert number (the export gives no date)")
        record["notes"] = "\n".join(notes) or None
        return record
