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
    # /ban-do: the filters' choices and counts (stored at finalize), the precision legend, the first view
    "map_provinces": """
        select p.province_code, p.province, coalesce(f.count, 0) as n from provinces p
        left join facet_counts f on f.table_name = :t and f.filter_column = '' and f.facet_column = 'province_code'
          and f.value = p.province_code order by p.province_short""",
    "map_years": """
        select value as year, count as n from facet_counts where table_name = :t and filter_column = ''
        and facet_column = 'year' and value glob '[0-9][0-9][0-9][0-9]' order by value desc""",
    "map_precision": "select * from summary_geo where t = :t",
    "map_without_coordinates": "select t, missing from summary_geo where t in ('violations', 'listings') order by t desc",
    "map_province_view": """
        select min(latitude) - 0.2 as s, min(longitude) - 0.2 as w, max(latitude) + 0.2 as n, max(longitude) + 0.2 as e
        from wards where province_code = :p""",
    "map_ward_view": """
        select ward_code, ward, province, latitude - 0.045 as s, longitude - 0.045 as w, latitude + 0.045 as n,
               longitude + 0.045 as e from wards where ward_code = :w""",
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
    # every record page (_site.html, _record.html)
    "source_first_load": """
        select s.historical, (select min(finished) from runs where source = :s and status = 'ok') as first_load
        from sources s where s.source = :s""",
    "record_source": """
        select s.*, (select count(*) from versions where table_name = :t and record_id = :id) as nversions
        from (select 1) left join sources s on s.source = :s""",
    "establishment": "select id, name, province, violations_count, listings_count, recalls_count from establishments where id = :id",
    "establishment_exists": "select 1 from establishments where id = :id",
    "record_corrections": """
        select column_name, source_value, corrected_value, reason, date, reviewer, evidence_url from corrections
        where table_name = :t and record_id = :id order by date, column_name""",
    "source_licence": "select licence from sources where source = :s",
    # a business's page
    "establishment_violations": """
        select id, decided, decided_precision, violation, sanction, fine_vnd, fine_qualifier, fine_text, authority, withdrawn
        from violations where establishment_id = :id order by decided desc""",
    "establishment_listings": """
        select id, scheme, rating, rating_text, kind, status, product, valid_from, valid_until, authority, withdrawn
        from listings where establishment_id = :id order by valid_from desc""",
    "establishment_recalls": """
        select id, coalesce(title, product) as name, published, hazard, authority, withdrawn
        from recalls where establishment_id = :id order by published desc""",
    "establishment_related": """
        select l.reason, e.id, e.name, e.address, e.ward, e.province, e.violations_count, e.listings_count, e.recalls_count
        from establishment_links l join establishments e on e.id = l.related_id
        where l.establishment_id = :id order by l.reason desc, e.name, e.id limit 31""",
    "establishment_merges": """
        select left_id, right_id, judgement, reason, date from establishment_judgements
        where judgement = 'merge' and (left_id = :id or right_id = :id) order by date, left_id, right_id""",
}
