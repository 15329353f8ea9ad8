"""The public list pages: /thu-hoi (recalls), /xu-phat (penalties), /xep-hang-chung-nhan (ratings,
awards, certificates). Cards, the filters a person uses, newest first, keyset paging, a search box.

This module is the one home of the pages' SQL. Every page query reads one index:
- the order is the table's date column, then rowid, both descending (`LISTS[..]["sort"]`); each
  filter column has an index (column, date) (db/schema.py appends the sort column), so a filtered
  page walks that index in order; with no filter the date index itself;
- the next page starts from a cursor ``_next=<date>,<rowid>`` (the last card shown): a range on the
  date (``date <= ?``) the index seeks to, minus the rows of that same date already shown, so a deep
  page costs what the first does, and every row is listed exactly once (rows without a date come
  last, ``_next=,<rowid>``);
- a search (``q``) reads the table's full-text index (folded as the site search folds: db/fold.py)
  for the matching rowids first. Up to SEARCH_SORT_LIMIT matches are put in date order (a sort of a
  few thousand rowids); above that a search lists the newest-added records first, walking the
  full-text index in rowid order (``_next=r<rowid>``), and the page says so (as /minhbach/search
  does): sorting 340,000 matches by date would take seconds at a million rows.
tests/test_public_pages.py checks each plan with EXPLAIN QUERY PLAN and the listing against SQL.
"""
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from vn.fold import fts_query

DATABASE = "minhbach"
PAGE_SIZE = 20
SEARCH_SORT_LIMIT = 5000

def N_(message):
    """Marks a page title for the catalogue (pybabel extracts N_ from this file; templates translate it)."""
    return message


# path -> the table, its date column, the filters offered (query parameter -> column) and the columns a card shows
LISTS = {
    "thu-hoi": dict(
        table="recalls", sort="published", title=N_("Thu hồi, cảnh báo sản phẩm"),
        filters={"kind": "kind", "jurisdiction": "jurisdiction", "year": "year", "status": "status"},
        columns="id, title, product, brand, company, counterfeit, name_on_product, status, kind, hazard, hazard_code, "
                "risk_class, jurisdiction, authority, published, published_precision, withdrawn"),
    "xu-phat": dict(
        table="violations", sort="decided", title=N_("Xử phạt"),
        filters={"province": "province_code", "jurisdiction": "jurisdiction", "year": "year"},
        columns="id, establishment, defendant, premises, establishment_id, province, address, violation, sanction, "
                "fine_vnd, fine_qualifier, fine_text, authority, jurisdiction, decided, decided_precision, withdrawn"),
    "xep-hang-chung-nhan": dict(
        table="listings", sort="valid_from", title=N_("Xếp hạng, danh hiệu, chứng nhận"),
        filters={"province": "province_code", "jurisdiction": "jurisdiction", "year": "year", "kind": "kind",
                 "status": "status"},
        columns="id, scheme, rating, kind, status, rating_text, product, holder, establishment_id, province, address, "
                "authority, jurisdiction, valid_from, valid_from_precision, valid_until, withdrawn"),
}


def parse_cursor(token):
    """'2024-05-01,123' -> ('2024-05-01', 123); ',123' -> (None, 123); 'r123' -> ('r', 123) (a broad
    search, in rowid order); anything else -> None."""
    if token and token[0] == "r" and token[1:].isdigit():
        return "r", int(token[1:])
    if not token or "," not in token:
        return None
    value, _, rowid = token.rpartition(",")
    if not rowid.isdigit():
        return None
    return (value or None), int(rowid)


def broad_query(spec, filters, q, cursor, limit):
    """A search with more matches than SEARCH_SORT_LIMIT: newest-added first, from the full-text index in
    rowid order (no sort), each match joined to its row and kept if it passes the filters."""
    table = spec["table"]
    where, params = ["1"], {"q": fts_query(q), "r": cursor[1] if cursor else 1 << 62}
    for n, (column, value) in enumerate(sorted(filters.items())):
        where.append(f"t.[{column}] = :f{n}")
        params[f"f{n}"] = value
    columns = ", ".join("t." + c.strip() for c in spec["columns"].split(","))
    return (f"select t.rowid as _rowid, {columns} from (select rowid as r from [{table}_fts] "
            f"where [{table}_fts] match :q and rowid < :r order by rowid desc) f "
            f"join [{table}] t on t.rowid = f.r where {' and '.join(where)} order by f.r desc limit {int(limit)}", params)


