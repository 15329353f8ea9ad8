"""Issue 18 through Datasette: report channels, corrections, follow feeds, QR codes and badges.

Expected values come from the files and the database the site reads: db/channels.csv for the routing,
SQL on the demo file for records, counts and feeds, a temporary corrections file for a correction.
"""
import asyncio
import csv
import datetime
import html
import json
import re
import shutil
import sqlite3
import urllib.parse

import pytest
from datasette.app import Datasette
from datasette.utils import tilde_encode

from conftest import ROOT
from db import corrections
from db.serving import datasette_kwargs
from test_feeds import validate

CHANNELS = ROOT / "db" / "channels.csv"
KINDS = {"food", "drug", "cosmetic", "counterfeit", "establishment", "ecommerce", "vehicle", "device", "children", "other"}


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def channel_rows():
    with open(CHANNELS, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_channels(kind, province):
    """Ground truth read straight from the file: rows for this kind (or every kind) and province (or all)."""
    return {r["id"] for r in channel_rows()
            if ("*" in r["kinds"].split() or kind in r["kinds"].split())
            and ("*" in r["provinces"].split() or province in r["provinces"].split())}


def shown_channels(text):
    return set(re.findall(r'data-channel="([^"]+)"', text))


def page_path(table, pk):
    return f"/minhbach/{table}/{tilde_encode(pk)}"


def links(text, cls):
    return [html.unescape(h) for h in re.findall(rf'<a class="{cls}" href="([^"]+)"', text)]


# ---- The channels file ----

def test_every_channel_names_its_source_and_the_date_it_was_checked(demo_db):
    rows = channel_rows()
    assert rows, "db/channels.csv has no channel"
    with sqlite3.connect(demo_db) as conn:
        provinces = {code for (code,) in conn.execute("select province_code from provinces")}
    today = datetime.date.today()
    assert len({r["id"] for r in rows}) == len(rows), "channel ids must be unique"
    for r in rows:
        assert re.fullmatch(r"https?://[^\s/]+/\S*", r["source_url"]), (r["id"], r["source_url"])
        assert datetime.date.fromisoformat(r["checked"]) <= today, (r["id"], r["checked"])
        if r["source_date"]:
            assert datetime.date.fromisoformat(r["source_date"]) <= datetime.date.fromisoformat(r["checked"]), r["id"]
        assert r["phone"] or r["email"] or r["web_url"], (r["id"], "a channel needs a way to reach it")
        assert set(r["kinds"].split()) <= KINDS | {"*"}, r["id"]
        assert set(r["provinces"].split()) <= provinces | {"*"}, r["id"]
        assert r["authority"].strip() and r["channel"].strip(), r["id"]
        for url in (r["web_url"], r["current_url"]):
            assert not url or re.fullmatch(r"https?://\S+", url), (r["id"], url)


def test_the_page_routes_each_kind_and_province_to_the_files_channels(datasette, demo_db):
    with sqlite3.connect(demo_db) as conn:
        provinces = [code for (code,) in conn.execute("select province_code from provinces order by 1")]
    for kind in sorted(KINDS):
        for province in ("01", "48", provinces[-1], ""):
            text = get(datasette, "/phan-anh?" + urllib.parse.urlencode({"kind": kind, "province": province})).text
            nationwide = {r["id"] for r in channel_rows() if "*" in r["provinces"].split()}
            want = expected_channels(kind, province) if province else expected_channels(kind, "") & nationwide
            assert shown_channels(text) == want, (kind, province)
    # the cases the issue names: a drug in Hà Nội reaches the Hà Nội health department; food elsewhere does not
    drug_hanoi = shown_channels(get(datasette, "/phan-anh?kind=drug&province=01").text)
    assert any(r["id"] in drug_hanoi and r["provinces"] == "01" for r in channel_rows())
    food_danang = shown_channels(get(datasette, "/phan-anh?kind=food&province=48").text)
    assert food_danang and not any(r["provinces"] == "01" for r in channel_rows() if r["id"] in food_danang)


def test_the_report_page_shows_each_channels_source_and_posts_nothing(datasette):
    text = get(datasette, "/phan-anh?kind=food&province=01").text
    for r in channel_rows():
        if r["id"] in expected_channels("food", "01"):
            assert html.escape(r["source_url"]) in text, r["id"]
            assert datetime.date.fromisoformat(r["checked"]).strftime("%d/%m/%Y") in text
    for page in ("/phan-anh", "/phan-hoi"):
        forms = re.findall(r"<form[^>]*>", get(datasette, page).text)
        assert all('method="get"' in f for f in forms), forms
        assert 'method="post"' not in get(datasette, page).text.lower()


def test_a_record_from_elsewhere_is_not_echoed_as_a_link(datasette):
    text = get(datasette, "/phan-anh?kind=food&record=https://evil.example/x").text
    assert 'href="https://evil.example' not in text and "Bản ghi bạn đang xem" not in text


# ---- Every page naming a business: report, reply, follow ----

@pytest.fixture(scope="module")
def records(demo_db):
    with sqlite3.connect(demo_db) as conn:
        conn.row_factory = sqlite3.Row
        return {
            "recalls": conn.execute("select * from recalls where kind = 'drug' limit 1").fetchone(),
            "violations": conn.execute("select * from violations where province_code is not null limit 1").fetchone(),
            "listings": conn.execute("select * from listings where establishment_id is not null and province_code is not null "
                                     "limit 1").fetchone(),
            "establishments": conn.execute("select * from establishments where tax_code is not null limit 1").fetchone(),
        }


@pytest.mark.parametrize("table", ["recalls", "violations", "listings", "establishments"])
def test_record_pages_link_to_report_reply_and_follow(datasette, records, table):
    r = records[table]
    path = page_path(table, r["id"])
    text = get(datasette, path).text
    report = links(text, "report-link")
    assert len(report) == 1, report
    args = urllib.parse.parse_qs(urllib.parse.urlsplit(report[0]).query)
    assert args["record"] == [path]
    expected_kind = {"recalls": "drug", "violations": "establishment", "establishments": "establishment"}.get(table) or (
        "establishment" if not r["product"] else "other")
    assert args["kind"] == [expected_kind]
    if table != "recalls":
        assert args["province"] == [r["province_code"]]
    reply = links(text, "reply-link")
    assert reply and urllib.parse.parse_qs(urllib.parse.urlsplit(reply[0]).query)["record"] == [path]
    assert "Báo sai sót / Phản hồi của cơ sở" in text
    # the report page keeps the record: its address is in the page, ready to quote
    target = get(datasette, report[0]).text
    assert "http://localhost" + path in target
    # every follow link is a valid feed
    follows = links(text, "follow-link")
    assert follows, table
    for feed in follows:
        validate(get(datasette, feed), feed)


def test_business_follow_feeds_hold_the_businesses_records(datasette, demo_db, records):
    e = records["establishments"]
    with sqlite3.connect(demo_db) as conn:
        want = {f"/minhbach/{t}/{tilde_encode(i)}" for t in ("violations", "listings", "recalls")
                for (i,) in conn.execute(f"select id from {t} where withdrawn is null and establishment_id = ?", [e["id"]])}
        by_tax = {f"/minhbach/{t}/{tilde_encode(i)}" for t in ("violations", "listings", "recalls")
                  for (i,) in conn.execute(f"select id from {t} where withdrawn is null and establishment_id in "
                                           "(select id from establishments where tax_code = ?)", [e["tax_code"]])}
    for feed, expected in ((f"/minhbach/establishment_feed.atom?establishment_id={urllib.parse.quote(e['id'])}", want),
                           (f"/minhbach/tax_code_feed.atom?tax_code={e['tax_code']}", by_tax)):
        entries = validate(get(datasette, feed), feed)
        got = {urllib.parse.urlsplit(x.findtext("{http://www.w3.org/2005/Atom}id")).path for x in entries}
        assert got == expected, feed


# ---- QR code and badge ----

@pytest.mark.parametrize("table", ["listings", "establishments"])
def test_qr_code_and_badge_lead_to_the_live_page(datasette, records, table):
    r = records[table]
    path = page_path(table, r["id"])
    text = get(datasette, path).text
    canonical = "http://localhost" + path
    assert f'data-url="{canonical}"' in text
    assert re.search(r'<svg[^>]*class="qr"', text)
    qr = get(datasette, f"/-/qr/{table}/{tilde_encode(r['id'])}.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    badge = get(datasette, f"/-/badge/{table}/{tilde_encode(r['id'])}.svg")
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg+xml")
    assert f'href="{canonical}"' in badge.text
    assert get(datasette, f"/-/badge/{table}/nope.svg").status_code == 404


def test_badges_state_what_the_database_says_now(datasette, demo_db, records):
    e = records["establishments"]
    badge = html.unescape(get(datasette, f"/-/badge/establishments/{tilde_encode(e['id'])}.svg").text)
    assert f"{e['violations_count'] or 0} xử phạt" in badge
    assert f"{e['recalls_count'] or 0} thu hồi" in badge
    with sqlite3.connect(demo_db) as conn:
        conn.row_factory = sqlite3.Row
        penalised = conn.execute("select l.*, e.violations_count from listings l join establishments e on e.id = l.establishment_id "
                                 "where e.violations_count > 0 limit 1").fetchone()
    if penalised:   # a listing whose business was also penalised says so on its badge
        badge = html.unescape(get(datasette, f"/-/badge/listings/{tilde_encode(penalised['id'])}.svg").text)
        assert f"penalised {penalised['violations_count']}×" in badge
        assert (penalised["rating_text"] or penalised["rating"] or penalised["status"]) in badge


# ---- Corrections ----

def test_the_shipped_corrections_file_has_its_header_and_no_invented_rows():
    text = (ROOT / "db" / "corrections.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(corrections.HEADER)
    assert corrections.load(ROOT / "db" / "corrections.csv") == []


@pytest.fixture(scope="module")
def corrected(demo_db, tmp_path_factory):
    """A copy of the demo file built with a temporary corrections file (one sample correction)."""
    from db.build import finalize
    folder = tmp_path_factory.mktemp("corrected")
    db = folder / "minhbach.db"
    shutil.copy(demo_db, db)
    with sqlite3.connect(db) as conn:
        vid, before = conn.execute("select id, violation from violations where violation is not null order by id limit 1").fetchone()
        versions_before = conn.execute("select count(*) from versions where record_id = ?", [vid]).fetchone()[0]
    fix = {"table": "violations", "record_id": vid, "column": "violation", "corrected_value": "Giá trị đính chính thử nghiệm",
           "reason": "Sample correction for the test", "date": "2026-01-15", "reviewer": "test",
           "evidence_url": "https://example.org/decision.pdf"}
    file = folder / "corrections.csv"
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=corrections.HEADER)
        writer.writeheader()
        writer.writerow(fix)
    mp = pytest.MonkeyPatch()
    mp.setenv("MINHBACH_CORRECTIONS", str(file))
    try:
        finalize(db)
        finalize(db)    # a second build on the corrected file changes nothing more
    finally:
        mp.undo()
    ds = Datasette([], immutables=[str(db)], **datasette_kwargs(ROOT))
    return ds, db, fix, before, versions_before


def test_a_correction_is_shown_beside_the_sources_value(corrected):
    ds, db, fix, before, _n = corrected
    text = get(ds, page_path("violations", fix["record_id"])).text
    assert "Đính chính (1)" in text
    assert "Corrections (1)" in get(ds, page_path("violations", fix["record_id"]) + "?lang=en").text
    assert f'<span class="source-value">{html.escape(before, quote=False)}</span>' in text
    assert f'<strong class="corrected-value">{fix["corrected_value"]}</strong>' in text
    assert fix["reason"] in text and "15/01/2026" in text and fix["evidence_url"] in text
    row = get(ds, "/minhbach/corrections.json?_shape=array").json()
    assert [(r["record_id"], r["source_value"], r["corrected_value"]) for r in row] == [
        (fix["record_id"], before, fix["corrected_value"])]
    record = get(ds, f"/minhbach/violations.json?_shape=array&id={urllib.parse.quote(fix['record_id'])}").json()[0]
    assert record["violation"] == fix["corrected_value"]


def test_a_correction_keeps_the_earlier_version_in_history(corrected):
    ds, db, fix, before, versions_before = corrected
    history = get(ds, "/minhbach/versions.json?_shape=array&record_id=" + urllib.parse.quote(fix["record_id"])).json()
    assert len(history) == versions_before + 1      # once, though the file was finalized twice
    saved = [v for v in history if v["run_id"] == "correction:" + fix["date"]]
    assert len(saved) == 1 and json.loads(saved[0]["record"])["violation"] == before
    changed = saved[0]["changed"]     # the API gives JSON list columns as lists
    assert (json.loads(changed) if isinstance(changed, str) else changed) == ["violation"]
    page = get(ds, page_path("violations", fix["record_id"])).text
    assert f"{versions_before + 1} phiên bản trước" in page


def test_a_correction_survives_a_rerun_of_its_source(published, tmp_path):
    """The nightly ingest of a source that still says what it said leaves a corrected record unchanged:
    no new version, the correction in place, the run counting it as unchanged."""
    from conftest import SAMPLES, run_db
    from scrapers.spiders import spider_class
    with sqlite3.connect(published) as conn:
        vid, source, before = conn.execute("select id, source, violation from violations where violation is not null "
                                           "and source = 'vn_news_violations' order by id limit 1").fetchone()
    file = tmp_path / "corrections.csv"
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=corrections.HEADER)
        writer.writeheader()
        writer.writerow({"table": "violations", "record_id": vid, "column": "violation", "corrected_value": "Đính chính thử",
                         "reason": "Sample correction for the test", "date": "2026-01-15", "reviewer": "test",
                         "evidence_url": "https://example.org/decision.pdf"})
    env = {"MINHBACH_CORRECTIONS": str(file)}
    sample = SAMPLES / spider_class(source).sample
    run_db("ingest", f"{source}={sample}", db=published, env=env, check=False)   # first build applies the correction
    with sqlite3.connect(published) as conn:
        assert conn.execute("select violation from violations where id = ?", [vid]).fetchone()[0] == "Đính chính thử"
        versions = conn.execute("select count(*) from versions where record_id = ?", [vid]).fetchone()[0]
    run_db("ingest", f"{source}={sample}", db=published, env=env, check=False)   # the source says the same again
    with sqlite3.connect(published) as conn:
        assert conn.execute("select violation from violations where id = ?", [vid]).fetchone()[0] == "Đính chính thử"
        assert conn.execute("select count(*) from versions where record_id = ?", [vid]).fetchone()[0] == versions
        assert conn.execute("select source_value from corrections where record_id = ?", [vid]).fetchone()[0] == before


@pytest.mark.parametrize("bad, message", [
    ({"column": "id"}, "not a correctable column"),
    ({"column": "raw"}, "not a correctable column"),
    ({"table": "provinces"}, "table must be"),
    ({"date": "15/01/2026"}, "YYYY-MM-DD"),
    ({"evidence_url": "a letter"}, "web address"),
    ({"reviewer": ""}, "reviewer is empty"),
    ({"column": "fine_vnd", "corrected_value": "một triệu"}, "takes a number"),
])
def test_a_malformed_correction_is_refused(tmp_path, bad, message):
    row = {"table": "violations", "record_id": "x", "column": "violation", "corrected_value": "v", "reason": "r",
           "date": "2026-01-15", "reviewer": "me", "evidence_url": "https://example.org/d", **bad}
    file = tmp_path / "corrections.csv"
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=corrections.HEADER)
        writer.writeheader()
        writer.writerow(row)
    with pytest.raises(corrections.CorrectionError, match=message):
        corrections.load(file)


def test_a_correction_of_an_unknown_record_fails_the_build(published, tmp_path, monkeypatch):
    from db.build import finalize
    file = tmp_path / "corrections.csv"
    file.write_text(",".join(corrections.HEADER) + "\nviolations,no-such-record,violation,v,r,2026-01-15,me,https://example.org/d\n",
                    encoding="utf-8")
    monkeypatch.setenv("MINHBACH_CORRECTIONS", str(file))
    with pytest.raises(corrections.CorrectionError, match="no violations record"):
        finalize(published)
