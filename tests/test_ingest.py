"""The ingest end to end, through the real Scrapy engine (`python -m ingest run`, as `make ingest` runs it)."""
import csv
import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import SAMPLES, parse_file, query, run_db, shared_file
from scrapers.spiders.gb_fsa_prosecutions import GbFsaProsecutionsSpider


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_has_records_with_url_and_source(demo_db):
    for table in ("recalls", "violations", "listings"):
        (count, missing), = query(demo_db, f"select count(*), sum(url is null or source is null) from {table}")
        assert count > 0 and missing == 0, table
    statuses = dict(query(demo_db, "select source, status from runs"))
    assert statuses and set(statuses.values()) == {"ok"}, statuses


def test_held_out_file_adds_exactly_its_valid_rows(published):
    full = shared_file("raw/uk-fsa-prosecutions-2014/prosecutions.csv")
    items, rejects = parse_file(GbFsaProsecutionsSpider, full)
    run_db("ingest", f"gb_fsa_prosecutions={full}", db=published)
    (count,), = query(published, "select count(*) from violations where source = 'gb_fsa_prosecutions'")
    assert count == len({item["id"] for item in items})
    run, = query(published, "select status, rejected from runs where source = 'gb_fsa_prosecutions' "
                           "order by run_id desc limit 1")
    assert run == ("ok", len(rejects))
    reasons = query(published, "select reason from rejects where source = 'gb_fsa_prosecutions' and reason != ''")
    assert len(reasons) >= len(rejects)


def test_second_run_of_same_input_changes_nothing(published):
    sample = SAMPLES / "gb_fsa_prosecutions.csv"
    before = digest(published)
    result = run_db("ingest", f"gb_fsa_prosecutions={sample}", db=published)
    assert "left as it was" in result.stderr
    assert digest(published) == before
    line, = [row for row in result.stderr.splitlines() if row.startswith("gb_fsa_prosecutions ")]
    assert line.split()[1:7] == ["ok", "0", "0", "50", "0", "0"]  # status, new, updated, unchanged, gone, rejected


def _edited(tmp_path, transform):
    text = (SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(transform(list(reader)))
    path = tmp_path / "edited.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def test_changed_record_keeps_its_old_version(published, tmp_path):
    def change(rows_):
        rows_[0]["Hình thức xử phạt"] = rows_[0]["Hình thức xử phạt"] + "; buộc khắc phục hậu quả"
        return rows_
    run_db("ingest", f"vn_news_violations={_edited(tmp_path, change)}", db=published)
    (updated, new), = query(published, "select updated, new from runs where source = 'vn_news_violations' "
                                      "order by run_id desc limit 1")
    assert (updated, new) == (1, 0)
    (changed,), = query(published, "select changed from versions where table_name = 'violations'")
    assert changed == '["sanction"]'


def test_missing_record_is_withdrawn_not_deleted(published, tmp_path):
    total = query(published, "select count(*) from violations where source = 'vn_news_violations'")[0][0]
    run_db("ingest", f"vn_news_violations={_edited(tmp_path, lambda r: r[1:])}", db=published)
    assert query(published, "select count(*) from violations where source = 'vn_news_violations'")[0][0] == total
    (gone,), = query(published, "select count(*) from violations where source = 'vn_news_violations' "
                               "and withdrawn is not null")
    assert gone == 1


class _Failing(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/empty"):
            body = (SAMPLES / "vn_news_recalls.csv").read_text(encoding="utf-8-sig").splitlines()[0]
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())
        else:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"Internal Server Error")

    def log_message(self, *args):
        pass


@pytest.fixture
def failing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_failing_sources_keep_rows_and_others_publish(published, tmp_path, failing_server):
    def change(rows_):
        rows_[0]["Hình thức xử phạt"] = "phạt tiền; đình chỉ hoạt động"
        return rows_
    keep = {t: query(published, f"select count(*) from {t} where source = ?", s)[0][0]
            for t, s in (("listings", "vn_news_listings"), ("recalls", "vn_news_recalls"))}
    result = run_db("ingest", f"vn_news_listings={failing_server}/listings.csv",
                    f"vn_news_recalls={failing_server}/empty.csv",
                    f"vn_news_violations={_edited(tmp_path, change)}", db=published, check=False,
                    env={"MINHBACH_RETRY_TIMES": "0"})
    assert result.returncode == 1, result.stderr
    status = dict(query(published, "select source, status from runs where run_id = (select max(run_id) from runs)"))
    assert status == {"vn_news_listings": "failed", "vn_news_recalls": "failed", "vn_news_violations": "ok"}
    errors = dict(query(published, "select source, error from runs where status = 'failed'"))
    assert "HTTP 500" in errors["vn_news_listings"] and "no valid items" in errors["vn_news_recalls"]
    for (table, source), count in zip((("listings", "vn_news_listings"), ("recalls", "vn_news_recalls")),
                                      keep.values()):
        assert query(published, f"select count(*) from {table} where source = ? and withdrawn is null",
                    source)[0][0] == count
    assert query(published, "select count(*) from violations where sanction = 'phạt tiền; đình chỉ hoạt động'")[0][0] == 1


def test_failed_build_leaves_published_file_untouched(published, tmp_path):
    bad = tmp_path / "metadata.yml"
    bad.write_text("databases: [unclosed")
    before = digest(published)
    result = run_db("ingest", f"vn_news_violations={_edited(tmp_path, lambda r: r[:-1])}", db=published,
                    check=False, env={"MINHBACH_METADATA": str(bad)})
    assert result.returncode == 2 and "smoke test failed" in result.stderr
    assert digest(published) == before
    assert not list(published.parent.glob(".*building*"))


def test_second_ingest_while_one_runs_exits_clearly(published):
    import fcntl
    with open(published.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = run_db("ingest", f"gb_fsa_prosecutions={SAMPLES / 'gb_fsa_prosecutions.csv'}", db=published,
                        check=False)
    assert result.returncode == 2 and "another ingest is running" in result.stderr


def test_count_falling_by_half_fails_unless_forced(published, tmp_path):
    half = _edited(tmp_path, lambda r: r[:20])
    result = run_db("ingest", f"vn_news_violations={half}", db=published, check=False)
    assert result.returncode == 1 and "FORCE=1" in result.stderr
    assert query(published, "select count(*) from violations where source = 'vn_news_violations' "
                           "and withdrawn is null")[0][0] == 50
    run_db("ingest", f"vn_news_violations={half}", "--force", db=published)
    assert query(published, "select count(*) from violations where source = 'vn_news_violations' "
                           "and withdrawn is null")[0][0] == 20


def test_curated_vietnamese_rows_get_their_2025_province(demo_db):
    import json
    placed = total = 0
    for table in ("violations", "listings"):
        for raw, code in query(demo_db, f"select raw, province_code from {table} where jurisdiction = 'VN'"):
            if (json.loads(raw).get("Tỉnh/thành") or "").strip():
                total += 1
                placed += code is not None
    assert total and placed / total >= 0.95, (placed, total)


def test_changes_feed(published, tmp_path):
    run_db("ingest", f"vn_news_violations={_edited(tmp_path, lambda r: r[1:])}", db=published)
    import asyncio
    import yaml
    from datasette.app import Datasette
    from conftest import ROOT
    ds = Datasette([], immutables=[str(published)], metadata=yaml.safe_load((ROOT / "metadata.yml").read_text()),
                   plugins_dir=str(ROOT / "plugins"))
    feed = asyncio.run(ds.client.get("/minhbach/changes.atom?since=2000-01-01"))
    assert feed.status_code == 200 and "<feed" in feed.text and "withdrawn:" in feed.text
