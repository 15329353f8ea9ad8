"""db/schema.py is the one schema: metadata.yml, the spiders and the samples agree with it."""
from pathlib import Path

import yaml

from conftest import ROOT, SAMPLES
from db import schema
from scrapers.spiders import all_spiders

METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())
TABLES_META = METADATA["databases"]["minhbach"]["tables"]


def test_searchable_tables_point_datasette_at_their_folded_index():
    for table, spec in schema.TABLES.items():
        assert bool(spec["fts"]) == (TABLES_META[table].get("fts_table") == f"{table}_fts"), table


def test_every_spider_has_table_sample_test_and_provenance():
    spiders = all_spiders()
    assert len(spiders) >= 5
    for spider in spiders:
        module = Path(spider.__module__.replace(".", "/")).name
        assert module == spider.name, f"file name must be the spider name: {module}"
        assert spider.table in schema.RECORD_TABLES, spider.name
        assert spider.sample and (SAMPLES / spider.sample).exists(), f"{spider.name}: no sample"
        assert Path(spider.sample).stem == spider.name
        assert (ROOT / "tests" / f"test_{spider.name}.py").exists(), f"{spider.name}: no test"
        for attribute in ("title", "publisher", "jurisdiction", "licence"):
            assert getattr(spider, attribute), f"{spider.name}: no {attribute}"


def test_validate_reports_every_reason():
    reasons = schema.validate("violations", {"id": "x:1", "source": "x", "source_id": "1", "url": "javascript:alert(1)",
                                             "fine_vnd": -5, "latitude": 123.0, "colour": "red"})
    assert reasons == ["unknown columns: colour", "missing establishment", "latitude out of range: 123.0",
                       "negative fine: -5", "url is not http(s): javascript:alert(1)"]


def test_every_facet_and_sort_column_is_indexed():
    """At a million rows a facet or sort without an index runs into the time limit and is dropped."""
    for table, meta in TABLES_META.items():
        if table in schema.VIEWS:      # a map view's facets are counted at build from its table's indexes
            base = schema.TABLES[table.removeprefix("map_")]
            assert set(meta.get("facets", [])) <= {columns[0] for columns in base["indexes"]}, table
            continue
        if table not in schema.TABLES:
            continue
        indexed = {columns[0] for columns in schema.TABLES[table]["indexes"]}
        wanted = set(meta.get("facets", [])) | ({meta["sort_desc"]} if meta.get("sort_desc") else set())
        pk = schema.pk(table)
        missing = wanted - indexed - {pk if isinstance(pk, str) else pk[0]}
        assert not missing, f"{table}: index {sorted(missing)} in db/schema.py"
        if meta.get("sort_desc") and table in schema.RECORD_TABLES:
            assert schema.TABLES[table]["sort"] == meta["sort_desc"], table
