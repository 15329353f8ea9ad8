"""Pages before queries: a visitor's new search must not make everyone else's page wait.

Datasette runs every SQL query of every request on one pool of `num_sql_threads` threads, first
come, first served, and a page is several queries in a row, each queued again behind whatever is in
the pool. Under bench/abuse.py (19 connections searching for words never searched before, which no
cache can answer), a home page computed for the first time in a worker waited 8 s: each of its
queries queued behind a dozen searches.

So a request that carries a query (a search, a column filter, arbitrary SQL: parameters whose values
a visitor types, an unbounded space of URLs) takes one of `num_sql_threads // 2` slots per worker
(2 as served; measured with 3, pages' p99 under abuse was 108 ms, with 2, 30 ms) before it runs;
others wait for a slot without holding a SQL thread, up to QUEUE_SECONDS, then get a 429 with
Retry-After. Everything else (pages, records, paging, sorting, facets, formats: a bounded set that the
response cache soon holds) never waits here and always finds half the SQL threads free. tryfirst:
this wrapper is inside the response cache, so an answer already cached never waits.
"""
import asyncio
from urllib.parse import parse_qsl

from datasette import hookimpl

QUEUE_SECONDS = 8       # below the 10 s a client (wrk, a phone) typically waits before giving up
BUSY = ("Máy chủ đang bận, vui lòng thử lại sau giây lát · "
        "The server is busy: try again in a moment").encode()


def carries_query(query_string):
    """True when a visitor typed part of this URL: a search, a column filter or SQL."""
    if not query_string:
        return False
    for name, _value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in ("q", "sql") or name.startswith("_search") or name.startswith("_where") \
                or not name.startswith("_") and name != "lang":
            return True
    return False


def query_slots(datasette):
    return max(1, datasette.setting("num_sql_threads") // 2)


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    def wrap(app):
        slots = asyncio.Semaphore(query_slots(datasette))

        async def queries_take_turns(scope, receive, send):
            if scope["type"] != "http" or not carries_query(scope.get("query_string", b"")):
                return await app(scope, receive, send)
            try:
                await asyncio.wait_for(slots.acquire(), QUEUE_SECONDS)
            except asyncio.TimeoutError:
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")]})
                await send({"type": "http.response.body", "body": BUSY})
                return
            try:
                return await app(scope, receive, send)
            finally:
                slots.release()
        return queries_take_turns
    return wrap
