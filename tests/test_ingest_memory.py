"""The ingest's memory is bounded (issue 15, item 9): a source's items are staged on disk while it is
crawled (db/store.Stage) and committed from there in batches, never all held in memory.

50,000 synthetic rows (bench/gen.py: marked synthetic, written under pytest's tmp_path, never into
db/minhbach.db) ingest with a peak RSS under PEAK_MB. Before the staging, all items, their enriched
copies and the source's existing rows were held until the commit: the same 50k rows peaked at 513 MB
(measured with this test on the code before), 1,000,000 rows at 5.35 GB. Now: 250 MB at 50k.

A received file is not held in memory either (scrapers/files.py: LocalFileHandler answers the
spider's file:// request with the path; the CSV/XLSX is read from disk as it is parsed). Scrapy's own
file handler read the whole body, so the peak grew by the file's size: a 2,000,000-row file (the row
cap, 1.03 GB) peaked at PEAK_2M_BEFORE, and after at PEAK_2M_AFTER (the benchmark below, not a test:
it takes ~15 min). The test of it pads a small file to FILE_MB with blank rows (the spider skips them,
as Excel's exports leave them): with the old handler the peak grew by about the file's size, now by
almost nothing whatever the file's size.

    python bench/gen.py 2000000 /tmp/x/synthetic_bench_violations_2m.csv
    /usr/bin/time -v python -m ingest --db /tmp/x/m.db run vn_news_violations=/tmp/x/synthetic_bench_violations_2m.csv
"""
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

ROWS = 50_000
PEAK_MB = 400


def ingest_argv(db, job):
    """The real ingest command, as `make ingest SOURCE=… FILE=…` runs it."""
    return [sys.executable, "-m", "ingest", "--db", str(db), "run", job]


