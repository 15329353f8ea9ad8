"""Template helpers for the site's own pages (templates/): what Jinja cannot do tidily by itself.

- ``row_url(table, pk)``: a record page URL, with Datasette's tilde-encoding of the key
  (ids contain ':' and '/', e.g. ``eu_safety_gate:A12/01477/23`` → ``eu_safety_gate~3AA12~2F01477~2F23``).
- ``canned(name, params)``: rows of a canned query of metadata.yml, so a page shows exactly what the
  query's JSON API returns (the SQL lives in one place).
- ``page_sql(name, params)``: rows of one of the pages' own queries, by name (db/page_sql.py).
- ``db_name``: the database's name (a global: templates and their macros write ``urls.table(db_name, …)``).
- filters ``from_json`` (a JSON cell as a list, [] when empty or unreadable), ``vn_date`` (ISO →
  dd/mm/yyyy at the precision published), ``vnd`` (90000000 → 90.000.000) and ``days_after`` (whole
  days from a published date to a date-time, as SQLite's julianday difference); test ``web_url``
  (only http(s) links are rendered clickable).
Everything returned is plain data: templates auto-escape it.
"""
import datetime
import json

from datasette import hookimpl
from datasette.utils import tilde_encode

from db.page_sql import PAGE_SQL

DATABASE = "minhbach"


def from_json(value):
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else [parsed]


def vn_date(value):
    """'2025-12-26' → '26/12/2025', '2025-12' → '12/2025', '2024' → '2024'; date-times keep the date."""
    if not value:
        return ""
    text = str(value)[:10]
    parts = text.split("-")
    if all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        return "/".join(reversed(parts))
    return str(value)


def vnd(value):
    try:
        return f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return ""


def days_after(seen, published):
    """Days from `published` (YYYY-MM-DD) to the date of `seen`; None when either is not a date.
    Computed here rather than in SQL: a record page should not wait for a query to subtract dates."""
    try:
        return (datetime.date.fromisoformat(str(seen)[:10]) - datetime.date.fromisoformat(str(published)[:10])).days
    except (TypeError, ValueError):
        return None


def web_url(value):
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["tilde"] = tilde_encode
    env.filters["from_json"] = from_json
    env.filters["vn_date"] = vn_date
    env.filters["vnd"] = vnd
    env.filters["days_after"] = days_after
    env.tests["web_url"] = web_url
    env.globals["db_name"] = DATABASE   # the one place templates take the database's name from


@hookimpl
def extra_template_vars(datasette):
    def row_url(table, pk, database=DATABASE):
        return datasette.urls.row(database, table, tilde_encode(str(pk)))

    async def canned(name, params=None, database=DATABASE):
        query = await datasette.get_canned_query(database, name, None)
        return (await datasette.get_database(database).execute(query["sql"], params or {})).rows

    async def page_sql(name, params=None, database=DATABASE):
        return (await datasette.get_database(database).execute(PAGE_SQL[name], params or {})).rows

    return {"row_url": row_url, "canned": canned, "page_sql": page_sql}