def page_queries(spec, filters, q, cursor, limit):
    """[(sql, params)] to run in order until `limit` rows are read: dated rows, then undated ones."""
    table, sort = spec["table"], spec["sort"]
    where, params = [], {}
    for n, (column, value) in enumerate(sorted(filters.items())):
        where.append(f"[{column}] = :f{n}")
        params[f"f{n}"] = value
    if q:
        where.append(f"rowid in (select rowid from [{table}_fts] where [{table}_fts] match :q)")
        params["q"] = fts_query(q)
    select = f"select rowid as _rowid, {spec['columns']} from [{table}]"
    order = f"order by [{sort}] desc, rowid desc limit {int(limit)}"
    queries = []
    if cursor is None or cursor[0] is not None:
        dated = where + [f"[{sort}] is not null"]
        p = dict(params)
        if cursor is not None:
            dated += [f"[{sort}] <= :v", f"not ([{sort}] = :v and rowid >= :r)"]
            p.update(v=cursor[0], r=cursor[1])
        queries.append((f"{select} where {' and '.join(dated)} {order}", p))
    undated = where + [f"[{sort}] is null"]
    p = dict(params)
    if cursor is not None and cursor[0] is None:
        undated.append("rowid < :r")
        p["r"] = cursor[1]
    queries.append((f"{select} where {' and '.join(undated)} order by rowid desc limit {int(limit)}", p))
    return queries


async def is_broad(db, spec, q, sort_limit=SEARCH_SORT_LIMIT):
    """More full-text matches than `sort_limit` (counted no further than that)."""
    if not q:
        return False
    table = spec["table"]
    sql = f"select count(*) from (select rowid from [{table}_fts] where [{table}_fts] match :q limit {int(sort_limit) + 1})"
    return (await db.execute(sql, {"q": fts_query(q)})).rows[0][0] > sort_limit


async def list_rows(db, spec, filters, q, cursor, limit=PAGE_SIZE, sort_limit=SEARCH_SORT_LIMIT):
    """Up to `limit` rows from the cursor on, the cursor of the next page (None on the last), and whether
    the search was too broad to sort by date (then rows are newest-added first)."""
    broad = (cursor is not None and cursor[0] == "r") or (cursor is None and await is_broad(db, spec, q, sort_limit))
    if broad and not q:
        return [], None, False
    queries = [broad_query(spec, filters, q, cursor, limit + 1)] if broad else \
        page_queries(spec, filters, q, cursor, limit + 1)
    rows = []
    for sql, params in queries:
        rows += list((await db.execute(sql, params)).rows)
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = f"r{last['_rowid']}" if broad else f"{last[spec['sort']] or ''},{last['_rowid']}"
    return rows, next_cursor, broad


async def filter_options(db, spec):
    """Each filter's values and counts, from the build's stored facet counts (db/facets.py), provinces by
    name in Vietnamese order (the `vi` collation, plugins/vi_collation.py)."""
    table = spec["table"]
    options = {}
    for param, column in spec["filters"].items():
        if column == "province_code":
            sql = """select f.value, p.province as label, f.count from facet_counts f
                     join provinces p on p.province_code = f.value
                     where f.table_name = :t and f.filter_column = '' and f.facet_column = 'province_code'
                     order by p.province collate vi"""
        else:
            sql = """select value, value as label, count from facet_counts
                     where table_name = :t and filter_column = '' and facet_column = :c
                     order by value desc"""
        options[param] = [dict(r) for r in (await db.execute(sql, {"t": table, "c": column})).rows]
    return options


def make_view(path):
    spec = LISTS[path]

    async def view(datasette, request):
        db = datasette.get_database(DATABASE)
        args = request.args
        filters = {column: args.get(param) for param, column in spec["filters"].items() if args.get(param)}
        q = (args.get("q") or "").strip()
        token = args.get("_next")
        cursor = parse_cursor(token)
        if token and cursor is None:
            raise NotFound("Trang không tồn tại")
        rows, next_cursor, broad = await list_rows(db, spec, filters, q, cursor)
        kept = {k: v for k, v in [("q", q), *((p, args.get(p)) for p in spec["filters"]), ("lang", args.get("lang"))] if v}
        next_url = f"/{path}?" + urlencode({**kept, "_next": next_cursor}) if next_cursor else None
        context = dict(spec=spec, path=path, rows=rows, q=q, args=kept, next_url=next_url,
                       first_url=(f"/{path}?" + urlencode(kept)) if cursor else None,
                       options=await filter_options(db, spec), paged=cursor is not None, broad=broad,
                       sort_limit=SEARCH_SORT_LIMIT)
        html = await datasette.render_template(f"public-{spec['table']}.html", context, request=request)
        return Response.html(html)

    return view


@hookimpl
def register_routes():
    return [(rf"^/{path}$", make_view(path)) for path in LISTS]
