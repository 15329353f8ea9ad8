"""The README's table of sources, written by cog from the spiders' class attributes (db/docs.py writes
metadata.yml's columns): `cog -r README.md`; tests/test_generated_docs.py checks it is current."""
from scrapers.spiders import all_spiders


def _cell(text):
    return str(text).replace("|", "\\|")


def _read_from(spider):
    """Where `make ingest` reads a source from, or why it reads it only from a file."""
    if not spider.live_url:
        return "curated file" if spider.url_kind == "press" else "file only"
    if spider.file_only:
        return f"file only (live format not yet read: `{spider.live_url}`)"
    return f"`{spider.live_url}`"


def sources_table():
    """The README's table of sources: one row per spider, from its class attributes."""
    lines = ["| spider | table | publisher | licence | read from |", "|---|---|---|---|---|"]
    for spider in all_spiders():
        historical = " (historical dataset)" if spider.historical else ""
        lines.append(f"| `{spider.name}` | {spider.table} | {_cell(spider.publisher)} | {_cell(spider.licence)} "
                     f"| {_cell(_read_from(spider))}{historical} |")
    return "\n".join(lines) + "\n"
