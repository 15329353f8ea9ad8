"""Harmonised hazard codes for recalls, from the reviewed mapping db/hazards.csv.

Each row maps one source's own wording (its `hazard` or `category` field: `exact`, `prefix` or
`contains`, case-insensitive) to one code of the vocabulary in db/vocabulary.csv (Vietnamese and
English labels). Rules apply in file order; the first that matches sets `recalls.hazard_code`.
Wording no rule names keeps an empty code: the page then says nothing about the hazard.
"""
import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAPPING = HERE / "hazards.csv"
VOCABULARY = HERE / "vocabulary.csv"
FIELDS = {"hazard", "category"}
MATCHES = {"exact": "{}", "prefix": "{}%", "contains": "%{}%"}


def rules():
    with open(MAPPING, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def vocabulary():
    """{(field, code): (label_vi, label_en)}"""
    with open(VOCABULARY, encoding="utf-8", newline="") as f:
        return {(r["field"], r["code"]): (r["label_vi"], r["label_en"]) for r in csv.DictReader(f)}


def check():
    """Every rule names a known field, match and hazard code; returns the rules."""
    known = {code for field, code in vocabulary() if field == "hazard_code"}
    rows = rules()
    for n, r in enumerate(rows, start=2):
        if r["field"] not in FIELDS or r["match"] not in MATCHES or r["hazard_code"] not in known or not r["pattern"]:
            raise ValueError(f"db/hazards.csv line {n}: {r}")
    return rows


def apply(conn):
    conn.execute("update recalls set hazard_code = null where hazard_code is not null")
    for r in check():
        pattern = r["pattern"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if r["match"] == "exact":
            test, value = f"[{r['field']}] = ? collate nocase", r["pattern"]
        else:
            test, value = f"[{r['field']}] like ? escape '\\'", MATCHES[r["match"]].format(pattern)
        conn.execute(f"update recalls set hazard_code = ? where hazard_code is null and source = ? and {test}",
                     (r["hazard_code"], r["source"], value))
