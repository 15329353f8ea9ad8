"""Scrapy settings: polite to live sites, two pipelines (the ingest's: ingest/pipelines.py), nothing else."""
import os

BOT_NAME = "minhbach"
SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"

# Polite crawling of public authorities' sites.
ROBOTSTXT_OBEY = True
USER_AGENT = os.environ.get(
    "MINHBACH_USER_AGENT",
    "MinhBach/0.1 (open data on recalls and penalties; +https://github.com/minhbach/minhbach#contact)",
)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0   # Scrapy's default, stated: one request at a time per site on average
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = float(os.environ.get("MINHBACH_DOWNLOAD_TIMEOUT", "60"))
RETRY_TIMES = int(os.environ.get("MINHBACH_RETRY_TIMES", "3"))
# Let the spider see error responses, so a failing source is reported with its HTTP status.
HTTPERROR_ALLOW_ALL = True

# Development: `MINHBACH_HTTPCACHE=1 make ingest` replays what was fetched before.
HTTPCACHE_ENABLED = os.environ.get("MINHBACH_HTTPCACHE") == "1"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = os.environ.get("MINHBACH_LOG_LEVEL", "WARNING")
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "ingest.pipelines.ValidatePipeline": 100,
    "ingest.pipelines.SQLitePipeline": 200,
}

# A file received on disk reaches a CSV/XLSX spider as its path and is read as it is parsed, never
# whole in memory (scrapers/files.py: LocalFileHandler); other file:// requests are read as before.
DOWNLOAD_HANDLERS = {"file": "scrapers.files.LocalFileHandler"}
