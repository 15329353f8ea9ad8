"""The channels around a record: where to report a problem, a QR code and a badge that lead to the live page.

- ``report_channels(kind, province_code)``: the rows of the reviewed file ``db/channels.csv`` that
  handle a kind of problem in a province (``*`` in the file: every kind, every province), each with
  its source URL and the date it was checked. `/phan-anh` lists them; nothing is posted to us.
- ``report_kinds``: the kinds of problem the page offers, and ``report_kind(recall_kind)``: the kind a
  record's own `kind` column maps to (a recalled drug is a drug problem).
- ``absolute_url(path)``: the record's canonical URL as a visitor reaches it (the QR code's content).
- ``qr_svg(url)``: an inline SVG QR code made by segno (error correction M, 4-module quiet zone).
- ``/-/qr/<table>/<id>.svg``: the same QR code as a file a shop can print;
  ``/-/badge/<table>/<id>.svg``: a small badge for listings and establishments stating only what the
  database says now (the scheme's own rating words, penalties counted, withdrawn when the source
  stopped listing it), drawn at request time, so it never freezes a claim.
"""
import csv
import io
import re
from pathlib import Path

import segno
from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

DATABASE = "minhbach"
CHANNELS = Path(__file__).resolve().parent.parent / "db" / "channels.csv"
REQUIRED = ("id", "authority", "channel", "kinds", "provinces", "source_url", "checked")


def N_(message):
    """Marks a label for the catalogue (pybabel extracts N_ from this file; the page shows _(label))."""
    return message


# The kinds of problem the report page offers, in the order shown (value, Vietnamese label; English in
# locale/en through the catalogue).
KINDS = [
    ("food", N_("Thực phẩm không an toàn")),
    ("drug", N_("Thuốc")),
    ("cosmetic", N_("Mỹ phẩm")),
    ("counterfeit", N_("Hàng giả")),
    ("establishment", N_("Cửa hàng, cơ sở ăn uống")),
    ("ecommerce", N_("Lừa đảo mua bán trên mạng")),
    ("vehicle", N_("Xe cộ")),
    ("device", N_("Thiết bị y tế, đồ điện")),
    ("children", N_("Đồ dùng trẻ em")),
    ("other", N_("Khác")),
]
RECORD_KIND = {"withdrawal": "other"}


def load_channels(path=CHANNELS):
    """Every row of the reviewed channels file; a row without its source or checked date is an error."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
        if missing:
            raise ValueError(f"db/channels.csv row {row.get('id')!r}: empty {', '.join(missing)}")
    return rows


def channels_for(kind, province_code, rows=None):
    """Channels for one kind in one province: national (`*`) rows and the province's own, own first."""
    found = []
    for row in load_channels() if rows is None else rows:
        kinds, provinces = row["kinds"].split(), row["provinces"].split()
        if kind and "*" not in kinds and kind not in kinds:
            continue
        if "*" not in provinces and (not province_code or province_code not in provinces):
            continue
        found.append(row)
    return sorted(found, key=lambda r: ("*" in r["provinces"].split(), "*" in r["kinds"].split()))


def qr(url):
    return segno.make(url, error="m", micro=False)


def qr_svg(url, scale=4, title="Mã QR"):
    """Inline SVG of a QR code for `url` (no XML declaration, a title for screen readers)."""
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title=title,
                 svgclass="qr", lineclass=None, dark="#000", light="#fff")
    return Markup(out.getvalue().decode())


def phone_href(phone):
    """tel: link of a number as printed ('043 998 5765' -> 'tel:0439985765'); None when not a number."""
    digits = re.sub(r"[\s.\-()]", "", phone or "")
    return f"tel:{digits}" if re.fullmatch(r"\+?\d{5,15}", digits) else None


@hookimpl
def extra_template_vars(datasette, request):
    def absolute_url(path):
        return datasette.absolute_url(request, path) if request is not None else path

    return {
        "report_channels": channels_for,
        "report_kinds": KINDS,
        "report_kind": lambda kind: RECORD_KIND.get(kind, kind) if kind else "",
        "phone_href": phone_href,
        "absolute_url": absolute_url,
        "qr_svg": qr_svg,
        # where /phan-hoi sends a correction request (metadata.yml, plugin config `minhbach-corrections`)
        "corrections_request_url": (datasette.plugin_config("minhbach-corrections") or {}).get("request_url"),
    }


BADGE_TABLES = {"listings", "establishments"}


def _text_width(text, size):
    return int(len(text) * size * 0.56) + 12


