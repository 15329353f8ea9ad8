"""The public site is read-only: any method that could change something is refused before Datasette
sees it (Datasette 0.65 answers a POST to a read-only canned query with a 500; we answer 405)."""
from datasette import hookimpl

SAFE = {"GET", "HEAD", "OPTIONS"}


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope.get("method", "GET").upper() not in SAFE:
                await send({"type": "http.response.start", "status": 405,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD")]})
                await send({"type": "http.response.body", "body": "Chỉ đọc · This site is read-only.".encode()})
                return
            return await app(scope, receive, send)
        return read_only
    return wrap
