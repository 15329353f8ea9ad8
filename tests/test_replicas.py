"""Replicas behind nginx (deploy/replicas.py), their cache headers (deploy/datasette_replica.py), the Dockerfile.

The slow tests start 2 replicas behind a real nginx over a private copy of the demo database and keep
a load running while (a) one replica is killed with SIGKILL and (b) a changed database is published:
not one request may fail. They skip when nginx is missing and cannot be installed.
"""
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import ROOT
from db.serving import free_port

SCRIPT = ROOT / "deploy" / "replicas.py"
LOAD_URLS = [
    "/minhbach/recalls.json?_size=5",
    "/minhbach/violations.json?_search=ha+noi",
    "/minhbach/recalls",
    "/minhbach/listings.json?_size=3&_shape=array",
]


def load_script():
    spec = importlib.util.spec_from_file_location("deploy_replicas", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


replicas = load_script()


def get(port, path, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ------------------------------------------------------------------ fast checks (no nginx)

def test_install_copy_is_atomic_and_named_by_the_sha256(demo_db, tmp_path):
    sha, version = replicas.install_copy(demo_db, tmp_path / "replica-0")
    assert sha == sha256(demo_db) and version.name == sha[:16]
    assert (version / "minhbach.db").read_bytes() == demo_db.read_bytes()
    assert not list((tmp_path / "replica-0").glob(".incoming-*"))   # no temporary file left
    assert replicas.install_copy(demo_db, tmp_path / "replica-0") == (sha, version)   # idempotent
    replicas.check_and_inspect(version, sha, tmp_path / "inspect")
    inspect = json.loads((version / "inspect.json").read_text())
    assert inspect["minhbach"]["hash"] == sha   # Datasette's own hash of the file is the same sha256


def test_nginx_config_retries_on_another_replica(tmp_path, monkeypatch):
    monkeypatch.setattr(replicas, "find_nginx", lambda install=True: shutil.which("nginx") or "/bin/true")
    nginx = replicas.Nginx(tmp_path, "127.0.0.1", 8001)
    if shutil.which("nginx"):
        nginx.write([9001, 9002])   # runs `nginx -t` on it
    else:
        replicas.write_atomic(nginx.conf, replicas.NGINX_CONF.format(
            run=tmp_path, name="minhbach", servers="", host="127.0.0.1", port=8001))
    conf = nginx.conf.read_text()
    assert "proxy_next_upstream error timeout http_502 http_503" in conf
    assert "daemon off;" in conf and f"pid {tmp_path}/nginx/nginx.pid;" in conf
    if shutil.which("nginx"):
        assert conf.count("max_fails=1 fail_timeout=5s") == 2
    assert "/etc/nginx" not in conf


@pytest.fixture
def replica(demo_db, tmp_path):
    """One replica, started as deploy/replicas.py starts them (no nginx)."""
    sha, version = replicas.install_copy(demo_db, tmp_path / "replica-0")
    replicas.check_and_inspect(version, sha, tmp_path / "inspect")
    one = replicas.Replica(0, free_port(), version, sha, tmp_path).start()
    try:
        one.wait_healthy()
        yield one
    finally:
        one.stop()


@pytest.mark.slow   # starts a replica
def test_replica_headers_etag_and_health(replica):
    status, headers, body = get(replica.port, "/-/health")
    assert status == 200 and json.loads(body)["db"] == replica.sha
    assert headers["cache-control"] == "no-store"

    status, headers, _ = get(replica.port, "/minhbach/recalls.json?_size=1")
    assert status == 200
    assert headers["x-minhbach-db"] == replica.sha
    assert headers["cache-control"].startswith("public, max-age=300")
    assert "cookie" not in headers.get("vary", "").lower()   # a CDN caches it
    etag = headers["etag"]
    assert etag.startswith(f'W/"{replica.sha[:16]}-')

    # Revalidation costs a header: 304, no body, same validators.
    status, headers, body = get(replica.port, "/minhbach/recalls.json?_size=1", {"If-None-Match": etag})
    assert (status, body) == (304, b"") and headers["etag"] == etag
    status, _, _ = get(replica.port, "/minhbach/recalls.json?_size=1", {"If-None-Match": 'W/"other"'})
    assert status == 200

    # What Datasette marks uncacheable stays so; personal requests are not made public.
    status, headers, _ = get(replica.port, "/minhbach/recalls.json?_size=1&_ttl=0")
    assert status == 200 and headers["cache-control"] == "no-cache" and "etag" not in headers
    status, headers, _ = get(replica.port, "/minhbach/recalls.json?_size=1", {"Cookie": "ds_actor=x"})
    assert "public" not in headers.get("cache-control", "")
    assert "cookie" in headers.get("vary", "").lower()
    status, headers, _ = get(replica.port, "/minhbach/no_such_table")
    assert status == 404 and "etag" not in headers


# ------------------------------------------------------------------ Dockerfile (no docker here)

def dockerfile_instructions():
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def dockerignored(relative):
    """.dockerignore as Docker reads it: patterns in order, the last match wins, ! re-includes."""
    ignored = False
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = Path(relative).parts
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch(p, pattern) or (pattern.startswith("**/") and fnmatch(p.split("/")[-1], pattern[3:]))
               for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerfile_parses_and_its_copy_sources_exist():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert {k for k, _ in steps} <= {"FROM", "ARG", "ENV", "WORKDIR", "COPY", "RUN", "EXPOSE", "CMD", "LABEL", "USER"}
    # The site only: the `serve` extra, never Scrapy (the `crawl` extra).
    assert any(k == "RUN" and re.search(r"pip install (--\S+ )*\"?\.\[serve\]\"?(\s|$)", v) for k, v in steps)
    args = dict(v.split("=", 1) for k, v in steps if k == "ARG" and "=" in v)
    for kind, value in steps:
        if kind != "COPY":
            continue
        *sources, _target = value.split()
        for source in sources:
            source = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], source)
            if source == args.get("DB"):
                assert not dockerignored(source), f"{source} is excluded by .dockerignore"
                continue   # the published database: built by `make demo-db` or the nightly ingest
            matches = list(ROOT.glob(source))
            assert matches, f"COPY {source}: nothing there"
            assert not all(dockerignored(str(m.relative_to(ROOT))) for m in matches), source
    # Every module of the packages the site imports is in the image (pip install needs them); the
    # crawler (scrapers/, ingest/) is not.
    copied = [v.split()[0] for k, v in steps if k == "COPY"]
    assert not any(c.startswith(("scrapers", "ingest")) for c in copied), copied
    for package in ("db", "vn"):
        for module in (ROOT / package).rglob("*.py"):
            relative = str(module.relative_to(ROOT))
            assert any(fnmatch(relative, c) or relative.startswith(c.rstrip("/") + "/") for c in copied), relative
    for secret in (".venv", "deploy/run", ".git", "tests"):
        assert dockerignored(secret), secret


