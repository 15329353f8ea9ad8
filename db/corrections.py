"""Reviewed corrections (`db/corrections.csv`), applied at every build and published in `corrections`.

A business or a reader asks for a correction (`/phan-hoi`); a maintainer checks the evidence and, when it
holds, adds one row: `table,record_id,column,corrected_value,reason,date,reviewer,evidence_url`. At
finalize each row:

- replaces the record's column with the corrected value, after saving the record as it was in
  `versions` (run id `correction:<date>`, `replaced` = the correction's date), so the earlier version
  stays in the record's history;
- is published in `corrections` with the source's own value beside the corrected one, so the record's
  page shows both, with the date, the reason, the reviewer and the evidence: a correction never
  silently removes what the source said (`raw` also keeps the source's row untouched).

Applying is idempotent: a build on a file already corrected adds no version and reads the source's
value back from the version the correction saved. A malformed file, an unknown record or a column that
is not the source's data (ids, bookkeeping, columns computed at build) fails the build, like
`db/resolver.csv`, and the published database stays as it was.

An ingest compares the source's item with the source's value of a corrected column
(`db/store.py` reads `corrections`), so a source that still says the same leaves the record unchanged
and the correction in place; a source that says something new is a new version, and the next build
applies the correction again on top of it.
"""
import csv
import datetime
import json
import os
from pathlib import Path

from db import schema

FILE = Path(__file__).with_name("corrections.csv")
HEADER = ["table", "record_id", "column", "corrected_value", "reason", "date", "reviewer", "evidence_url"]
TABLES = ("recalls", "violations", "listings")
PROTECTED = {"id", "source", "source_id", "raw", "quality_flags", "establishment_id"} | schema.BOOKKEEPING \
    | schema.FILLED_AT_BUILD


class CorrectionError(ValueError):
    pass


def path():
    return Path(os.environ.get("MINHBACH_CORRECTIONS") or FILE)


def load(file=None):
    """The reviewed rows, checked; CorrectionError names the first bad row."""
    file = Path(file or path())
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != HEADER:
            raise CorrectionError(f"{file.name}: header must be {','.join(HEADER)}")
        rows = list(reader)
    for n, row in enumerate(rows, start=2):
        where = f"{file.name} line {n}"
        if row["table"] not in TABLES:
            raise CorrectionError(f"{where}: table must be one of {', '.join(TABLES)}")
        columns = schema.TABLES[row["table"]]["columns"]
        if row["column"] not in columns or row["column"] in PROTECTED:
            raise CorrectionError(f"{where}: {row['column']!r} is not a correctable column of {row['table']}")
        for name in ("record_id", "reason", "reviewer"):
            if not row[name].strip():
                raise CorrectionError(f"{where}: {name} is empty")
        try:
            datetime.date.fromisoformat(row["date"])
        except ValueError:
            raise CorrectionError(f"{where}: date must be YYYY-MM-DD") from None
        if not row["evidence_url"].startswith(("https://", "http://")):
            raise CorrectionError(f"{where}: evidence_url must be a web address")
        kind = columns[row["column"]][0]
        if row["corrected_value"] != "" and kind in (int, float):
            try:
                kind(row["corrected_value"])
            except ValueError:
                raise CorrectionError(f"{where}: {row['column']} takes a number") from None
    return sorted(rows, key=lambda r: (r["date"], r["table"], r["record_id"], r["column"]))


def typed(table, column, value):
    if value == "":
        return None
    kind = schema.TABLES[table]["columns"][column][0]
    return kind(value) if kind in (int, float) else value


def apply(conn, file=None):
    """Apply every reviewed correction to the build file and publish them in `corrections`."""
    rows = load(file)
    conn.execute("delete from corrections")
    for row in rows:
        table, record_id, column = row["table"], row["record_id"], row["column"]
        cursor = conn.execute(f"select * from [{table}] where id = ?", [record_id])
        names = [d[0] for d in cursor.description]
        record = cursor.fetchone()
        if record is None:
            raise CorrectionError(f"corrections: no {table} record {record_id!r}")
        record = dict(zip(names, record))
        run_id = f"correction:{row['date']}"
        corrected = typed(table, column, row["corrected_value"])
        if record[column] != corrected:
            source_value = record[column]
            version = conn.execute("select coalesce(max(version), 0) + 1 from versions where table_name = ? and record_id = ?",
                                   [table, record_id]).fetchone()[0]
            conn.execute("insert into versions (table_name, record_id, version, run_id, replaced, changed, record) "
                         "values (?, ?, ?, ?, ?, ?, ?)",
                         [table, record_id, version, run_id, row["date"], json.dumps([column]),
                          json.dumps(record, ensure_ascii=False)])
            conn.execute(f"update [{table}] set [{column}] = ? where id = ?", [corrected, record_id])
        else:   # corrected by an earlier build: the source's value is in the version saved then
            saved = conn.execute("select record from versions where table_name = ? and record_id = ? and run_id = ? "
                                 "and changed = ? order by version desc limit 1",
                                 [table, record_id, run_id, json.dumps([column])]).fetchone()
            source_value = json.loads(saved[0]).get(column) if saved else record[column]
        conn.execute("insert or replace into corrections (table_name, record_id, column_name, source_value, corrected_value, "
                     "reason, date, reviewer, evidence_url) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [table, record_id, column, None if source_value is None else str(source_value),
                      row["corrected_value"], row["reason"], row["date"], row["reviewer"], row["evidence_url"]])
