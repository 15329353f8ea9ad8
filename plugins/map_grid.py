"""Aggregate map endpoint: a whole table on a map in one small request, at any size.

    /-/map/<table>.json?zoom=Z&bbox=w,s,e,n[&province_code=..][&ward_code=..][&year=..][&by=grid|province|ward]
    /-/map/<database>/<table>.json?...          (the first form looks the table up in every database)
    /-/map.json                                  (which indexes are built: for operators and the benchmark)

The answer is either
- ``"mode": "cells"``: counts per grid cell of about 64 screen pixels at that zoom (a square grid in
  degrees, 360/2^(zoom+2) wide), each ``[latitude, longitude, count]`` at the mean position of its
  rows, for the cells that meet the bounding box; or
- ``"mode": "points"``: when the box holds at most ``max_points`` rows (5,000 unless configured), the
  rows themselves, each ``[pk, latitude, longitude, label, *details]`` for popups (link with the row
  page; ``details`` names the further columns: what happened, when, the fine and its hedge word, how
  precise the point is — those of DETAILS the table has); or
- ``"mode": "province"`` / ``"ward"`` with ``by=province|ward``: counts per administrative unit,
  placed at the unit's centroid from the ``provinces``/``wards`` tables when the database has them.

Why: datasette-cluster-map pages through the table 1,000 rows at a time, one request after another,
with every column and a count per page (about 23 MB and 11 s for 100k rows; 1M rows cannot load).
Here each table's coordinates are read once into a grid index held in memory (a table scan: about 2 s
at 1M rows, done in a background thread when the server starts), and every request is then answered
from memory in milliseconds; points are fetched by rowid. For an immutable database the index is kept
for the life of the process; for a mutable one it is rebuilt when the file changes.

Everything a user sends is validated; values are bound as SQL parameters, never formatted into SQL.
Table and column names come from the database's own schema (checked against it, then quoted).
Permissions: the same view-instance / view-database / view-table checks as the table page.

Configuration (metadata ``plugins: map-grid:``, optional): ``max_points`` (5000),
``latitude_column`` / ``longitude_column`` (default ``latitude``/``longitude``, or ``lat``/``lon``…),
``label_column`` (default: the first of name, establishment, title, holder, product, ward, province),
``warm`` (default true: build the indexes of every table with coordinates when the server starts,
in a background thread; in-process uses such as the build's smoke test do not warm).
"""
import asyncio
import concurrent.futures
import json
import math
import os
import re
import sqlite3
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils import add_cors_headers, escape_sqlite
from datasette.utils.asgi import Forbidden, Response

PLUGIN = "map-grid"
FINEST = 16                 # finest grid level: cells 360/2^16 degrees (about 600 m) wide
MAX_ZOOM = 22
MAX_POINTS = 5000
FILTERS = ("province_code", "ward_code")   # also counted per unit (by=province|ward)
YEAR = "year"               # a further filter: the table's year column (generated from its date)
# Columns sent with each point when the table has them, for popups and the list beside the map:
# what happened, when, the fine with its hedge word, the scheme and standing, how precise the point is.
DETAILS = ("violation", "sanction", "decided", "fine_vnd", "fine_qualifier", "fine_text", "scheme", "rating",
           "rating_text", "kind", "status", "valid_from", "geo_precision", "address", "province")
LAT_LON = [("latitude", "longitude"), ("lat", "lon"), ("lat", "lng"), ("lat", "long")]
LABELS = ("name", "establishment", "title", "holder", "product", "ward", "province")
CODE = re.compile(r"^[0-9A-Za-z_.-]{1,20}$")
MAX_FILTERED = 32           # filtered indexes kept (one per province or ward asked for)

_lock = threading.Lock()
_indexes = OrderedDict()    # key -> concurrent.futures.Future of _Index
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-grid")


class BadRequest(Exception):
    pass


# --------------------------------------------------------------------------- the index

