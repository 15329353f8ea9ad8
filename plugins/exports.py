"""Exports beside CSV: an Excel workbook (`.xlsx`) and GeoJSON (`.geojson`) of any table, view or query.

Excel in a Vietnamese locale splits CSV on `;`, not `,`, so a CSV opens as one column; a workbook
has no separator to get wrong. GeoJSON lets a map tool (QGIS, uMap, geojson.io) open the map tables.

Why our own and not a plugin from PyPI: `datasette-xlsx` (0.2.2) fits Datasette 0.65 but reads a
table through the site's `.json`, where list columns are now arrays (plugins/json_shapes.py), and
writes them as Python reprs (`['5012345678900']`), with its notes sheet in Swedish;
`datasette-geojson` (0.4.0) wants a GeoJSON/SpatiaLite `geometry` column, and ours are `latitude`
and `longitude`.

A table's export holds every row its filters select, read page by page through Datasette's own JSON
(so filters, search, sort and paging are exactly the page's), up to MAX_ROWS; a query's export is
the query's rows. The workbook is written with openpyxl in write-only mode (rows stream to disk).
Both carry `record_url`, the row's page here (as the JSON does). Lists are written as the JSON text
the CSV has (XLSX) or as arrays (GeoJSON).
"""
import json
import tempfile
import urllib.parse

from datasette import hookimpl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# Bounded work per request: beyond this, the CSV export (streamed, no cap) is the way.
MAX_ROWS = 50_000
EXCEL_MAX_CELL = 32_767
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON_TYPE = "application/geo+json"


class ExportError(Exception):
    """A page of the table could not be read (e.g. it ran into the SQL time limit): the export is
    refused with that page's status and reason rather than cut short without a word."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


def refused(error):
    return {"status_code": error.status if 400 <= error.status < 600 else 502,
            "content_type": "text/plain; charset=utf-8",
            "body": f"Không xuất được tệp · Export failed: {error}\n"}


async def table_rows(datasette, request, extension):
    """(columns, rows as dicts, capped) of the whole filtered table, following Datasette's `next`."""
    path = request.path[: -len(extension) - 1] + ".json"
    keep = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
            if k not in ("_next", "_size", "_shape", "_nl", "_dl", "_facet", "_json")]
    keep += [("_size", "max"), ("_shape", "objects"), ("_nofacet", "1"), ("_nocount", "1")]
    rows, columns, next_token = [], None, None
    while True:
        query = keep + ([("_next", next_token)] if next_token else [])
        response = await datasette.client.get(path + "?" + urllib.parse.urlencode(query))
        if response.status_code != 200:
            try:
                reason = response.json().get("error") or ""
            except ValueError:
                reason = response.text[:200]
            raise ExportError(response.status_code, f"{len(rows):,} rows read, then: {reason}")
        data = response.json()
        columns = columns or data.get("columns") or []
        for row in data.get("rows", []):
            if len(rows) >= MAX_ROWS:
                return columns, rows, True
            rows.append(row)
        next_token = data.get("next")
        if not next_token:
            return columns, rows, False


async def rows_for(datasette, request, columns, rows, view_name, extension):
    if view_name == "table":
        return await table_rows(datasette, request, extension)
    # A query or a record: Datasette already ran it (bounded by its own limit); no record URLs here,
    # so ask the JSON of the same URL for them.
    path = request.path[: -len(extension) - 1] + ".json"
    query = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
             if k not in ("_shape", "_nl", "_dl")] + [("_shape", "objects")]
    response = await datasette.client.get(path + "?" + urllib.parse.urlencode(query))
    if response.status_code == 200:
        data = response.json()
        return data.get("columns") or list(columns), data.get("rows", []), False
    return list(columns), [dict(zip(columns, row)) for row in rows], False


def download_name(database, table, query_name, extension):
    name = table or query_name or database
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}.{extension}\"; filename*=UTF-8''{urllib.parse.quote(name)}.{extension}"


# ---- XLSX -----------------------------------------------------------------------------------------

