"""Base classes, one per kind of source. A spider declares where, which table and how fields map.

Every spider takes two optional arguments:
- ``file``: a saved response or a file a maintainer received; read through Scrapy's file:// handler,
  so replays and imports go through the same engine, middlewares and pipelines as live crawls;
- ``url``: another live URL of the same format (tests point it at a local server).
"""
import hashlib
import json
import unicodedata
from pathlib import Path

import scrapy

from scrapers import files
from vn.dates import parse_date
from vn.ids import extract_gtins, extract_labelled_gtins, normalise_gtin
from vn.money import money_hedge, parse_money_vnd
from vn.text import may_need_repair, repair_text


class SourceError(Exception):
    """The whole response is unusable: the source fails with this message, and keeps its rows."""


def clean(value):
    """Strip text; empty text and the usual placeholders become None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


class SourceSpider(scrapy.Spider):
    table = None          # recalls | violations | listings
    title = None          # what the source publishes
    publisher = None
    jurisdiction = None   # ISO country code of the authority
    licence = None
    licence_url = None
    live_url = None       # what `make ingest` reads
    kind = None           # json | csv | rss | xlsx
    sample = None         # bundled excerpt in samples/, read by the demo build
    fields = {}           # source field -> column, copied as cleaned text
    complete_listing = True  # False for feeds of the latest records: absence is not withdrawal
    file_only = False     # True when live_url's format is not yet the one this spider reads
    # Freshness (/ and /nguon): a historical dataset is fixed and never "late"; a live source whose
    # newest record is older than cadence_days is flagged. None: no usual cadence (curated, files).
    historical = False
    cadence_days = None
    url_kind = "official"  # what a record's `url` is: official | press | portal (sources.url_kind)
    streams_files = False  # True: a local file reaches rows() as a path (files.FileOnDisk), read as parsed
    # Class attributes that are also record columns: every record gets them unless its row sets its
    # own (All the Places' item_attributes). The others (publisher, licence, url_kind…) describe the
    # source and reach the `sources` table (db/build.py).
    record_attributes = ("jurisdiction",)

    def __init__(self, file=None, url=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.file = file
        self.url = url or self.live_url

    async def start(self):
        if self.file:
            # robots.txt has no meaning for a local file.
            yield scrapy.Request(Path(self.file).resolve().as_uri(), callback=self.parse, dont_filter=True,
                                 meta={"dont_obey_robotstxt": True, files.STREAM_FILE: self.streams_files})
        else:
            for request in self.live_requests():
                yield request

    def live_requests(self):
        yield scrapy.Request(self.url, callback=self.parse, errback=self.download_failed)

    def download_failed(self, failure):
        """A network failure (after retries) fails the source with a one-line reason."""
        raise SourceError(f"download failed: {failure.request.url}: {failure.getErrorMessage()}")

    def parse(self, response):
        if response.status >= 400:
            raise SourceError(f"HTTP {response.status} from {response.url}")
        for row in self.rows(response):
            try:
                record = self.record(row)
            except Exception as error:  # one bad row must not stop the source: it goes to rejects
                yield {"_reject": f"could not read row: {type(error).__name__}: {error}", "raw": row}
                continue
            if record is not None:
                for column in self.record_attributes:
                    if record.get(column) is None and getattr(self, column) is not None:
                        record[column] = getattr(self, column)
                self.repair(record)
                record.setdefault("raw", row)
                yield record

    def rows(self, response):
        raise NotImplementedError

    def record(self, row):
        """Map one source row to one record: ``fields`` first, then ``post_process``."""
        record = {column: clean(row.get(key)) for key, column in self.fields.items()}
        return self.post_process(record, row)

    def post_process(self, record, row):
        """The one hook for what a field map cannot say. Return None to skip a row."""
        return record

    # Identity and links are kept exactly as the source gives them; every other text is repaired.
    UNREPAIRED = frozenset({"raw", "quality_flags", "source_id", "url"})

    def repair(self, record):
        """Mojibake and HTML entities undone in every stored text (``CafÃ©`` -> ``Café``), each
        repair flagged with the value as received; ``raw`` keeps the row untouched."""
        for column, value in list(record.items()):
            if column in self.UNREPAIRED or not isinstance(value, str) or not may_need_repair(value):
                continue
            fixed, repairs = repair_text(value)
            if repairs:
                record[column] = fixed
                self.flag(record, column, value, "; ".join(repairs))

    # Helpers for post_process: parse, and keep what cannot be parsed with the reason.
    @staticmethod
    def flag(record, column, value, reason):
        record.setdefault("quality_flags", []).append({"column": column, "value": value, "reason": reason})

    def set_date(self, record, column, text, order="dmy"):
        parsed = parse_date(text, order=order)
        record[column] = parsed.iso
        record[f"{column}_precision"] = parsed.precision
        if parsed.flag:
            self.flag(record, column, clean(text), parsed.flag)

    def set_gtins(self, record, *texts, labelled=True, min_length=8):
        """``gtins`` from the given texts: codes with a valid check digit, normalised (UPC-A, EAN-13 and
        GTIN-14 forms of one code are one code). ``labelled``: take only digits the text labels as a
        barcode ("UPC: …"), for prose; False for a field that holds barcodes only. Labelled digits that
        are not a GTIN are flagged, not stored."""
        found = list(json.loads(record["gtins"])) if record.get("gtins") else []
        for text in texts:
            text = clean(text)
            if not isinstance(text, str):
                continue
            if labelled:
                codes, rejected = extract_labelled_gtins(text)
                for code in rejected:
                    self.flag(record, "gtins", code, "labelled as a barcode but not a valid GTIN (length or check digit)")
            else:
                codes = [normalise_gtin(code) for code in extract_gtins(text) if len(code) >= min_length]
            found.extend(code for code in codes if code)
        found = list(dict.fromkeys(found))
        record["gtins"] = json.dumps(found) if found else None

    def set_fine_vnd(self, record, text):
        parsed = parse_money_vnd(text)
        record["fine_vnd"] = parsed.vnd
        record["fine_text"] = clean(text)
        if parsed.note:
            record["fine_note"] = parsed.note
            # the source's own word ("gần", "hơn"): pages show it beside the number, in Vietnamese
            record["fine_qualifier"] = money_hedge(text)
        if parsed.flag:
            self.flag(record, "fine_vnd", clean(text), parsed.flag)


class JsonSpider(SourceSpider):
    kind = "json"
    records_path = ()     # keys leading to the list of records in the response

    def rows(self, response):
        try:
            data = json.loads(response.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SourceError(f"response is not JSON: {error}") from error
        for key in self.records_path:
            if not isinstance(data, dict) or key not in data:
                raise SourceError(f"response has no {'.'.join(self.records_path)} list")
            data = data[key]
        if not isinstance(data, list):
            raise SourceError("records are not a list")
        yield from data


def decode_text(body):
    """Decode a text file as people send them: UTF-8 (with or without BOM), UTF-16, Windows-1258."""
    try:
        return files.decode_text(body)
    except files.UnreadableFile as error:
        raise SourceError(str(error)) from None


def read_xlsx(body):
    """Rows of the first sheet of an XLSX file as lists of cell text (scrapers/files.py: its bounds)."""
    try:
        yield from files.read_xlsx(body)
    except files.UnreadableFile as error:
        raise SourceError(str(error)) from None


def _shortened(text, keep=200):
    return text if len(text) <= keep else f"{text[:keep]}… ({len(text):,} characters)"


class CsvSpider(SourceSpider):
    """CSV or XLSX files keyed by their (often Vietnamese) headings: declare ``fields`` and go.

    The separator (comma, semicolon or tab) and the encoding are detected (scrapers/files.py)."""
    kind = "csv"
    delimiter = ","       # the usual one; a file using another is still read
    streams_files = True  # a received file is read from disk as it is parsed (memory bounded)

    def rows(self, response):
        try:
            yield from self._rows(response.path if isinstance(response, files.FileOnDisk) else response.body)
        except files.UnreadableFile as error:
            raise SourceError(str(error)) from None

    def _rows(self, body):
        xlsx = files.is_xlsx(body)
        lines = files.read_xlsx(body) if xlsx else files.read_csv(body, self.delimiter, self.fields)
        headings = [h.strip() for h in next(lines, [])]
        missing = [key for key in self.fields if key not in headings]
        if missing:
            found = ", ".join(_shortened(h, 40) for h in headings[:30] if h) or "none"
            raise SourceError(f"file lacks the columns: {', '.join(missing)} "
                              f"(columns found: {found}{', …' if len(headings) > 30 else ''})")
        for number, cells in enumerate(lines, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if xlsx and len(cells) < len(headings):
                cells = cells + [""] * (len(headings) - len(cells))   # XLSX rows end at their last value
            row = dict(zip(headings, cells))
            if len(cells) != len(headings):
                # A truncated or shifted row: keep it, loudly, for the rejects table.
                row["_problem"] = f"line {number} has {len(cells)} cells, the header has {len(headings)}"
            long_cells = [h for h, cell in row.items() if len(cell) > files.MAX_CELL_CHARS]
            if long_cells:
                # The row is rejected with its reason; the stored copy keeps the start of the cell.
                for heading in long_cells:
                    row[heading] = _shortened(row[heading])
                row["_problem"] = (f"line {number}: a cell is longer than {files.MAX_CELL_CHARS:,} characters "
                                   f"({', '.join(_shortened(h, 40) for h in long_cells)})")
            yield row

    def record(self, row):
        if "_problem" in row:
            raise ValueError(row["_problem"])
        return super().record(row)


class RssSpider(SourceSpider):
    """RSS 2.0 feeds: each <item> becomes a dict of its child elements' text."""
    kind = "rss"

    def rows(self, response):
        selector = scrapy.Selector(text=decode_text(response.body), type="xml")
        selector.remove_namespaces()
        items = selector.xpath("//item")
        if not items and not selector.xpath("//channel"):
            raise SourceError("response is not an RSS feed")
        for item in items:
            yield {child.xpath("name()").get(): child.xpath("string()").get() for child in item.xpath("*")}


class CitedCsvSpider(CsvSpider):
    """Curated Vietnamese tables: each row cites the article that reported an official notice.

    Rows carry no identifier of their own, so the id is a hash of the cells that make a row unique
    (``key_columns``); the cited article is the row's ``url``.
    """
    jurisdiction = "VN"
    url_kind = "press"    # each row's url is the article that reported the decision, not the decision
    licence = "Facts from official notices as reported in the press; table CC BY 4.0 by Minh Bạch"
    licence_url = "https://creativecommons.org/licenses/by/4.0/"
    key_columns = ()

    def record(self, row):
        record = super().record(row)
        if record is not None:
            key = "|".join(clean(row.get(c)) or "" for c in self.key_columns)
            record["source_id"] = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
            record["url"] = clean(row.get("Nguồn"))
            record["notes"] = clean(row.get("Ghi chú"))
        return record