class _Index:
    """Counts and position sums per grid cell at every level, rowids per finest cell."""

    def __init__(self, rows, years=False):
        """``rows``: (rowid, lat, lon, province_code, ward_code), with the year sixth when ``years``:
        the rows of each year are then also kept, compactly, so that a map filtered by year alone is
        indexed from memory (``for_year``) instead of by a table scan (2.35 s at 1M rows: the year is
        generated from the date and no index leads with it)."""
        scale = (1 << FINEST) / 360.0
        finest, rowids = {}, {}
        units = {"province_code": {}, "ward_code": {}}
        self.total = 0
        self.by_year = by_year = {} if years else None
        self._years = {}
        codes = {}
        for row in rows:
            rowid, lat, lon, pc, wc = row[:5]
            try:
                lat, lon = float(lat), float(lon)
            except (TypeError, ValueError):
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
                continue
            if by_year is not None and row[5] is not None:
                year = row[5]
                kept = by_year.get(year)
                if kept is None:
                    by_year[year] = kept = (array("q"), array("d"), array("d"), [], [])
                kept[0].append(rowid)
                kept[1].append(lat)
                kept[2].append(lon)
                kept[3].append(codes.setdefault(pc, pc))     # one string per code, not one per row
                kept[4].append(codes.setdefault(wc, wc))
            key = (min(int((lon + 180) * scale), (1 << FINEST) - 1), min(int((lat + 90) * scale), (1 << FINEST) - 1))
            cell = finest.get(key)
            if cell is None:
                finest[key] = cell = [0, 0.0, 0.0]
                rowids[key] = array("q")
            cell[0] += 1
            cell[1] += lat
            cell[2] += lon
            rowids[key].append(rowid)
            for name, value in (("province_code", pc), ("ward_code", wc)):
                if value is not None:
                    unit = units[name].get(value)
                    if unit is None:
                        units[name][value] = unit = [0, 0.0, 0.0]
                    unit[0] += 1
                    unit[1] += lat
                    unit[2] += lon
            self.total += 1
        self.levels = {FINEST: finest}
        for level in range(FINEST - 1, -1, -1):
            coarser = {}
            for (cx, cy), (n, slat, slon) in self.levels[level + 1].items():
                cell = coarser.get((cx >> 1, cy >> 1))
                if cell is None:
                    coarser[(cx >> 1, cy >> 1)] = [n, slat, slon]
                else:
                    cell[0] += n
                    cell[1] += slat
                    cell[2] += slon
            self.levels[level] = coarser
        self.rowids = rowids
        self.units = units
        self._sorted = {}
        self.built = time.time()

    def for_year(self, year):
        """The index a scan `where year = :year` would build (the same rows in the same rowid order, so the
        same sums), or None when this index was built without years."""
        if self.by_year is None:
            return None
        index = self._years.get(year)
        if index is None:
            kept = self.by_year.get(year)
            if kept is None and year.isdigit():
                kept = self.by_year.get(int(year))       # a year stored as an integer
            index = self._years[year] = _Index(zip(*kept) if kept else ())
        return index

    def _level_sorted(self, level):
        """Cells of a level sorted by (cx, cy), for range lookups."""
        ordered = self._sorted.get(level)
        if ordered is None:
            keys = sorted(self.levels[level])
            ordered = self._sorted[level] = ([k[0] for k in keys], keys)
        return ordered

    def cells(self, level, bbox):
        """(key, [n, sum lat, sum lon]) of the cells of ``level`` that meet the box."""
        w, s, e, n = bbox
        scale = (1 << level) / 360.0
        top = (1 << level) - 1
        x0, x1 = max(0, int((w + 180) * scale)), min(top, int((e + 180) * scale))
        y0, y1 = max(0, int((s + 90) * scale)), min(top, int((n + 90) * scale))
        xs, keys = self._level_sorted(level)
        cells = self.levels[level]
        for i in range(bisect_left(xs, x0), bisect_right(xs, x1)):
            key = keys[i]
            if y0 <= key[1] <= y1:
                yield key, cells[key]


def _build(conn, table, lat, lon, filters, has):
    """Read the coordinates of ``table`` (one scan) into an _Index. Names are checked by the caller."""
    where = [f"{escape_sqlite(lat)} is not null", f"{escape_sqlite(lon)} is not null"]
    params = []
    for column, value in filters:
        where.append(f"{escape_sqlite(column)} = ?")
        params.append(value)
    extra = ", ".join(escape_sqlite(c) if c in has else "null" for c in FILTERS)
    years = not filters and YEAR in has      # the whole table's index also keeps each year's rows
    if years:
        extra += f", {escape_sqlite(YEAR)}"
    sql = (f"select rowid, {escape_sqlite(lat)}, {escape_sqlite(lon)}, {extra} from {escape_sqlite(table)} "
           f"where {' and '.join(where)}")
    return _Index(conn.execute(sql, params), years=years)


