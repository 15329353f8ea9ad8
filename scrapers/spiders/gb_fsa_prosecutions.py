from scrapers.bases import CsvSpider, clean


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
    fields = {
        "ID": "source_id",
        "PREMISES": "establishment",
        "formatted_address": "address",
        "AUTHORITY": "authority",
    }

    def post_process(self, record, row):
        record["jurisdiction"] = "GB"
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
        self.set_date(record, "decided", row.get("DATE"))
        return record