@pytest.mark.slow   # runs the image's Datasette
def test_the_image_layout_serves(demo_db, tmp_path):
    """Lay out /app as the Dockerfile's COPY steps would (honouring .dockerignore), run its RUN datasette
    steps, then its CMD with this machine's Datasette: the paths in the image are the right ones."""
    app = tmp_path / "app"
    app.mkdir()
    steps = dockerfile_instructions()
    args = dict(v.split("=", 1) for k, v in steps if k == "ARG" and "=" in v)
    for kind, value in steps:
        value = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), value)
        if kind == "COPY":
            *sources, target = value.split()
            for source in sources:
                matches = [demo_db] if source == args.get("DB") else list(ROOT.glob(source))
                for match in matches:
                    destination = app / target
                    if match.is_dir():
                        for path in match.rglob("*"):
                            relative = path.relative_to(ROOT)
                            if path.is_file() and not dockerignored(str(relative)):
                                out = destination / path.relative_to(match)
                                out.parent.mkdir(parents=True, exist_ok=True)
                                shutil.copy(path, out)
                    else:
                        out = destination / match.name if target.endswith("/") else destination
                        out.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy(match, out)
        elif kind == "RUN" and "datasette inspect" in value:
            subprocess.run(["sh", "-c", value], cwd=app, check=True, env={
                **os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    cmd = [v for k, v in steps if k == "CMD"][-1]
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.Popen(json.loads(cmd), cwd=app, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = get(port, "/-/health")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["db"] == sha256(demo_db)
        status, headers, _ = get(port, "/minhbach/recalls.json?_size=1")
        assert status == 200 and headers["cache-control"].startswith("public, max-age=")
        status, _, _ = get(port, "/static/site.css")
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(20)


# ------------------------------------------------------------------ replicas behind nginx, under load

@pytest.fixture
def nginx():
    try:
        return replicas.find_nginx(install=True)
    except SystemExit as reason:
        pytest.skip(str(reason))


@pytest.fixture
def cluster(nginx, demo_db, tmp_path):
    """2 replicas behind nginx over a private published file; stopped (and checked stopped) after."""
    published = tmp_path / "site" / "minhbach.db"
    published.parent.mkdir()
    shutil.copy(demo_db, published)
    run_dir, port = tmp_path / "run", free_port()
    base = [sys.executable, str(SCRIPT)]
    started = subprocess.run([*base, "start", "--n", "2", "--db", str(published), "--port", str(port),
                              "--run-dir", str(run_dir)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    state = json.loads((run_dir / "state.json").read_text())
    try:
        yield {"port": port, "run_dir": run_dir, "published": published, "state": lambda: json.loads(
            (run_dir / "state.json").read_text())}
    finally:
        subprocess.run([*base, "stop", "--run-dir", str(run_dir)], cwd=ROOT, timeout=120)
        final = json.loads((run_dir / "state.json").read_text())
        pids = [state["supervisor_pid"], state["nginx_pid"]] + [r["pid"] for r in state["replicas"] + final["replicas"]]
        assert not [pid for pid in pids if replicas.alive(pid)], "something still runs after stop"


class Load:
    """Threads making requests through nginx until stopped; every answer is recorded."""

    def __init__(self, port, threads=6):
        self.port, self.threads = port, threads
        self.results = []   # (time, url, status or error, db hash header)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def worker(self, index):
        i = index
        while not self.stop.is_set():
            url = LOAD_URLS[i % len(LOAD_URLS)]
            i += 1
            try:
                status, headers, _ = get(self.port, url, timeout=20)
                outcome, db = status, headers.get("x-minhbach-db")
            except Exception as error:
                outcome, db = f"{type(error).__name__}: {error}", None
            with self.lock:
                self.results.append((time.monotonic(), url, outcome, db))

    def __enter__(self):
        self.pool = ThreadPoolExecutor(self.threads)
        self.futures = [self.pool.submit(self.worker, i) for i in range(self.threads)]
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for future in self.futures:
            future.result()
        self.pool.shutdown()

    def failures(self):
        return [r for r in self.results if r[2] != 200]


@pytest.mark.slow
def test_a_killed_replica_fails_no_request(cluster):
    state = cluster["state"]()
    victim = state["replicas"][0]
    with Load(cluster["port"]) as load:
        time.sleep(3)
        killed_at = time.monotonic()
        os.kill(victim["pid"], signal.SIGKILL)
        time.sleep(7)
    after = [r for r in load.results if r[0] > killed_at]
    assert len(after) > 50, "the load did not go on after the kill"
    assert load.failures() == [], load.failures()[:5]
    # The supervisor brought the replica back on its port; both answer again.
    deadline = time.monotonic() + 30
    while True:
        current = cluster["state"]()["replicas"][0]
        if current["restarts"] >= 1 and replicas.alive(current["pid"]):
            # Alive is not yet listening: a new replica warms its pages first.
            try:
                status, _, _ = get(current["port"], "/-/health")
            except ConnectionRefusedError:
                status = None
            if status == 200:
                break
        assert time.monotonic() < deadline, "the killed replica was not restarted"
        time.sleep(0.2)
    assert current["port"] == victim["port"] and current["pid"] != victim["pid"]


@pytest.mark.slow
def test_rolling_swap_fails_no_request_and_serves_the_new_file(cluster, tmp_path):
    from db.build import swap

    before = cluster["state"]()
    old_sha = before["db"]
    new = cluster["published"].with_name(".minhbach.building.test.db")
    shutil.copy(cluster["published"], new)
    conn = sqlite3.connect(new)
    (record_id,) = conn.execute("select id from recalls order by id limit 1").fetchone()
    conn.execute("update recalls set title = 'ROLLING SWAP CHECK' where id = ?", [record_id])
    conn.commit()
    conn.close()
    new_sha = sha256(new)

    with Load(cluster["port"]) as load:
        time.sleep(2)
        swap(new, cluster["published"])       # the project's own publish: an atomic rename
        deadline = time.monotonic() + 90
        while cluster["state"]()["swaps"] < 1:
            assert time.monotonic() < deadline, cluster["state"]()
            assert cluster["state"]()["error"] is None, cluster["state"]()["error"]
            time.sleep(0.2)
        done_at = time.monotonic()
        time.sleep(2)

    assert load.failures() == [], load.failures()[:5]
    assert {r[3] for r in load.results} <= {old_sha, new_sha}
    assert {r[3] for r in load.results if r[0] > done_at} == {new_sha}
    after = cluster["state"]()
    assert after["db"] == new_sha and after["status"] == "ready"
    assert {r["db"] for r in after["replicas"]} == {new_sha}
    assert not {r["port"] for r in after["replicas"]} & {r["port"] for r in before["replicas"]}
    assert not [r for r in before["replicas"] if replicas.alive(r["pid"])], "old replicas still run"
    for r in before["replicas"]:
        assert not Path(r["file"]).exists(), "the old copy was not removed"
    # The new content, from every replica.
    for _ in range(6):
        status, headers, body = get(cluster["port"], f"/minhbach/recalls.json?id={record_id}&_shape=array")
        assert status == 200 and headers["x-minhbach-db"] == new_sha
        assert json.loads(body)[0]["title"] == "ROLLING SWAP CHECK"


@pytest.mark.slow
def test_a_broken_publish_keeps_the_old_replicas_serving(cluster):
    before = cluster["state"]()
    broken = cluster["published"].with_name(".broken.db")
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))   # a header, then noise
    os.replace(broken, cluster["published"])
    deadline = time.monotonic() + 60
    while cluster["state"]()["error"] is None:
        assert time.monotonic() < deadline, "the broken file was not refused"
        time.sleep(0.2)
    after = cluster["state"]()
    assert after["status"] == "ready" and after["db"] == before["db"] and after["swaps"] == 0
    assert [(r["port"], r["pid"]) for r in after["replicas"]] == [(r["port"], r["pid"]) for r in before["replicas"]]
    for _ in range(4):
        status, headers, _ = get(cluster["port"], "/minhbach/recalls.json?_size=1")
        assert status == 200 and headers["x-minhbach-db"] == before["db"]
    copies = list(cluster["run_dir"].glob("replica-*/*/minhbach.db"))
    assert len(copies) == 2, copies   # the refused file's copy was removed
