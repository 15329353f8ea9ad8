"""Dated, citable copies of the published database: the file, its SHA-256, a small manifest and its
data package (the schema as a Frictionless `datapackage.json`, db/datapackage.py)."""
import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path

import yaml

from db import datapackage, schema

METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"


def snapshot(published, folder="snapshots", day=None):
    """Write `<folder>/minhbach-YYYY-MM-DD.db` (+ `.sha256`, `.json`, `.datapackage.json`); return the paths."""
    published, folder = Path(published), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{published.stem}-{(day or date.today()).isoformat()}"
    target, partial = folder / f"{stem}.db", folder / f".{stem}.db.partial"
    with sqlite3.connect(f"file:{published}?mode=ro", uri=True) as source, sqlite3.connect(partial) as copy:
        source.backup(copy)   # a consistent copy even if a swap happens meanwhile
    source.close()
    copy.close()
    partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / f"{stem}.db.sha256").write_text(f"{digest}  {target.name}\n")
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        manifest = {
            "file": target.name,
            "sha256": digest,
            "date": (day or date.today()).isoformat(),
            "tables": {t: conn.execute(f"select count(*) from [{t}]").fetchone()[0] for t in schema.TABLES},
            "sources": [dict(zip(("source", "publisher", "licence", "live_url", "last_good_run", "rows"), row))
                        for row in conn.execute(
                            "select source, publisher, licence, live_url, last_good_run, rows from sources")],
            "runs": [r[0] for r in conn.execute("select distinct run_id from runs order by run_id")],
        }
    finally:
        conn.close()
    manifest["datapackage"] = f"{stem}.datapackage.json"
    (folder / f"{stem}.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    package = datapackage.for_file(target, yaml.safe_load(METADATA.read_text()))
    (folder / f"{stem}.datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=1))
    return target, folder / f"{stem}.db.sha256", folder / f"{stem}.json", folder / f"{stem}.datapackage.json"
