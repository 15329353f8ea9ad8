"""Derived columns, computed when a record is written: 2025 places, coordinates, establishment keys.

Business identity is conservative (see the README, "Who is who"): two records are one establishment
only on evidence, in this order:
1. the same official identifier: Vietnamese tax code `tax:<MST>`, the source's own premises id
   (UK FHRS id) `fhrs:<id>`, FDA firm FEI `fei:<number>` (recalls);
2. the same folded name at the same normalised street address `addr:<name>|<province or country>|<address>`;
otherwise the record is an establishment of its own, `rec:<record id>` (same name nearby is at most
"possibly related", db/build.py). Reviewed decisions (db/resolver.csv) map keys onto one another.
"""
import csv
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from db import schema
from vn.fold import canonical, fold, squash
from vn.places import in_vietnam, locate

# Legal forms, as folded token sequences: stripped only as whole tokens at the start or the end of a
# name, never inside it ("Quán Cô Ba" is not "Quán Ba"). canonical() already spells out TNHH, CP, TP.
_LEADING_FORMS = [f.split() for f in (
    "cong ty trach nhiem huu han mot thanh vien", "cong ty trach nhiem huu han mtv", "cong ty trach nhiem huu han",
    "cong ty co phan", "cong ty", "cty trach nhiem huu han", "cty co phan", "cty", "ctcp",
    "trach nhiem huu han mot thanh vien", "trach nhiem huu han mtv", "trach nhiem huu han",
    "doanh nghiep tu nhan", "dntn", "ho kinh doanh", "hkd", "hop tac xa", "htx", "chi nhanh")]
_TRAILING_FORMS = [f.split() for f in (
    "co ltd", "co limited", "company limited", "pvt ltd", "private limited", "ltd", "limited", "plc", "co inc",
    "inc", "llc", "sarl", "sas", "gmbh", "joint stock company", "jsc")]


def _forms_pattern(forms, leading):
    alternatives = "|".join(" ".join(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"^(?:(?:{alternatives})(?: |$))+" if leading else rf"(?:(?:^| )(?:{alternatives}))+$")


_LEADING = _forms_pattern(_LEADING_FORMS, leading=True)
_TRAILING = _forms_pattern(_TRAILING_FORMS, leading=False)


def _strip_forms(text):
    """Leading and trailing legal forms removed; a name made only of legal forms is kept whole."""
    return _TRAILING.sub("", _LEADING.sub("", text)).strip() or text


@lru_cache(maxsize=65536)   # business names repeat across decisions; the key is a pure function
def name_key(name):
    """A business name folded for matching: no marks, no case, no punctuation, no leading or
    trailing legal form (a name that is only a legal form is kept whole)."""
    if not name:
        return None
    text = squash(re.sub(r"[^0-9a-z]+", " ", canonical(name, for_query=True)))
    return _strip_forms(text) or None


# Address abbreviations, on folded words (fold() is the fast path of canonical(): no alias matching).
_ADDRESS_WORDS = {"p": "phuong", "q": "quan", "tx": "thi xa", "tt": "thi tran", "h": "huyen", "x": "xa",
                  "tp": "thanh pho", "tphcm": "thanh pho ho chi minh", "hcm": "ho chi minh",
                  "hcmc": "thanh pho ho chi minh", "st": "street", "rd": "road"}
# A segment starting with one of these names an administrative unit, not a street.
_ADMIN = re.compile(r"^(?:phuong|xa|thi tran|quan|huyen|thi xa|thanh pho|tinh|dac khu)\b")
# Words that place a business on a street ("phố", but not "thành phố", "khu phố", "tổ dân phố").
_STREET = re.compile(r"(?<!thanh )(?<!khu )(?<!dan )\b(?:duong|pho|ngo|hem|kiet|ngach|quoc lo|tinh lo|km|street|road|lane|avenue|"
                     r"way|square|place|drive|close|parade|row|terrace)\b")
# A number after these names a hamlet or a residential group, not a house.
_GROUP = re.compile(r"\b(?:to|thon|ap|khu|xom|ban|khom|doi|khu pho|to dan pho|cum) $")
_WORD_OR_BREAK = re.compile(r"[0-9a-z]+|[,;()]")


def _address_segments(address):
    """The address as folded texts, one per comma-separated part ("số 16 X" is "16 X")."""
    segments, words = [], []
    tokens = _WORD_OR_BREAK.findall(fold(address))
    for n, token in enumerate(tokens):
        if token in ",;()":
            if words:
                segments.append(" ".join(words))
                words = []
        elif token == "so" and n + 1 < len(tokens) and tokens[n + 1][0].isdigit():
            continue
        else:
            words.append(_ADDRESS_WORDS.get(token, token))
    if words:
        segments.append(" ".join(words))
    return segments


def _names_a_street(text):
    """A house number or a street word: the address is finer than a ward, a hamlet or a group."""
    if _STREET.search(text):
        return True
    return any(not _GROUP.search(text[:number.start()]) for number in re.finditer(r"\b[0-9]", text))


@lru_cache(maxsize=65536)
def address_key(address):
    """The address folded for matching, or None when it names no street (only a ward, a commune,
    a hamlet or a town: same name there is a candidate for review, never a merge)."""
    if not address:
        return None
    segments = _address_segments(address)
    street = []
    for segment in segments:
        if _ADMIN.match(segment):
            break
        street.append(segment)
    if not street or not _names_a_street(" ".join(street)):
        return None
    return " ".join(segments)


def establishment_key(name, tax_code=None, province_code=None, *, address=None, jurisdiction=None,
                      premises_id=None, record_id=None):
    """The rule key of one record's establishment (before reviewed decisions), or None without a name.
    A map point is never evidence: 55 outlets of one chain can share a rounded point, and many
    premises have none."""
    if tax_code:
        return f"tax:{tax_code}"
    if premises_id:
        return premises_id
    key = name_key(name)
    if not key:
        return None
    where = province_code or (jurisdiction if jurisdiction and jurisdiction != "VN" else None)
    street = address_key(address) if where else None
    if street:
        return f"addr:{key}|{where}|{street}"
    return f"rec:{record_id}" if record_id else None


# Sources whose records each describe one premises, with that premises' official id as source_id.
PREMISES_SOURCES = {"gb_fsa_hygiene_ratings": "fhrs"}
# Sources whose raw record carries the firm's official id: (raw field, key prefix).
FIRM_ID_SOURCES = {"us_fda_recalls": ("FIRMFEINUM", "fei")}
_COMPANY_ROLES = re.compile(r"^(nhap khau|phan phoi|san xuat|chu san pham|dai dien|noi lay mau|thu hoi|bao cao|"
                            r"importer|distributor|manufacturer)")
_TAX_LABEL = re.compile(r"(?i)\b(?:MST|mã số thuế|mã số doanh nghiệp)\s*:?\s*([0-9][0-9 .\-]{8,16}[0-9])")


def premises_id(record):
    prefix = PREMISES_SOURCES.get(record.get("source"))
    return f"{prefix}:{record['source_id']}" if prefix and record.get("source_id") else None


def firm_id(record):
    """`fei:<n>` from an FDA record's raw FIRMFEINUM (digits only), else None."""
    field, prefix = FIRM_ID_SOURCES.get(record.get("source"), (None, None))
    raw = record.get("raw")
    if not field or not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw).get(field)
    except (ValueError, AttributeError):
        return None
    value = str(value).strip() if value is not None else ""
    return f"{prefix}:{value}" if value.isdigit() and int(value) else None


