"""A response cache in the server process, because the published file never changes while it is served.

`make serve` opens the database immutable and a new build is served by a new process (see the
README: publish, then restart or roll the replicas), so the same URL gives the same bytes for the
life of the process: the home page, a table page, a popular search or facet is computed once, not
for every visitor. This is what a CDN in front of `default_cache_ttl` gives; here it needs no
other service, and it also protects a lone server from a burst on one page.

What is cached: anonymous GET/HEAD answers with status 200, without Set-Cookie, up to 4 MB each,
keyed on method, scheme, Host, path and query string (Datasette writes absolute URLs with the
host into its JSON). Kept for an hour (as `default_cache_ttl` tells browsers: the API page prints
today's date), least recently used out first beyond MINHBACH_CACHE_MB (default 128) per process;
MINHBACH_CACHE_MB=0 turns it off. Answers say `x-minhbach-cache: hit` or `miss`.
Nothing is cached while any attached database is mutable.
"""
import os
import threading
import time
from collections import OrderedDict

from datasette import hookimpl

MAX_ENTRY = 4 * 1024 * 1024
TTL_SECONDS = 3600


def _limit():
    return int(os.environ.get("MINHBACH_CACHE_MB", "128")) * 1024 * 1024


class Cache:
    def __init__(self, limit):
        self.limit, self.size = limit, 0
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            hit = self.entries.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit[0] > TTL_SECONDS:
                del self.entries[key]
                self.size -= len(hit[2])
                return None
            self.entries.move_to_end(key)
            return hit[1:]

    def put(self, key, start, body):
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (time.monotonic(), start, body)
            self.size += len(body)
            while self.size > self.limit and self.entries:
                _key, (_time, _start, old) = self.entries.popitem(last=False)
                self.size -= len(old)


def _with_header(start, value):
    headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"x-minhbach-cache"]
    return {**start, "headers": headers + [(b"x-minhbach-cache", value)]}


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        limit = _limit()
        if limit <= 0:
            return app
        cache = Cache(limit)

        def key_for(scope):
            if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
                return None
            headers = dict(scope.get("headers") or [])
            if b"authorization" in headers or b"ds_actor" in headers.get(b"cookie", b""):
                return None
            if any(db.is_mutable for db in datasette.databases.values() if not db.is_memory):
                return None
            return (scope["method"], scope.get("scheme"), headers.get(b"host"), scope.get("root_path", ""),
                    scope["path"], scope.get("query_string", b""))

        async def cached(scope, receive, send):
            key = key_for(scope)
            if key is None:
                return await app(scope, receive, send)
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

            await app(scope, receive, capture)
            if kept["ok"] and kept["start"] is not None:
                cache.put(key, kept["start"], b"".join(kept["body"]))
        return cached
    return wrap
