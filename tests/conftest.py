"""Shared fixtures: saved responses, the spider harness, built databases and the Datasette client."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from scrapy.exceptions import DropItem
from scrapy.http import Request, TextResponse

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = (ROOT.parent / "shared" / "data").resolve()

# `HYPOTHESIS_PROFILE=full make test` runs 10,000 generated inputs per property; CI runs fewer.
hypothesis_settings.register_profile("ci", max_examples=200, deadline=None)
hypothesis_settings.register_profile("full", max_examples=10_000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def shared_file(relative):
    """A file of ../shared/data, or a skip that says so when this checkout has none beside it."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{relative} beside the checkout ({path} is not present)")
    return path


def parse_file(spider_cls, path, **kwargs):
    """Parse a saved response with the spider and validate every item, as the pipelines do.

    Returns (items, rejects): rejects are (reason, raw) pairs.
    """
    from ingest.pipelines import ValidatePipeline

    path = Path(path)
    spider = spider_cls(file=str(path), **kwargs)
    response = TextResponse(url=path.as_uri(), body=path.read_bytes(), request=Request(path.as_uri()))
    validate = ValidatePipeline()
    items, rejects = [], []
    for output in spider.parse(response):
        try:
            items.append(validate.process_item(output, spider))
        except DropItem as reason:
            rejects.append((str(reason), output.get("raw")))
    return items, rejects


def run_db(*args, db, check=True, env=None):
    """Run `python -m ingest` as the Makefile does (Scrapy's reactor runs once per process)."""
    result = subprocess.run([sys.executable, "-m", "ingest", "--db", str(db), *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def query(db, sql, *params):
    """Rows of one query on a database file."""
    import sqlite3
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def pytest_collection_modifyitems(items):
    """A test that uses `published` ingests into it: a build in a subprocess, seconds each. It is
    marked `slow` here, whichever file it is in, so `make test-fast` leaves it out."""
    for item in items:
        if "published" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def published(demo_db, tmp_path):
    """A private copy of the demo database, as a maintainer's published file."""
    import shutil
    db = tmp_path / "minhbach.db"
    shutil.copy(demo_db, db)
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The demo database, built once per test session from the bundled samples."""
    db = tmp_path_factory.mktemp("demo") / "minhbach.db"
    run_db("demo", db=db)
    return db


@pytest.fixture(scope="session")
def datasette(demo_db):
    """Datasette over the demo database, configured as `make serve` configures it (db/serving.py)."""
    from datasette.app import Datasette

    from db.serving import datasette_kwargs

    return Datasette([], immutables=[str(demo_db)], **datasette_kwargs(ROOT))
