"""Datasette's introspection pages that tell an attacker about the server, not the data, are not public.

`/-/threads` lists the process's threads and asyncio tasks with their source lines; `/-/databases`
gives the absolute path of the database file on the server. Nobody reading recalls needs them, so
they answer 404 as if they did not exist (the other `/-/` pages, such as versions, plugins and
settings, describe the software, which is open source anyway). SQL's `pragma_database_list` is
handled in plugins/sql_limits.py.
"""
import re

from datasette import hookimpl

PRIVATE = re.compile(r"^/-/(threads|databases)(\.json)?/?$")
NOT_FOUND = "Không tìm thấy · Not found".encode()


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def hide_private(scope, receive, send):
            if scope["type"] == "http" and PRIVATE.match(scope.get("path", "")):
                await send({"type": "http.response.start", "status": 404,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": NOT_FOUND})
                return
            return await app(scope, receive, send)
        return hide_private
    return wrap
