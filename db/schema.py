"""The one schema: read by validation, table creation, full-text search, indexes and the docs test.

Each table is a plain dict:
- ``columns``: name -> (type, description). Types are Python types (str, int, float); the
  description is what ``metadata.yml`` says about the column (cog writes it there: db/docs.py).
- ``pk``: primary key column(s).
- ``required``: columns a record cannot be stored without (a missing one sends it to ``rejects``).
- ``fts``: columns folded into the ``<table>_fts`` full-text index (see ``vn/fold.py``).
- ``indexes``: column lists indexed at finalize (every facet and filter column).
- ``sort``: the column pages are sorted by (newest first); every other indexed column is indexed
  together with it, so a filtered page reads its first rows in order from the index.
- ``record``: True for tables filled by spiders; they share the provenance columns below.
- ``generated``: name -> (SQL expression, description): columns SQLite computes (e.g. the year for
  facets); never written by the pipelines.
"""

# Columns every record table carries: where it came from and when we saw it.
PROVENANCE = {
    "id": (str, "Stable identifier: source and the source's own identifier, `source:source_id`."),
    "source": (str, "The spider (source) that published this row; see the `sources` table."),
    "source_id": (str, "The identifier the source itself gives this record."),
    "url": (str, "The page this record was read from: the authority's own page, or a press report of its decision (`sources.url_kind` says which)."),
    "first_seen": (str, "When Minh Bạch first saw this record (ISO date-time, UTC)."),
    "last_seen": (str, "When Minh Bạch last saw this record in its source (ISO date-time, UTC)."),
    "withdrawn": (str, "Date the source stopped listing this record; empty while it is listed."),
    "quality_flags": (str, "JSON list of values kept as published because they could not be parsed, with the reason."),
    "notes": (str, "Caveats from the source or its curator (e.g. a warning rather than a recall, a date that is the article's)."),
    "raw": (str, "The record as received from the source (JSON), so it can be parsed again."),
}

# The source's spelling of an authority stays in `authority`; these come from the reviewed table
# db/authorities.csv at finalize (db/authorities.py): NULL where the spelling is not reviewed.
AUTHORITY_CANONICAL = {
    "authority_canonical": (str, "The authority's canonical name, from Minh Bạch's reviewed table of spellings (db/authorities.csv); empty when the spelling is not in it."),
    "authority_code": (str, "Minh Bạch's code for that authority (jurisdiction + name, not an official identifier): one code per body, whatever the spelling."),
}

PLACE = {
    "address": (str, "Address as published by the source."),
    "province_code": (str, "2025 province code (34 provinces in force since 1 July 2025)."),
    "province": (str, "2025 province name."),
    "ward_code": (str, "2025 ward/commune code, where the address names one unambiguously."),
    "ward": (str, "2025 ward/commune name."),
    "latitude": (float, "Latitude (WGS84): the source's point, else the ward's or province's centroid."),
    "longitude": (float, "Longitude (WGS84)."),
    "geo_precision": (str, "How precise the coordinates are: `point`, `street`, `town`, `ward`, `district` or `province` (from the evidence: a full postcode or house number is a point, a street name a street, a town name only a town, a pre-2025 district alone the centre of the 2025 wards it became)."),
}

ID_DESCRIPTION = ("Establishment key, by evidence only: `tax:<tax code>`; the source's premises id `fhrs:<FHRS id>`; "
                  "`fei:<FDA FEI>` (recalls); the same folded name at the same street address "
                  "`addr:<folded name>|<province code or country>|<folded address>`; otherwise one record, `rec:<record id>`. "
                  "Reviewed decisions (db/resolver.csv, `establishment_judgements`) may merge keys.")

