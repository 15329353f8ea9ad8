"""Crawling at scale needs nothing from the spiders but their names and Scrapy settings.

Scrapyd (`scrapyd-deploy`, then one job per spider) and scrapy-redis (a shared queue: SCHEDULER,
DUPEFILTER_CLASS, REDIS_URL) both run a spider by name with settings alone, in a process of their
own. These tests hold the project to that: every spider is listed by `scrapy list`, loads by name
through Scrapy's SpiderLoader, builds from a crawler with `file=` its sample, and one of them runs
with `scrapy crawl` and a feed, exactly as a Scrapyd job would.
"""
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from conftest import ROOT, SAMPLES, parse_file
from scrapers.spiders import spider_class

SCRAPY = str(Path(sys.executable).with_name("scrapy"))
SPIDER_FILES = sorted(p.stem for p in (ROOT / "scrapers" / "spiders").glob("*.py") if p.stem != "__init__")


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.chdir(ROOT)   # scrapy.cfg is found from the working directory, as the scrapy command does
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "scrapers.settings")
    return get_project_settings()


def scrapy(*args, timeout=300):
    result = subprocess.run([SCRAPY, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_scrapy_list_names_every_spider():
    listed = scrapy("list").stdout.split()
    assert listed == SPIDER_FILES   # file name == spider name, one spider per file
    assert len(listed) >= 10


@pytest.mark.parametrize("name", SPIDER_FILES)
def test_every_spider_loads_by_name_and_starts_from_settings_alone(settings, name):
    loader = SpiderLoader.from_settings(settings)
    assert name in loader.list()
    cls = loader.load(name)
    assert cls.name == name and cls.sample and (SAMPLES / cls.sample).exists()
    crawler = Crawler(cls, settings)
    spider = cls.from_crawler(crawler, file=str(SAMPLES / cls.sample))
    assert spider.name == name and spider.crawler is crawler

    async def first_requests():
        return [request async for request in spider.start()]
    requests = asyncio.run(first_requests())
    assert [r.url for r in requests] == [(SAMPLES / cls.sample).resolve().as_uri()]
    assert requests[0].meta.get("dont_obey_robotstxt")
    # The live path needs no argument either: a URL of its own, or requests built from settings.
    live = cls.from_crawler(Crawler(cls, settings))
    assert live.file is None and live.url == cls.live_url


@pytest.mark.slow   # a `scrapy crawl` process per case
@pytest.mark.parametrize("pipelines", ["none", "project"])
def test_scrapy_crawl_by_name_writes_the_feed(tmp_path, pipelines):
    """`scrapy crawl <name> -a file=… -O out.jsonl`: what a Scrapyd job runs. The project's SQLite
    pipeline writes only when MINHBACH_DB is set, so the items go to the feed and nowhere else."""
    name = "gb_fsa_hygiene_ratings"
    sample = SAMPLES / f"{name}.csv"
    out = tmp_path / f"{name}.jsonl"
    extra = ["-s", "ITEM_PIPELINES={}"] if pipelines == "none" else []
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "db").glob("*.db")}
    result = scrapy("crawl", name, "-a", f"file={sample.relative_to(ROOT)}", "-O", str(out), *extra,
                    "-s", "LOG_LEVEL=INFO")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    items, rejects = parse_file(spider_class(name), sample)
    if pipelines == "none":
        assert len(lines) == len(items) + len(rejects)   # everything the spider yields, unvalidated
    else:
        assert len(lines) == len(items)                  # validated: rejects dropped
        assert {line["id"] for line in lines} == {item["id"] for item in items}
    assert len(lines) >= 10
    assert f"'item_scraped_count': {len(lines)}" in result.stderr
    # Nothing was written to a database.
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "db").glob("*.db")} == before
