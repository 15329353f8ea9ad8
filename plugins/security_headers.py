"""Response headers for a public site that shows scraped text: a CSP the pages work under, no sniffing,
a referrer policy that sends only our origin (OpenStreetMap's tile policy asks for one).

trylast: this wrapper is the outermost one, so every answer carries the headers, including those
that other wrappers give without calling Datasette (405 for writes, 400 for an overlong search, cache hits).

Scripts: only our own origin plus the inline scripts Datasette and datasette-cluster-map write into
their pages; no third-party script can load. Images: our origin, data: URIs and OpenStreetMap tiles.
"""
from datasette import hookimpl

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https://*.tile.openstreetmap.org",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]


@hookimpl(trylast=True)
def asgi_wrapper():
    def wrap(app):
        async def with_headers(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)

            async def send_with_headers(message):
                if message["type"] == "http.response.start":
                    ours = {name for name, _ in HEADERS}
                    kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in ours]
                    message = {**message, "headers": kept + HEADERS}
                await send(message)
            return await app(scope, receive, send_with_headers)
        return with_headers
    return wrap
