"""The data package (db/datapackage.py) at a stable URL: `/minhbach/datapackage.json`.

Each resource is the table's streamed CSV export on this site (every row, UTF-8 with a byte order
mark for Excel), so `frictionless`, pandas or a CKAN harvester read the data with its types.
"""
import json

from datasette import hookimpl
from datasette.utils.asgi import Response

from db import datapackage

DATABASE = "minhbach"


async def serve(datasette, request):
    def absolute(path):
        return datasette.absolute_url(request, datasette.urls.path(path))

    def csv_export(table):
        return {"path": absolute(f"/{DATABASE}/{table}.csv?_stream=on"), "format": "csv",
                "mediatype": "text/csv", "encoding": "utf-8"}

    db = datasette.get_database(DATABASE)
    package = await db.execute_fn(lambda conn: datapackage.descriptor(
        conn, datasette.metadata() or {}, csv_export, homepage=absolute("/")))
    return Response(json.dumps(package, ensure_ascii=False, indent=1), status=200,
                    content_type="application/json; charset=utf-8")


@hookimpl
def register_routes():
    return [(rf"^/{DATABASE}/datapackage\.json$", serve)]
