"""Each worker renders its main pages once before it takes visitors.

A worker's first home page took a second (Jinja compiles the templates, plugins load their
vocabularies, SQLite reads the pages of its indexes); under load (bench/abuse.py) the first visitors
of a fresh worker waited two. So when the server starts (the ASGI lifespan startup, after Datasette's
own), the worker asks itself for the pages listed under `warm-pages: paths` in metadata.yml and one
record of each table named there, then says it is ready. Bounded: MAX_SECONDS in all. In-process
uses (tests, the build's smoke test) get no lifespan event and warm nothing.
"""
import time

from datasette import hookimpl
from datasette.utils import tilde_encode

PLUGIN = "warm-pages"
MAX_SECONDS = 15


async def warm(datasette):
    config = datasette.plugin_config(PLUGIN) or {}
    paths = list(config.get("paths", []))
    for database, tables in (config.get("records") or {}).items():
        db = datasette.databases.get(database)
        for table in tables if db else ():
            pks = await db.primary_keys(table) or ["rowid"]
            row = (await db.execute(f"select {', '.join(f'[{pk}]' for pk in pks)} from [{table}] limit 1")).first()
            if row:
                paths.append(f"/{database}/{table}/" + ",".join(tilde_encode(str(value)) for value in row))
    deadline = time.monotonic() + MAX_SECONDS
    for path in paths:
        if time.monotonic() > deadline:
            break
        await datasette.client.get(path)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def warm_pages(scope, receive, send):
            if scope["type"] != "lifespan":
                return await app(scope, receive, send)

            async def ready_when_warm(message):
                if message["type"] == "lifespan.startup.complete":
                    try:
                        await warm(datasette)
                    except Exception:      # warming is an optimisation: never stop a server over it
                        pass
                await send(message)
            return await app(scope, receive, ready_when_warm)
        return warm_pages
    return wrap
