"""Ingest benchmark: our real path from a CSV file to the published database, against the raw-SQLite
limit on the same rows. Also builds the 1M-row database the serving and map benchmarks use.

ours  = `python -m ingest --db bench/data/ingest_<n>/minhbach.db run vn_news_violations=<csv>`, wall clock:
        Scrapy reads and validates the CSV, db/store.py enriches (db/places.py geocodes, establishment
        keys) and upserts in one transaction, db/build.py finalizes (reference tables, establishments,
        FTS over folded text, indexes, ANALYZE, integrity check), smoke-tests and swaps the file in.
limit = the same published rows and the same FTS text, already in memory (not timed), written to a new
        file by `executemany` in one transaction (journal_mode OFF, synchronous OFF), then the FTS5 index
        filled and the same indexes created. No Python work per row: the physical floor for that file.
ratio = (ours rows/s) / (limit rows/s), measured in the same run.

    .venv/bin/python bench/ingest.py [--rows 100000] [--reps 1] [--profile]
"""
import argparse
import sqlite3
import subprocess
import time
from pathlib import Path

from common import DATA, PY, ROOT, log, median

import gen
from db import schema

TABLE = "violations"
SOURCE = "vn_news_violations"


def csv_for(n):
    """The synthetic CSV of n rows, generated once per version of bench/gen.py (it is deterministic)."""
    import hashlib
    version = hashlib.sha1(Path(gen.__file__).read_bytes()).hexdigest()[:8]
    path = DATA / f"violations_{n}_{version}.csv"
    if not path.exists():
        t = time.perf_counter()
        gen.generate(n, path)
        log(f"generated {n:,} synthetic rows in {time.perf_counter() - t:.1f}s -> {path}")
    return path


def run_ours(csv_path, db_path, profile=None):
    """Our CLI, end to end, on a fresh published path. Returns seconds."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for p in db_path.parent.glob(db_path.name + "*"):
        p.unlink()
    argv = [str(PY), "-m", "ingest", "--db", str(db_path), "run", f"{SOURCE}={csv_path}"]
    if profile:
        spy = DATA / "tools" / "bin" / "py-spy"
        if not spy.exists():
            subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--target", str(DATA / "tools"), "py-spy"],
                           check=True)
        argv = [str(spy), "record", "--rate", "200", "--format", "raw", "--output", str(profile), "--"] + argv
    t = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t
    if result.returncode != 0:
        raise RuntimeError(f"ingest failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return seconds


def published_rows(db_path):
    """(columns, rows with rowid first, fts rows) of the violations table as published."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    columns = [r[1] for r in conn.execute(f"pragma table_info([{TABLE}])")]
    rows = conn.execute(f"select rowid, {', '.join(f'[{c}]' for c in columns)} from [{TABLE}] order by rowid").fetchall()
    fts = conn.execute(f"select rowid, folded from [{TABLE}_fts] order by rowid").fetchall()
    ddl = conn.execute("select sql from sqlite_master where name = ?", [TABLE]).fetchone()[0]
    fts_ddl = conn.execute("select sql from sqlite_master where name = ?", [f"{TABLE}_fts"]).fetchone()[0]
    conn.close()
    return columns, rows, fts, ddl, fts_ddl


