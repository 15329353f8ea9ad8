"""A received CSV/XLSX is read from disk as it is parsed (scrapers/files.py): reading a path gives the
same rows as reading the bytes, for every encoding and separator people send; a row that never ends
fails the file with one clear line instead of filling the memory; and a spider's `file://` request
goes through the real Scrapy stack to LocalFileHandler, which answers with the path, not the body.
"""
import codecs
import csv
import io
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLES, query
from scrapers import files

ROWS = [["Tên cơ sở", "Địa chỉ", "Ghi chú"],
        ["Công ty TNHH Hòa Bình", "phường Bến Nghé, TP Hồ Chí Minh", 'một "trích dẫn"; hai'],
        ["Cơ sở An", "xã Đông Hòa,\nTỉnh Đắk Lắk", "-106.6"],
        ["", "", ""],
        ["Hộ kinh doanh Lan", "ngõ 3", ""]]


def _csv_text(delimiter):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(ROWS)
    return out.getvalue()


def _as_1258(ch):
    """A letter as Windows-1258 holds it: precomposed when it has one, else base letter + tone mark."""
    import unicodedata
    try:
        ch.encode("cp1258")
        return ch
    except UnicodeEncodeError:
        tones = "\u0300\u0301\u0303\u0309\u0323"
        split = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in split if c not in tones))
        return base + "".join(c for c in split if c in tones)


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"),
                                                ("cp1258", ",")])
def test_a_path_reads_as_its_bytes(tmp_path, encoding, delimiter):
    text = _csv_text(delimiter)
    if encoding == "cp1258":    # Windows-1258 writes tones as combining marks
        text = "".join(_as_1258(ch) for ch in text)
    body = text.encode(encoding)
    path = tmp_path / "received.csv"
    path.write_bytes(body)
    expected = ROWS[0]
    from_bytes = list(files.read_csv(body, ",", expected))
    from_path = list(files.read_csv(str(path), ",", expected))
    assert from_path == from_bytes == ROWS
    assert files.detect_encoding(str(path)) == files.detect_encoding(body)


def test_a_row_that_never_ends_fails_the_file_with_a_clear_message(tmp_path):
    path = tmp_path / "runaway.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("a,b\n1,2\n3,\"" + "x" * 1_000_000)
        for _ in range(files.MAX_ROW_CHARS // 1_000_000):    # a quote never closed, over many lines
            handle.write("\n" + "x" * 1_000_000)
    rows = files.read_csv(str(path))
    assert next(rows) == ["a", "b"] and next(rows) == ["1", "2"]
    with pytest.raises(files.UnreadableFile, match=r"row 3 of the file is longer than 16,777,216 characters"):
        next(rows)


def test_a_line_without_end_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"a,b\n" + b"y" * (files.MAX_ROW_CHARS + 5))
    rows = files.read_csv(str(path))
    assert next(rows) == ["a", "b"]
    with pytest.raises(files.UnreadableFile, match="row 2 of the file is longer than"):
        next(rows)


def test_a_long_cell_within_the_row_bound_still_rejects_only_its_row(tmp_path):
    path = tmp_path / "long_cell.csv"
    path.write_text("a,b\n1," + "z" * (files.MAX_CELL_CHARS + 1) + "\n3,4\n", encoding="utf-8")
    rows = list(files.read_csv(str(path)))
    assert [len(r[1]) for r in rows[1:]] == [files.MAX_CELL_CHARS + 1, 1]   # CsvSpider rejects the first


def test_xlsx_is_read_from_its_path(tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    for row in ROWS:
        book.active.append(row)
    path = tmp_path / "received.xlsx"
    book.save(path)
    assert files.is_xlsx(str(path)) and files.is_xlsx(path.read_bytes())
    from_path = list(files.read_xlsx(str(path)))
    assert from_path == list(files.read_xlsx(path.read_bytes()))
    assert from_path[1] == ROWS[1] and from_path[3] == []


def test_the_ingest_reads_a_received_file_through_the_scrapy_stack_from_disk(tmp_path):
    """The real command: the file:// request of a CSV spider is answered by LocalFileHandler (set in
    the project's Scrapy settings) with the path; the JSON spider's request still gets the body."""
    from scrapy.utils.project import get_project_settings
    assert get_project_settings().getdict("DOWNLOAD_HANDLERS")["file"] == "scrapers.files.LocalFileHandler"
    db = tmp_path / "minhbach.db"
    result = subprocess.run([sys.executable, "-m", "ingest", "--db", str(db), "run",
                             f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}",
                             f"fr_rappelconso={SAMPLES / 'fr_rappelconso.json'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    counts = dict(query(db, "select source, items from runs where status = 'ok'"))
    expected_csv = sum(1 for row in csv.reader(codecs.open(SAMPLES / "vn_news_violations.csv", encoding="utf-8-sig"))
                       if any(row)) - 1
    assert counts["vn_news_violations"] == expected_csv
    assert counts["fr_rappelconso"] > 0


def test_handler_answers_a_streamed_request_with_the_path_only(tmp_path):
    import asyncio

    from scrapy import Request
    from scrapy.utils.test import get_crawler
    path = tmp_path / "received.csv"
    path.write_bytes(b"a,b\n1,2\n")
    handler = files.LocalFileHandler(get_crawler())
    streamed = asyncio.run(handler.download_request(Request(path.as_uri(), meta={files.STREAM_FILE: True})))
    assert isinstance(streamed, files.FileOnDisk) and streamed.body == b"" and streamed.path == str(path)
    assert streamed.replace(status=200).path == str(path)
    whole = asyncio.run(handler.download_request(Request(path.as_uri())))
    assert whole.body == b"a,b\n1,2\n"
    with pytest.raises(OSError):
        asyncio.run(handler.download_request(Request(tmp_path.as_uri(), meta={files.STREAM_FILE: True})))