def peak_rss_mb(argv):
    """Peak RSS of the largest process `argv` runs (it or a child it waited for), through a fresh
    Python whose only child is that command: getrusage(RUSAGE_CHILDREN) sees nothing else."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
             "print(r.stderr[-3000:], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True, text=True,
                            timeout=1800)
    kb, code = result.stdout.split()
    assert code == "0", result.stderr
    return int(kb) / 1024


@pytest.mark.slow   # generates 50,000 rows and ingests them (~1 min)
def test_a_large_source_ingests_in_bounded_memory(tmp_path):
    import gen
    csv_path = tmp_path / "synthetic_bench_violations.csv"
    gen.generate(ROWS, csv_path)
    db = tmp_path / "minhbach.db"
    peak = peak_rss_mb(ingest_argv(db, f"vn_news_violations={csv_path}"))
    conn = sqlite3.connect(db)
    run = conn.execute("select status, items, new, rejected from runs where source = 'vn_news_violations'").fetchone()
    published = conn.execute("select count(*), count(distinct id) from violations "
                             "where source = 'vn_news_violations' and url like 'https://synthetic-bench.invalid/%'"
                             ).fetchone()
    conn.close()
    assert run[0] == "ok", run
    assert published[0] == published[1] == run[2] == run[1] - run[3] > 0.99 * ROWS
    # No stage file is left beside the published database.
    assert sorted(p.name for p in tmp_path.iterdir() if "stage" in p.name) == []
    print(f"peak RSS of the ingest: {peak:.0f} MB for {ROWS:,} rows")
    assert peak < PEAK_MB, f"peak RSS {peak:.0f} MB for {ROWS:,} rows (bound {PEAK_MB} MB)"


FILE_MB = 400
GROWTH_MB = 80


def _pad_with_blank_rows(path, megabytes):
    """Blank rows of 13 cells of spaces (~400 bytes each) appended until the file is ``megabytes``."""
    blank = (",".join([" " * 30] * 13) + "\r\n").encode()
    chunk = blank * 2500
    with open(path, "ab") as handle:
        while handle.tell() < megabytes * 2 ** 20:
            handle.write(chunk)


@pytest.mark.slow   # three ingests of 2,000 rows, one of a 400 MB file (~1.5 min)
def test_a_received_file_is_not_held_in_memory(tmp_path):
    """Peak RSS of the real ingest for 2,000 synthetic rows, then for the same rows in a file padded
    to FILE_MB: the peak may grow by GROWTH_MB at most (measured: 179 -> 178 MB; with Scrapy's file
    handler holding the body, this test failed: 188 -> 510 MB, +322 MB). Then the padded file with a quote that
    never ends at its end: the source fails in one line after reading all its rows, and the published
    rows are those of before."""
    import gen
    plain = tmp_path / "synthetic_bench_violations.csv"
    gen.generate(2000, plain)
    padded = tmp_path / "synthetic_bench_violations_padded.csv"
    padded.write_bytes(plain.read_bytes())
    _pad_with_blank_rows(padded, FILE_MB)

    def ingest(path, db):
        return peak_rss_mb(ingest_argv(db, f"vn_news_violations={path}"))

    base = ingest(plain, tmp_path / "plain.db")
    db = tmp_path / "padded.db"
    peak = ingest(padded, db)
    print(f"peak RSS of the ingest: {base:.0f} MB for 2,000 rows, {peak:.0f} MB with the file padded to {FILE_MB} MB")
    assert peak - base < GROWTH_MB, f"the peak grew by {peak - base:.0f} MB for a {FILE_MB} MB file"

    def published(db):
        conn = sqlite3.connect(db)
        rows = conn.execute("select * from violations order by id").fetchall()
        run = conn.execute("select status, error from runs order by run_id desc limit 1").fetchone()
        conn.close()
        return rows, run

    before, run = published(db)
    assert run[0] == "ok" and len(before) > 1900
    # The same rows edited, padded, then a quote that never closes: fails after reading every row.
    text = plain.read_text(encoding="utf-8-sig").replace("synthetic_bench", "synthetic_bench edited")
    broken = tmp_path / "synthetic_bench_violations_broken.csv"
    broken.write_text(text, encoding="utf-8")
    _pad_with_blank_rows(broken, FILE_MB)
    from scrapers import files
    with open(broken, "a", encoding="utf-8") as handle:
        handle.write('"' + "x" * (files.MAX_ROW_CHARS + 1))
    result = subprocess.run(ingest_argv(db, f"vn_news_violations={broken}"), cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    after, run = published(db)
    assert run[0] == "failed" and "longer than 16,777,216 characters" in run[1], run
    assert "Traceback" not in result.stderr
    assert after == before


SHARED_STRINGS = 2_000_000


def _xlsx(path, rows, extra_strings):
    """An XLSX as Excel writes one (every text a shared string), with ``extra_strings`` more strings in
    its table that no cell uses (short ones: the most strings a table of capped size can hold)."""
    import zipfile
    from xml.sax.saxutils import escape
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    cells, strings = [], []
    for r, row in enumerate(rows, 1):
        cells.append(f'<row r="{r}">' + "".join(
            f'<c r="{chr(65 + c)}{r}" t="s"><v>{len(strings) + c}</v></c>' for c in range(len(row))) + "</row>")
        strings.extend(row)
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{pkg}/content-types">'
                   f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   f'<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
                   f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
                   f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                   f'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                   f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><sheetData>{"".join(cells)}</sheetData></worksheet>')
        with z.open("xl/sharedStrings.xml", "w") as part:
            part.write(f'<sst xmlns="{main}">'.encode())
            part.write("".join(f"<si><t>{escape(s)}</t></si>" for s in strings).encode())
            for start in range(0, extra_strings, 100_000):
                part.write("".join(f"<si><t>{i}</t></si>" for i in range(start, min(start + 100_000, extra_strings))).encode())
            part.write(b"</sst>")


@pytest.mark.slow   # two ingests of 2,000 rows, one with 2,000,000 shared strings (~2 min idle)
def test_an_xlsx_shared_string_table_is_not_held_in_memory(tmp_path):
    """openpyxl holds every shared string as a Python object: SHARED_STRINGS short strings (34 MB of
    XML) grew the peak by 240 MB (this test failed on the code before: 186 -> 426 MB), and a table at
    the 256 MB cap (10.5 million strings) took the ingest past 1 GB (1,031 MB when stopped, after 16
    minutes still reading the table). They are kept in a temporary file now (scrapers/files._StringsOnDisk, 8 bytes a string
    in memory); the peak may grow by GROWTH_MB at most, and every row is read as before."""
    import csv

    import gen
    source = tmp_path / "synthetic_bench_violations.csv"
    gen.generate(2000, source)
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    plain, padded = tmp_path / "synthetic_bench_plain.xlsx", tmp_path / "synthetic_bench_strings.xlsx"
    _xlsx(plain, rows, 0)
    _xlsx(padded, rows, SHARED_STRINGS)
    base = peak_rss_mb(ingest_argv(tmp_path / "plain.db", f"vn_news_violations={plain}"))
    peak = peak_rss_mb(ingest_argv(tmp_path / "padded.db", f"vn_news_violations={padded}"))
    print(f"peak RSS of the ingest: {base:.0f} MB for 2,000 rows, {peak:.0f} MB with {SHARED_STRINGS:,} more shared strings")
    counts = []
    for db in ("plain.db", "padded.db"):
        conn = sqlite3.connect(tmp_path / db)
        counts.append(conn.execute("select status, items from runs where source = 'vn_news_violations'").fetchone())
        conn.close()
    assert counts[0] == counts[1] and counts[0][0] == "ok" and counts[0][1] > 1900, counts
    assert peak - base < GROWTH_MB, f"the peak grew by {peak - base:.0f} MB for {SHARED_STRINGS:,} shared strings"
