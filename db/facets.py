"""Facet counts computed once per build, because the published file never changes.

Datasette counts every facet of a table page with a GROUP BY over the whole table (at 1M rows, five
facets cost about a second per page). The answers depend only on the file, so `finalize` stores
them in `facet_counts`: for each table and map view, every low-cardinality indexed column counted
over all its rows (`filter_column = ''`) and under each single equality filter on another such
column (`?province_code=48`). `plugins/facet_counts.py` answers from here and counts anything else
(searches, several filters, ranges) itself.
"""
from collections import Counter

from db import schema

# A column with more distinct values than this is not a facet anyone reads (ids, dates, names).
MAX_DISTINCT = 500
# Above this many distinct combinations the per-filter counts cost more than they save: only the
# whole-table counts are stored.
MAX_COMBINATIONS = 300_000


def facet_columns(conn, table):
    """The leading columns of the table's indexes: columns with a few distinct values, not all null."""
    columns = []
    for column in dict.fromkeys(index[0] for index in schema.TABLES[table]["indexes"]):
        if column in schema.BOOKKEEPING:      # when we saw a row is not a facet, and changes every run
            continue
        distinct = conn.execute(
            f"select count(*) from (select distinct [{column}] from [{table}] "
            f"where [{column}] is not null limit {MAX_DISTINCT + 1})").fetchone()[0]
        if 0 < distinct <= MAX_DISTINCT:
            columns.append(column)
    return columns


def counts(conn, table, columns):
    """(filter_column, filter_value, facet_column, value) -> count, from one GROUP BY over all columns."""
    listed = ", ".join(f"[{c}]" for c in columns)
    combinations = conn.execute(f"select {listed}, count(*) from [{table}] group by {listed}").fetchall()
    with_filters = len(combinations) <= MAX_COMBINATIONS
    totals = Counter()
    for *values, n in combinations:
        pairs = [(c, v) for c, v in zip(columns, values) if v is not None]   # facets skip nulls
        for column, value in pairs:
            totals["", "", column, value] += n
        if with_filters:
            for f_column, f_value in pairs:           # `col = x` never selects a null
                for column, value in pairs:
                    totals[f_column, str(f_value), column, value] += n
    return totals


def build(conn):
    """Counts for every table, and for the map views (their own rows: placed and still listed)."""
    conn.execute("delete from facet_counts")
    targets = [(t, facet_columns(conn, t)) for t in schema.TABLES
               if t != "facet_counts" and schema.TABLES[t]["indexes"]]
    for view in schema.VIEWS:
        present = {row[1] for row in conn.execute(f"pragma table_info([{view}])")}
        base = view.removeprefix("map_")
        if present and base in schema.TABLES:
            targets.append((view, [c for c in facet_columns(conn, base) if c in present]))
    for table, columns in targets:
        if not columns:
            continue
        conn.executemany(
            "insert into facet_counts (table_name, filter_column, filter_value, facet_column, value, count) "
            "values (?, ?, ?, ?, ?, ?)",
            ((table, fc, fv, c, str(v), n) for (fc, fv, c, v), n in counts(conn, table, columns).items()))
