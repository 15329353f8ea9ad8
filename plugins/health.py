"""``/-/health``: 200 ``{"ok": true, "db": "<sha256>", "pid": …}`` once every attached file answers a
query, 503 otherwise; never cached. The one definition, for `make serve`, the image and the replicas
(deploy/replicas.py waits on it before putting a replica behind nginx)."""
import os

from datasette import hookimpl
from datasette.utils.asgi import Response


@hookimpl
def register_routes():
    async def health(datasette):
        databases = [db for name, db in datasette.databases.items() if not name.startswith("_")]
        try:
            if not databases:
                raise RuntimeError("no database attached")
            for db in databases:
                await db.execute("select count(*) from sqlite_master")
            body = {"ok": True, "db": databases[0].hash if len(databases) == 1 else
                    {db.name: db.hash for db in databases}, "pid": os.getpid()}
            status = 200
        except Exception as error:  # the answer is the report
            body, status = {"ok": False, "error": f"{type(error).__name__}: {error}"}, 503
        return Response.json(body, status=status, headers={"Cache-Control": "no-store"})

    return [(r"^/-/health$", health)]
