"""A response cache in the server process, because the published file never changes while it is served.

`make serve` opens the database immutable and a new build is served by a new process (see the
README: publish, then restart or roll the replicas), so the same URL gives the same bytes for the
life of the process: the home page, a table page, a popular search or facet is computed once, not
for every visitor. This is what a CDN in front of `default_cache_ttl` gives; here it needs no
other service, and it also protects a lone server from a burst on one page.

What is cached: anonymous GET/HEAD answers with status 200, without Set-Cookie, up to 4 MB each,
keyed on method, scheme, Host, path and query string (Datasette writes absolute URLs with the
host into its JSON). Never cached: a request carrying any cookie or Authorization (an answer may
carry a CSRF token or differ per visitor: `/-/messages` with a CSRF cookie was replayed to others),
any `/-/` page (Datasette's own pages, the map endpoint keeps its own index), and a query string over
MAX_QUERY_STRING bytes (unique long URLs would fill the cache with keys). Kept for Datasette's
`default_cache_ttl` seconds (db/serving.py), as long as browsers and CDNs are told they may keep an
answer (the API page prints today's date); expired entries are dropped on
every request, whatever its URL, not only when their own URL comes back. The size counted against
MINHBACH_CACHE_MB (default 128) per process is everything an entry holds: key, headers and body
(plus a fixed overhead); least recently used out first. MINHBACH_CACHE_MB=0 turns it off.
Answers say `x-minhbach-cache: hit` or `miss`. Nothing is cached while any attached database is mutable.

One computation per URL at a time: requests for a URL already being computed wait for that answer
(at most WAIT_SECONDS) instead of computing it again. When a worker starts, the first visitors of a
record page arrive together; each used to compute it (seven at once in bench/abuse.py), and the
queries they queued made a home page wait six seconds.
"""
import asyncio
import os
import threading
import time
from collections import OrderedDict

from datasette import hookimpl

MAX_ENTRY = 4 * 1024 * 1024
MAX_QUERY_STRING = 2048
TTL_SECONDS = 300         # when Datasette's default_cache_ttl is 0 (no caching downstream), still bounded
ENTRY_OVERHEAD = 512      # the dicts, tuples and objects around an entry, roughly
WAIT_SECONDS = 10


def _limit():
    return int(os.environ.get("MINHBACH_CACHE_MB", "128")) * 1024 * 1024


def entry_size(key, start, body):
    """Bytes an entry holds: its key, its response headers and its body."""
    key_bytes = sum(len(part) if isinstance(part, (bytes, str)) else 8 for part in key) \
        if isinstance(key, tuple) else 8
    header_bytes = sum(len(n) + len(v) for n, v in start.get("headers", []))
    return ENTRY_OVERHEAD + key_bytes + header_bytes + len(body)


class Cache:
    """LRU by total entry size; every entry expires TTL_SECONDS after it was stored."""

    def __init__(self, limit, ttl=TTL_SECONDS):
        self.limit, self.ttl, self.size = limit, ttl, 0
        self.entries = OrderedDict()      # key -> (stored, start, body, size), least recently used first
        self.stored = OrderedDict()       # key -> stored time, oldest first (never reordered)
        self.lock = threading.Lock()

    def _drop(self, key):
        _time, _start, _body, size = self.entries.pop(key)
        self.stored.pop(key, None)
        self.size -= size

    def _expire(self, now):
        while self.stored:
            key, stored = next(iter(self.stored.items()))
            if now - stored <= self.ttl:
                break
            self._drop(key)

    def expire(self):
        with self.lock:
            self._expire(time.monotonic())

    def get(self, key):
        with self.lock:
            self._expire(time.monotonic())
            hit = self.entries.get(key)
            if hit is None:
                return None
            self.entries.move_to_end(key)
            return hit[1:3]

    def put(self, key, start, body):
        size = entry_size(key, start, body)
        with self.lock:
            now = time.monotonic()
            self._expire(now)
            if key in self.entries or size > self.limit:
                return
            self.entries[key] = (now, start, body, size)
            self.stored[key] = now
            self.size += size
            while self.size > self.limit and self.entries:
                self._drop(next(iter(self.entries)))


def _with_header(start, value):
    headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"x-minhbach-cache"]
    return {**start, "headers": headers + [(b"x-minhbach-cache", value)]}


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        limit = _limit()
        if limit <= 0:
            return app
        cache = Cache(limit, datasette.setting("default_cache_ttl") or TTL_SECONDS)
        computing = {}    # key -> asyncio.Event set when the request computing it has finished

        def key_for(scope):
            if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
                return None
            if scope["path"].startswith("/-/") or len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
                return None
            headers = dict(scope.get("headers") or [])
            if b"authorization" in headers or b"cookie" in headers:
                return None
            if any(db.is_mutable for db in datasette.databases.values() if not db.is_memory):
                return None
            return (scope["method"], scope.get("scheme"), headers.get(b"host"), scope.get("root_path", ""),
                    scope["path"], scope.get("query_string", b""))

        async def cached(scope, receive, send):
            key = key_for(scope)
            if key is None:
                cache.expire()
                return await app(scope, receive, send)
            hit = cache.get(key)
            if hit is None and key in computing:
                try:
                    await asyncio.wait_for(computing[key].wait(), WAIT_SECONDS)
                except asyncio.TimeoutError:
                    pass
                hit = cache.get(key)
            if hit is not None:
                start, body = hit
                await send(_with_header(start, b"hit"))
                await send({"type": "http.response.body", "body": body})
                return
            kept = {"start": None, "body": [], "size": 0, "ok": True}

            async def capture(message):
                if message["type"] == "http.response.start":
                    kept["start"] = message
                    names = {n.lower() for n, _v in message.get("headers", [])}
                    kept["ok"] = message.get("status") == 200 and b"set-cookie" not in names
                    message = _with_header(message, b"miss")
                elif message["type"] == "http.response.body" and kept["ok"]:
                    chunk = message.get("body", b"")
                    kept["size"] += len(chunk)
                    if kept["size"] > MAX_ENTRY:
                        kept["ok"], kept["body"] = False, []
                    else:
                        kept["body"].append(chunk)
                await send(message)

            mine = key not in computing     # a waiter that gave up computes without taking the URL over
            if mine:
                computing[key] = asyncio.Event()
            try:
                await app(scope, receive, capture)
                if kept["ok"] and kept["start"] is not None:
                    cache.put(key, kept["start"], b"".join(kept["body"]))
            finally:
                if mine:
                    computing.pop(key).set()
        return cached
    return wrap
