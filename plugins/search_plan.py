"""A plan for a table search with many hits (`?_search=` on recalls, violations, listings…).

Datasette 0.65.5 turns `?_search=nuoc mam` into `rowid in (select rowid from <t>_fts where … match …)`
and runs three queries over the hits: the page (`order by decided desc` — every hit read, then
sorted), the count (every hit looked up in the table) and the facets (every hit read again). At 1M
rows a word in 4% of the rows (40,000 hits, ~2.9 KB each) made each of them a few hundred ms.

This plugin changes two of those queries as Datasette sends them to SQLite (same rows, same numbers):

- **the count** of a search with no other filter is counted on the full-text index alone
  (`select count(*) from <t>_fts where <t>_fts match …`): the FTS table holds exactly one entry per
  row of its table (db/build.py writes both), so the number is the same and no row is read;
- **the page** of a search with more than SCAN_MIN hits, sorted by a column that leads an index
  (`decided`, `published`…), reads that index in order and keeps the rows that are hits
  (`+rowid in (…)`: the `+` tells SQLite not to look rows up by the hit list), stopping at the page:
  at 4% hits about 2,500 index entries and 101 rows instead of 40,000 rows and a sort. Below
  SCAN_MIN hits, reading the hits and sorting them is cheaper and the query is left alone.

The facets of a search past 10,000 hits are capped in plugins/facet_counts.py (FACET_CAP).
Only the exact SQL shapes Datasette generates are touched; everything else passes through.
"""
import re
from collections import OrderedDict

from datasette.database import Database

SCAN_MIN = 2000      # hits above which the page is read in index order
_NAME = r'(?:\[[^\]]+\]|"[^"]+"|\w+)'
_IN_FTS = rf"rowid in \(select rowid from (?P<fts>{_NAME}) where (?P=fts) match escape_fts\(:search\)\)"
SEARCH = re.compile(rf"(?<![+\w.]){_IN_FTS}")
COUNT = re.compile(rf"select count\(\*\) from (?P<table>{_NAME}) where {_IN_FTS} ?")
PAGE = re.compile(rf"select (?:(?!\bcount\().)+? from ({_NAME}) where (.+?)order by (\[[^\]]+\]|\w+)[^()]*? limit \d+(?: offset \d+)?",
                  re.S)

_hits = OrderedDict()          # (db, fts, search) -> number of hits; the files served never change
_leading = {}                  # (db, table) -> columns that lead an index


def unquote(name):
    return name[1:-1] if name[:1] in '["' else name


async def hits(db, fts, search):
    key = (db.name, fts, search)
    if key not in _hits:
        rows = await _execute(db, f"select count(*) from {fts} where {fts} match escape_fts(:search)",
                              {"search": search})
        _hits[key] = rows.single_value()
        while len(_hits) > 512:
            _hits.popitem(last=False)
    return _hits[key]


async def leading_columns(db, table):
    key = (db.name, table)
    if key not in _leading:
        columns = set()
        for index in (await _execute(db, "select name from pragma_index_list(:t)", {"t": table})).rows:
            first = (await _execute(db, "select name from pragma_index_info(:i) where seqno = 0",
                                    {"i": index[0]})).first()
            if first and first[0]:
                columns.add(first[0])
        _leading[key] = columns
    return _leading[key]


async def planned(db, sql, params):
    """The SQL to run instead of `sql` (or `sql` itself)."""
    if db.is_mutable or "match escape_fts(:search)" not in sql or not isinstance(params, dict) \
            or not isinstance(params.get("search"), str):
        return sql
    count = COUNT.fullmatch(sql)
    if count and unquote(count.group("fts")) == f"{unquote(count.group('table'))}_fts":
        fts = count.group("fts")
        return f"select count(*) from {fts} where {fts} match escape_fts(:search)"
    page = PAGE.fullmatch(sql.strip())
    if page and "group by" not in sql:
        search = SEARCH.search(page.group(2))
        if search and unquote(search.group("fts")) == f"{unquote(page.group(1))}_fts" \
                and unquote(page.group(3)) in await leading_columns(db, unquote(page.group(1))) \
                and await hits(db, search.group("fts"), params["search"]) > SCAN_MIN:
            return sql[:sql.index(search.group(0))] + "+" + sql[sql.index(search.group(0)):]
    return sql


_execute = Database.execute


async def execute(self, sql, params=None, *args, **kwargs):
    return await _execute(self, await planned(self, sql, params), params, *args, **kwargs)


if not getattr(Database, "_search_plan", False):
    Database.execute = execute
    Database._search_plan = True
