"""`/sitemap.xml`: the record pages, so search engines can find every recall, penalty and listing."""
from xml.sax.saxutils import escape

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

TABLES = ("recalls", "violations", "listings", "establishments")
LIMIT = 50_000   # the sitemap protocol's maximum per file


async def sitemap(datasette, request):
    db = datasette.get_database("minhbach")
    base = f"{request.scheme}://{request.host}"
    urls = [f"{base}/"]
    for table in TABLES:
        result = await db.execute(f"select id from [{table}] limit {LIMIT}")
        urls += [base + datasette.urls.row("minhbach", table, tilde_encode(row["id"])) for row in result.rows]
        if len(urls) >= LIMIT:
            break
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(url)}</loc></url>" for url in urls[:LIMIT]]
    body.append("</urlset>")
    return Response("\n".join(body), content_type="application/xml; charset=utf-8")


@hookimpl
def register_routes():
    return [(r"^/sitemap\.xml$", sitemap)]
