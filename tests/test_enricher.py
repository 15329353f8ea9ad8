"""ingest/enricher.py: on a large file, enrich() runs in a second process while the spider crawls.
The records it gives back must be exactly enrich()'s, whichever process did each batch."""
import copy

import pytest
from conftest import parse_file, shared_file

from db.enrich import enrich, index_text
from ingest.enricher import Enricher, SourceEnricher
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
from vn import fold


@pytest.mark.slow   # starts a process pool
def test_worker_results_equal_enrich_in_this_process(monkeypatch):
    items, _ = parse_file(VnNewsViolationsSpider, shared_file("curated/vn-news/xu-phat-co-so.csv"))
    assert len(items) > 100
    # The real thresholds are 10,000 items and batches of 1,000: small ones put the same code to work
    # on the real rows (a worker process, several batches, some stolen back at the end).
    monkeypatch.setattr(SourceEnricher, "START_AT", 20)
    monkeypatch.setattr(SourceEnricher, "BATCH", 17)
    ingest = Enricher()
    enricher = ingest.source("violations")
    for item in items:
        enricher.add(item)
    assert enricher.pool is not None, "the worker process should have started"
    results = enricher.results()
    assert enricher.pool is None
    assert len(results) == len(items)
    for item in items:
        assert results[id(item)] == enrich("violations", copy.deepcopy(dict(item))), item["id"]
        text = index_text("violations", results[id(item)])
        if text is not None:     # folded ahead for build_fts: the same as folding it there
            assert ingest.folded.get(text, fold.canonical(text)) == fold.canonical(text)
    assert ingest.folded, "the worker's folded texts are kept for the build"
    ingest.close()
    assert not ingest.folded


def test_small_runs_stay_in_this_process():
    with Enricher() as ingest:
        enricher = ingest.source("violations")
        for n in range(50):
            enricher.add({"id": f"x:{n}", "establishment": "Cơ sở A", "address": "Hà Nội"})
        assert enricher.pool is None and enricher.results() == {}