def split_company(text):
    """(name, address, tax code) from a recall's responsible party, e.g.
    "Công ty TNHH X (194-2 Nguyễn Trọng Tuyển, phường 8, quận Phú Nhuận, TP HCM) (nhập khẩu)": the name
    before the first bracket, an address only from a bracket that names a street, a tax code only
    where the text labels one (MST) and its check digit holds."""
    from vn.ids import parse_tax_code
    if not text:
        return None, None, None
    name = re.split(r"\s*[(\[]", text, maxsplit=1)[0].strip(" ,;-–") or None
    label = _TAX_LABEL.search(text)
    tax = parse_tax_code(label.group(1)) if label else None
    address = None
    for inner in re.findall(r"\(([^()]*)\)", text):
        folded = canonical(inner, for_query=True)
        if not _COMPANY_ROLES.match(folded) and not _TAX_LABEL.search(inner) and address_key(inner):
            address = inner.strip()
            break
    return name, address, tax


# Reviewed decisions (OpenSanctions' resolver judgements): a versioned file, applied to every record
# when it is written and to every stored record at each build (db/build.py).
RESOLVER = Path(__file__).with_name("resolver.csv")
RESOLVER_COLUMNS = ["left_id", "right_id", "judgement", "reason", "date", "reviewer"]
JUDGEMENTS = ("merge", "do-not-merge")
OFFICIAL_PREFIXES = ("tax:", "fhrs:", "fei:")   # one official id is one entity: two are never merged


class ResolverError(ValueError):
    pass


def resolver_path():
    return Path(os.environ.get("MINHBACH_RESOLVER") or RESOLVER)


def _rank(key):
    """The id a merged cluster is known by: an official id first, then an address key, then the smallest."""
    return (0 if key.startswith(OFFICIAL_PREFIXES) else 1 if key.startswith("addr:") else 2, key)


def _scheme(key):
    return key.split(":", 1)[0] if key.startswith(OFFICIAL_PREFIXES) else None


