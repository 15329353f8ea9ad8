"""Bad input never crashes the file import: every row is kept, or rejected with a reason, or the whole
file fails with a clear SourceError. `HYPOTHESIS_PROFILE=full make test` runs 10,000 cases each."""
import csv as _csv
import io
import re
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import Request, TextResponse

from conftest import SAMPLES, parse_file
from scrapers import files
from scrapers.bases import SourceError
from ingest.pipelines import ValidatePipeline
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
from scrapy.exceptions import DropItem

HEADER = (SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig").splitlines()[0]
COLUMNS = HEADER.split(",")


def run(body):
    """Every item validated or dropped with a reason; a SourceError is a clean whole-file failure."""
    spider = VnNewsViolationsSpider(file="fuzz.csv")
    response = TextResponse(url="file:///fuzz.csv", body=body, request=Request("file:///fuzz.csv"))
    validate = ValidatePipeline()
    kept = rejected = 0
    try:
        for output in spider.parse(response):
            try:
                validate.process_item(output, spider)
                kept += 1
            except DropItem as reason:
                assert str(reason).strip(), "a rejection must carry its reason"
                rejected += 1
    except SourceError as error:
        assert str(error)
        return None
    return kept, rejected


@given(st.binary(max_size=2000))
def test_arbitrary_bytes(body):
    run(body)


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.mark.slow   # hundreds of generated files through the spider
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=0, max_size=len(COLUMNS) + 2), max_size=20),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_rows_under_the_real_header(rows, encoding):
    import csv
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    result = run(out.getvalue().encode(encoding))
    assert result is not None        # a readable file with the right header never fails whole
    kept, rejected = result
    non_blank = [r for r in rows if any(c.strip() for c in r)]
    assert kept + rejected <= len(non_blank)


@pytest.mark.slow   # writes and reads an XLSX workbook per case
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
@given(st.lists(st.lists(st.one_of(cell, st.integers(), st.floats(allow_nan=False), st.none()),
                         min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=10))
def test_xlsx_files(rows):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([c if not isinstance(c, str) else "".join(ch for ch in c if ch.isprintable()) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    assert run(buffer.getvalue()) is not None


# ---------------------------------------------------------------- issue 15: files as people send them, within bounds

SAMPLE_ROWS = list(_csv.reader(io.StringIO((SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig"),
                                           newline="")))


def reference_names():
    items, _ = parse_file(VnNewsViolationsSpider, SAMPLES / "vn_news_violations.csv")
    return [i["establishment"] for i in items]


def write_csv(path, rows, delimiter=",", encoding="utf-8-sig"):
    out = io.StringIO(newline="")
    _csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows):
    from openpyxl import Workbook
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def rewrite_member(path, name, change):
    """Rewrite one part of a zip archive (an XLSX) with change(bytes) -> bytes."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info.filename, change(data) if info.filename == name else data)


@pytest.mark.parametrize("dimension", ["A1:M2", "A1:XFD1048576"])
def test_xlsx_is_read_by_its_real_extent_not_its_declared_dimension(tmp_path, dimension):
    path = write_xlsx(tmp_path / "v.xlsx", SAMPLE_ROWS)
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), xml))
    started = time.monotonic()
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    assert time.monotonic() - started < 10        # A1:XFD1048576 padded every row to 16,384 cells
    assert rejects == [] and [i["establishment"] for i in items] == reference_names()


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNZIPPED_BYTES", 8 * 1024 * 1024)
    path = write_xlsx(tmp_path / "bomb.xlsx", SAMPLE_ROWS)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.bin", b"\0" * (16 * 1024 * 1024))    # 16 KB compressed
    with pytest.raises(SourceError, match="unpacks to more than 8 MB"):
        parse_file(VnNewsViolationsSpider, path)


def test_too_many_rows_fail_the_file_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 20)
    with pytest.raises(SourceError, match="more than 20 rows"):
        parse_file(VnNewsViolationsSpider, write_csv(tmp_path / "many.csv", SAMPLE_ROWS))
    with pytest.raises(SourceError, match="more than 20 rows"):
        parse_file(VnNewsViolationsSpider, write_xlsx(tmp_path / "many.xlsx", SAMPLE_ROWS))


def test_too_many_columns_fail_the_file_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_COLUMNS", 20)
    wide = [row + [""] * 10 for row in SAMPLE_ROWS]
    wide[0] = SAMPLE_ROWS[0] + [f"extra {i}" for i in range(10)]
    with pytest.raises(SourceError, match="23 columns, more than 20"):
        parse_file(VnNewsViolationsSpider, write_csv(tmp_path / "wide.csv", wide))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_too_large_cell_rejects_its_row_with_a_reason(tmp_path, kind):
    rows = [list(r) for r in SAMPLE_ROWS]
    note = rows[0].index("Ghi chú")
    huge = "x" * (files.MAX_CELL_CHARS + 1) if kind == "csv" else "x" * 32_767   # Excel's cell limit
    if kind == "xlsx":
        # A cell longer than any Excel writes, as a crafted file can hold.
        rows[3][note] = huge
        path = write_xlsx(tmp_path / "big.xlsx", rows)
        rewrite_member(path, "xl/worksheets/sheet1.xml",
                       lambda xml: xml.replace(huge.encode(), b"x" * (files.MAX_CELL_CHARS + 1)))
    else:
        rows[3][note] = huge
        path = write_csv(tmp_path / "big.csv", rows)
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    assert len(items) == 49 and len(rejects) == 1
    reason, raw = rejects[0]
    assert "line 4" in reason and "longer than 131,072 characters" in reason and "Ghi chú" in reason
    assert len(raw["Ghi chú"]) < 300           # the rejected row is stored without the huge cell


@pytest.mark.parametrize("delimiter, encoding", [(";", "utf-8-sig"), (";", "cp1258-compatible"),
                                                 ("\t", "utf-16"), ("\t", "utf-8")])
def test_semicolon_and_unicode_text_files_are_read(tmp_path, delimiter, encoding):
    if encoding == "cp1258-compatible":
        from test_faults import windows_1258
        out = io.StringIO(newline="")
        _csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(SAMPLE_ROWS)
        path = tmp_path / "cp1258.csv"
        path.write_bytes(windows_1258(out.getvalue()))
    else:
        path = write_csv(tmp_path / "f.txt", SAMPLE_ROWS, delimiter=delimiter, encoding=encoding)
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    assert rejects == [] and [i["establishment"] for i in items] == reference_names()


def test_missing_columns_say_which_columns_were_found(tmp_path):
    rows = [list(r) for r in SAMPLE_ROWS]
    rows[0][rows[0].index("Tên cơ sở")] = "Tên doanh nghiệp"
    with pytest.raises(SourceError) as error:
        parse_file(VnNewsViolationsSpider, write_csv(tmp_path / "renamed.csv", rows))
    message = str(error.value)
    assert message.startswith("file lacks the columns: Tên cơ sở ")
    assert "columns found: Ngày quyết định, Cơ quan xử phạt, Tên doanh nghiệp," in message


def test_huge_shared_strings_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_SHARED_STRINGS_BYTES", 1024 * 1024)
    path = write_xlsx(tmp_path / "shared.xlsx", SAMPLE_ROWS)
    big = b"x" * (2 * 1024 * 1024)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml",
                         b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                         b'uniqueCount="1"><si><t>' + big + b"</t></si></sst>")
    with pytest.raises(SourceError, match="shared strings unpack to more than 1 MB"):
        parse_file(VnNewsViolationsSpider, path)
