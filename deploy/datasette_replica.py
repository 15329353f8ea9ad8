"""One Datasette replica fit to sit behind nginx and a CDN: cache headers, a content-hash ETag, /-/health.

Used two ways, to the same effect:
- ``python deploy/datasette_replica.py serve -i …`` (deploy/replicas.py starts every replica so): this
  module is registered as a plugin, then Datasette's own command line runs with the options given;
- copied into the plugins directory (the Dockerfile does that), for a plain ``datasette serve``.

The published file is immutable and changes at most nightly, so every 200 answer from the database gets
  Cache-Control: public, max-age=<Datasette's default_cache_ttl: 300, db/serving.py>,
                 stale-while-revalidate=60, stale-if-error=86400
  ETag: W/"<16 hex of the file's sha256>-<8 hex of the code: metadata, templates, plugins, static, db/>"
  X-Minhbach-Db: <sha256 of the database file>  (Datasette's own hash of it, as /-/databases.json shows)
(a 200 without any Cache-Control, e.g. the index or a static file, gets the same), and a request whose
If-None-Match names the current ETag is answered 304 at once, without any query (a CDN revalidates
every few minutes for the price of a header). URLs stay stable and citable: the
hash is in headers, not in URLs. Answers that Datasette marks uncacheable (``?_ttl=0``, a signed-in
actor, a cookie being set) and requests carrying cookies or credentials are left exactly as they are;
the answers made public lose Datasette's ``Vary: Cookie, Authorization``, which stops most CDNs from
caching anything (this site has no sign-in: an anonymous answer is everyone's answer).

``/-/health`` (plugins/health.py, the one definition; the replica is served with the plugins directory)
answers 200 ``{"ok": true, "db": "<sha256>"}`` once the file answers a query, 503 otherwise; never
cached. deploy/replicas.py waits on it before putting a replica behind nginx.
"""
import hashlib
import importlib
import json
import os
import sys
from pathlib import Path

from datasette import hookimpl

STALE = "stale-while-revalidate=60, stale-if-error=86400"


def _databases(datasette):
    return [db for name, db in datasette.databases.items() if not name.startswith("_")]


def _code_version(datasette):
    """A short hash of what shapes a page besides the data, so a code deploy changes the ETag too."""
    digest = hashlib.sha256()
    paths = []
    for folder in (datasette.template_dir, datasette.plugins_dir, *[p for _m, p in datasette.static_mounts]):
        if folder and Path(folder).is_dir():
            paths += sorted(p for p in Path(folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for package in ("db", "vn"):  # search folding (vn/fold.py) shapes answers too
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        paths += sorted(Path(module.__file__).parent.glob("*.py"))
    for path in paths:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(datasette.metadata(), sort_keys=True, default=str).encode())
    import datasette as datasette_package
    digest.update(datasette_package.__version__.encode())
    return digest.hexdigest()[:8]


class _Tags:
    """Computed once per process, on the first request (the database hash comes from the inspect file)."""

    def __init__(self, datasette):
        self.datasette = datasette
        self.ready = False

    def load(self):
        if not self.ready:
            hashes = [db.hash or "" for db in _databases(self.datasette)]
            self.db_hash = hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()
            self.etag = f'W/"{self.db_hash[:16]}-{_code_version(self.datasette)}"'
            self.ready = True
        return self


def _header(headers, name):
    name = name.lower().encode()
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _ttl(datasette, scope):
    from urllib.parse import parse_qs
    ttl = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("_ttl", [None])[0]
    return int(ttl) if ttl and ttl.isdigit() else int(datasette.setting("default_cache_ttl"))


def _public(ttl):
    return f"public, max-age={ttl}, {STALE}"


def _cacheable(status, headers, personal, datasette, scope):
    """The TTL to publish a response with, or None to leave it as Datasette made it.

    Datasette's own ``max-age=N`` (its default_cache_ttl, or ``?_ttl=N``) becomes public; a 200 with no
    Cache-Control at all (the index, custom pages, static files) gets the default TTL; ``no-cache``,
    ``private``, anything that sets a cookie, and requests with cookies or credentials are left alone.
    """
    if status != 200 or personal or _header(headers, "set-cookie"):
        return None
    control = (_header(headers, "cache-control") or "").strip()
    if not control:
        return _ttl(datasette, scope) or None
    if control.startswith("max-age=") and control[len("max-age="):].isdigit():
        return int(control[len("max-age="):]) or None
    return None


def _public_vary(vary):
    """Vary for an answer made public: without Cookie and Authorization.

    Datasette adds ``Vary: Cookie, Authorization`` everywhere; most CDNs then refuse to cache (Akamai
    caches nothing that varies on more than Accept-Encoding, Vercel nothing that varies on Cookie).
    The answers made public here come from requests without cookies or credentials, on a site with no
    sign-in, so they are the same for everyone.
    """
    kept = [v.strip() for v in (vary or "").split(",") if v.strip() and v.strip().lower() not in ("cookie", "authorization")]
    return ", ".join(kept)


def _matches(if_none_match, etag):
    if not if_none_match:
        return False
    wanted = etag[2:] if etag.startswith("W/") else etag
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or (tag[2:] if tag.startswith("W/") else tag) == wanted:
            return True
    return False


@hookimpl
def asgi_wrapper(datasette):
    tags = _Tags(datasette)

    def wrap(app):
        async def replica_app(scope, receive, send):
            if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or \
                    scope.get("path", "").startswith("/-/health"):
                await app(scope, receive, send)
                return
            request_headers = scope.get("headers", [])
            personal = _header(request_headers, "cookie") or _header(request_headers, "authorization")
            tag = tags.load()
            if not personal and _matches(_header(request_headers, "if-none-match"), tag.etag):
                ttl = _ttl(datasette, scope)
                if ttl > 0:
                    await send({"type": "http.response.start", "status": 304, "headers": [
                        (b"etag", tag.etag.encode()), (b"cache-control", _public(ttl).encode()),
                        (b"x-minhbach-db", tag.db_hash.encode())]})
                    await send({"type": "http.response.body", "body": b""})
                    return

            async def send_with_headers(message):
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", [])]
                    headers.append((b"x-minhbach-db", tag.db_hash.encode()))
                    ttl = _cacheable(message["status"], headers, personal, datasette, scope)
                    if ttl:
                        vary = _public_vary(_header(headers, "vary"))
                        headers = [(k, v) for k, v in headers
                                   if k.lower() not in (b"cache-control", b"etag", b"vary")]
                        headers.append((b"cache-control", _public(ttl).encode()))
                        headers.append((b"etag", tag.etag.encode()))
                        if vary:
                            headers.append((b"vary", vary.encode()))
                    message = dict(message, headers=headers)
                await send(message)

            await app(scope, receive, send_with_headers)
        return replica_app
    return wrap




if __name__ == "__main__":
    from datasette.cli import cli
    from datasette.plugins import pm

    # Registered under its module name (not __main__, which Datasette's plugin listing cannot read).
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import datasette_replica
    pm.register(datasette_replica, name="minhbach_replica")
    # nginx (and a CDN) log every request; a replica logging them again costs CPU and disk.
    # MINHBACH_ACCESS_LOG=1 turns uvicorn's access log back on.
    import uvicorn
    _run = uvicorn.run

    def run(app, **kwargs):
        kwargs.setdefault("access_log", os.environ.get("MINHBACH_ACCESS_LOG") == "1")
        return _run(app, **kwargs)
    uvicorn.run = run
    sys.exit(cli())