def _version(db):
    """What makes an index stale: nothing for an immutable file; the file's size and time otherwise."""
    if not db.is_mutable:
        return ("immutable", db.path)
    if not db.path:
        return ("memory", time.monotonic() // 5)   # in-memory databases: rebuilt at most every 5 s
    stamps = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(db.path + suffix)
            stamps.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append(None)
    return (db.path, *stamps)


def _connect(db):
    mode = "ro&immutable=1" if not db.is_mutable else "ro"
    return sqlite3.connect(f"file:{quote(os.path.abspath(db.path))}?mode={mode}", uri=True, check_same_thread=False)


def _future(key, make):
    """The cached future for ``key``, started with ``make()`` (a callable returning a future) if new."""
    with _lock:
        fut = _indexes.get(key)
        if fut is not None and not (fut.done() and fut.exception() is not None):
            _indexes.move_to_end(key)
            return fut
        fut = make()
        _indexes[key] = fut
        # Drop stale versions of the same table and filters, and the oldest filtered indexes.
        for other in [k for k in _indexes if k[:3] == key[:3] and k != key]:
            del _indexes[other]
        filtered = [k for k in _indexes if k[2]]
        for other in filtered[:max(0, len(filtered) - MAX_FILTERED)]:
            del _indexes[other]
        return fut


async def _index(db, table, lat, lon, filters, has):
    if len(filters) == 1 and filters[0][0] == YEAR and YEAR in has:
        # a year alone: from the whole table's index (built at start), not a scan of the table
        index = (await _index(db, table, lat, lon, (), has)).for_year(filters[0][1])
        if index is not None:
            return index
    key = (db.name, table, filters, _version(db))
    if db.path and not db.is_memory:
        def make():
            def job():
                conn = _connect(db)
                try:
                    return _build(conn, table, lat, lon, filters, has)
                finally:
                    conn.close()
            return _executor.submit(job)
        fut = _future(key, make)
        return await asyncio.wrap_future(fut)
    # In-memory databases: through Datasette's own connection.
    result = concurrent.futures.Future()
    fut = _future(key, lambda: result)
    if fut is result:
        try:
            result.set_result(await db.execute_fn(lambda conn: _build(conn, table, lat, lon, filters, has)))
        except Exception as error:
            result.set_exception(error)
    return await asyncio.wrap_future(fut)


# --------------------------------------------------------------------------- requests

def _config(datasette, database, table):
    return datasette.plugin_config(PLUGIN, database=database, table=table) or {}


async def _table_info(datasette, database, table):
    """(db, table, latitude column, longitude column, columns) or raises BadRequest/LookupError."""
    if database is None:
        for name, db in datasette.databases.items():
            if await db.table_exists(table):
                database = name
                break
        else:
            raise LookupError(f"no table named {table!r}")
    if database not in datasette.databases:
        raise LookupError(f"no database named {database!r}")
    db = datasette.databases[database]
    if not await db.table_exists(table):
        raise LookupError(f"no table named {table!r} in {database!r}")
    columns = await db.table_columns(table)
    config = _config(datasette, database, table)
    pairs = [(config["latitude_column"], config["longitude_column"])] if config.get("latitude_column") else LAT_LON
    for lat, lon in pairs:
        if lat in columns and lon in columns:
            return db, table, lat, lon, columns
    raise BadRequest(f"table {table!r} has no latitude/longitude columns")


def _number(text, name, low, high):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a number, got {text!r}")
    if not (low <= value <= high) or math.isnan(value):
        raise BadRequest(f"{name} must be between {low} and {high}, got {text!r}")
    return value


def _params(args, columns):
    zoom = args.get("zoom", "6")
    if not re.fullmatch(r"\d{1,2}", zoom or "") or int(zoom) > MAX_ZOOM:
        raise BadRequest(f"zoom must be an integer from 0 to {MAX_ZOOM}, got {zoom!r}")
    zoom = int(zoom)
    bbox = args.get("bbox")
    if bbox is None:
        bbox = (-180.0, -90.0, 180.0, 90.0)
    else:
        parts = bbox.split(",")
        if len(parts) != 4:
            raise BadRequest(f"bbox must be west,south,east,north (4 numbers), got {bbox[:100]!r}")
        w, e = (_number(parts[i], name, -180, 180) for i, name in ((0, "bbox west"), (2, "bbox east")))
        s, n = (_number(parts[i], name, -90, 90) for i, name in ((1, "bbox south"), (3, "bbox north")))
        if w > e or s > n:
            raise BadRequest("bbox must have west <= east and south <= north (no antimeridian crossing)")
        bbox = (w, s, e, n)
    filters = []
    for column in (*FILTERS, YEAR):
        value = args.get(column)
        if value is None:
            continue
        if column not in columns:
            raise BadRequest(f"this table has no {column} column to filter on")
        if not CODE.match(value):
            raise BadRequest(f"{column} must be a code of letters and digits, got {value[:40]!r}")
        filters.append((column, value))
    # Parameters starting with "_" (cache busters) are ignored; anything else unknown is an error.
    unknown = sorted(k for k in set(args) - {"zoom", "bbox", "by", *FILTERS, YEAR} if not k.startswith("_"))
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; "
                         "use zoom, bbox, by, " + ", ".join((*FILTERS, YEAR)))
    by = args.get("by", "grid")
    if by not in ("grid", "province", "ward"):
        raise BadRequest(f"by must be grid, province or ward, got {by[:20]!r}")
    if by != "grid" and f"{by}_code" not in columns:
        raise BadRequest(f"by={by} needs a {by}_code column")
    return zoom, bbox, tuple(filters), by


