"""Derived columns, computed when a record is written: 2025 places, coordinates, establishment keys."""
import re

from db.fold import canonical
from db.places import in_vietnam, locate

# Legal-form words that vary between two mentions of one business.
_LEGAL_FORMS = re.compile(r"\b(cong ty|co phan|trach nhiem huu han|tnhh|mot thanh vien|mtv|hop tac xa|"
                          r"ho kinh doanh|ho sxkd|chi nhanh|limited|ltd|inc|llc|plc|co)\b")


def name_key(name):
    """A business name folded for matching: no marks, no case, no legal form."""
    if not name:
        return None
    key = canonical(name, for_query=True)
    key = _LEGAL_FORMS.sub(" ", key)
    key = re.sub(r"[^0-9a-z]+", " ", key).strip()
    return key or None


def establishment_key(name, tax_code=None, province_code=None):
    if tax_code:
        return f"tax:{tax_code}"
    key = name_key(name)
    return f"name:{key}|{province_code or ''}" if key else None


def enrich(table, record):
    record = dict(record)
    if table in ("violations", "listings"):
        lat, lon = record.get("latitude"), record.get("longitude")
        if record.get("jurisdiction") == "VN":
            place = locate(record.get("address"), record.get("province"), lat, lon)
            record.update(place._asdict())
        elif lat is not None and lon is not None:
            record["geo_precision"] = "point"
        name = record.get("establishment") if table == "violations" else record.get("holder")
        record["establishment_id"] = establishment_key(name, record.get("tax_code"), record.get("province_code"))
    elif table == "recalls":
        record["establishment_id"] = establishment_key(record.get("company"))
    return record


__all__ = ["enrich", "establishment_key", "name_key", "in_vietnam"]