TABLES = {
    "recalls": dict(
        record=True,
        columns={
            **PROVENANCE,
            "title": (str, "Title of the recall or alert as published."),
            "product": (str, "Product name."),
            "brand": (str, "Brand."),
            "model": (str, "Model, type or reference numbers."),
            "category": (str, "Product category as the source classifies it."),
            "gtins": (str, "JSON array of barcodes (GTIN) named by the recall, check digit validated."),
            "lots": (str, "Lot or batch numbers as published."),
            "registration_no": (str, "Registration or notification number (e.g. Vietnamese drug SĐK `VD-24891-16`)."),
            "hazard": (str, "The hazard or reason for the recall."),
            "hazard_code": (str, "Minh Bạch's harmonised hazard code (e.g. `choking`, `listeria`, `allergen`), from the reviewed mapping db/hazards.csv of each source's own hazard or category field; empty when the source's wording is not in it."),
            "remedy": (str, "What consumers should do, or the remedy offered."),
            "risk_class": (str, "Risk class or level as the source grades it."),
            "company": (str, "Recalling firm, importer or company the source names as responsible for the product on the market; empty when the source names none."),
            "name_on_product": (str, "On a counterfeit: the maker or owner whose name the fake bears, as published. Not the responsible party, not the seller."),
            "counterfeit": (int, "1 when the notice is about a counterfeit (fake) product, 0 otherwise."),
            "status": (str, "Recall status: `ongoing`, `completed`, `terminated` or `unknown`, from the source's own status field (FDA `PHASETXT`); `unknown` where the source gives none."),
            "kind": (str, "Kind of notice, which chooses the advice shown: `food`, `drug`, `cosmetic`, `vehicle`, `device`, `children`, `counterfeit`, `withdrawal` (a registration or notification withdrawn, no safety finding) or `other`; from the source's own category."),
            "manufacturer": (str, "Manufacturer and, where given, its address or country."),
            "manufactured": (str, "Production date or period start as published, parsed to ISO where possible."),
            "manufactured_precision": (str, "Precision of `manufactured`."),
            "expires": (str, "Expiry date (hạn dùng), parsed to ISO where possible."),
            "expires_precision": (str, "Precision of `expires`."),
            "establishment_id": (str, "The establishment (business) this recall names, see `establishments`."),
            "origin_country": (str, "Country of origin of the product, as published."),
            "distribution": (str, "Where the product was distributed or sold."),
            "jurisdiction": (str, "Country or area whose authority published it (ISO code: VN, US, GB, FR, EU)."),
            "authority": (str, "Authority (or company) that issued the notice."),
            **AUTHORITY_CANONICAL,
            "published": (str, "Date the authority published the recall or notice (ISO; FDA: the Enforcement Report date)."),
            "published_precision": (str, "Precision of `published`: `day`, `month` or `year`."),
            "initiated": (str, "Date the firm started the recall, where the source gives it apart from publication (FDA `RECALLINITIATIONDT`)."),
            "initiated_precision": (str, "Precision of `initiated`."),
            "ended": (str, "Date the recall ended (FDA `TERMINATIONDT`), or the end of the recall procedure the source announces (RappelConso)."),
            "ended_precision": (str, "Precision of `ended`."),
        },
        required={"id", "source", "source_id", "url", "title"},
        sort="published",
        generated={"year": ("substr(published, 1, 4)", "Year the recall was published (for facets).")},
        fts=["title", "product", "brand", "model", "hazard", "company", "lots", "registration_no", "authority",
             "name_on_product"],
        indexes=[["published"], ["year"], ["source"], ["jurisdiction"], ["category"], ["risk_class"], ["status"], ["kind"],
                 ["establishment_id"], ["withdrawn"], ["last_seen"]],
    ),
    "violations": dict(
        record=True,
        columns={
            **PROVENANCE,
            "establishment": (str, "The penalised party as published: the establishment, or in a court case the defendant(s)."),
            "defendant": (str, "In a court case: the party or parties convicted, as published (several separated by `; `)."),
            "premises": (str, "In a court case: the premises where the offence happened, as published (not the penalised party)."),
            "establishment_id": (str, "The establishment (business), see `establishments`."),
            "tax_code": (str, "Vietnamese tax code (mã số thuế), 10 digits or `XXXXXXXXXX-XXX`."),
            **PLACE,
            "violation": (str, "What the establishment did, as the decision describes it."),
            "legal_basis": (str, "Law or decree the decision applies."),
            "sanction": (str, "Sanctions imposed (fine, suspension, destruction…)."),
            "fine_vnd": (int, "Fine in Vietnamese đồng (integer)."),
            "fine_note": (str, "Caveat on the fine, e.g. `lower bound` for `hơn 188 triệu`."),
            "fine_qualifier": (str, "The source's own hedge word before the amount (`gần`, `hơn`, `trên`, `khoảng`, `chừng`, `hàng`…): `fine_vnd` is then not exact."),
            "fine_text": (str, "The fine or penalty as published (any currency)."),
            "decision_no": (str, "Number of the penalty decision."),
            "authority": (str, "Authority that decided the penalty."),
            **AUTHORITY_CANONICAL,
            "jurisdiction": (str, "Country of the authority (ISO code)."),
            "decided": (str, "Date of the decision (ISO)."),
            "decided_precision": (str, "Precision of `decided`: `day`, `month` or `year`."),
        },
        required={"id", "source", "source_id", "url", "establishment"},
        sort="decided",
        generated={"year": ("substr(decided, 1, 4)", "Year of the decision (for facets).")},
        fts=["establishment", "address", "violation", "sanction", "authority", "province", "ward", "defendant", "premises"],
        indexes=[["decided"], ["year"], ["source"], ["province"], ["province_code"], ["ward_code"], ["jurisdiction"],
                 ["authority"], ["authority_canonical"], ["authority_code"],
                 ["geo_precision"], ["establishment_id"], ["tax_code"], ["fine_vnd"], ["withdrawn"], ["last_seen"]],
    ),
    "listings": dict(
        record=True,
        columns={
            **PROVENANCE,
            "scheme": (str, "Certification or rating scheme (OCOP, HVNCLC, food hygiene rating…)."),
            "rating": (str, "Rating or class awarded (e.g. `4 sao`, `5`)."),
            "kind": (str, "What the listing is: `certificate`, `rating`, `registration` or `award`."),
            "status": (str, "Its state as the source gives it: `rated`, `not rated`, `pending`, `exempt`, `awarded`, `valid`, `expired`."),
            "rating_text": (str, "The rating or state in the scheme's own words, Vietnamese · English (FHRS `0` = urgent improvement necessary; OCOP 0 stars = not rated)."),
            "product": (str, "Certified product, where the scheme certifies products."),
            "holder": (str, "Business or producer holding the certificate or rating."),
            "establishment_id": (str, "The establishment (business), see `establishments`."),
            "tax_code": (str, "Vietnamese tax code of the holder, where published."),
            "certificate_no": (str, "Certificate or decision number."),
            **PLACE,
            "authority": (str, "Authority or body that certified or rated."),
            **AUTHORITY_CANONICAL,
            "jurisdiction": (str, "Country of the authority (ISO code)."),
            "valid_from": (str, "Date the certificate or rating was granted (ISO)."),
            "valid_from_precision": (str, "Precision of `valid_from`: `day`, `month` or `year`."),
            "valid_until": (str, "Date the certificate expires, where published (ISO)."),
            "valid_until_precision": (str, "Precision of `valid_until`."),
        },
        required={"id", "source", "source_id", "url", "scheme"},
        sort="valid_from",
        generated={"year": ("substr(valid_from, 1, 4)", "Year the certificate or rating was granted (for facets).")},
        fts=["product", "holder", "address", "scheme", "rating", "authority", "province", "ward"],
        indexes=[["valid_from"], ["year"], ["source"], ["scheme"], ["kind"], ["status"], ["rating"], ["province"], ["province_code"],
                 ["ward_code"],
                 ["jurisdiction"], ["geo_precision"], ["establishment_id"], ["withdrawn"], ["last_seen"]],
    ),
    "establishments": dict(
        columns={
            "id": (str, ID_DESCRIPTION),
            "name": (str, "Name as most recently published."),
            "name_key": (str, "The name folded for matching (no marks, case, or leading/trailing legal form): same name in one place is only `establishment_links`, never a merge."),
            "tax_code": (str, "Vietnamese tax code, where any source published it."),
            **PLACE,
            "jurisdiction": (str, "Country (ISO code)."),
            "violations_count": (int, "Number of violations recorded against it."),
            "listings_count": (int, "Number of certificates or ratings it holds."),
            "recalls_count": (int, "Number of recalls naming it."),
        },
        pk="id",
        required={"id", "name"},
        fts=["name", "address", "province", "ward"],
        indexes=[["province"], ["province_code"], ["tax_code"], ["name_key"], ["violations_count"], ["listings_count"],
                 ["jurisdiction"]],
    ),
    "establishment_links": dict(
        columns={
            "establishment_id": (str, "An establishment, see `establishments`."),
            "related_id": (str, "Another establishment with the same folded name in the same place, kept separate for lack of evidence that they are one business (có thể liên quan · possibly related)."),
            "reason": (str, "What they share: `same name, same ward` or `same name, same province` (Vietnam; abroad no source names a town for every row)."),
        },
        pk=("establishment_id", "related_id"),
        required={"establishment_id", "related_id", "reason"},
        fts=[], indexes=[["related_id"]],
    ),
    "establishment_judgements": dict(
        columns={
            "left_id": (str, "Establishment key judged (as the rules give it)."),
            "right_id": (str, "The other establishment key judged."),
            "judgement": (str, "`merge` (one business: shown as one establishment) or `do-not-merge` (two businesses: not linked as possibly related)."),
            "reason": (str, "The evidence the reviewer relied on."),
            "date": (str, "Date of the judgement (ISO)."),
            "reviewer": (str, "Who judged it."),
        },
        pk=("left_id", "right_id"),
        required={"left_id", "right_id", "judgement"},
        fts=[], indexes=[],
    ),
    "corrections": dict(
        columns={
            "table_name": (str, "Table of the corrected record (`recalls`, `violations`, `listings`)."),
            "record_id": (str, "The corrected record's `id`."),
            "column_name": (str, "The column corrected."),
            "source_value": (str, "The value as the source published it (kept: the record's page shows both)."),
            "corrected_value": (str, "The value after the correction (empty: none)."),
            "reason": (str, "Why it was corrected."),
            "date": (str, "Date of the correction (ISO); the record's earlier version is in `versions` as run `correction:<date>`."),
            "reviewer": (str, "Who reviewed the evidence."),
            "evidence_url": (str, "The document the correction relies on."),
        },
        pk=("table_name", "record_id", "column_name", "date"),
        required={"table_name", "record_id", "column_name", "date"},
        fts=[], indexes=[["record_id"]],
    ),
    "provinces": dict(
        columns={
            "province_code": (str, "2025 province code, 2 digits."),
            "province": (str, "Province name."),
            "province_short": (str, "Short name."),
            "latitude": (float, "Centroid latitude."),
            "longitude": (float, "Centroid longitude."),
            "old_provinces": (str, "JSON list of the pre-2025 provinces merged into it."),
        },
        pk="province_code",
        required={"province_code", "province"},
        fts=[], indexes=[],
    ),
    "wards": dict(
        columns={
            "ward_code": (str, "2025 ward code, 5 digits."),
            "ward": (str, "Ward or commune name."),
            "ward_short": (str, "Short name."),
            "ward_type": (str, "Phường, Xã or Đặc khu."),
            "province_code": (str, "2025 province code."),
            "province": (str, "Province name."),
            "latitude": (float, "Centroid latitude."),
            "longitude": (float, "Centroid longitude."),
            "area_km2": (float, "Area in km²."),
        },
        pk="ward_code",
        required={"ward_code", "ward"},
        fts=["ward", "province"], indexes=[["province_code"], ["province"]],
    ),
    "ward_aliases": dict(
        columns={
            "old_ward_code": (str, "Pre-2025 ward code."),
            "old_ward": (str, "Pre-2025 ward name."),
            "old_district": (str, "Pre-2025 district name."),
            "old_province": (str, "Pre-2025 province name."),
            "ward_code": (str, "2025 ward it became part of."),
            "ward": (str, "2025 ward name."),
            "province_code": (str, "2025 province code."),
            "province": (str, "2025 province name."),
            "divided": (int, "1 when the old ward was split between several 2025 wards."),
        },
        pk=("old_ward_code", "ward_code"),
        required={"old_ward_code", "ward_code"},
        fts=[], indexes=[["ward_code"], ["province_code"], ["province"], ["old_province"]],
    ),
    "gs1_prefixes": dict(
        columns={
            "prefix": (str, "GS1 company-prefix range start (1 to 7 digits; the longest match wins)."),
            "prefix_length": (int, "Number of digits in the prefix."),
            "usage": (str, "GS1 member organisation that issued it (where the barcode was registered, not where the product was made)."),
        },
        pk="prefix",
        required={"prefix", "usage"},
        fts=[], indexes=[],
    ),
    "sources": dict(
        columns={
            "source": (str, "Spider name."),
            "title": (str, "What the source publishes."),
            "publisher": (str, "Who publishes it."),
            "jurisdiction": (str, "Country (ISO code)."),
            "licence": (str, "Licence of the data."),
            "licence_url": (str, "Link to the licence."),
            "live_url": (str, "The live URL the nightly ingest reads."),
            "table_name": (str, "Table it fills."),
            "kind": (str, "Kind of source: json, csv, rss, xlsx…"),
            "last_good_run": (str, "When it last loaded successfully."),
            "last_checked": (str, "When Minh Bạch last read it, whatever the outcome (ISO date-time, UTC)."),
            "newest_record": (str, "Date of its newest record, by the source's own date (published, decided or granted)."),
            "historical": (int, "1 for a fixed historical dataset that is not updated any more (e.g. the 2014–15 UK prosecutions file)."),
            "cadence_days": (int, "How often a live source usually publishes something new, in days; empty when it has no cadence."),
            "overdue": (int, "1 when a live source's newest record is older than its usual cadence allows (checked at build)."),
            "url_kind": (str, "What each record's `url` is: `official` (the authority's own page), `press` (a press report of an official decision) or `portal` (the authority's portal, not the record's page)."),
            "rows": (int, "Rows from this source in its table."),
        },
        pk="source",
        required={"source"},
        fts=[], indexes=[],
    ),
    "runs": dict(
        columns={
            "run_id": (str, "Identifier of one ingest (its start time)."),
            "source": (str, "Spider name."),
            "started": (str, "When the source started."),
            "finished": (str, "When it finished."),
            "status": (str, "`ok` or `failed`."),
            "items": (int, "Items the spider yielded."),
            "rejected": (int, "Items sent to `rejects`."),
            "new": (int, "Records seen for the first time."),
            "updated": (int, "Records whose content changed (old version kept in `versions`)."),
            "unchanged": (int, "Records seen again unchanged."),
            "withdrawn": (int, "Records the source stopped listing in this run."),
            "error": (str, "Why the source failed, if it did."),
        },
        pk=("run_id", "source"),
        required={"run_id", "source", "status"},
        fts=[], indexes=[["source"], ["status"], ["finished"]],
    ),
    "rejects": dict(
        columns={
            "run_id": (str, "Ingest run."),
            "source": (str, "Spider name."),
            "n": (int, "Position of the item in the source's output."),
            "reason": (str, "Why the row was rejected."),
            "raw": (str, "The row as received (JSON)."),
        },
        pk=("run_id", "source", "n"),
        required={"run_id", "source", "n", "reason"},
        fts=[], indexes=[["source"]],
    ),
    "versions": dict(
        columns={
            "table_name": (str, "Table of the record."),
            "record_id": (str, "The record's `id`."),
            "version": (int, "1 for the first replaced version, 2 for the next…"),
            "run_id": (str, "Run that replaced this version."),
            "replaced": (str, "When this version was replaced."),
            "changed": (str, "JSON list of the columns that changed."),
            "record": (str, "The previous version of the record (JSON)."),
        },
        pk=("table_name", "record_id", "version"),
        required={"table_name", "record_id", "version"},
        fts=[], indexes=[["record_id"], ["run_id"], ["replaced"], ["table_name"]],
    ),
    "facet_counts": dict(
        columns={
            "table_name": (str, "Table counted."),
            "filter_column": (str, "Column of the equality filter these counts are under; empty for the whole table."),
            "filter_value": (str, "Value of that filter (as text); empty for the whole table."),
            "facet_column": (str, "Column counted (a facet)."),
            "value": (str, "A value of the facet column (as text)."),
            "count": (int, "Rows with that value (under the filter)."),
        },
        pk=("table_name", "filter_column", "filter_value", "facet_column", "value"),
        required={"table_name", "filter_column", "filter_value", "facet_column", "value", "count"},
        fts=[], indexes=[],
    ),
}