def _within(lat, lon, bbox):
    w, s, e, n = bbox
    return s <= lat <= n and w <= lon <= e


async def _points(db, table, lat, lon, label, pks, index, keys, bbox, limit, details=()):
    rowids = []
    for key in keys:
        rowids.extend(index.rowids[key])
    if not rowids:
        return []
    pk_sql = ", ".join(escape_sqlite(p) for p in pks) if pks else "rowid"
    label_sql = escape_sqlite(label) if label else "null"
    extra_sql = "".join(f", {escape_sqlite(c)}" for c in details)
    sql = (f"select {pk_sql}, {escape_sqlite(lat)}, {escape_sqlite(lon)}, {label_sql}{extra_sql} "
           f"from {escape_sqlite(table)} where rowid in (select value from json_each(:ids))")
    npk = len(pks) if pks else 1
    out = []
    # Chunks keep each statement small; the rowids come from the index, never from the request.
    for start in range(0, len(rowids), 5000):
        result = await db.execute(sql, {"ids": json.dumps(rowids[start:start + 5000])},
                                  custom_time_limit=5000)
        for row in result.rows:
            row = tuple(row)
            pk, (la, lo, name), extra = row[:npk], row[npk:npk + 3], row[npk + 3:]
            if la is None or lo is None or not _within(float(la), float(lo), bbox):
                continue
            out.append([pk[0] if len(pk) == 1 else list(pk), round(float(la), 6), round(float(lo), 6), name, *extra])
            if len(out) > limit:
                return out
    return out


async def _centroids(db, by):
    """Centroids of provinces or wards from the database's reference table, if it has one."""
    table, code = ("provinces", "province_code") if by == "province" else ("wards", "ward_code")
    if not await db.table_exists(table):
        return {}
    columns = await db.table_columns(table)
    if not {code, "latitude", "longitude"} <= set(columns):
        return {}
    name = "province" if by == "province" else "ward"
    name_sql = escape_sqlite(name) if name in columns else "null"
    result = await db.execute(f"select {escape_sqlite(code)}, latitude, longitude, {name_sql} from {escape_sqlite(table)}",
                              custom_time_limit=5000)
    return {r[0]: (r[1], r[2], r[3]) for r in result.rows}


