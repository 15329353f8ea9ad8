"""Canonical authority names and codes, from the reviewed table `db/authorities.csv`.

Sources spell one body many ways ("Thanh tra Sở Y tế TP HCM / TP.HCM / TPHCM / TP Hồ Chí Minh"),
which splits every count by authority. The source's spelling stays in `authority`; finalize adds
`authority_canonical` and `authority_code` for spellings the table lists. A spelling the table does
not list, or lists with an empty code (reviewed, but which body it is cannot be told), stays NULL:
nothing is guessed. Matching is exact after Unicode NFC and whitespace collapsing only.

The codes are Minh Bạch's own (jurisdiction + a slug of the canonical name), not official
identifiers; a code never changes once published, even if the canonical wording is corrected.
"""
import csv
import unicodedata
from pathlib import Path

from db import schema
from vn.fold import squash

TABLE = Path(__file__).with_name("authorities.csv")


def spelling_key(text):
    """How a spelling is looked up: NFC, single spaces, no outer spaces (nothing else is folded)."""
    return squash(unicodedata.normalize("NFC", text or ""))


def load(path=TABLE):
    """spelling key -> (canonical name, code); only reviewed, mapped spellings."""
    mapping = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["authority_code"].strip():
                mapping[spelling_key(row["spelling"])] = (row["authority_canonical"].strip(),
                                                          row["authority_code"].strip())
    return mapping


def tables_with_authority():
    return [name for name, spec in schema.TABLES.items()
            if {"authority", "authority_canonical", "authority_code"} <= set(spec["columns"])]


def apply(conn, path=TABLE, tables=None):
    """Fill `authority_canonical` / `authority_code` of every record table from the reviewed table."""
    mapping = load(path)
    conn.execute("create temp table if not exists authority_map (spelling text primary key, canonical text, code text)")
    conn.execute("delete from temp.authority_map")
    conn.executemany("insert into temp.authority_map values (?, ?, ?)",
                     [(spelling, canonical, code) for spelling, (canonical, code) in mapping.items()])
    conn.create_function("authority_key", 1, spelling_key, deterministic=True)
    for table in tables or tables_with_authority():
        conn.execute(f"""
            update [{table}] set
              authority_canonical = (select canonical from temp.authority_map where spelling = authority_key([{table}].authority)),
              authority_code = (select code from temp.authority_map where spelling = authority_key([{table}].authority))""")
    conn.execute("drop table temp.authority_map")