def _template(template_db, out_path):
    """A copy of a published file without the violations table, its FTS and indexes (not timed)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{template_db}?mode=ro", uri=True)
    dst = sqlite3.connect(out_path)
    src.backup(dst)
    src.close()
    dst.execute(f"drop table if exists [{TABLE}_fts]")
    dst.execute(f"drop table [{TABLE}]")
    dst.commit()
    dst.execute("vacuum")
    dst.close()
    return out_path


def raw_write(out_path, columns, ddl, fts_ddl, rows, fts_rows):
    """The limit: one transaction of executemany, the FTS filled, the indexes created. Returns seconds."""
    conn = sqlite3.connect(out_path, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    t = time.perf_counter()
    conn.execute("begin")
    conn.execute(ddl)
    conn.executemany(
        f"insert into [{TABLE}] (rowid, {', '.join(f'[{c}]' for c in columns)}) "
        f"values ({', '.join('?' * (len(columns) + 1))})", rows)
    conn.execute(fts_ddl)
    conn.executemany(f"insert into [{TABLE}_fts] (rowid, folded) values (?, ?)", fts_rows)
    for cols in schema.TABLES[TABLE]["indexes"]:
        conn.execute(f"create index [idx_{TABLE}_{'_'.join(cols)}] on [{TABLE}] ({', '.join(cols)})")
    conn.execute("commit")
    seconds = time.perf_counter() - t
    conn.close()
    return seconds


def raw_limit(template_db, out_path, published):
    columns, rows, fts, ddl, fts_ddl = published
    _template(template_db, out_path)
    return raw_write(out_path, columns, ddl, fts_ddl, rows, fts)


def replicated(published, copies):
    """The published 100k rows as `copies` distinct records each (new id, source_id, url, rowid); the rare
    search word stays in the first copy only, so a rare search stays rare."""
    columns, rows, fts, _ddl, _fts_ddl = published
    at = {c: i + 1 for i, c in enumerate(columns)}
    n = len(rows)
    rare, rare_folded = gen.RARE_WORD, gen.RARE_WORD.lower()

    def row_iter():
        for k in range(copies):
            for r in rows:
                r = list(r)
                r[0] = r[0] + k * n
                if k:
                    r[at["source_id"]] = f"{r[at['source_id']]}-{k}"
                    r[at["id"]] = f"{SOURCE}:{r[at['source_id']]}"
                    r[at["url"]] = f"{r[at['url']]}?copy={k}"
                    if rare in (r[at["establishment"]] or ""):
                        r[at["establishment"]] = r[at["establishment"]].replace(rare, "Zentrixb")
                yield r

    def fts_iter():
        for k in range(copies):
            for rowid, text in fts:
                if k and rare_folded in text:
                    text = text.replace(rare_folded, "zentrixb")
                yield rowid + k * n, text
    return row_iter(), fts_iter()


def build_serving_db(template_db, out_path, published, copies=10):
    """The 1M-row published file for serving and the map: the limit path on the replicated rows (timed:
    that is the raw limit at 1M), then ANALYZE and `datasette inspect` as `make serve` does (not timed)."""
    columns, _rows, _fts, ddl, fts_ddl = published
    _template(template_db, out_path)
    rows, fts = replicated(published, copies)
    seconds = raw_write(out_path, columns, ddl, fts_ddl, rows, fts)
    # As finalize does for a published file (not timed): stored facet counts and page summaries.
    from db import build, facets
    conn = sqlite3.connect(out_path)
    conn.execute("begin")
    facets.build(conn)
    build.build_summaries(conn)
    conn.execute("commit")
    conn.execute("analyze")
    conn.close()
    return seconds


def bench(rows=100_000, reps=1, raw_reps=3, profile=False):
    """Returns (measurements, details)."""
    csv_path = csv_for(rows)
    db_path = DATA / f"ingest_{rows}" / "minhbach.db"
    ours = []
    for i in range(reps):
        prof = DATA / f"profile_ingest_{rows}.txt" if (profile and i == 0) else None
        s = run_ours(csv_path, db_path, profile=prof)
        ours.append(s)
        log(f"ingest ours {rows:,}: {s:.1f}s ({rows / s:,.0f} rows/s){' [profiled]' if prof else ''}")
    published = published_rows(db_path)
    assert len(published[1]) == rows, f"published {len(published[1])} rows of {rows}"
    raw = []
    for _ in range(raw_reps):
        s = raw_limit(db_path, DATA / f"raw_{rows}" / "raw.db", published)
        raw.append(s)
        log(f"ingest raw limit {rows:,}: {s:.2f}s ({rows / s:,.0f} rows/s)")
    ours_rate, raw_rate = rows / median(ours), rows / median(raw)
    details = {"rows": rows, "ours_s": ours, "raw_s": raw, "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
               "db_mb": round(db_path.stat().st_size / 1e6, 1)}
    if profile:
        import profile_summary
        details["profile"] = profile_summary.report(DATA / f"profile_ingest_{rows}.txt", 20)
    return [{
        "name": f"ingest {rows // 1000}k rows/s (CSV -> published, vs executemany+FTS+indexes)",
        "ours": round(ours_rate), "peer": round(raw_rate), "ratio": round(ours_rate / raw_rate, 3),
        "target": ">= 0.25", "met": ours_rate / raw_rate >= 0.25, "unit": "rows/s",
        "ours_s": round(median(ours), 2), "peer_s": round(median(raw), 2),
    }], details, db_path, published


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    results, details, _db, _p = bench(args.rows, args.reps, profile=args.profile)
    for r in results:
        print(r)
    print({k: v for k, v in details.items() if k != "profile"})