def read_resolver(path):
    """(judgements as dicts, {key: canonical key} for merged keys). A malformed file is an error
    naming its line: a wrong judgement must never be applied half-read."""
    path = Path(path)
    if not path.exists():
        return [], {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]] != RESOLVER_COLUMNS:
        raise ResolverError(f"{path}: the header must be {','.join(RESOLVER_COLUMNS)}")
    judgements, seen = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(RESOLVER_COLUMNS):
            raise ResolverError(f"{path}:{line}: expected {len(RESOLVER_COLUMNS)} cells, got {len(row)}")
        j = dict(zip(RESOLVER_COLUMNS, (cell.strip() for cell in row)))
        missing = [c for c in RESOLVER_COLUMNS if not j[c]]
        if missing:
            raise ResolverError(f"{path}:{line}: empty {', '.join(missing)}")
        if j["judgement"] not in JUDGEMENTS:
            raise ResolverError(f"{path}:{line}: judgement must be one of {', '.join(JUDGEMENTS)}, got {j['judgement']!r}")
        if j["left_id"] == j["right_id"]:
            raise ResolverError(f"{path}:{line}: left_id and right_id are the same")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", j["date"]):
            raise ResolverError(f"{path}:{line}: date must be YYYY-MM-DD, got {j['date']!r}")
        pair = tuple(sorted((j["left_id"], j["right_id"])))
        if pair in seen and seen[pair] != j["judgement"]:
            raise ResolverError(f"{path}:{line}: {pair[0]} and {pair[1]} are judged both merge and do-not-merge")
        seen[pair] = j["judgement"]
        judgements.append(j)
    return judgements, _clusters(path, seen)


def _clusters(path, seen):
    parent = {}

    def root(key):
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key
    for (left, right), judgement in sorted(seen.items()):
        if judgement == "merge":
            parent[root(left)] = root(right)
    members = {}
    for key in parent:
        members.setdefault(root(key), []).append(key)
    canonical_of = {}
    for keys in members.values():
        schemes = [_scheme(k) for k in keys if _scheme(k)]
        if len(schemes) != len(set(schemes)):
            raise ResolverError(f"{path}: merges would join two official ids of one kind: {', '.join(sorted(keys))}")
        for (left, right), judgement in seen.items():
            if judgement == "do-not-merge" and left in keys and right in keys:
                raise ResolverError(f"{path}: {left} and {right} are judged do-not-merge but merges join them")
        chosen = min(keys, key=_rank)
        canonical_of.update({k: chosen for k in keys if k != chosen})
    return canonical_of


@lru_cache(maxsize=8)
def _resolver(path):
    return read_resolver(path)


def resolver():
    """The judgements in force (cached per process; ``forget_resolver()`` after changing the file)."""
    return _resolver(str(resolver_path()))


def forget_resolver():
    _resolver.cache_clear()


def resolve(key):
    """A rule key after the reviewed merges: the key its cluster is known by."""
    return resolver()[1].get(key, key) if key else key


def establishment_id_of(table, record):
    """The establishment a record names, by the evidence ladder and the reviewed decisions."""
    if table == "recalls":
        # Only the responsible party (`company`), never a name printed on a counterfeit.
        name, address, tax = split_company(record.get("company"))
        key = f"tax:{tax}" if tax else firm_id(record)
        if not key and name and address:
            place = locate(address) if record.get("jurisdiction") == "VN" else None
            key = establishment_key(name, province_code=place.province_code if place else None, address=address,
                                    jurisdiction=record.get("jurisdiction"))
        return resolve(key)
    name = record.get("establishment") if table == "violations" else record.get("holder")
    return resolve(establishment_key(name, record.get("tax_code"), record.get("province_code"),
                                     address=record.get("address"), jurisdiction=record.get("jurisdiction"),
                                     premises_id=premises_id(record), record_id=record.get("id")))


def enrich(table, record):
    record = dict(record)
    if table in ("violations", "listings"):
        lat, lon = record.get("latitude"), record.get("longitude")
        if record.get("jurisdiction") == "VN":
            place = locate(record.get("address"), record.get("province"), lat, lon)
            record.update(place._asdict())
        elif lat is not None and lon is not None:
            # A source that knows its point is only a town's or a street's says so (gb_fsa_prosecutions).
            record["geo_precision"] = record.get("geo_precision") or "point"
    if table in ("violations", "listings", "recalls"):
        record["establishment_id"] = establishment_id_of(table, record)
    return record


# Every column enrich() reads: enrich(table, record) == {**record, **enrich(table, inputs(table, record))},
# so a worker process gets these few columns (and the indexed ones) and sends back what changed.
INPUTS = ("id", "source", "source_id", "address", "province", "latitude", "longitude", "jurisdiction",
          "establishment", "holder", "tax_code", "province_code", "company", "geo_precision")


def inputs(table, record):
    wanted = INPUTS + tuple(schema.TABLES[table]["fts"])
    if record.get("source") in FIRM_ID_SOURCES:
        wanted += ("raw",)    # the firm's id is only in the raw record; other sources never ship it
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


__all__ = ["address_key", "enrich", "enrich_inputs", "establishment_id_of", "establishment_key", "index_text", "inputs",
           "name_key", "in_vietnam", "read_resolver", "resolve", "split_company", "INPUTS"]
