"""The published contract: a Frictionless Data Package (`datapackage.json`) generated from the schema.

One resource per public table, each with a Table Schema: the columns in the file's order, their
types and descriptions from `db/schema.py`, primary keys, required columns; the table's title and
description (Vietnamese · English) from `metadata.yml`; the licences and publishers of the sources
that fill it, from the `sources` table (which `db/build.py` fills from the spiders' own `licence`
attributes). Nothing here is written by hand, so the contract cannot drift from the file.

Served at `/minhbach/datapackage.json` (plugins/datapackage.py), where each resource is the table's
streamed CSV export; written beside each snapshot (db/snapshot.py), where each resource is a table
of the snapshot's SQLite file.
"""
import re
import sqlite3

from db import schema
from vn.fold import squash

# Table Schema types of the schema's Python types; JSON lists stored as text are `array`
# (Table Schema reads an array field as JSON text, which is what the CSV export holds).
FIELD_TYPES = {str: "string", int: "integer", float: "number"}
# Bookkeeping tables that are not data: hidden on the site, left out of the contract.
PRIVATE = {"facet_counts"}


def public_tables(table_metadata):
    return [name for name in schema.TABLES
            if name not in PRIVATE and not (table_metadata.get(name) or {}).get("hidden")]


def file_columns(conn, table):
    """The table's columns in the order the file (and so the CSV export) has them, generated ones included."""
    return [row[1] for row in conn.execute(f"pragma table_xinfo([{table}])") if row[6] in (0, 2, 3)]


def field(table, column):
    spec = schema.TABLES[table]
    if column in spec["columns"]:
        python_type, description = spec["columns"][column]
        kind = "array" if column in schema.JSON_LISTS.get(table, []) else FIELD_TYPES[python_type]
    elif column in spec.get("generated", {}):
        kind, description = "string", spec["generated"][column][1]
    else:       # a column the file has and this version of the schema does not know
        kind, description = "string", ""
    result = {"name": column, "type": kind, "description": description}
    if column in spec.get("required", ()):
        result["constraints"] = {"required": True}
    return result


def table_schema(conn, table):
    pk = schema.pk(table)
    return {
        "fields": [field(table, column) for column in file_columns(conn, table)],
        "primaryKey": list(pk) if isinstance(pk, (tuple, list)) else [pk],
        "missingValues": [""],
    }


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-") or "licence"


def licence(title, url):
    """A Data Package licence: `path` when the source links its licence, else a `name` (required)."""
    entry = {"title": title}
    if url:
        entry["path"] = url
    else:
        entry["name"] = slug(title)
    return entry


def source_rows(conn):
    keys = ("source", "title", "publisher", "licence", "licence_url", "live_url", "table_name")
    return [dict(zip(keys, row)) for row in conn.execute(f"select {', '.join(keys)} from sources order by source")]


def descriptor(conn, metadata, path_of, homepage=None):
    """The package for the database open on ``conn``; ``path_of(table)`` gives each resource's path
    and the keys that say how to read it (format, mediatype, dialect)."""
    tables_meta = ((metadata.get("databases") or {}).get("minhbach") or {}).get("tables") or {}
    sources = source_rows(conn)
    resources = []
    for table in public_tables(tables_meta):
        meta = tables_meta.get(table) or {}
        filled_by = [s for s in sources if s["table_name"] == table]
        resource = {"name": table, **path_of(table), "profile": "tabular-data-resource",
                    "title": meta.get("title") or table,
                    "description": squash(meta.get("description") or ""),
                    "schema": table_schema(conn, table)}
        if filled_by:
            resource["sources"] = [{"title": f"{s['publisher']} ({s['source']})", **({"path": s["live_url"]} if s["live_url"] else {})}
                                   for s in filled_by]
            resource["licenses"] = unique_licences(filled_by)
        resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": "minhbach",
        "title": metadata.get("title") or "Minh Bạch",
        "description": squash(metadata.get("description") or ""),
        **({"homepage": homepage} if homepage else {}),
        "licenses": unique_licences(sources),
        "sources": [{"title": f"{s['publisher']} ({s['source']})", **({"path": s["live_url"]} if s["live_url"] else {})}
                    for s in sources],
        "resources": resources,
    }


def unique_licences(sources):
    seen = {}
    for s in sources:
        if s["licence"]:
            seen.setdefault((s["licence"], s["licence_url"]), licence(s["licence"], s["licence_url"]))
    return list(seen.values())


def for_file(db_path, metadata):
    """The package of a SQLite file, each resource one of its tables (as written beside a snapshot)."""
    from pathlib import Path
    name = Path(db_path).name
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return descriptor(conn, metadata, lambda table: {
            "path": name, "format": "sqlite", "mediatype": "application/vnd.sqlite3", "dialect": {"table": table}})
    finally:
        conn.close()
