"""The nightly job (deploy/nightly.py) end to end against local stand-ins for the durable store: a
directory and an HTTP server playing the live site (its /minhbach.db with the X-Minhbach-Db header).
Yesterday's file is the demo database with older first_seen dates and a version row; every expected
value is read with SQL from that file."""
import csv
import hashlib
import importlib.util
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT, SAMPLES, query
from db import build

SCRIPT = ROOT / "deploy" / "nightly.py"
# The job reads its configuration from the environment: the tests start from none of it.
JOB_VARS = ("MINHBACH_STORE_DIR", "MINHBACH_S3_BUCKET", "MINHBACH_RELEASE_TAG", "MINHBACH_RESTORE_URL",
            "FORCE_FROM_EMPTY", "MINHBACH_IMAGE", "MINHBACH_INGEST_ARGS", "MINHBACH_TODAY", "MINHBACH_SNAPSHOT")
RECORDS = ("recalls", "violations", "listings")


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def nightly(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in JOB_VARS}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**clean, **{k: str(v) for k, v in env.items()}}, timeout=600)


@pytest.fixture(scope="module")
def yesterday(demo_db, tmp_path_factory):
    """Last night's published file: records first seen weeks ago, one record already changed once."""
    path = tmp_path_factory.mktemp("yesterday") / "minhbach.db"
    shutil.copy(demo_db, path)
    conn = sqlite3.connect(path)
    with conn:
        for table in RECORDS:
            conn.execute(f"update [{table}] set first_seen = '2026-10-0' || (1 + rowid % 9) || 'T02:30:00Z'")
        record_id, raw = conn.execute(
            "select id, raw from violations where source = 'vn_news_violations' order by id limit 1").fetchone()
        conn.execute("insert into versions (table_name, record_id, version, run_id, replaced, changed, record) "
                     "values ('violations', ?, 1, '2026-10-15T02:30:00Z', '2026-10-15T02:31:00Z', "
                     "'[\"sanction\"]', ?)", [record_id, json.dumps({"id": record_id, "raw": raw})])
    conn.close()
    return path


def durable_dir(tmp_path, source):
    """A directory store holding ``source`` as the published file, with its .sha256."""
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy(source, store / "minhbach.db")
    (store / "minhbach.db.sha256").write_text(f"{digest(source)}  minhbach.db\n")
    return store


def edited_violations(tmp_path):
    """Tonight's listing: the first record's sanction changed, the last record gone."""
    text = (SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    rows[0]["Hình thức xử phạt"] += "; buộc khắc phục hậu quả"
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows[:-1])
    path = tmp_path / "vn_news_violations.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def assert_history_kept(yesterday, tonight):
    for table in RECORDS:
        before = dict(query(yesterday, f"select id, first_seen from [{table}]"))
        after = dict(query(tonight, f"select id, first_seen from [{table}]"))
        assert before and {i: after.get(i) for i in before} == before, table
    old_versions = set(query(yesterday, "select * from versions"))
    assert old_versions and old_versions <= set(query(tonight, "select * from versions"))


class LiveSite(BaseHTTPRequestHandler):
    """The live site's /minhbach.db: the file and its SHA-256 in X-Minhbach-Db (as datasette_replica.py)."""
    path_served = None
    header = None
    requests = 0

    def do_GET(self):
        type(self).requests += 1
        if self.path != "/minhbach.db":
            self.send_error(404)
            return
        body = self.path_served.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Minhbach-Db", self.header or hashlib.sha256(body).hexdigest())
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the job read the header, saw it has this file already, and hung up

    def log_message(self, *args):
        pass


