"""The SQL of the site's own pages, by name: templates call ``page_sql(name, params)`` (plugins/site_pages.py).

Serving SQL has three homes, each for one job: the public API's canned queries in metadata.yml
(templates reach them with ``canned(name, params)``), whole-table figures computed once at build
(``SUMMARIES`` in db/schema.py), and these page queries, which only shape what a page shows and
are no API of their own. Each reads a summary table or an indexed column: no full scan per view.
"""

PAGE_SQL = {
    # the home page
    "counts": "select * from summary_counts",
    "latest_vn_recalls": """
        select id, coalesce(title, product) as name, published, authority, status, kind from recalls
        where jurisdiction = 'VN' and withdrawn is null order by published desc limit 8""",
    "latest_vn_violations": """
        select id, establishment, decided, province, violation, fine_vnd, fine_qualifier from violations
        where jurisdiction = 'VN' and withdrawn is null order by decided desc limit 8""",
    "latest_foreign_recalls": """
        select id, coalesce(title, product) as name, published, jurisdiction, kind, hazard_code, risk_class from recalls
        where jurisdiction != 'VN' and withdrawn is null order by published desc limit 8""",
    "freshness": """
        select source, publisher, jurisdiction, rows, last_good_run, last_checked, newest_record, historical,
               cadence_days, overdue from sources order by jurisdiction = 'VN' desc, source""",
    # /gan-toi
    "ward": "select ward_code, ward, province, province_code, latitude, longitude from wards where ward_code = :w",
    "provinces": "select province_code, province from provinces order by province",
    "wards_of_province": "select ward_code, ward from wards where province_code = :p order by ward_short",
    "nearest_ward": """
        select ward_code, province_code from wards
        order by (latitude - :lat) * (latitude - :lat) + (longitude - :lon) * (longitude - :lon) limit 1""",
    "placed_at_province_centre": """
        select (select count(*) from violations where province_code = :p and geo_precision = 'province')
             + (select count(*) from listings where province_code = :p and geo_precision = 'province') as n""",
    # /nguon
    "source_counts": "select * from summary_sources",
    "sources": "select * from sources order by jurisdiction = 'VN' desc, table_name, source",
    "source_runs": """
        select run_id, finished, status, items, rejected, new, updated, unchanged, withdrawn, error from runs
        where source = :s order by run_id desc limit 5""",
    # /thong-ke
    "recalls_per_month": """
        select month, n, max(n) over () as max from (select * from summary_recalls_months
        order by month desc limit 24)""",
    "recalls_per_year": "select year, n, max(n) over () as max from summary_recalls_years order by year desc",
    "violations_per_province": """
        select province_code, province, jurisdiction, n, fines, max(n) over () as max
        from summary_violations_provinces order by province_code is null, n desc, province""",
    "listings_per_scheme": "select scheme, n, max(n) over () as max from summary_listings_schemes order by n desc",
    # /api: live examples
    "api_example_violation": """
        select id, province_code, province from violations where province_code is not null and withdrawn is null
        order by decided desc limit 1""",
    "api_example_gtin": "select g.value as gtin from recalls r join json_each(r.gtins) g where r.gtins is not null limit 1",
    "today": "select strftime('%d/%m/%Y', 'now') as d",
    # /ma-vach
    "gs1_office": "select prefix, usage from gs1_prefixes where :g like prefix || '%' order by prefix_length desc limit 1",
    "barcode_coverage": "select * from summary_recalls_barcodes order by with_barcodes desc, n desc, source",
    # a listing's page
    "establishment_violations_count": "select violations_count from establishments where id = :id",
}
