"""Derived columns, computed when a record is written: 2025 places, coordinates, establishment keys."""
import re
from functools import lru_cache

from db import schema
from db.fold import canonical
from db.places import in_vietnam, locate

# Legal-form words that vary between two mentions of one business.
_LEGAL_FORMS = re.compile(r"\b(cong ty|co phan|trach nhiem huu han|tnhh|mot thanh vien|mtv|hop tac xa|htxnn|htx|"
                          r"ho kinh doanh|ho sxkd|chi nhanh|limited|ltd|inc|llc|plc|co)\b")


@lru_cache(maxsize=65536)   # business names repeat across decisions; the key is a pure function
def name_key(name):
    """A business name folded for matching: no marks, no case, no legal form."""
    if not name:
        return None
    key = canonical(name, for_query=True)
    key = _LEGAL_FORMS.sub(" ", key)
    key = re.sub(r"[^0-9a-z]+", " ", key).strip()
    return key or None


def establishment_key(name, tax_code=None, province_code=None, point=None):
    """`tax:<code>` where known; else the folded name with the province (or, abroad, the rounded
    point: 55 "Pret A Manger" outlets in one city are 55 establishments)."""
    if tax_code:
        return f"tax:{tax_code}"
    key = name_key(name)
    if not key:
        return None
    where = province_code or (f"{point[0]:.4f},{point[1]:.4f}" if point and None not in point else "")
    return f"name:{key}|{where}"


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
        point = (record.get("latitude"), record.get("longitude")) if record.get("jurisdiction") != "VN" else None
        record["establishment_id"] = establishment_key(name, record.get("tax_code"), record.get("province_code"), point)
    elif table == "recalls":
        record["establishment_id"] = establishment_key(record.get("company"))
    return record


# Every column enrich() reads: enrich(table, record) == {**record, **enrich(table, inputs(table, record))},
# so a worker process gets these few columns (and the indexed ones) and sends back what changed.
INPUTS = ("address", "province", "latitude", "longitude", "jurisdiction", "establishment", "holder",
          "tax_code", "province_code", "company")


def inputs(table, record):
    wanted = INPUTS + tuple(schema.TABLES[table]["fts"])
    return {k: record[k] for k in wanted if k in record}


def index_text(table, record):
    """The text build_fts folds for this record (SQL: coalesce(c, '') joined by spaces), or None."""
    values = [record.get(c) for c in schema.TABLES[table]["fts"]]
    if not values or not all(v is None or isinstance(v, str) for v in values):
        return None
    return " ".join("" if v is None else v for v in values)


def enrich_inputs(table, batch):
    """The unit of work of a worker process: for each inputs(table, record), the columns enrich()
    adds or replaces, the record's index text and that text folded (FTS), both None without text."""
    out = []
    for subset in batch:
        record = enrich(table, subset)
        changed = {k: v for k, v in record.items() if k not in subset or subset[k] is not v}
        text = index_text(table, record)
        out.append((changed, text, None if text is None else canonical(text)))
    return out


__all__ = ["enrich", "enrich_inputs", "establishment_key", "index_text", "inputs", "name_key", "in_vietnam",
           "INPUTS"]
