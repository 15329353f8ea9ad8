"""Atom feeds a feed reader accepts, empty or not (RFC 4287), for the canned queries of metadata.yml.

datasette-atom 0.9 answers 500 to a feed without entries (`max()` of no dates: a new search term, a
quiet province), gives no feed `author` (required unless every entry has one), passes ids such as
`vn_news_violations:e56…` (not IRIs), titles every feed with the query's title alone, and sends
`application/xml`. This renderer keeps datasette-atom's contract (columns `atom_id`, `atom_title`,
`atom_updated`, optional `atom_link`, `atom_content`, `atom_content_html`, `atom_author_*`; HTML
cleaned by its `clean`) and replaces its plugin, with:

- the feed: id = its own absolute URL, `updated` = the newest entry (or, with no entries, when the
  database file was built), an `author` (the site), `application/atom+xml`;
- a title naming what is followed: the `titles` SQL of the plugin config (`minhbach-feeds` in
  metadata.yml), run with the query's parameters; no row means the parameter names nothing (an
  unknown province code): 400;
- entry ids that are IRIs: an `atom_id` starting with "/" is made absolute (the canned queries use
  the SQL function `record_path(table, id)` registered here: the record's page on this site);
  anything else that is not already an absolute IRI becomes a `tag:` URI of this host.
"""
import datetime
import os
import re
import urllib.parse

from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils import tilde_encode
from datasette.utils.asgi import BadRequest, Response
from feedgen.feed import FeedGenerator

try:
    from datasette_atom import clean
except ImportError:     # pragma: no cover - datasette-atom is a dependency (pyproject.toml)
    clean = None

REQUIRED = {"atom_id", "atom_title", "atom_updated"}
CONFIG = "minhbach-feeds"
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

# One renderer for the `.atom` extension: this one.
if pm.get_plugin("atom") is not None:
    pm.unregister(name="atom")


def can_render(columns):
    return REQUIRED.issubset(columns)


def entry_iri(datasette, request, atom_id):
    text = str(atom_id)
    if text.startswith("/"):
        return datasette.absolute_url(request, text)
    if SCHEME.match(text) and (text.startswith(("http://", "https://", "tag:", "urn:"))):
        return text
    return f"tag:{request.host.split(':')[0]},2025:{urllib.parse.quote(text, safe='/:@-._~')}"


async def feed_title(datasette, request, database, query_name):
    config = datasette.plugin_config(CONFIG) or {}
    metadata = (datasette.metadata(database=database) or {}).get("queries", {}).get(query_name) or {}
    title = metadata.get("title") or query_name or "Minh Bạch"
    title_sql = (config.get("titles") or {}).get(query_name)
    if title_sql:
        params = {k: request.args.get(k, "") for k in re.findall(r":(\w+)", title_sql)}
        rows = (await datasette.get_database(database).execute(title_sql, params)).rows
        if not rows:
            raise BadRequest("Tham số không chỉ tới gì · The parameters name nothing: "
                             + ", ".join(f"{k}={v}" for k, v in params.items()))
        title = rows[0][0]
    return title


def build_time(datasette, database):
    """When the served file was built: the `updated` of a feed without entries."""
    path = datasette.get_database(database).path
    seconds = os.path.getmtime(path) if path and os.path.exists(path) else 0
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


async def render_atom(datasette, request, sql, columns, rows, database, table, query_name, data):
    if not REQUIRED.issubset(columns):
        raise BadRequest("Truy vấn phải có cột atom_id, atom_title, atom_updated · "
                         "The query must return atom_id, atom_title and atom_updated")
    config = datasette.plugin_config(CONFIG) or {}
    home = datasette.absolute_url(request, datasette.urls.instance())
    feed = FeedGenerator()
    feed.id(request.url)
    feed.title(await feed_title(datasette, request, database, query_name))
    feed.author({"name": config.get("author") or datasette.metadata("title") or "Minh Bạch", "uri": home})
    feed.link(href=request.url, rel="self")
    feed.link(href=home, rel="alternate")
    feed.language("vi")
    feed.generator("Datasette")
    feed.updated(max((str(r["atom_updated"]) for r in rows), default=None) or build_time(datasette, database))
    for row in reversed(rows):      # feedgen adds each entry before the previous one
        entry = feed.add_entry()
        entry.id(entry_iri(datasette, request, row["atom_id"]))
        entry.title(str(row["atom_title"] or "(không tên · untitled)"))
        entry.updated(str(row["atom_updated"]))
        if "atom_link" in columns and row["atom_link"]:
            entry.link(href=row["atom_link"], rel="alternate")
        if "atom_content_html" in columns and clean is not None:
            entry.content(clean(row["atom_content_html"] or ""), type="html")
        elif "atom_content" in columns and row["atom_content"]:
            entry.content(row["atom_content"], type="text")
        if "atom_author_name" in columns and row["atom_author_name"]:
            entry.author({"name": row["atom_author_name"]})
    return Response(feed.atom_str(pretty=True), content_type="application/atom+xml; charset=utf-8")


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "atom", "render": render_atom, "can_render": can_render}


@hookimpl
def prepare_connection(conn, database, datasette):
    def record_path(table, pk):
        """The path of a record's page here (Datasette's tilde-encoding of the key)."""
        if table is None or pk is None:
            return None
        return datasette.urls.row(database, table, tilde_encode(str(pk)))
    conn.create_function("record_path", 2, record_path, deterministic=True)
