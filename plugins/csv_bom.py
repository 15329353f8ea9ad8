"""CSV that opens cleanly in Excel with Vietnamese text: a UTF-8 byte order mark before the first byte.

Excel reads a BOM-less CSV as the local ANSI code page, which turns "Hà Nội" into "HÃ  Ná»™i".
"""
from datasette import hookimpl

BOM = b"\xef\xbb\xbf"


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def with_bom(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            state = {"csv": False, "started": False}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                    state["csv"] = headers.get(b"content-type", b"").startswith(b"text/csv") or \
                        headers.get(b"content-type", b"").startswith(b"text/plain") and \
                        scope.get("path", "").endswith(".csv")
                    if state["csv"]:
                        message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                          if k.lower() != b"content-length"]}
                elif message["type"] == "http.response.body" and state["csv"] and not state["started"]:
                    state["started"] = True
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)
            return await app(scope, receive, send_with_bom)
        return with_bom
    return wrap