def excel_value(sheet, value, truncated):
    """A cell: text never read as a formula, control characters dropped, lists as their JSON text."""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > EXCEL_MAX_CELL:
        truncated.append(1)
        value = value[: EXCEL_MAX_CELL - 1] + "…"
    if value.startswith(("=", "+", "-", "@")):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"          # shown as typed, never run as a formula
        return cell
    return value


def workbook(title, columns, rows, capped, url):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "data")
    sheet.freeze_panes = "A2"
    header = list(columns) + (["record_url"] if rows and "record_url" in rows[0] else [])
    sheet.append(header)
    truncated = []
    for row in rows:
        sheet.append([excel_value(sheet, row.get(c), truncated) for c in header])
    about = book.create_sheet("Giới thiệu · About")
    about.append(["Nguồn · Source", url])
    about.append(["Số dòng · Rows", len(rows)])
    if capped:
        about.append(["Giới hạn · Limit", f"Chỉ {MAX_ROWS:,} dòng đầu; tải CSV để có tất cả. "
                                           f"Only the first {MAX_ROWS:,} rows; the CSV export has every row."])
    if truncated:
        about.append(["Ô bị cắt · Cells cut", f"{len(truncated)} ô dài hơn {EXCEL_MAX_CELL} ký tự (giới hạn của Excel) · "
                                              f"cells longer than Excel's {EXCEL_MAX_CELL} characters"])
    about.append(["Giấy phép · Licence", "Theo từng nguồn: bảng sources · each source's licence: the sources table"])
    with tempfile.TemporaryFile() as handle:
        book.save(handle)
        handle.seek(0)
        return handle.read()


async def render_xlsx(datasette, request, database, table, query_name, columns, rows, view_name):
    try:
        columns, rows, capped = await rows_for(datasette, request, columns, rows, view_name, "xlsx")
    except ExportError as error:
        return refused(error)
    url = request.url.replace(".xlsx", ".csv", 1)
    body = workbook(table or query_name or database, columns, rows, capped, url)
    headers = {"content-disposition": download_name(database, table, query_name, "xlsx")}
    if capped:
        headers["x-minhbach-rows-capped"] = str(MAX_ROWS)
    return {"body": body, "content_type": XLSX_TYPE, "headers": headers}


# ---- GeoJSON --------------------------------------------------------------------------------------

def feature(row):
    latitude, longitude = row.get("latitude"), row.get("longitude")
    point = None
    if isinstance(latitude, (int, float)) and isinstance(longitude, (int, float)):
        point = {"type": "Point", "coordinates": [longitude, latitude]}    # RFC 7946: longitude first
    properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
    return {"type": "Feature", **({"id": row["id"]} if row.get("id") is not None else {}),
            "geometry": point, "properties": properties}


async def render_geojson(datasette, request, database, table, query_name, columns, rows, view_name):
    if not has_coordinates(columns, view_name):
        return {"status_code": 400, "content_type": "text/plain; charset=utf-8",
                "body": "GeoJSON chỉ có cho bảng có cột latitude và longitude (violations, listings, establishments, "
                        "map_violations, map_listings, nearby). GeoJSON needs latitude and longitude columns.\n"}
    try:
        columns, rows, capped = await rows_for(datasette, request, columns, rows, view_name, "geojson")
    except ExportError as error:
        return refused(error)
    collection = {"type": "FeatureCollection", "features": [feature(r) for r in rows]}
    if capped:
        collection["truncated"] = True      # a foreign member: more rows matched than MAX_ROWS
    headers = {"content-disposition": download_name(database, table, query_name, "geojson")}
    if capped:
        headers["x-minhbach-rows-capped"] = str(MAX_ROWS)
    return {"body": json.dumps(collection, ensure_ascii=False), "content_type": GEOJSON_TYPE, "headers": headers}


def has_coordinates(columns, view_name):
    return view_name in ("table", "query", "row") and {"latitude", "longitude"} <= set(columns or ())


@hookimpl
def register_output_renderer():
    return [
        {"extension": "xlsx", "render": render_xlsx,
         "can_render": lambda view_name: view_name in ("table", "query", "row")},
        {"extension": "geojson", "render": render_geojson, "can_render": has_coordinates},
    ]
