import re

from scrapers.bases import JsonSpider, clean

# Unverified: the national OCOP portal. Provinces publish their lists as PDF/Excel annexes to
# recognition decisions, not as JSON, so a live run fails cleanly ("not JSON") and keeps the rows;
# lists in this shape come in with `make ingest SOURCE=vn_ocop_tra_vinh FILE=…`.
PORTAL = "https://ocop.gov.vn"

# "HTX Tân Qui, xã An Phú Tân": the producer's name, then its commune.
TRAILING_PLACE = re.compile(r",\s*((?:xã|thị trấn|phường)\s+[^,]+)$", re.IGNORECASE)


def ocop_terms(stars):
    """(status, words) for an OCOP star count: 3–5 stars is an OCOP recognition; 1–2 stars is a
    rating below it; 0 or empty means the product was not rated, which is no OCOP recognition."""
    if not stars:
        return "not rated", "chưa xếp hạng, không phải sản phẩm OCOP được công nhận · not rated, not an OCOP product"
    if stars < 3:
        return "rated", f"{stars} sao, dưới mức được công nhận OCOP (3 sao) · {stars} stars, below OCOP recognition"
    return "rated", f"{stars} sao · {stars} stars"


class VnOcopTraVinhSpider(JsonSpider):
    """OCOP-rated products of Cầu Kè district, Trà Vinh (SOURCES.md A2): a JSON list of
    ``{id, name, author (producer), address (commune), star (0 = not yet rated), detail,
    createdTime, idDoc}``; the last three are empty. ``id`` is the list's own sequence number."""
    name = "vn_ocop_tra_vinh"
    table = "listings"
    title = "OCOP-rated products of Cầu Kè district (Trà Vinh, now Vĩnh Long)"
    publisher = "UBND huyện Cầu Kè (Trà Vinh) — OCOP product list"
    jurisdiction = "VN"
    licence = "Public government information"
    live_url = PORTAL
    file_only = True   # the portal is HTML (unverified); the list is loaded from files
    sample = "vn_ocop_tra_vinh.json"
    historical = True  # one published list, without dates; not updated
    url_kind = "portal"  # records have no page of their own
    fields = {
        "id": "source_id",
        "name": "product",
        "author": "holder",
    }

    def post_process(self, record, row):
        record["scheme"] = "OCOP"
        # Records have no page of their own: the portal is the nearest official page.
        record["url"] = PORTAL
        commune = clean(row.get("address"))
        place = TRAILING_PLACE.search(record["holder"] or "")
        if place:
            record["holder"] = clean(record["holder"][:place.start()])
            commune = commune or clean(place[1])
        record["address"] = ", ".join(filter(None, [commune, "huyện Cầu Kè, tỉnh Trà Vinh"]))
        record["province"] = "Trà Vinh"   # as published (pre-2025); the pipeline maps it to Vĩnh Long
        star = clean(row.get("star"))   # 3, "3" or "3 sao"; 0 means not yet rated
        stars = re.fullmatch(r"([0-5])(?:\s*sao)?", str(star), re.IGNORECASE)
        if stars is None:
            record["rating"] = None if star is None else str(star)
            if star is not None:
                self.flag(record, "rating", str(star), "not a star rating from 0 to 5")
        elif stars[1] == "0":
            record["rating"] = None
        else:
            record["rating"] = f"{stars[1]} sao"
        record["kind"] = "rating"
        if stars is not None or star is None:
            record["status"], record["rating_text"] = ocop_terms(int(stars[1]) if stars else 0)
        return record
