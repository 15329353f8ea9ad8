"""The ingest's two Scrapy item pipelines: validate against db/schema.py, then write one source's run into the
new database (scrapers/settings.py names them: the spiders themselves know nothing of the database).

A source's items are staged on disk as they come (db/store.Stage: memory stays bounded), then written
in one transaction when the spider closes, after its run health is judged (db/store.py): a failed
source leaves its previous rows exactly as they were, and its stage is deleted.
"""
import json
import sys

from scrapy import signals
from scrapy.exceptions import DropItem

from db import schema, store
from ingest.enricher import Enricher


class ValidatePipeline:
    """Complete the identity of an item and check it against the schema; a bad item is dropped with its reason."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        spider = spider or self.crawler.spider
        if "_reject" in item:
            raise DropItem(item["_reject"])
        item = dict(item)
        item["source"] = spider.name
        if item.get("source_id") is not None:
            item["source_id"] = str(item["source_id"]).strip()
            item["id"] = f"{spider.name}:{item['source_id']}"
        for key in ("raw", "quality_flags"):
            if key in item and not isinstance(item[key], str):
                item[key] = json.dumps(item[key], ensure_ascii=False, sort_keys=True, default=str)
        reasons = schema.validate(spider.table, item)
        if reasons:
            raise DropItem("; ".join(reasons))
        return item


class SQLitePipeline:
    """Stage a source's valid items and rejects (enriched on the other core as they come); collect its
    errors; hand the stage to db.store when it closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = crawler.stats
        self.errors = []
        self.stage = self.enricher = self.own_enricher = None
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_dropped(self, item, response, exception, spider):
        if self.stage is not None:
            try:
                self.stage.reject(str(exception), item.get("raw", item))
            except Exception as error:   # a full disk: the source fails rather than lose a reject
                self.errors.append(f"could not stage a rejected item: {error}")

    def spider_error(self, failure, response, spider):
        self.errors.append(str(failure.value) or type(failure.value).__name__)

    def open_spider(self):
        self.started = store.now()
        db_path = self.settings.get("MINHBACH_DB")
        if db_path:
            self.stage = store.Stage(db_path, self.crawler.spider.name)
            # geocoded on the other core while the crawl goes on, staged as the results come; the ingest's
            # Enricher (ingest/run.py) keeps the texts folded ahead for the build, `scrapy crawl` alone has its own
            ingest = self.settings.get("MINHBACH_ENRICHER")
            if ingest is None:
                ingest = self.own_enricher = Enricher()
            self.enricher = ingest.source(self.crawler.spider.table, sink=self.stage.add)

    def process_item(self, item):
        if self.enricher is not None:
            try:
                self.enricher.add(item)
            except Exception as error:   # a full disk: the source fails rather than lose an item
                self.errors.append(f"could not stage an item: {error}")
                raise
        return item

    def close_spider(self):
        spider = self.crawler.spider
        db_path = self.settings.get("MINHBACH_DB")
        if not db_path:
            return  # parsing only (e.g. `scrapy crawl x -O out.jsonl`): nothing to write
        try:
            self.enricher.finish()   # waits for the worker, then stops it
            self.stage.close()
            errors = list(self.errors)
            for key, count in (self.stats.get_stats() or {}).items():
                if key.startswith("downloader/exception_type_count/") and not self.stage.count:
                    errors.append(f"download failed: {key.rsplit('/', 1)[-1]} ({count}x)")
            run = store.commit_source(
                db_path,
                table=spider.table,
                source=spider.name,
                run_id=self.settings.get("MINHBACH_RUN_ID"),
                started=self.started,
                errors=errors,
                force=self.settings.getbool("MINHBACH_FORCE"),
                complete=spider.complete_listing,
                stage=self.stage,
            )
        finally:
            self.enricher.close()
            if self.own_enricher is not None:
                self.own_enricher.close()
            self.stage.discard()
        # Progress, as each source finishes (the full report follows at the end).
        print(f"  {'✓' if run['status'] == 'ok' else '✗'} {spider.name}: {run['items']} items, {run['new']} new, "
              f"{run['rejected']} rejected{' — ' + run['error'] if run['error'] else ''}", file=sys.stderr, flush=True)
