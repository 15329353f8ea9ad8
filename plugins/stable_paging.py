"""Every sort pages through every row exactly once: JSON, HTML and streamed CSV (`_stream=on`).

Datasette 0.65.5 sorts the first page of a sorted table by the sort column alone and adds the
primary key as tie-breaker only once `_next` is present (views/table.py). Our default sorts
(`sort_desc: published`, `decided`…) have many ties and NULLs, so the first page cuts a group of
ties in one order and the next page continues it in another: rows repeat and others never appear.
Datasette 1.0a has the same code (its issue #2019 plans to refactor the keyset pagination).

This plugin changes only that part of `TableView._data_traced`, by a few exact text replacements
of its source (each must match once, or the import fails loudly: Datasette is pinned at 0.65.5):

- every page of a sorted table is ordered by `<column> <dir>, rowid <dir>` (the same direction),
  so the order is total and the same on every page;
- `_next` is `<sort value>,<rowid>` and selects the rows strictly after that key in that order;
- the tie-breaker is the rowid, not the text `id`: every index carries the rowid after its columns,
  so `order by decided desc, rowid desc` is read straight from `idx_..._decided` (EXPLAIN QUERY
  PLAN: no temp b-tree), where `decided desc, id` sorts each group of ties (measured at 1M rows:
  0.4 ms against 519 ms for a page inside 100k NULL dates);
- facets of a later page are counted over the page's filters, not only over the rows after `_next`.

Unsorted tables keep Datasette's own keyset on the primary key (already total and consistent);
views keep Datasette's offset paging. A table without rowid (WITHOUT ROWID) keeps the primary key
as tie-breaker, on every page too.
"""
import inspect

from datasette.utils import escape_sqlite, path_from_row_pks, urlsafe_components
from datasette.utils.asgi import BadRequest
from datasette.views import table as table_module

_rowid_tables = {}


async def has_rowid(db, table):
    """False for a WITHOUT ROWID table (its `rowid` is an error); cached: the file never changes."""
    key = (db.name, table)
    if key not in _rowid_tables:
        try:
            await db.execute(f"select rowid from {escape_sqlite(table)} limit 0")
            _rowid_tables[key] = True
        except Exception:   # sqlite3.OperationalError: no such column: rowid
            _rowid_tables[key] = False
    return _rowid_tables[key]


def tie_breaker(rowid, order_by_pks, descending):
    if rowid:
        return "rowid desc" if descending else "rowid"
    return order_by_pks


def after_clause(token, table, column, descending, rowid, pks, first_param):
    """WHERE clause and params selecting the rows after `token` (`<sort value>,<key>`) in the order
    `<column> <dir> , <tie-breaker>`. SQLite puts NULLs first ascending and last descending.
    With a rowid, the value compared is the one stored in that row, not the token's text: a column
    declared without a type keeps integers as integers, and the text "10" sorts after every number."""
    parts = token.split(",")
    components = urlsafe_components(token)
    keys = 1 if rowid else len(pks)
    if len(components) != keys + 1:
        raise BadRequest("_next không hợp lệ · invalid _next token")
    value = None if parts[0] == "$null" else components[0]
    params = {}

    def param(v):
        name = f"p{first_param + len(params)}"
        params[name] = v
        return f":{name}"

    col = escape_sqlite(column)
    if rowid:
        try:
            key = param(int(components[1]))
        except ValueError:
            raise BadRequest("_next không hợp lệ · invalid _next token")
        after_key = f"rowid {'<' if descending else '>'} {key}"
        stored = f"(select {col} from {escape_sqlite(table)} where rowid = {key})"
    else:
        after_key = table_module.compound_keys_after_sql(pks, first_param)
        for i, v in enumerate(components[1:]):
            params[f"p{first_param + i}"] = v
    if value is None:
        clause = (f"({col} is null and {after_key})" if descending
                  else f"({col} is not null or ({col} is null and {after_key}))")
    else:
        p = stored if rowid else param(value)
        # Ascending, `col >= v and (…)` lets SQLite start the index scan at v. Descending, the NULLs
        # that follow every value make it an OR: the scan starts at the top (as Datasette's own).
        clause = (f"({col} < {p} or {col} is null or ({col} = {p} and {after_key}))" if descending
                  else f"({col} >= {p} and ({col} > {p} or {after_key}))")
    return clause, params


async def next_key(db, table, row, pks, use_rowid, sorted_by):
    """The key part of the `_next` token for the last row of a page."""
    if not sorted_by or use_rowid or not await has_rowid(db, table):
        return path_from_row_pks(row, pks, use_rowid)
    where = " and ".join(f"{escape_sqlite(pk)} = :pk{i}" for i, pk in enumerate(pks))
    rowid = (await db.execute(f"select rowid from {escape_sqlite(table)} where {where}",
                              {f"pk{i}": row[pk] for i, pk in enumerate(pks)})).single_value()
    return str(rowid)


# (original text, replacement): each original must occur exactly once in _data_traced's source.
PATCHES = [
    (   # a total order on every page of a sorted table, not only after the first
        """        from_sql = "from {table_name} {where}".format(""",
        """        stable_rowid = await has_rowid(db, table_name)
        if (sort or sort_desc) and not is_view:
            order_by = f"{order_by}, {tie_breaker(stable_rowid or use_rowid, order_by_pks, bool(sort_desc))}"
        from_sql = "from {table_name} {where}".format(""",
    ),
    (   # the keyset of a sorted table follows that order; facets count the filtered rows
        """        _next = _next or request.args.get("_next")
        offset = ""
        if _next:""",
        """        _next = _next or request.args.get("_next")
        offset = ""
        filter_where_clauses = list(where_clauses)
        if _next and (sort or sort_desc) and not is_view:
            clause, next_params = after_clause(_next, table_name, sort or sort_desc, bool(sort_desc),
                                               stable_rowid or use_rowid, pks, len(params))
            where_clauses.append(clause)
            params.update(next_params)
        elif _next:""",
    ),
    (   # (the tie-breaker is already in order_by)
        """                    order_by = f"{order_by}, {order_by_pks}"
""",
        "",
    ),
    (
        """                select_all_columns=select_all_columns,
                table_name=escape_sqlite(table_name),
                where=where_clause,""",
        """                select_all_columns=select_all_columns,
                table_name=escape_sqlite(table_name),
                where=("where {} ".format(" and ".join(filter_where_clauses)) if filter_where_clauses else ""),""",
    ),
    (
        """                next_value = path_from_row_pks(rows[-2], pks, use_rowid)""",
        """                next_value = await next_key(db, table_name, rows[-2], pks, use_rowid, sort or sort_desc)""",
    ),
]


def patched_data_traced():
    source = inspect.getsource(table_module.TableView._data_traced)   # indented as in its class
    for original, replacement in PATCHES:
        count = source.count(original)
        if count != 1:
            raise RuntimeError(f"stable_paging: Datasette's table view changed ({count} matches for {original[:60]!r})")
        source = source.replace(original, replacement)
    namespace = dict(vars(table_module), has_rowid=has_rowid, tie_breaker=tie_breaker,
                     after_clause=after_clause, next_key=next_key)
    exec(compile("class _Patched:\n" + source, table_module.__file__, "exec"), namespace)
    return namespace["_Patched"]._data_traced


if not getattr(table_module.TableView, "_stable_paging", False):
    table_module.TableView._data_traced = patched_data_traced()
    table_module.TableView._stable_paging = True