async def badge_lines(datasette, table, pk):
    """What the badge states, from the database now: [(text, bad?)]; NotFound for an unknown record."""
    db = datasette.get_database(DATABASE)
    if table == "listings":
        rows = (await db.execute(
            "select l.scheme, l.kind, l.rating_text, l.rating, l.status, l.valid_from, l.withdrawn, l.product, l.holder,"
            " (select violations_count from establishments e where e.id = l.establishment_id) as penalties"
            " from listings l where l.id = :id", {"id": pk})).rows
        if not rows:
            raise NotFound("Không có bản ghi này · No such record")
        r = rows[0]
        standing = r["rating_text"] or r["rating"] or r["status"] or ""
        lines = [(f"{r['scheme']}: {standing}".strip(": "), False)]
        if r["valid_from"]:
            label = {"rating": "Ngày xếp hạng · rated", "award": "Ngày trao · awarded",
                     "certificate": "Ngày cấp · issued"}.get(r["kind"], "Ngày ghi trong nguồn · dated")
            lines.append((f"{label} {r['valid_from']}", False))
        if r["withdrawn"]:
            lines.append((f"Nguồn ngừng liệt kê từ · not listed since {r['withdrawn'][:10]}", True))
        if r["penalties"]:
            lines.append((f"Cơ sở bị xử phạt {r['penalties']} lần · penalised {r['penalties']}×", True))
        return r["product"] or r["holder"] or "", lines
    rows = (await db.execute("select name, violations_count, listings_count, recalls_count from establishments"
                             " where id = :id", {"id": pk})).rows
    if not rows:
        raise NotFound("Không có bản ghi này · No such record")
    r = rows[0]
    return r["name"], [
        (f"{r['violations_count'] or 0} xử phạt · penalties", bool(r["violations_count"])),
        (f"{r['listings_count'] or 0} xếp hạng, chứng nhận · ratings, certificates", False),
        (f"{r['recalls_count'] or 0} thu hồi · recalls", bool(r["recalls_count"])),
    ]


def badge_svg(name, lines, url):
    size = 12
    heading = "Minh Bạch — hiện trạng · current record"
    texts = [heading, name[:60]] + [t for t, _bad in lines] + ["Xem trang · See the page"]
    width = max(_text_width(t, size) for t in texts)
    height = 8 + 18 * len(texts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(name)}"><title>{escape(heading)}: {escape(name)}</title>',
             f'<rect width="{width}" height="{height}" rx="6" fill="#fff" stroke="#1f4e79"/>',
             f'<a href="{escape(url)}">']
    y = 20
    for i, text in enumerate(texts):
        bad = any(text == t and b for t, b in lines)
        weight = ' font-weight="bold"' if i < 2 else ""
        colour = "#a40000" if bad else "#1f4e79" if i == 0 else "#111"
        parts.append(f'<text x="8" y="{y}" font-family="sans-serif" font-size="{size}" fill="{colour}"{weight}>'
                     f'{escape(text)}</text>')
        y += 18
    parts.append("</a></svg>")
    return "".join(parts)


def _record(request):
    table = request.url_vars["table"]
    if table not in BADGE_TABLES | {"recalls", "violations"}:
        raise NotFound("Không có trang này · No such page")
    return table, tilde_decode(request.url_vars["pk"])


async def qr_route(datasette, request):
    table, pk = _record(request)
    db = datasette.get_database(DATABASE)
    if not (await db.execute(f"select 1 from [{table}] where id = :id", {"id": pk})).rows:
        raise NotFound("Không có bản ghi này · No such record")
    url = datasette.absolute_url(request, datasette.urls.row(DATABASE, table, tilde_encode(pk)))
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=8, border=4, title=url)
    return Response(out.getvalue(), content_type="image/svg+xml; charset=utf-8")


async def badge_route(datasette, request):
    table, pk = _record(request)
    if table not in BADGE_TABLES:
        raise NotFound("Không có huy hiệu cho loại này · No badge for this kind")
    name, lines = await badge_lines(datasette, table, pk)
    url = datasette.absolute_url(request, datasette.urls.row(DATABASE, table, tilde_encode(pk)))
    return Response(badge_svg(name, lines, url), content_type="image/svg+xml; charset=utf-8",
                    headers={"cache-control": "public, max-age=300"})


@hookimpl
def register_routes():
    return [
        (r"^/-/qr/(?P<table>[a-z_]+)/(?P<pk>[^/]+)\.svg$", qr_route),
        (r"^/-/badge/(?P<table>[a-z_]+)/(?P<pk>[^/]+)\.svg$", badge_route),
    ]
