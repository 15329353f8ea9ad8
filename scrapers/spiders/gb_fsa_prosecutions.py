import re

from scrapers.bases import CsvSpider, clean

# Evidence of precision in the geocoder's formatted_address (the coordinates are its answer for it).
FULL_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b")
HOUSE_NUMBER = re.compile(r"^[0-9]+[A-Za-z]?\b")
STREET = re.compile(r"\b(?:Street|Road|Lane|Avenue|Way|Drive|Close|Place|Square|Terrace|Hill|Parade|Row|Walk|Crescent"
                    r"|Gardens|Grove|Green|Broadway|Park|Court|Mews)\b|gate$", re.I)


def geo_precision(formatted_address):
    """`point` for a full postcode or a house number, `street` for a street name, else `town`: a
    geocoder that found only "Swindon, Swindon, Swindon, UK" placed the pin at the town's centre."""
    text = clean(formatted_address) or ""
    first = text.split(",")[0].strip()
    if FULL_POSTCODE.search(text) or HOUSE_NUMBER.match(first):
        return "point"
    if STREET.search(first):
        return "street"
    return "town"


class GbFsaProsecutionsSpider(CsvSpider):
    name = "gb_fsa_prosecutions"
    table = "violations"
    title = "Food hygiene and standards prosecutions by local authorities (2014–15), geocoded"
    publisher = "Food Standards Agency, from local authority returns"
    jurisdiction = "GB"
    licence = "Open Government Licence v3.0"
    licence_url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    live_url = "https://raw.githubusercontent.com/RobinL/fsa_fhrs_map/master/data/prosecutions/prosecutions.csv"
    sample = "gb_fsa_prosecutions.csv"
    historical = True  # the 2014–15 prosecutions file: a fixed dataset, not updated
    fields = {
        "ID": "source_id",
        "PREMISES": "premises",
        "address": "address",   # the source's own address, not the geocoder's formatted_address
        "AUTHORITY": "authority",
    }

    def post_process(self, record, row):
        # The party convicted is the defendant (a company or a person, often not the trading name); the
        # premises is where it happened. Several defendants sit in one cell, separated by runs of spaces.
        defendants = [part.strip() for part in re.split(r"\s{2,}", row.get("DEFENDANT") or "") if part.strip()]
        record["defendant"] = "; ".join(defendants) or None
        record["establishment"] = record["defendant"] or record["premises"]
        if not record["defendant"]:
            self.flag(record, "defendant", None, "the source names no defendant: the premises is shown instead")
        record["url"] = "https://www.food.gov.uk/enforcement/prosecutions"
        # Several defendants or charges sit in one cell, separated by runs of spaces.
        offences = [part.strip() for part in (row.get("OFFENCES") or "").split("  ") if part.strip()]
        record["violation"] = "; ".join(offences) or None
        fine, costs, court = clean(row.get("FINE")), clean(row.get("COSTS")), clean(row.get("COURT"))
        record["fine_text"] = fine and (f"£{fine}" if fine.replace(".", "").isdigit() else fine)
        record["sanction"] = "; ".join(filter(None, [
            record["fine_text"] and f"fine {record['fine_text']}", costs and f"costs £{costs}",
            court and f"at {court}"])) or None
        for column, key in (("latitude", "lat"), ("longitude", "lng")):
            value = clean(row.get(key))
            record[column] = float(value) if value else None
        if record["latitude"] is not None:
            record["geo_precision"] = geo_precision(row.get("formatted_address"))
        self.set_date(record, "decided", row.get("DATE"))
        return record
