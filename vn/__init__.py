"""Vietnamese text, places and numbers, shared by the crawl (scrapers/, ingest/) and the site (db/, plugins/).

Standard library and a few declared libraries (python-stdnum, ftfy, biip, vietnamadminunits) only:
never Scrapy, Datasette or the project's other packages, so the serving image needs nothing more.
"""