# Slim views for the map (datasette-cluster-map draws any `latitude`/`longitude` columns and uses a
# `popup` JSON column for the marker's popup): what it is, who, and a link to the record's page.
_ROW_LINK = "'/minhbach/{table}/' || replace(replace(id, ':', '~3A'), '/', '~2F')"
VIEWS = {
    "map_violations": f"""
        select id, establishment, violation, province_code, province, jurisdiction, source, geo_precision,
               latitude, longitude,
               json_object('title', establishment,
                           'description', coalesce(violation, '') || coalesce(' — ' || sanction, ''),
                           'link', {_ROW_LINK.format(table="violations")}) as popup
        from violations where latitude is not null and withdrawn is null""",
    "map_listings": f"""
        select id, coalesce(holder, product) as name, scheme, rating, kind, status, province_code, province, jurisdiction,
               source, geo_precision, latitude, longitude,
               json_object('title', coalesce(holder, product),
                           'description', scheme || coalesce(': ' || coalesce(rating_text, rating), '') || coalesce(' — ' || product, ''),
                           'link', {_ROW_LINK.format(table="listings")}) as popup
        from listings where latitude is not null and withdrawn is null""",
}

for _spec in TABLES.values():
    if _spec.get("sort"):
        _spec["indexes"] = [c + [_spec["sort"]] if len(c) == 1 and c[0] != _spec["sort"] else c
                            for c in _spec["indexes"]]

