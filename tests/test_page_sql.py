"""The pages' own queries live in db/page_sql.py, by name: each one a template uses exists, each one
written there is used, and each runs on the demo database (the pages' content is tested in test_site.py)."""
import re
import sqlite3

import pytest

from conftest import ROOT
from db.page_sql import PAGE_SQL

CALL = re.compile(r"""page_sql\(\s*["'](\w+)["']""")


def used_names():
    return {name for path in (ROOT / "templates").rglob("*.html")
            for name in CALL.findall(path.read_text(encoding="utf-8"))}


def test_every_page_query_named_by_a_template_exists_and_is_used():
    used = used_names()
    assert used, "no template calls page_sql()"
    assert used - set(PAGE_SQL) == set(), "a template names a query db/page_sql.py lacks"
    assert set(PAGE_SQL) - used == set(), "db/page_sql.py has queries no template uses"


@pytest.mark.slow
def test_every_page_query_runs_on_the_demo_database(demo_db):
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        for name, sql in PAGE_SQL.items():
            params = {p: "01" for p in re.findall(r":(\w+)", sql)}
            conn.execute(sql, params).fetchall()   # raises on a missing table or column
    finally:
        conn.close()
