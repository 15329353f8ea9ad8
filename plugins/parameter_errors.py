"""A bad parameter gets a 400 with a one-line reason in Vietnamese and English, never a 500.

Datasette 0.65 answers 500 to `_sort=nope`, `_sort_desc=nope`, `_sort` with `_sort_desc`,
`_timelimit=abc`, an integer beyond SQLite's 64 bits in a range filter, a NUL character, `_next=abc`
on a view, and silently ignores an unknown filter operator (`published__gtx=2025` returned every
row). Every parameter of a table page or canned query is checked here before Datasette sees the
request (`asgi_wrapper`); the 400s Datasette raises itself (`_size=abc`, `_col=nope`, an unknown
column or a malformed search) are given the same bilingual line (`handle_exception`).

The answer has Datasette's error shape: JSON `{"ok": false, "error": …, "status": 400}` for `.json`,
Datasette's error page for HTML, one line of text for other formats (`.csv`, `.atom`…).
"""
import datetime
import json
import re
import sqlite3
import urllib.parse

from datasette import hookimpl
from datasette.filters import Filters
from datasette.utils import tilde_decode
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError

LOOKUPS = {f.key for f in Filters._filters}
NUMERIC_LOOKUPS = {f.key for f in Filters._filters if getattr(f, "numeric", False)}
SQLITE_MAX_INT = 2 ** 63 - 1
# A date as a reader writes it: 2025, 2025-01, 2025-01-15, 15/01/2025, 01/2025 (and a time after a day).
DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ][0-9:.]+Z?)?)?)?|(\d{1,2}/)?\d{1,2}/\d{4}")
# Columns holding dates that range filters compare as dates (see plugins/partial_dates.py).
DATE_SUFFIXES = ("published", "decided", "valid_from", "valid_until", "manufactured", "expires",
                 "first_seen", "last_seen", "withdrawn", "started", "finished", "replaced")
RANGE_LOOKUPS = {"gt", "gte", "lt", "lte"}
# Parameters of the canned queries that must be given, and what each must look like.
QUERY_PARAMS = {
    "changes": {"since": "date"},
    "province_violations": {"province_code": "province_code"},
    "nearby": {"lat": "latitude", "lon": "longitude"},
    "barcode": {"gtin": "gtin"},
    "search_feed": {"q": "text"},
}
SHAPES = ("objects", "arrays", "array", "object", "arrayfirst")   # Datasette 0.65's JSON shapes
EXTENSIONS = ("json", "csv", "atom", "geojson", "xlsx", "tsv")
ENDINGS = tuple("." + e for e in EXTENSIONS)

# Datasette's own 400 messages, in Vietnamese first.
KNOWN = [
    (r"_size must be a positive integer", "_size phải là số nguyên dương"),
    (r"_size must be <= (\d+)", r"_size tối đa là \1"),
    (r"_col=.* - invalid columns", "_col có cột không tồn tại"),
    (r"_nocol=.* - invalid columns", "_nocol có cột không tồn tại"),
    (r"no such column: (.*)", r"không có cột \1"),
    (r"Cannot search by that column", "không thể tìm kiếm theo cột này"),
    (r"fts5: syntax error.*|malformed MATCH expression.*|unterminated string.*", "cú pháp tìm kiếm không hợp lệ"),
    (r"_shape=.*|Invalid _shape.*", "_shape không hợp lệ"),
]


_shapes = {}


async def table_shape(db, table):
    """(is_view, columns, primary keys) of a table or view, None when there is none of that name.
    Cached for an immutable file: every request with parameters is checked, and this never changes."""
    key = (db.name, table)
    if key not in _shapes:
        is_view = bool(await db.get_view_definition(table))
        if is_view or await db.table_exists(table):
            shape = (is_view, await db.table_columns(table), [] if is_view else await db.primary_keys(table))
        else:
            shape = None
        if db.is_mutable:
            return shape
        _shapes[key] = shape
    return _shapes[key]


class BadParameter(Exception):
    status = 400


class NoSuchRecord(BadParameter):
    """A record URL whose key has the wrong number of parts (Datasette: 500, unbound parameter)."""
    status = 404


def bilingual(english):
    """'<Vietnamese> · <English>' for one of Datasette's own English messages."""
    english = " ".join(str(english).split())[:300]
    if " · " in english:      # already ours (e.g. raised by plugins/stable_paging.py)
        return english
    for pattern, vietnamese in KNOWN:
        match = re.fullmatch(pattern, english)
        if match:
            return f"{match.expand(vietnamese)} · {english}"
    return f"Tham số không hợp lệ · Invalid parameter: {english}"


def is_date(value):
    """A date that exists on the calendar, in one of the forms DATE accepts."""
    value = value.strip()
    if not DATE.fullmatch(value):
        return False
    numbers = [int(n) for n in re.findall(r"\d+", value.split("T")[0].split(" ")[0])]
    if "/" in value:
        numbers.reverse()                       # dd/mm/yyyy -> yyyy, mm, dd
    year, month, day = (numbers + [1, 1])[:3]
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def check_int(name, value, minimum=0, maximum=SQLITE_MAX_INT):
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
        raise BadParameter(f"{name} phải là số nguyên từ {minimum} đến {maximum} · "
                           f"{name} must be a whole number from {minimum} to {maximum}")


