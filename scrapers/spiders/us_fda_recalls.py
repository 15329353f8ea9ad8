import json

import scrapy

from scrapers.bases import JsonSpider, clean
from vn.fold import squash

# PHASETXT, FDA's own words: Ongoing, Completed (the firm finished), Terminated (FDA closed the recall).
PHASES = {"ongoing": "ongoing", "completed": "completed", "terminated": "terminated"}
# PRODUCTTYPESHORT -> the kind that chooses the advice shown.
KINDS = {"Food": "food", "Drugs": "drug", "Biologics": "drug", "Devices": "device"}


class UsFdaRecallsSpider(JsonSpider):
    name = "us_fda_recalls"
    table = "recalls"
    title = "FDA recalls of food, drugs, devices, biologics and veterinary products (product level)"
    publisher = "U.S. Food and Drug Administration (Recall Enterprise System)"
    jurisdiction = "US"
    licence = "Public domain (U.S. government work)"
    licence_url = "https://www.fda.gov/about-fda/about-website/website-policies"
    live_url = "https://www.accessdata.fda.gov/rest/iresapi/recalls/"
    sample = "us_fda_recalls.json"
    cadence_days = 7   # the weekly Enforcement Report
    complete_listing = False  # the feed shows the latest records only
    records_path = ("RESULT",)   # STATUSCODE is 400 even on success: the records are what counts
    fields = {
        "PRODUCTID": "source_id",
        "FIRMLEGALNAM": "company",
        "PRODUCTTYPESHORT": "category",
        "PRODUCTSHORTREASONTXT": "hazard",
        "DISTRIBUTIONAREASUMMARYTXT": "distribution",
        "CENTERCLASSIFICATIONTYPETXT": "risk_class",
    }
    columns = ("recalleventid,productid,producttypeshort,recallnum,phasetxt,centercd,centerclassificationtypetxt,"
               "firmlegalnam,firmfeinum,recallinitiationdt,centerclassificationdt,terminationdt,enforcementreportdt,"
               "determinationdt,initialfirmnotificationtxt,distributionareasummarytxt,voluntarytypetxt,"
               "productdescriptiontxt,productshortreasontxt,productdistributedquantity,eventlmd")

    def live_requests(self):
        # Needs the free Authorization-User / Authorization-Key headers from FDA (env FDA_IRES_USER/KEY).
        import os
        payload = {"displaycolumns": self.columns, "filter": "[{'eventlmdfrom':'01/01/2024'}]",
                   "start": 1, "rows": 5000, "sort": "eventlmd", "sortorder": "desc"}
        yield scrapy.FormRequest(self.url, formdata={"payLoad": json.dumps(payload)}, callback=self.parse, errback=self.download_failed,
                                 headers={"Authorization-User": os.environ.get("FDA_IRES_USER", ""),
                                          "Authorization-Key": os.environ.get("FDA_IRES_KEY", "")})

    def post_process(self, record, row):
        # The whole description: later products, models and UPCs on a notice must be readable and searchable.
        description = clean(row.get("PRODUCTDESCRIPTIONTXT")) or ""
        record["product"] = squash(description) or None
        record["title"] = f"{clean(row.get('RECALLNUM')) or 'Recall'}: {record['product'] or record['company']}"
        record["risk_class"] = f"Class {record['risk_class']}" if record["risk_class"] in ("1", "2", "3") else record["risk_class"]
        record["authority"] = f"FDA {clean(row.get('CENTERCD')) or ''}".strip()
        record["url"] = ("https://www.accessdata.fda.gov/scripts/ires/index.cfm?Product="
                         f"{record['source_id']}" if record["source_id"] else None)
        self.set_gtins(record, description)   # "UPC: 042743190266", "UPC 8 75343 00001 3"
        phase = clean(row.get("PHASETXT"))
        record["status"] = PHASES.get((phase or "").lower(), "unknown")
        if phase and phase.lower() not in PHASES:
            self.flag(record, "status", phase, "recall phase of unknown meaning")
        record["kind"] = KINDS.get(record["category"], "other")
        record["counterfeit"] = 0
        # FDA publishes a recall in its weekly Enforcement Report; the firm started it earlier.
        self.set_date(record, "published", row.get("ENFORCEMENTREPORTDT"), order="mdy")
        self.set_date(record, "initiated", row.get("RECALLINITIATIONDT"), order="mdy")
        if record["status"] == "terminated":
            self.set_date(record, "ended", row.get("TERMINATIONDT"), order="mdy")
        return record