# Whole-table figures the public pages show (home, statistics, map, sources), computed once at
# finalize: the file never changes after it is built, and at a million rows each is a full scan
# that would run into the SQL time limit on every page view.
_GEO = """count(*) as n, sum(latitude is null or longitude is null) as missing, sum(geo_precision = 'point') as point,
          sum(geo_precision = 'ward') as ward, sum(geo_precision = 'province') as province,
          sum(geo_precision = 'street') as street, sum(geo_precision = 'town') as town,
          sum(geo_precision = 'district') as district"""
SUMMARIES = {
    "summary_counts": """
        select (select count(*) from recalls where withdrawn is null) as recalls,
               (select count(*) from violations where withdrawn is null) as violations,
               (select count(*) from listings where withdrawn is null) as listings,
               (select count(*) from establishments) as establishments,
               (select count(*) from recalls where withdrawn is not null)
               + (select count(*) from violations where withdrawn is not null)
               + (select count(*) from listings where withdrawn is not null) as withdrawn""",
    "summary_geo": f"""
        select 'violations' as t, {_GEO} from violations
        union all select 'listings', {_GEO} from listings
        union all select 'establishments', {_GEO} from establishments""",
    "summary_sources": """
        select source, count(*) as n, sum(withdrawn is not null) as gone from recalls group by source
        union all select source, count(*), sum(withdrawn is not null) from violations group by source
        union all select source, count(*), sum(withdrawn is not null) from listings group by source""",
    # /ma-vach says what a "no recall names this barcode" covers: which sources print barcodes at all.
    "summary_recalls_barcodes": """
        select r.source, coalesce(s.publisher, r.source) as publisher, count(*) as n, sum(r.gtins is not null) as with_barcodes
        from recalls r left join sources s on s.source = r.source where r.withdrawn is null group by r.source""",
    "summary_recalls_months": """
        select substr(published, 1, 7) as month, count(*) as n from recalls
        where withdrawn is null and length(published) >= 7 group by 1""",
    "summary_recalls_years": """
        select coalesce(substr(published, 1, 4), '') as year, count(*) as n from recalls
        where withdrawn is null group by 1""",
    "summary_violations_provinces": """
        select province_code, province, jurisdiction, count(*) as n, sum(fine_vnd) as fines from violations
        where withdrawn is null group by province_code, case when province_code is null then jurisdiction end""",
    "summary_listings_schemes": """
        select scheme, count(*) as n from listings where withdrawn is null group by scheme""",
}