def check_number(name, value, limit):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not -limit <= number <= limit:
        raise BadParameter(f"{name} phải là số từ -{limit} đến {limit} · {name} must be a number from -{limit} to {limit}")


async def check_table(datasette, db, table, args, is_view, columns, pks):
    columns = set(columns)
    if not is_view and not pks:
        columns.add("rowid")     # Datasette pages and sorts a table without primary key by rowid
    sortable = set((datasette.table_metadata(db.name, table) or {}).get("sortable_columns") or columns)
    if "_sort" in args and "_sort_desc" in args:
        raise BadParameter("Chỉ dùng một trong _sort và _sort_desc · Use either _sort or _sort_desc, not both")
    for key in ("_sort", "_sort_desc"):
        for value in args.get(key, []):
            if value not in sortable:
                raise BadParameter(f"Không sắp xếp được theo cột {value!r} · Cannot sort by column {value!r}")
    for key in ("_facet", "_facet_array", "_facet_date"):
        for value in args.get(key, []):
            if value not in columns:
                raise BadParameter(f"Không có cột {value!r} để đếm · No column {value!r} to facet by")
    for value in args.get("_facet_size", []):
        if value != "max":
            check_int("_facet_size", value, 0, datasette.setting("max_returned_rows"))
    for value in args.get("_through", []):
        await check_through(db, table, value)
    if is_view:
        for value in args.get("_next", []):
            check_int("_next", value)
    for key, values in args.items():
        if key.startswith("_") and "__" not in key:
            continue
        column, lookup = key.rsplit("__", 1) if "__" in key else (key, "exact")
        if column not in columns:
            raise BadParameter(f"Không có cột {column!r} để lọc · No column {column!r} to filter on")
        if lookup not in LOOKUPS:
            raise BadParameter(f"Toán tử lọc {lookup!r} không tồn tại · Unknown filter operator {lookup!r} "
                               f"(use one of {', '.join(sorted(LOOKUPS))})")
        for value in values:
            if lookup in RANGE_LOOKUPS and column.endswith(DATE_SUFFIXES) and not is_date(value):
                raise BadParameter(f"{key}: ngày không hợp lệ {value!r} (yyyy-mm-dd, dd/mm/yyyy, mm/yyyy, yyyy) · "
                                   f"invalid date {value!r} (yyyy-mm-dd, dd/mm/yyyy, mm/yyyy or yyyy)")
            if lookup in NUMERIC_LOOKUPS and value.isdigit():    # Datasette makes it an int for SQLite
                check_int(key, value)


async def check_through(db, table, value):
    """`_through={"table": …, "column": …, "value": …}`: a table with a foreign key to this one."""
    try:
        through = json.loads(value)
        other, column = through["table"], through["column"]
        through["value"]
    except (ValueError, TypeError, KeyError):
        raise BadParameter('_through phải là JSON {"table", "column", "value"} · '
                           '_through must be JSON {"table", "column", "value"}')
    if not (isinstance(other, str) and isinstance(column, str) and await db.table_exists(other)
            and column in await db.table_columns(other)
            and any(fk["other_table"] == table for fk in await db.foreign_keys_for_table(other))):
        raise BadParameter(f"_through: không có bảng nối tới {table} · no table linking to {table} that way")


def check_query(name, args, html):
    for param, kind in QUERY_PARAMS.get(name, {}).items():
        value = (args.get(param) or [""])[0].strip()
        if not value and html:
            continue            # the query's form, before a value is typed in
        if not value:
            raise BadParameter(f"Thiếu tham số {param} · Missing parameter {param}")
        if kind == "date" and not is_date(value):
            raise BadParameter(f"{param}: ngày không hợp lệ {value!r} (yyyy-mm-dd hoặc dd/mm/yyyy) · "
                               f"invalid date {value!r} (yyyy-mm-dd or dd/mm/yyyy)")
        if kind == "province_code" and not re.fullmatch(r"\d{2}", value):
            raise BadParameter(f"{param} là mã tỉnh 2 chữ số, ví dụ 01 · {param} is a 2-digit province code, e.g. 01")
        if kind == "gtin" and not re.fullmatch(r"\d{8,14}", re.sub(r"[\s.-]", "", value)):
            raise BadParameter(f"{param} là mã vạch 8 đến 14 chữ số · {param} is a barcode of 8 to 14 digits")
        if kind in ("latitude", "longitude"):
            check_number(param, value, 90 if kind == "latitude" else 180)


