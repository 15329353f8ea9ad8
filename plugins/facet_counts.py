"""Column facets answered from `facet_counts` (computed when the file was built, see db/facets.py).

Datasette counts each facet with a GROUP BY over the page's rows: at 1M rows about 0.2 s per facet,
on every page view. On the whole table, or under one equality filter (`?province_code=48`), the
answer is already in the file. This facet class replaces Datasette's own `column` facet class and
answers those cases with one indexed lookup. Any other page (a search, several filters, a range)
has all its facets counted by ONE grouped query over its rows instead of one query per facet, so a
search's hits are found and read once; past facet_time_limit_ms it falls back to Datasette's own
code (a query per facet, each with its own limit). The result has the same shape, order and toggle
links as Datasette's (tests/test_facet_counts.py compares the two on every facet of the demo).

A full-text search with more than FACET_CAP hits is not faceted unless asked (`_facet_all=1`): its
facets would read every hit (40,000 rows of a 1M-row table for a common word, ~0.5 s). They are
listed in `facets_timed_out` (Datasette's word for "not counted"); the page's count is still exact
(plugins/search_plan.py counts it on the full-text index).
"""
import re
import urllib.parse
from collections import Counter

import datasette.facets
from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.plugins import pm
from datasette.database import QueryInterrupted
from datasette.utils import detect_json1, escape_sqlite, path_with_added_args, path_with_removed_args

_fk_columns = {}     # (database, table) -> its foreign-key columns, for files that cannot change
DOT_SEGMENT = re.compile(r"(^|/)\.\.?(/|$)")
FACET_CAP = 10_000   # hits of a search above which facets are counted only on request (`_facet_all=1`)
LOOKUP = ("select facet_column, value, count from facet_counts "
          "where table_name = :table and filter_column = :column and filter_value = :value")

# Datasette's default plugin registers ColumnFacet, DateFacet and ArrayFacet; this module registers
# the same three with ColumnFacet replaced, so a facet is never counted twice.
if pm.is_registered(datasette.facets):
    pm.unregister(datasette.facets)


@hookimpl
def register_facet_classes():
    return [PrecomputedColumnFacet, DateFacet] + ([ArrayFacet] if detect_json1() else [])


