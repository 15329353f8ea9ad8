"""``/robots.txt``: crawlers welcome on the public pages; kept off arbitrary SQL and bulk exports,
which cost the server and add nothing a crawler can index. The sitemap is plugins/sitemap.py."""
from datasette import hookimpl
from datasette.utils.asgi import Response

ROBOTS = """User-agent: *
Disallow: /minhbach?sql=
Disallow: /minhbach.db
Disallow: /*.csv
Disallow: /*?_stream=
Allow: /
Sitemap: {base}/sitemap.xml
"""


@hookimpl
def register_routes():
    async def robots(request):
        base = f"{request.scheme}://{request.host}"
        return Response.text(ROBOTS.format(base=base), headers={"Cache-Control": "public, max-age=86400"})

    return [(r"^/robots\.txt$", robots)]