@pytest.fixture
def live_site(yesterday):
    handler = type("Site", (LiveSite,), {"path_served": yesterday, "header": None, "requests": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/minhbach.db"
    server.shutdown()
    server.server_close()


@pytest.mark.slow   # runs an ingest
def test_after_cache_loss_restores_from_directory_and_publishes(yesterday, tmp_path):
    store = durable_dir(tmp_path, yesterday)
    older = store / "snapshots"
    older.mkdir()
    for suffix in (".db", ".db.sha256", ".json"):   # last month's snapshot, to be kept beside the new one
        (older / f"minhbach-2026-11-01{suffix}").write_text("november")
    local = tmp_path / "site" / "minhbach.db"        # the cache is gone: no local file at all
    result = nightly("run", "--db", local, "--ingest", f"vn_news_violations={edited_violations(tmp_path)}",
                     "--today", "2026-12-01", "--snapshots", tmp_path / "snapshots", MINHBACH_STORE_DIR=store)
    assert result.returncode == 0, result.stderr
    assert "restored" in result.stderr and "verified" in result.stderr
    assert_history_kept(yesterday, local)
    # Tonight's changes are new versions numbered after yesterday's; the record gone is withdrawn.
    old_versions = query(yesterday, "select table_name, record_id from versions")
    tonight = set(query(local, "select * from versions")) - set(query(yesterday, "select * from versions"))
    assert any('"sanction"' in row[5] for row in tonight)
    assert all(row[2] == 1 + old_versions.count(row[:2]) for row in tonight)
    (gone,), = query(local, "select count(*) from violations where withdrawn is not null")
    assert gone == query(yesterday, "select count(*) from violations where withdrawn is not null")[0][0] + 1
    # Published: the new file and its hash in the store, the snapshot beside November's.
    assert digest(store / "minhbach.db") == digest(local) != digest(yesterday)
    assert (store / "minhbach.db.sha256").read_text().split()[0] == digest(local)
    snapshot = older / "minhbach-2026-12-01.db"
    assert (older / "minhbach-2026-12-01.db.sha256").read_text().split()[0] == digest(snapshot)
    manifest = json.loads((older / "minhbach-2026-12-01.json").read_text())
    assert manifest["sha256"] == digest(snapshot)
    assert manifest["tables"]["versions"] == query(local, "select count(*) from versions")[0][0]
    assert (older / "minhbach-2026-11-01.db").read_text() == "november"
    written = {p.name: digest(p) for p in (tmp_path / "snapshots").iterdir()}   # all that db/snapshot.py wrote
    assert {name: digest(older / name) for name in written} == written
    assert "deploy skipped: MINHBACH_IMAGE is not set" in result.stderr


@pytest.mark.slow   # runs an ingest
def test_restores_from_the_live_site_and_uploads_to_an_empty_store(yesterday, live_site, tmp_path):
    site, url = live_site
    store = tmp_path / "store"
    store.mkdir()
    local = tmp_path / "site" / "minhbach.db"
    unchanged = SAMPLES / "gb_fsa_prosecutions.csv"
    result = nightly("run", "--db", local, "--ingest", f"gb_fsa_prosecutions={unchanged}", "--today", "2026-12-02",
                     "--snapshots", tmp_path / "snapshots", MINHBACH_STORE_DIR=store, MINHBACH_RESTORE_URL=url)
    assert result.returncode == 0, result.stderr
    assert f"directory {store}: no copy there" in result.stderr and site.requests == 1
    assert_history_kept(yesterday, local)
    # The store had nothing: the file is uploaded. The same sample as yesterday's normally changes no
    # record, and then the site is not redeployed (the ground truth: the content hashes of both files).
    assert digest(store / "minhbach.db") == digest(local)
    changed = build.content_hash(yesterday) != build.content_hash(local)
    assert ("no record changed: the site is not redeployed" in result.stderr) == (not changed)
    assert ("deploy skipped" in result.stderr) == changed
    assert not (store / "snapshots").exists() and not (tmp_path / "snapshots").exists()   # not the 1st


def test_refuses_to_start_from_nothing_unless_told(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    local = tmp_path / "site" / "minhbach.db"
    sample = SAMPLES / "gb_fsa_prosecutions.csv"
    refused = nightly("run", "--db", local, "--ingest", f"gb_fsa_prosecutions={sample}", MINHBACH_STORE_DIR=store)
    assert refused.returncode == 2
    assert "refusing to start from nothing" in refused.stderr and "FORCE_FROM_EMPTY=1" in refused.stderr
    assert "ingest:" not in refused.stderr and not local.exists() and not any(store.iterdir())
    # Told so, it goes on from an empty file (the ingest then builds it, as `python -m ingest demo` does).
    told = nightly("restore", "--db", local, MINHBACH_STORE_DIR=store, FORCE_FROM_EMPTY=1)
    assert told.returncode == 0 and "FORCE_FROM_EMPTY: starting from an empty database" in told.stderr


def corrupt(path):
    """Overwrite a page in the middle of the file (a torn write, a bad disk)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle:middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


def test_corrupted_copy_is_refused_and_nothing_published(yesterday, tmp_path):
    store = durable_dir(tmp_path, yesterday)
    corrupt(store / "minhbach.db")
    # Its .sha256 says the same (it was uploaded damaged): the hash passes, the integrity check does not.
    (store / "minhbach.db.sha256").write_text(f"{digest(store / 'minhbach.db')}  minhbach.db\n")
    stored = digest(store / "minhbach.db")
    local = tmp_path / "site" / "minhbach.db"
    local.parent.mkdir()
    shutil.copy(yesterday, local)     # a good cached file does not hide a damaged durable copy
    result = nightly("run", "--db", local, "--ingest", f"gb_fsa_prosecutions={SAMPLES / 'gb_fsa_prosecutions.csv'}",
                     MINHBACH_STORE_DIR=store)
    assert result.returncode == 2
    assert "refused" in result.stderr and ("integrity_check" in result.stderr or "not a readable" in result.stderr)
    assert "ingest:" not in result.stderr
    assert digest(store / "minhbach.db") == stored and digest(local) == digest(yesterday)
    assert sorted(p.name for p in store.iterdir()) == ["minhbach.db", "minhbach.db.sha256"]
    assert sorted(p.name for p in local.parent.iterdir()) == ["minhbach.db"]


def test_hash_mismatch_from_the_live_site_is_refused(live_site, tmp_path):
    site, url = live_site
    site.header = "0" * 64              # the header names another file than the one served
    store = tmp_path / "store"
    store.mkdir()
    local = tmp_path / "site" / "minhbach.db"
    result = nightly("run", "--db", local, "--ingest", f"gb_fsa_prosecutions={SAMPLES / 'gb_fsa_prosecutions.csv'}",
                     MINHBACH_STORE_DIR=store, MINHBACH_RESTORE_URL=url)
    assert result.returncode == 2
    assert "is not the expected " + "0" * 64 in result.stderr and "ingest:" not in result.stderr
    assert not local.exists() and not any(store.iterdir())
    assert not any(local.parent.iterdir())       # the download was not left behind either


def test_local_file_matching_the_durable_copy_is_not_downloaded_again(yesterday, live_site, tmp_path):
    site, url = live_site
    local = tmp_path / "minhbach.db"
    shutil.copy(yesterday, local)           # the Actions cache, a speed-up only
    result = nightly("restore", "--db", local, MINHBACH_RESTORE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "not downloaded again" in result.stderr and digest(local) == digest(yesterday)


def load_job():
    """deploy/nightly.py as a module, for the S3 store tested in process (moto mocks S3 per process)."""
    spec = importlib.util.spec_from_file_location("nightly_job", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_s3_store_round_trip_and_a_damaged_object_refused(yesterday, tmp_path, monkeypatch):
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    job = load_job()
    with moto.mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="minhbach-data")
        store = job.S3Store("minhbach-data")
        local = tmp_path / "minhbach.db"
        with pytest.raises(job.Refused, match="refusing to start from nothing"):
            job.restore(local, [store])
        job.upload(store, yesterday, job.NAME)
        assert job.restore(local, [store]) == (digest(yesterday), digest(yesterday))
        assert digest(local) == digest(yesterday)

        damaged = bytearray(yesterday.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        client.put_object(Bucket="minhbach-data", Key="minhbach/minhbach.db", Body=bytes(damaged))
        local.unlink()
        with pytest.raises(job.Refused, match="is not the expected"):
            job.restore(local, [store])
        assert not local.exists() and not list(tmp_path.glob(".*restoring*"))


def test_a_newer_local_file_is_kept_and_an_older_one_replaced(yesterday, tmp_path):
    store = durable_dir(tmp_path, yesterday)
    local = tmp_path / "minhbach.db"
    shutil.copy(yesterday, local)
    (last,), = query(yesterday, "select max(run_id) from runs")
    with sqlite3.connect(local) as conn:   # a night the durable copy missed (its upload failed)
        conn.execute("insert into runs (run_id, source, status) values (?, 'gb_fsa_prosecutions', 'ok')",
                     [(datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(days=1))
                      .strftime("%Y-%m-%dT%H:%M:%SZ")])
    conn.close()
    newer = digest(local)
    kept = nightly("restore", "--db", local, MINHBACH_STORE_DIR=store)
    assert kept.returncode == 0 and "kept the local file" in kept.stderr and digest(local) == newer

    with sqlite3.connect(local) as conn:   # a stale cache: older than the durable copy
        conn.execute("delete from runs")
    conn.close()
    replaced = nightly("restore", "--db", local, MINHBACH_STORE_DIR=store)
    assert replaced.returncode == 0 and "restored" in replaced.stderr and digest(local) == digest(yesterday)


FAKE_GH = """#!{python}
# A stand-in for the `gh` CLI's release commands: each release is a folder under $FAKE_GH_ROOT.
import os, shutil, sys
from pathlib import Path
args = sys.argv[1:]
if "-R" in args:
    del args[args.index("-R"):args.index("-R") + 2]
assert args[0] == "release", args
verb, tag, rest = args[1], args[2], args[3:]
release = Path(os.environ["FAKE_GH_ROOT"]) / tag
if verb == "create":
    release.mkdir()
    sys.exit(0)
if not release.is_dir():
    sys.exit("release not found")
if verb == "view":
    sys.exit(0)
if verb == "download":
    pattern, folder = rest[rest.index("--pattern") + 1], Path(rest[rest.index("--dir") + 1])
    if not (release / pattern).exists():
        sys.exit("no assets match the file pattern")
    shutil.copyfile(release / pattern, folder / pattern)
    sys.exit(0)
if verb == "upload":
    assert "--clobber" in rest
    for name in rest:
        if not name.startswith("--"):
            shutil.copyfile(name, release / Path(name).name)
    sys.exit(0)
sys.exit(f"unexpected: {{args}}")
"""


def test_github_release_store_round_trip_through_gh(yesterday, tmp_path, monkeypatch):
    bin_dir, releases = tmp_path / "bin", tmp_path / "releases"
    bin_dir.mkdir()
    releases.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_ROOT", str(releases))
    job = load_job()
    store = job.ReleaseStore("nightly-data", repo="example/minhbach")
    local = tmp_path / "minhbach.db"
    with pytest.raises(job.Refused, match="refusing to start from nothing"):   # no release yet
        job.restore(local, [store])
    job.upload(store, yesterday, job.NAME)                  # creates the release
    store.put_file(yesterday, "snapshots/minhbach-2026-11-01.db")   # asset names are flat
    assert sorted(p.name for p in (releases / "nightly-data").iterdir()) == \
        ["minhbach-2026-11-01.db", "minhbach.db", "minhbach.db.sha256"]
    assert job.restore(local, [store]) == (digest(yesterday), digest(yesterday))
    assert digest(local) == digest(yesterday)

    (releases / "nightly-data" / "minhbach.db").unlink()   # an upload that died after --clobber deleted it
    local.unlink()
    with pytest.raises(job.Refused, match="without minhbach.db"):
        job.restore(local, [store])
    assert not local.exists()


def test_deploy_builds_the_dockerfile_pushes_and_rolls_out_only_when_configured(tmp_path, monkeypatch, capsys):
    published = tmp_path / "minhbach.db"
    published.write_bytes(b"the published file")
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.txt"
    bin_dir.mkdir()
    for tool in ("docker", "gcloud"):      # stand-ins that record how they were called
        stub = bin_dir / tool
        stub.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> {calls}\n")
        stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name in ("MINHBACH_IMAGE", "MINHBACH_CLOUDRUN_SERVICE", "MINHBACH_CLOUDRUN_REGION"):
        monkeypatch.delenv(name, raising=False)
    job = load_job()

    job.deploy(published)                  # no secrets: one clear line, no command run
    assert "deploy skipped: MINHBACH_IMAGE is not set" in capsys.readouterr().err and not calls.exists()

    monkeypatch.setenv("MINHBACH_IMAGE", "registry.example.org/minhbach/site")
    monkeypatch.setenv("MINHBACH_CLOUDRUN_SERVICE", "minhbach")
    job.deploy(published)                  # a file outside the build context is copied in, then removed
    lines = calls.read_text().splitlines()
    assert lines == ["docker build -t registry.example.org/minhbach/site --build-arg DB=db/nightly-deploy.db "
                     f"{ROOT}", "docker push registry.example.org/minhbach/site",
                     "gcloud run deploy minhbach --image registry.example.org/minhbach/site "
                     "--region asia-southeast1 --quiet"]
    assert not (ROOT / "db" / "nightly-deploy.db").exists()