class PrecomputedColumnFacet(ColumnFacet):
    def get_configs(self):
        """Each column once: `_facet=province` on a table whose metadata already facets by province
        would otherwise be counted twice (in one grouped query: doubled counts) and shown as `province_2`.
        The first config wins, so a metadata facet stays one (not hideable)."""
        seen, configs = set(), []
        for config in super().get_configs():
            column = config["config"].get("column") or config["config"]["simple"]
            if column not in seen:
                seen.add(column)
                configs.append(config)
        return configs

    def _filter(self):
        """('', '') for the whole table, (column, value) for one equality filter, None otherwise."""
        if not self.table:
            return None
        prefix = f"from {escape_sqlite(self.table)} "
        if prefix not in self.sql:
            return None
        where = self.sql.split(prefix, 1)[1].strip()
        # only the parameters the WHERE uses (a later page also carries its `_next` key's)
        params = {k: v for k, v in (self.params or {}).items() if re.search(rf":{re.escape(k)}\b", where)}
        if not where and not params:
            return ("", "")
        match = re.fullmatch(r'where ("[^"]+"|\[[^\]]+\]|\w+) = :p0', where)   # Datasette's `exact` filter
        if match and list(params) == ["p0"]:
            return (match.group(1).strip('[]"'), str(params["p0"]))
        return None

    async def _stored(self):
        """facet column -> [(value, count)], or {} when the file has no counts for this page."""
        where = self._filter()
        if where is None:
            return {}
        db = self.ds.get_database(self.database)
        if db.is_mutable or "facet_counts" not in await db.table_names():
            return {}   # counts are only exact for a file that cannot change after they were made
        rows = await db.execute(LOOKUP, {"table": self.table, "column": where[0], "value": where[1]})
        stored = {}
        for column, value, count in rows:
            stored.setdefault(column, []).append((value, count))
        return stored

    async def facet_results(self):
        configs = self.get_configs()
        if not configs:
            return [], []
        columns = [c["config"].get("column") or c["config"]["simple"] for c in configs]
        types = await self._types()
        counts = {column: [(types.get(column, str)(v), n) for v, n in pairs]
                  for column, pairs in (await self._stored()).items()}
        missing = [c for c in columns if c not in counts]
        live, timed_out = {}, []
        if missing and self._capped():
            missing, timed_out = [], missing
        if missing:
            try:
                counts.update(await self._counted(missing))
            except QueryInterrupted:    # Datasette's own way: a query per facet, each with its time limit
                self.get_configs = lambda: [c for c, col in zip(configs, columns) if col in missing]
                computed, timed_out = await super().facet_results()
                live = {r["name"]: r for r in computed}
        results = []
        for config, column in zip(configs, columns):
            if column in live or column not in counts:
                results.extend([live[column]] if column in live else [])
                continue
            results.append(await self._result(config, column, counts[column]))
        return results, timed_out

    def _capped(self):
        """A search with more hits than FACET_CAP, not asked to count them all."""
        return (self.row_count or 0) > FACET_CAP and "match escape_fts(" in self.sql \
            and not self.request.args.get("_facet_all")

    async def _counted(self, columns):
        """Counts of several facet columns from ONE query over the page's rows (a search's hits are
        found and read once, not once per facet). Raises QueryInterrupted past facet_time_limit_ms."""
        listed = ", ".join(escape_sqlite(c) for c in columns)
        rows = await self.ds.execute(
            self.database, f"select {listed}, count(*) from ({self.sql}) group by {listed}", self.params,
            truncate=False, custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        counts = {c: Counter() for c in columns}
        for row in rows.rows:
            for column, value in zip(columns, row):
                if value is not None:         # as Datasette: `where col is not null`
                    counts[column][value] += row[-1]
        return {c: list(counter.items()) for c, counter in counts.items()}

    async def _result(self, config, column, pairs):
        """One facet, in Datasette's shape and order (count desc, then value)."""
        size = self.get_facet_size()
        rows = sorted(pairs, key=lambda r: (-r[1], isinstance(r[0], str), r[0]))
        expanded = await self._labels(column, [v for v, _n in rows[:size]])
        column_qs = f"{column}__exact" if column.startswith("_") else column
        qs_pairs = self.get_querystring_pairs()
        added, absolute = self._links()
        values = []
        for value, count in rows[:size]:
            selected = (column_qs, str(value)) in qs_pairs
            toggle = (path_with_removed_args(self.request, {column_qs: str(value)}) if selected
                      else added(column_qs, value))
            values.append({
                "value": value, "label": expanded.get((column, value), value), "count": count,
                "toggle_url": absolute(toggle),
                "selected": selected,
            })
        return {
            "name": column, "type": self.type, "hideable": config["source"] != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
            "results": values, "truncated": len(rows) > size,
        }

    async def _labels(self, column, values):
        """Datasette's `expand_foreign_keys` (labels of a foreign-key column's values), without asking the
        file for the table's foreign keys on every facet when the file cannot change: a column that
        references nothing has no labels ({}, as Datasette answers)."""
        db = self.ds.get_database(self.database)
        if not db.is_mutable:
            key = (db.name, self.table)
            if key not in _fk_columns:
                _fk_columns[key] = {fk["column"] for fk in await db.foreign_keys_for_table(self.table)}
            if column not in _fk_columns[key]:
                return {}
        return await self.ds.expand_foreign_keys(self.database, self.table, column, values)

    def _links(self):
        """(added, absolute) for this request: `added(column, value)` is Datasette's
        `path_with_added_args(request, {column: value})` and `absolute(path)` its
        `absolute_url(request, urls.path(path))`, with the request's query string parsed and its origin
        worked out once per request instead of once per facet value (urljoin through PrefixedUrlString
        cost ~0.3 ms a link, ~25 ms of a table page with six facets). Anything unusual (a None value, a
        path with dot segments, `;`, `#`, a trailing `?`) goes through Datasette's own functions."""
        links = getattr(self, "_links_cache", None)
        if links is not None:
            return links
        request, ds = self.request, self.ds
        path = request.path
        current = urllib.parse.urlencode(urllib.parse.parse_qsl(request.query_string))
        base_url = ds.setting("base_url")
        origin = ds.absolute_url(request, "/")
        origin = origin[:-1] if origin.endswith("/") else None

        def added(column, value):
            if value is None:
                return path_with_added_args(request, {column: value})
            extra = urllib.parse.urlencode([(column, value)])
            return f"{path}?{current}&{extra}" if current else f"{path}?{extra}"

        def absolute(toggle):
            prefixed = base_url + (toggle[1:] if toggle.startswith("/") else toggle)
            if origin is None or not prefixed.startswith("/") or prefixed.startswith("//") \
                    or prefixed.endswith("?") or "#" in prefixed or ";" in prefixed \
                    or DOT_SEGMENT.search(prefixed.partition("?")[0]):
                return ds.absolute_url(request, ds.urls.path(toggle))
            return origin + prefixed

        self._links_cache = (added, absolute)
        return self._links_cache

    async def _types(self):
        """Values are stored as text; integer columns are given back as integers, as SQLite would."""
        db = self.ds.get_database(self.database)
        details = await db.table_column_details(self.table)
        return {c.name: int for c in details if (c.type or "").upper() == "INTEGER"}
