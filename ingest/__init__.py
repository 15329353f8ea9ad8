"""The ingest: crawl the sources (scrapers/) into a new build of the database (db/) and publish it.

    python -m ingest --db db/minhbach.db run [SOURCE[=FILE|URL] ...]   # `make ingest`
    python -m ingest --db db/minhbach.db demo                          # `make demo-db`: the bundled samples

ingest/run.py orchestrates one ingest (lock -> prepare -> crawl -> finalize -> smoke -> swap);
ingest/pipelines.py holds the Scrapy item pipelines that validate items and write them to the store;
ingest/enricher.py the speed machinery (a worker process, texts folded ahead), one object per ingest.
"""
