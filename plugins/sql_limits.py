"""What one SQL query may allocate, return and reveal: the public can run any read-only SELECT.

Datasette's time limit (`sql_time_limit_ms`) is a progress handler that SQLite calls every 1,000
virtual-machine steps; one step such as `randomblob(1e9)` or `printf('%.*c', 1e9, 'x')` allocates
gigabytes before the handler is ever called. So each connection gets SQLite's own limits
(`Connection.setlimit`): no value longer than MAX_VALUE_BYTES (a recursive CTE doubling a string
stops there too), no statement, LIKE pattern or column list beyond what a person writes; and every
query's result is capped at MAX_RESULT_BYTES as Python receives it (a row factory counting bytes),
so a thousand rows of large values cannot build a gigabyte JSON body either.

Arbitrary SQL (`/<database>?sql=`, `.json`, `.csv`) runs one query at a time per served instance:
a query that runs into the time limit burns a core for 1.5 s, and four of them kept in flight on a
2-core server would starve every page. Others wait (without using the CPU) up to SQL_QUEUE_SECONDS,
then get a 429. The instance's workers share the lock through a file in $XDG_RUNTIME_DIR, which
`make serve` makes private to each instance; elsewhere (tests, the smoke test) the lock is per process.

Facts the public does not need: `fts3_tokenizer()` returns a native pointer (an address-layout leak)
and its two-argument form registers a tokenizer: refused. `pragma_database_list().file` is the
absolute path of the database on the server: read as NULL (Datasette's own `PRAGMA database_list`
statement, which it needs for attached databases, is untouched).
"""
import asyncio
import fcntl
import os
import re
import sqlite3
import threading
import time
import weakref

from datasette import hookimpl

MAX_VALUE_BYTES = 2 * 1024 * 1024       # a stored row is a few KB; the largest `raw` well under this
MAX_RESULT_BYTES = 24 * 1024 * 1024     # a 1,000-row page of the widest table is about 5 MB
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
}
TOO_LARGE = ("Kết quả truy vấn quá lớn (hơn {mb} MB) · The query result is too large (over {mb} MB): "
             "select fewer rows or columns")


def _authorize(action, arg1, arg2, _db, _trigger):
    if action == sqlite3.SQLITE_FUNCTION and arg2 and arg2.lower() == "fts3_tokenizer":
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and arg1 == "pragma_database_list" and arg2 == "file":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


# One printf conversion: flags, width, precision (a number or `*`, which takes an argument), type.
_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")
_printf_connections = threading.local()


def _checked_printf(fmt, *args):
    """SQLite's printf/format, minus padding wider than MAX_VALUE_BYTES.

    `printf('%.*c', 1e9, 'x')` loops a billion times inside one VM step (12 s, the progress handler
    never runs) before the length limit throws the result away. A width or precision that large can
    only produce an error, so it is one at once; anything else runs in SQLite's own printf (a private
    connection: the function of this one is this wrapper).
    """
    if isinstance(fmt, str) and "%" in fmt:
        at = 0
        for width, precision, kind in _SPEC.findall(fmt):
            for part in (width, precision):
                if part == "*":
                    value, at = (args[at] if at < len(args) else 0), at + 1
                else:
                    value = part or 0
                try:
                    too_big = abs(int(float(value))) > MAX_VALUE_BYTES
                except (TypeError, ValueError, OverflowError):
                    too_big = False
                if too_big:
                    raise ValueError(f"printf width or precision over {MAX_VALUE_BYTES}")
            at += kind != "%"
    conn = getattr(_printf_connections, "conn", None)
    if conn is None:
        conn = _printf_connections.conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    return conn.execute(f"select printf({', '.join('?' * (1 + len(args)))})", (fmt, *args)).fetchone()[0]


def _size(value):
    return len(value) if isinstance(value, (str, bytes)) else 8


class ResultBudget:
    """A row factory that counts the bytes of one cursor's rows and stops the query past the cap.

    A connection serves one query at a time (one per Datasette thread); a new cursor starts a new
    count. The cursor is held weakly so that a new cursor at a freed one's address is not confused with it.
    """

    def __init__(self, inner=None, limit=MAX_RESULT_BYTES):
        self.inner, self.limit = inner, limit
        self.cursor = lambda: None
        self.used = 0

    def __call__(self, cursor, row):
        if self.cursor() is not cursor:
            self.cursor, self.used = weakref.ref(cursor), 0
        self.used += sum(map(_size, row))
        if self.used > self.limit:
            raise sqlite3.OperationalError(TOO_LARGE.format(mb=self.limit // (1024 * 1024)))
        return row if self.inner is None else self.inner(cursor, row)


def limit_connection(conn):
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    conn.set_authorizer(_authorize)
    for name in ("printf", "format"):
        conn.create_function(name, -1, _checked_printf, deterministic=True)
    conn.row_factory = ResultBudget(conn.row_factory)   # Datasette sets sqlite3.Row first


@hookimpl
def prepare_connection(conn):
    limit_connection(conn)


SQL_QUEUE_SECONDS = 10
BUSY = ("Máy chủ đang bận với các truy vấn SQL khác, vui lòng thử lại sau · "
        "The server is busy with other SQL queries: try again shortly").encode()
_ARBITRARY_SQL_PATH = re.compile(r"^/[^/]+(\.json|\.csv)?$")


class OneAtATime:
    """A lock over the instance's workers (a file lock), taken without blocking the event loop."""

    def __init__(self, path=None):
        self.path = path
        self.local = asyncio.Lock()

    async def acquire(self, timeout):
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self.local.acquire(), timeout)
        except asyncio.TimeoutError:
            return None
        if self.path is None:
            return True
        handle = open(self.path, "a")
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.close()
                    self.local.release()
                    return None
                await asyncio.sleep(0.02)

    def release(self, held):
        if held is not True:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()
        self.local.release()


def _instance_lock():
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return OneAtATime(os.path.join(runtime, "minhbach-sql.lock"))
    return OneAtATime()


@hookimpl
def asgi_wrapper():
    def wrap(app):
        lock = _instance_lock()

        async def one_query_at_a_time(scope, receive, send):
            if scope["type"] != "http" or b"sql=" not in scope.get("query_string", b"") \
                    or not _ARBITRARY_SQL_PATH.match(scope.get("path", "")):
                return await app(scope, receive, send)
            held = await lock.acquire(SQL_QUEUE_SECONDS)
            if held is None:
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")]})
                await send({"type": "http.response.body", "body": BUSY})
                return
            try:
                return await app(scope, receive, send)
            finally:
                lock.release(held)
        return one_query_at_a_time
    return wrap
