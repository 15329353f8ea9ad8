"""The fault matrix: whatever goes wrong, the published database stays intact and consistent,
the affected source keeps its rows, the failure is reported, and the other sources carry on."""
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT, SAMPLES, parse_file, query, run_db
from scrapers.spiders.fr_rappelconso import FrRappelconsoSpider
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider


def intact(db):
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def last_run(db, source):
    return query(db, "select status, error, rejected from runs where source = ? order by run_id desc limit 1", source)[0]


class Slow(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_timeout_fails_source_and_keeps_its_rows(published):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = query(published, "select count(*) from violations where source = 'vn_news_violations'")
    try:
        result = run_db("ingest", f"vn_news_violations=http://127.0.0.1:{server.server_port}/slow.csv",
                        db=published, check=False,
                        env={"MINHBACH_DOWNLOAD_TIMEOUT": "1", "MINHBACH_RETRY_TIMES": "0"})
    finally:
        server.shutdown()
    assert result.returncode == 1
    status, error, _ = last_run(published, "vn_news_violations")
    assert status == "failed" and "timeout" in error.lower(), error
    assert query(published, "select count(*) from violations where source = 'vn_news_violations'") == before
    intact(published)


def test_malformed_json_fails_clearly(tmp_path):
    bad = tmp_path / "fr.json"
    bad.write_text('{"total_count": 3, "records": [{"record": ')
    from scrapers.bases import SourceError
    with pytest.raises(SourceError, match="not JSON"):
        parse_file(FrRappelconsoSpider, bad)


def windows_1258(text):
    """Encode as Vietnamese Windows does: base letters precomposed (ê, ơ, ư), tones as combining marks."""
    import unicodedata
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        marks = unicodedata.normalize("NFD", char)
        for i in range(1, len(marks)):
            base = unicodedata.normalize("NFC", marks[:i] + marks[i + 1:])
            try:
                out.append(base.encode("cp1258") + marks[i].encode("cp1258"))
                break
            except UnicodeEncodeError:
                continue
        else:
            raise UnicodeEncodeError("cp1258", char, 0, 1, "no Windows-1258 spelling")
    return b"".join(out)


def _sample_bytes():
    return (SAMPLES / "vn_news_violations.csv").read_bytes()


def test_truncated_csv_keeps_complete_rows_and_rejects_the_cut_one(tmp_path):
    body = _sample_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(body[: body.rindex(b"\r\n", 0, len(body) - 2) + 40])  # stop 40 bytes into the last row
    items, rejects = parse_file(VnNewsViolationsSpider, cut)
    assert len(items) == 49 and len(rejects) <= 1
    assert all("cells" in reason or "missing" in reason for reason, _raw in rejects)


@pytest.mark.parametrize("encoding", ["utf-16", "cp1258", "utf-8"])
def test_files_in_other_encodings_read_the_same(tmp_path, encoding):
    text = _sample_bytes().decode("utf-8-sig")
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(text.encode(encoding) if encoding != "cp1258" else windows_1258(text))
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    reference, _ = parse_file(VnNewsViolationsSpider, SAMPLES / "vn_news_violations.csv")
    assert rejects == [] and [i["establishment"] for i in items] == [i["establishment"] for i in reference]


def test_unreadable_file_fails_only_its_source(published, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    result = run_db("ingest", f"vn_news_violations={junk}", f"gb_fsa_prosecutions={SAMPLES / 'gb_fsa_prosecutions.csv'}",
                    db=published, check=False)
    assert result.returncode == 1
    status, error, _ = last_run(published, "vn_news_violations")
    assert status == "failed" and ("cannot read" in error or "lacks the columns" in error), error
    assert last_run(published, "gb_fsa_prosecutions")[0] == "ok"
    intact(published)


def test_duplicate_rows_are_stored_once(published, tmp_path):
    body = _sample_bytes()
    lines = body.split(b"\r\n")
    doubled = tmp_path / "doubled.csv"
    doubled.write_bytes(b"\r\n".join(lines + lines[1:6]))
    run_db("ingest", f"vn_news_violations={doubled}", db=published)
    assert query(published, "select count(*), count(distinct id) from violations where source = 'vn_news_violations'") == [(50, 50)]


def test_impossible_values_are_flagged_or_rejected_never_stored_wrong(tmp_path):
    text = _sample_bytes().decode("utf-8-sig").split("\r\n")
    header, row = text[0], text[1]
    cells = row.split(",", 1)
    bad_date = "31/02/2025," + cells[1]
    bad_fine = row.replace("90 triệu đồng", "-5 triệu đồng")
    path = tmp_path / "bad.csv"
    path.write_text("\r\n".join([header, bad_date, bad_fine]) + "\r\n", encoding="utf-8-sig")
    items, rejects = parse_file(VnNewsViolationsSpider, path)
    assert rejects == []
    date_item, fine_item = items
    assert date_item["decided"] is None and "decided" in date_item["quality_flags"]
    assert fine_item["fine_vnd"] is None and "fine_vnd" in fine_item["quality_flags"]


def test_coordinates_outside_vietnam_are_not_placed_in_vietnam():
    from db.enrich import enrich
    record = enrich("violations", {"jurisdiction": "VN", "address": "Phường Hồng Hà, Hà Nội",
                                   "latitude": 51.5, "longitude": -0.12, "establishment": "X"})
    assert record["geo_precision"] != "point" and record["province_code"] == "01"
    assert 20 < record["latitude"] < 22


def test_build_killed_midway_leaves_published_file_intact(published):
    before = (published.read_bytes())
    process = subprocess.Popen([sys.executable, "-m", "ingest", "--db", str(published), "run",
                                f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Kill it once the build file exists (the copy is under way or done).
    for _ in range(400):
        if list(published.parent.glob(".minhbach.building.*.db")):
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert published.read_bytes() == before
    intact(published)
    run_db("ingest", f"gb_fsa_prosecutions={SAMPLES / 'gb_fsa_prosecutions.csv'}", db=published)
    assert not list(published.parent.glob(".minhbach.building.*"))   # the next run cleans up


def test_disk_full_during_build_leaves_published_file_intact(published):
    before = published.read_bytes()
    limit = len(before) + 64 * 1024   # the copy fits, the build does not

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # writes then fail with EFBIG, like ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([sys.executable, "-m", "ingest", "--db", str(published), "run",
                             f"gb_fsa_hygiene_ratings={SAMPLES / 'gb_fsa_hygiene_ratings.csv'}"],
                            cwd=ROOT, capture_output=True, text=True, preexec_fn=small_disk, timeout=300)
    assert result.returncode != 0
    assert published.read_bytes() == before
    intact(published)
    assert not list(published.parent.glob(".minhbach.building.*.db"))


def test_new_column_in_schema_is_added_to_an_existing_database(published):
    conn = sqlite3.connect(published)
    conn.execute("alter table violations drop column notes")   # an older database, before `notes`
    conn.commit()
    conn.close()
    run_db("ingest", f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}", db=published)
    assert query(published, "select count(notes) from violations where source = 'vn_news_violations'")[0][0] > 0
    intact(published)


def test_readers_during_swap_never_fail(published, tmp_path):
    port = 8700 + os.getpid() % 200
    server = subprocess.Popen([str(ROOT / ".venv/bin/datasette"), "serve", "-i", str(published), "-p", str(port),
                               "--metadata", str(ROOT / "metadata.yml"), "--plugins-dir", str(ROOT / "plugins"),
                               "--setting", "suggest_facets", "off"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures, done = [], threading.Event()
    url = f"http://127.0.0.1:{port}/minhbach/violations.json?_search=ha+noi&_size=5"

    def read():
        while not done.is_set():
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status != 200:
                        failures.append(response.status)
            except Exception as error:  # noqa: BLE001 - any failure counts
                failures.append(repr(error))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except Exception:
                time.sleep(0.1)
        readers = [threading.Thread(target=read) for _ in range(4)]
        for thread in readers:
            thread.start()
        edited = tmp_path / "edited.csv"
        edited.write_bytes(_sample_bytes().replace("phạt tiền".encode(), "phạt tiền và đình chỉ".encode(), 1))
        run_db("ingest", f"vn_news_violations={edited}", db=published)
        time.sleep(0.5)
        done.set()
        for thread in readers:
            thread.join()
    finally:
        done.set()
        server.terminate()
        server.wait()
    assert failures == []
    intact(published)


# ---------------------------------------------------------------- issue 15: hostile files through the ingest command

def _sample_rows():
    import csv
    import io
    return list(csv.reader(io.StringIO(_sample_bytes().decode("utf-8-sig"), newline="")))


def _write_rows(path, rows):
    import csv
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_symlinks_and_non_regular_files_are_refused(published, tmp_path, kind):
    target = tmp_path / "received.csv"
    if kind == "symlink":
        target.symlink_to(SAMPLES / "vn_news_violations.csv")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    before = published.read_bytes()
    result = run_db("ingest", f"vn_news_violations={target}", db=published, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {target} is a symbolic link: give the file itself" if kind == "symlink"
        else f"error: {target} is not a regular file"]
    assert published.read_bytes() == before


def test_an_expected_failure_is_one_line_and_a_traceback_only_with_verbose(published, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    quiet = run_db("ingest", f"vn_news_violations={junk}", db=published, check=False)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.count("cannot read the file") == 2      # the progress line and the report
    verbose = run_db("ingest", "--verbose", f"vn_news_violations={junk}", db=published, check=False)
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr


def test_unknown_columns_are_not_a_change(published, tmp_path):
    def last_counts():
        # From the runs log: a run that changed nothing is not published, so its `runs` row is not either.
        runs = [json.loads(line) for line in published.with_suffix(".runs.jsonl").read_text().splitlines()]
        run = [r for r in runs if r["source"] == "vn_news_violations"][-1]
        return run["run_id"], run["updated"], run["unchanged"]

    def changed_in(run_id):
        return [json.loads(c) for (c,) in query(published, "select changed from versions where run_id = ?", run_id)]

    import json
    run_db("ingest", f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}", db=published)
    run_db("ingest", f"vn_news_violations={SAMPLES / 'vn_news_violations.csv'}", db=published)
    _run, same_updated, same_unchanged = last_counts()        # the same file again: the control
    wide = [row + ([f"cột lạ {i}" for i in range(5000)] if n == 0 else ["x"] * 5000)
            for n, row in enumerate(_sample_rows())]
    run_db("ingest", f"vn_news_violations={_write_rows(tmp_path / 'wide.csv', wide)}", db=published)
    run_id, updated, unchanged = last_counts()
    assert (updated, unchanged) == (same_updated, same_unchanged)
    assert all("raw" not in changed for changed in changed_in(run_id))
    # A change to a mapped column still counts.
    edited = _sample_rows()
    edited[1][edited[0].index("Hình thức xử phạt")] += " và đình chỉ"
    run_db("ingest", f"vn_news_violations={_write_rows(tmp_path / 'edited.csv', edited)}", db=published)
    run_id, _updated, _unchanged = last_counts()
    assert sum("sanction" in changed for changed in changed_in(run_id)) == 1


def test_sigterm_stops_a_large_ingest_promptly_and_publishes_nothing(published, tmp_path):
    # Synthetic rows (the sample's, each made unique, cited to a reserved .invalid domain): never published.
    rows = _sample_rows()
    header, body = rows[0], rows[1:]
    name, url = header.index("Tên cơ sở"), header.index("Nguồn")
    big = [header] + [[*row[:name], f"{row[name]} synthetic {i}", *row[name + 1:url],
                       f"https://synthetic-test.invalid/{i}", *row[url + 1:]]
                      for i in range(6000) for row in body[:50]]
    path = _write_rows(tmp_path / "synthetic_300k.csv", big)
    before = published.read_bytes()
    process = subprocess.Popen([sys.executable, "-m", "ingest", "--db", str(published), "run",
                                f"vn_news_violations={path}"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if list(published.parent.glob(".minhbach.building.*.db")):
            break
        time.sleep(0.05)
    time.sleep(4)                               # well into reading the file
    assert process.poll() is None
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert time.monotonic() - signalled < 15, err
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM: nothing was published" in err
    assert published.read_bytes() == before
    assert not list(published.parent.glob(".minhbach.building.*"))
    intact(published)
