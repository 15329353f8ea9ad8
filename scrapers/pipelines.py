"""The two pipelines: validate against db/schema.py, then write one source's run into the new database.

A source's items are written in one transaction when the spider closes, after its run health is
judged (db/store.py): a failed source leaves its previous rows exactly as they were.
"""
import json
import sys

from scrapy import signals
from scrapy.exceptions import DropItem

from db import schema, store


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
    """Collect a source's valid items, rejects and errors; hand them to db.store when it closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = crawler.stats
        self.items, self.rejects, self.errors = [], [], []
        self.enricher = None
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_dropped(self, item, response, exception, spider):
        raw = item.get("raw", item)
        self.rejects.append({"reason": str(exception), "raw": raw})

    def spider_error(self, failure, response, spider):
        self.errors.append(str(failure.value) or type(failure.value).__name__)

    def open_spider(self):
        self.started = store.now()
        if self.settings.get("MINHBACH_DB"):
            self.enricher = store.Enricher(self.crawler.spider.table)

    def process_item(self, item):
        self.items.append(item)
        if self.enricher is not None:
            self.enricher.add(item)   # geocoded on the other core while the crawl goes on
        return item

    def close_spider(self):
        spider = self.crawler.spider
        db_path = self.settings.get("MINHBACH_DB")
        if not db_path:
            return  # parsing only (e.g. `scrapy crawl x -O out.jsonl`): nothing to write
        enriched = self.enricher.results()   # waits for the worker, then stops it
        errors = list(self.errors)
        for key, count in (self.stats.get_stats() or {}).items():
            if key.startswith("downloader/exception_type_count/") and not self.items:
                errors.append(f"download failed: {key.rsplit('/', 1)[-1]} ({count}x)")
        run = store.commit_source(
            db_path,
            table=spider.table,
            source=spider.name,
            run_id=self.settings.get("MINHBACH_RUN_ID"),
            started=self.started,
            items=self.items,
            rejects=self.rejects,
            errors=errors,
            force=self.settings.getbool("MINHBACH_FORCE"),
            complete=spider.complete_listing,
            enriched=enriched,
        )
        # Progress, as each source finishes (the full report follows at the end).
        print(f"  {'✓' if run['status'] == 'ok' else '✗'} {spider.name}: {run['items']} items, {run['new']} new, "
              f"{run['rejected']} rejected{' — ' + run['error'] if run['error'] else ''}", file=sys.stderr, flush=True)