RECORD_TABLES = [name for name, t in TABLES.items() if t.get("record")]
# Columns holding a JSON list as text: the JSON API answers them as arrays (plugins/json_shapes.py),
# the data package types them `array`.
JSON_LISTS = {**{table: ["quality_flags"] for table in RECORD_TABLES},
              "recalls": ["gtins", "quality_flags"], "provinces": ["old_provinces"], "versions": ["changed"]}
# Columns a source does not set itself: the store keeps them (first seen, last seen, withdrawn).
BOOKKEEPING = {"first_seen", "last_seen", "withdrawn"}
# Columns finalize fills from Minh Bạch's own reviewed tables (db/authorities.csv), not from the
# source: an ingest never compares them, so a re-run of the same input changes nothing.
FILLED_AT_BUILD = {"authority_canonical", "authority_code", "hazard_code"}


def pk(table):
    return TABLES[table].get("pk", "id")


def column_types(table):
    return {name: typ for name, (typ, _desc) in TABLES[table]["columns"].items()}


def validate(table, item):
    """Return the reasons an item cannot be stored in ``table`` (empty list when it can)."""
    spec = TABLES[table]
    types = column_types(table)
    reasons = []
    unknown = sorted(set(item) - set(types))
    if unknown:
        reasons.append(f"unknown columns: {', '.join(unknown)}")
    for name in sorted(spec["required"]):
        value = item.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            reasons.append(f"missing {name}")
    for name, value in item.items():
        typ = types.get(name)
        if value is None or typ is None:
            continue
        if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            continue
        if not isinstance(value, typ) or isinstance(value, bool):
            reasons.append(f"{name} should be {typ.__name__}, got {type(value).__name__}")
    for lat_or_lon, limit in (("latitude", 90), ("longitude", 180)):
        value = item.get(lat_or_lon)
        if isinstance(value, (int, float)) and not -limit <= value <= limit:
            reasons.append(f"{lat_or_lon} out of range: {value}")
    if isinstance(item.get("fine_vnd"), int) and item["fine_vnd"] < 0:
        reasons.append(f"negative fine: {item['fine_vnd']}")
    url = item.get("url")
    if isinstance(url, str) and url and not url.startswith(("http://", "https://")):
        reasons.append(f"url is not http(s): {url[:80]}")
    return reasons
