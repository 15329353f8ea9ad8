"""Narrower list pages: a table's HTML and JSON list pages leave out the columns nobody reads in a list.

`metadata.yml` names them per table (configuration, not code):

    tables:
      violations:
        plugins:
          list-columns:
            hide: [raw]                              # HTML and JSON list pages
            hide_html: [notes, quality_flags, …]     # HTML list pages only
            size_html: 50                            # rows per HTML list page (JSON keeps Datasette's 100)

`raw` (the record as received, ~0.8 KB of JSON per row, ~80 KB of a 100-row page) is not needed to
list results: reading, serialising and rendering it was a large part of a table page at 1M rows.
It stays everywhere a whole record is asked for:

- the record page and its JSON (`/minhbach/violations/<id>`, `.json`) — not a list page;
- CSV and every other export format (`.csv`, `_stream=on`): only the `html` and `json` formats are narrowed;
- any list request that chooses its columns itself: with `_col=` or `_nocol=` Datasette's own rules
  apply and nothing is hidden (`?_col=raw` lists the key and `raw`; `?_nocol=notes` every column
  but `notes`, `raw` included).

An HTML list page (Datasette's table page, for power users; the lay lists are /thu-hoi, /xu-phat…)
shows `size_html` rows unless `?_size=` says otherwise: rendering is ~3 ms per 100 cells in Jinja,
so a 100-row page of 37 columns was the largest part of its time. Its next-page link keeps the size.

The sort column of the page is never hidden (the `_next` token reads it from the last row), nor a
primary key. This is Datasette 0.65.5's `TableView.columns_to_select` with a default added; it has
no metadata option for default columns (1.0a neither).
"""
from datasette.utils import tilde_decode
from datasette.views.table import TableView

PLUGIN = "list-columns"


def hidden_columns(datasette, request, table_columns, pks):
    """The columns this list request leaves out (empty when it chooses its own or is an export)."""
    if "_col" in request.args or "_nocol" in request.args:
        return set()
    vars_ = request.url_vars or {}
    database, table = vars_.get("database"), vars_.get("table")
    if not database or not table:
        return set()
    fmt = (vars_.get("format") or request.args.get("_format") or "html").lower()
    if fmt not in ("html", "json"):
        return set()
    table = tilde_decode(table)
    config = datasette.plugin_config(PLUGIN, database=tilde_decode(database), table=table) or {}
    hidden = set(config.get("hide") or [])
    if fmt == "html":
        hidden |= set(config.get("hide_html") or [])
    if not hidden:
        return set()
    meta = datasette.table_metadata(tilde_decode(database), table)
    keep = set(pks) | {request.args.get("_sort"), request.args.get("_sort_desc"),
                       meta.get("sort"), meta.get("sort_desc")}
    return {c for c in hidden if c in table_columns and c not in keep}


def html_size(datasette, request):
    """Rows of an HTML list page when the request does not say (None: Datasette's default)."""
    vars_ = request.url_vars or {}
    if "_size" in request.args or vars_.get("format") or request.args.get("_format") \
            or not vars_.get("database") or not vars_.get("table"):
        return None
    config = datasette.plugin_config(PLUGIN, database=tilde_decode(vars_["database"]),
                                     table=tilde_decode(vars_["table"])) or {}
    return config.get("size_html")


_original = TableView.columns_to_select
_data = TableView.data


async def columns_to_select(self, table_columns, pks, request):
    columns = await _original(self, table_columns, pks, request)
    hidden = hidden_columns(self.ds, request, table_columns, pks)
    return [c for c in columns if c not in hidden] if hidden else columns


async def data(self, request, default_labels=False, _next=None, _size=None):
    return await _data(self, request, default_labels, _next, _size or html_size(self.ds, request))


if not getattr(TableView, "_list_columns", False):
    TableView.columns_to_select = columns_to_select
    TableView.data = data
    TableView._list_columns = True
