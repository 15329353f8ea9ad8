"""Compress the site's answers with gzip (asgi-gzip: Starlette's GZipMiddleware as a standalone package).

Datasette compresses nothing; a list or record page is 5-10 times smaller gzipped. Applied outermost
(``trylast``: Datasette wraps in hook order, the last wrapper is the outermost), so cached and
re-validated answers are compressed alike. Not compressed: bodies under 500 bytes, clients that do
not send ``Accept-Encoding: gzip``, and downloads that are large streams or already packed (CSV and
other exports, the database file), which are passed through untouched so streaming stays streaming.
"""
from asgi_gzip import GZipMiddleware
from datasette import hookimpl

PASS_THROUGH = (".csv", ".tsv", ".xlsx", ".db", ".zip", ".gz", ".png", ".jpg", ".ico")


@hookimpl(trylast=True)
def asgi_wrapper():
    def wrap(app):
        compressed = GZipMiddleware(app, minimum_size=500, compresslevel=6)

        async def gzip_app(scope, receive, send):
            path = scope.get("path", "") if scope["type"] == "http" else ""
            query = scope.get("query_string", b"")
            if scope["type"] != "http" or path.endswith(PASS_THROUGH) or b"_stream=" in query \
                    or b"_format=csv" in query:
                await app(scope, receive, send)
            else:
                await compressed(scope, receive, send)
        return gzip_app
    return wrap
