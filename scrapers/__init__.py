import os

# Spiders load the same settings from any working directory (tests, `python -m ingest`, cron).
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scrapers.settings")