async def problem(datasette, path, query_string, raw_path=None):
    """The bilingual reason this request's parameters are bad, or None."""
    args = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    if "\x00" in query_string or any("\x00" in k or any("\x00" in v for v in vs) for k, vs in args.items()):
        raise BadParameter("Tham số chứa ký tự NUL · A parameter contains a NUL character")
    for value in args.get("_timelimit", []):
        check_int("_timelimit", value, 1, 60_000)
    for value in args.get("_shape", []):
        if value not in SHAPES:
            raise BadParameter(f"_shape không hợp lệ {value!r} · Invalid _shape {value!r} (one of {', '.join(SHAPES)})")
    # Split as Datasette routes: on the raw path, where "%2F" is part of a segment, not a separator
    # (`/t/%2F` is a record of t with the key "/"; its decoded path `/t//` would read as the table).
    raw_parts = (raw_path or path).partition("?")[0].strip("/").split("/")
    parts = [urllib.parse.unquote(part) for part in raw_parts]
    if len(parts) == 3 and parts[0] in datasette.databases:
        db = datasette.get_database(parts[0])
        # Datasette splits the key of the raw path on "," ("%2C" is not a separator)
        key = raw_parts[2]
        table, key = tilde_decode(parts[1]), key.rsplit(".", 1)[0] if key.endswith(ENDINGS) else key
        shape = await table_shape(db, table)
        pks = shape[2] if shape else []
        if len(pks) > 1 and len(key.split(",")) != len(pks):
            raise NoSuchRecord(f"Không tìm thấy bản ghi: khóa gồm {len(pks)} phần ({', '.join(pks)}) · "
                               f"Record not found: the key has {len(pks)} parts ({', '.join(pks)})")
        return
    if len(parts) != 2 or parts[0] not in datasette.databases:
        return
    db = datasette.get_database(parts[0])
    name = tilde_decode(parts[1])
    html = True
    for extension in EXTENSIONS:
        if name.endswith("." + extension):
            name, html = name[: -len(extension) - 1], False
    if await datasette.get_canned_query(db.name, name, None):
        check_query(name, args, html)
        return
    shape = await table_shape(db, name)
    if shape:
        await check_table(datasette, db, name, args, *shape)


async def error_response(datasette, scope, receive, message, status=400):
    """Datasette's own error shapes."""
    from datasette.utils.asgi import Request

    path = scope.get("path", "")
    headers = {"access-control-allow-origin": "*"} if datasette.cors else {}
    title = "Tham số không hợp lệ · Bad parameter" if status == 400 else "Không tìm thấy · Not found"
    body = {"ok": False, "error": message, "status": status, "title": title}
    if path.endswith(".json"):
        return Response.json(body, status=status, headers=headers)
    if path.endswith(ENDINGS):
        return Response.text(message + "\n", status=status, headers=headers)
    await datasette.invoke_startup()     # (idempotent) this wrapper can run before Datasette's router
    html = await datasette.render_template([f"{status}.html", "error.html"], body,
                                           request=Request(dict(scope, csrftoken=lambda: ""), receive))
    return Response.html(html, status=status, headers=headers)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def check_parameters(scope, receive, send):
            # A page without parameters is checked too when it is not HTML (a feed or JSON needs its
            # parameters) or when it is a record (its key).
            path = scope.get("path", "")
            if scope["type"] == "http" and (scope.get("query_string") or path.endswith(ENDINGS) or path.count("/") >= 3):
                try:
                    query_string = scope["query_string"].decode("utf-8")
                    await problem(datasette, path, query_string, scope.get("raw_path", b"").decode("latin-1"))
                except UnicodeDecodeError:
                    message, status = "Tham số không phải UTF-8 · Parameters must be UTF-8", 400
                except BadParameter as bad:
                    message, status = str(bad), bad.status
                else:
                    return await app(scope, receive, send)
                response = await error_response(datasette, scope, receive, message, status)
                return await response.asgi_send(send)
            return await app(scope, receive, send)
        return check_parameters
    return wrap


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    """Datasette's own 400s (and an integer too large for SQLite) as one bilingual line."""
    if isinstance(exception, Base400) and exception.status == 400:
        english = exception.args[0]
    elif isinstance(exception, DatasetteError) and exception.status == 400:
        english = exception.message
        if exception.title == "Invalid SQL" and not any(re.fullmatch(p, english) for p, _v in KNOWN):
            message = f"SQL không hợp lệ · Invalid SQL: {' '.join(english.split())[:300]}"
            return lambda: error_response(datasette, request.scope, request.receive, message)
    elif isinstance(exception, OverflowError):
        english = str(exception)
    elif isinstance(exception, sqlite3.ProgrammingError) and "_where" in request.args:
        # `_where=$null`, `_where=:x` or `_where=?`: a parameter Datasette has no value for (any table;
        # sqlite3 raises ProgrammingError, which Datasette does not turn into its "Invalid SQL" 400)
        message = (f"_where không được chứa tham số ($tên, :tên, ?) · _where cannot hold parameters "
                   f"($name, :name, ?): {' '.join(str(exception).split())[:200]}")
        return lambda: error_response(datasette, request.scope, request.receive, message)
    else:
        return None

    async def inner():
        return await error_response(datasette, request.scope, request.receive, bilingual(english))
    return inner