async def map_json(datasette, request):
    database = request.url_vars.get("database")
    table = request.url_vars["table"]
    try:
        db, table, lat, lon, columns = await _table_info(datasette, database, table)
        await datasette.ensure_permissions(request.actor, [
            ("view-table", (db.name, table)), ("view-database", db.name), "view-instance"])
        zoom, bbox, filters, by = _params(request.args, columns)
    except BadRequest as error:
        return _json({"ok": False, "error": str(error)}, status=400)
    except LookupError as error:
        return _json({"ok": False, "error": str(error)}, status=404)
    except Forbidden as error:
        return _json({"ok": False, "error": str(error) or "forbidden"}, status=403)
    config = _config(datasette, db.name, table)
    limit = int(config.get("max_points", MAX_POINTS))
    has = {c for c in (*FILTERS, YEAR) if c in columns}
    started = time.perf_counter()
    index = await _index(db, table, lat, lon, filters, has)
    body = {"ok": True, "database": db.name, "table": table, "zoom": zoom, "bbox": list(bbox),
            "filters": dict(filters), "rows_with_coordinates": index.total}

    if by != "grid":
        centroids = await _centroids(db, by)
        units = []
        for code, (n, slat, slon) in index.units[f"{by}_code"].items():
            la, lo, name = centroids.get(code, (slat / n, slon / n, None))
            if la is not None and lo is not None and _within(la, lo, bbox):
                units.append([round(la, 5), round(lo, 5), n, code, name])
        units.sort(key=lambda u: -u[2])
        body.update(mode=by, total=sum(u[2] for u in units), units=units)
    else:
        level = min(zoom + 2, FINEST)
        hits = list(index.cells(level, bbox))
        total = sum(cell[0] for _key, cell in hits)
        body["total"] = total     # rows in the cells that meet the box (the box itself may hold fewer)
        if total <= limit:
            finest = [key for key, _cell in index.cells(FINEST, bbox)]
            pks = await db.primary_keys(table)
            label = config.get("label_column") or next((c for c in LABELS if c in columns), None)
            details = tuple(c for c in config.get("detail_columns", DETAILS) if c in columns)
            points = await _points(db, table, lat, lon, label, pks, index, finest, bbox, limit, details)
            body.update(mode="points", total=len(points), pk=pks or ["rowid"], label=label, details=list(details),
                        points=points)
        else:
            size = 360.0 / (1 << level)
            body.update(mode="cells", cell_degrees=size, cells=[
                [round(slat / n, 5), round(slon / n, 5), n] for _key, (n, slat, slon) in hits])
    body["ms"] = round((time.perf_counter() - started) * 1000, 1)
    headers = {"cache-control": f"max-age={datasette.setting('default_cache_ttl')}"} if not db.is_mutable else {}
    return _json(body, headers=headers)


def _json(body, status=200, headers=None):
    """JSON as UTF-8 (not \\u escapes: Vietnamese names would take 6 bytes a letter)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                    headers=headers or {}, content_type="application/json; charset=utf-8")


async def map_status(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    with _lock:
        items = list(_indexes.items())
    out = []
    for (database, table, filters, version), fut in items:
        entry = {"database": database, "table": table, "filters": dict(filters), "ready": fut.done()}
        if fut.done() and fut.exception() is None:
            index = fut.result()
            entry.update(rows=index.total, cells=len(index.levels[FINEST]))
        elif fut.done():
            entry["error"] = str(fut.exception())
        out.append(entry)
    return _json({"indexes": out})


@hookimpl
def register_routes():
    return [
        (r"^/-/map\.json$", map_status),
        (r"^/-/map/(?P<database>[^/]+)/(?P<table>[^/]+)\.json$", map_json_with_cors),
        (r"^/-/map/(?P<table>[^/]+)\.json$", map_json_with_cors),
    ]


async def map_json_with_cors(datasette, request):
    """CORS as on Datasette's own JSON when the site runs with --cors (the map is part of the API)."""
    response = await map_json(datasette, request)
    if datasette.cors:
        add_cors_headers(response.headers)
    return response


async def _warm(datasette):
    """Start building the index of every table with coordinates (in the background thread)."""
    if not (datasette.plugin_config(PLUGIN) or {}).get("warm", True):
        return
    for db in list(datasette.databases.values()):
        if db.is_memory or not db.path:
            continue
        for table in await db.table_names():
            try:
                _db, table, lat, lon, columns = await _table_info(datasette, db.name, table)
            except (BadRequest, LookupError):
                continue
            has = {c for c in (*FILTERS, YEAR) if c in columns}

            def make(db=db, table=table, lat=lat, lon=lon, has=has):
                def job():
                    conn = _connect(db)
                    try:
                        return _build(conn, table, lat, lon, (), has)
                    finally:
                        conn.close()
                return _executor.submit(job)
            _future((db.name, table, (), _version(db)), make)


@hookimpl
def asgi_wrapper(datasette):
    """Warm the indexes when a server starts (the ASGI lifespan startup that uvicorn sends), so the first
    map is fast. Not on Datasette objects used in process (the build's smoke test, tests): they never
    receive a lifespan event, and build an index only when a map is asked for."""
    def wrap(app):
        async def warm_on_startup(scope, receive, send):
            if scope["type"] == "lifespan":
                try:
                    await _warm(datasette)
                except Exception:      # warming is an optimisation: never stop a server over it
                    pass
            return await app(scope, receive, send)
        return warm_on_startup
    return wrap
