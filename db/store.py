"""Writing one source's run: run health, upsert with history, withdrawals, rejects and the `runs` row.

"What did we have last time" is a SQL query on the database being built, never state in a spider.

Memory stays bounded whatever the size of a source: its items are staged on disk while it is crawled
(``Stage``, a private SQLite file beside the build), then judged, deduplicated, upserted and withdrawn
from there in batches, by SQL against the rows the build already has. A failed source's stage is
simply deleted: its previous rows are untouched.
"""
import json
import os
import pickle
import sqlite3
from datetime import datetime, timezone

from db import schema
from db.enrich import enrich

MAX_INVALID_SHARE = 0.10   # more than 10% invalid items fails the source
MIN_COUNT_SHARE = 0.5      # fewer than half of last time's records fails it, unless forced
BATCH = 500                # staged items upserted per step (one `where id in (...)` query)


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def judge(valid, rejected, previous, errors, force=False):
    """Run health, decided here and only here. Returns why the source failed, or None."""
    total = valid + rejected
    if errors:
        return "; ".join(dict.fromkeys(errors))[:1000]
    if valid == 0:
        return "no valid items" + (f" ({rejected} rejected)" if rejected else "")
    if rejected > MAX_INVALID_SHARE * total:
        return f"{rejected} of {total} items invalid (more than {MAX_INVALID_SHARE:.0%})"
    if previous and valid < previous * MIN_COUNT_SHARE and not force:
        return (f"item count fell from {previous} to {valid} (by more than half); "
                "if that is right, run again with FORCE=1")
    return None


class Stage:
    """One source's items and rejects, on disk until the source is committed (or discarded).

    A private SQLite file (no journal, no fsync: it never outlives the build) beside the build file,
    named so that db/build.remove_stale_builds removes what a killed ingest leaves. Items are pickled,
    so they come back exactly as the pipeline had them (types included). ``changed`` is what the
    enrich worker (ingest/enricher.py) computed for the item (db/enrich.enrich_inputs), or NULL: enriched at commit.
    """
    FLUSH = 1000

    def __init__(self, db_path, source):
        self.path = f"{db_path}.stage-{source}"
        for suffix in ("", "-journal"):
            if os.path.exists(self.path + suffix):
                os.unlink(self.path + suffix)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.executescript(
            "create table items (seq integer primary key, id text, item blob, changed blob);"
            "create table rejects (n integer primary key, reason text, raw text);"
            "create table dropped (seq integer primary key);")
        self.buffer, self.reject_buffer, self.count = [], [], 0

    def add(self, item, changed=None):
        self.count += 1
        self.buffer.append((self.count, item.get("id"), pickle.dumps(item, protocol=5),
                            None if changed is None else pickle.dumps(changed, protocol=5)))
        if len(self.buffer) >= self.FLUSH:
            self.flush()

    def reject(self, reason, raw):
        self.reject_buffer.append((reason, json.dumps(raw, ensure_ascii=False, default=str)))
        if len(self.reject_buffer) >= self.FLUSH:
            self.flush()

    def flush(self):
        if not (self.buffer or self.reject_buffer):
            return
        self.conn.execute("BEGIN")
        self.conn.executemany("insert into items (seq, id, item, changed) values (?, ?, ?, ?)", self.buffer)
        self.conn.executemany("insert into rejects (reason, raw) values (?, ?)", self.reject_buffer)
        self.conn.execute("COMMIT")
        self.buffer, self.reject_buffer = [], []

    def close(self):
        """Everything written; the file stays for commit_source."""
        if self.conn is not None:
            self.flush()
            self.conn.close()
            self.conn = None

    def discard(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        for suffix in ("", "-journal"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass


def connect(path):
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _dedupe(items):
    """Identical repeats are dropped silently; conflicting repeats of one id are rejects."""
    seen, kept, rejects = {}, [], []
    for item in items:
        earlier = seen.get(item["id"])
        if earlier is None:
            seen[item["id"]] = item
            kept.append(item)
        elif earlier != item:
            rejects.append({"reason": f"duplicate id {item['id']} with different content", "raw": item.get("raw")})
    return kept, rejects


def _dedupe_staged(conn):
    """_dedupe on the stage, one repeated id at a time: every repeat goes to `stage.dropped`, and a
    repeat with other content is a reject too. Returns those rejects as [(seq, reason, raw)]."""
    rejects, group, first = [], None, None
    dropped = []
    for seq, rid, blob in conn.execute(
            "select seq, id, item from stage.items where id in "
            "(select id from stage.items group by id having count(*) > 1) order by id, seq"):
        item = pickle.loads(blob)
        if rid != group:
            group, first = rid, item
            continue
        dropped.append((seq,))
        if item != first:
            rejects.append((seq, f"duplicate id {item['id']} with different content",
                            json.dumps(item.get("raw"), ensure_ascii=False, default=str)))
        if len(dropped) >= BATCH:
            conn.executemany("insert into stage.dropped (seq) values (?)", dropped)
            dropped = []
    conn.executemany("insert into stage.dropped (seq) values (?)", dropped)
    rejects.sort()
    return rejects


def _reject_batches(conn, duplicate_rejects):
    """The rejects in their order: the pipeline's as they were dropped, then the repeats, BATCH at a time."""
    staged = conn.execute("select reason, raw from stage.rejects order by n")
    while True:
        rows = staged.fetchmany(BATCH)
        if not rows:
            break
        yield rows
    for at in range(0, len(duplicate_rejects), BATCH):
        yield [(reason, raw) for _seq, reason, raw in duplicate_rejects[at:at + BATCH]]


def _stage_of(db_path, source, items, rejects):
    stage = Stage(db_path, source)
    for item in items:
        stage.add(item)
    for r in rejects:
        stage.reject(r["reason"], r["raw"])
    stage.close()
    return stage


def commit_source(db_path, table, source, run_id, started, items=None, rejects=None, errors=(), force=False,
                  complete=True, stage=None):
    """Write one source's run in one transaction. Returns the `runs` row.

    The items and rejects come from ``stage`` (a closed Stage), else from the ``items`` and
    ``rejects`` lists (staged here). ``complete``: the response lists everything the source currently
    publishes, so a record missing from it is withdrawn. Feeds that show only the latest records
    (RSS, "last 100") pass False. The stage is left for the caller to discard.
    """
    own = stage is None
    if own:
        stage = _stage_of(db_path, source, items or [], rejects or [])
    conn = connect(db_path)
    try:
        conn.execute("ATTACH DATABASE ? AS stage", [stage.path])
        conn.execute("PRAGMA stage.journal_mode = OFF")
        conn.execute("PRAGMA stage.synchronous = OFF")
        conn.execute("create index stage.items_id on items (id, seq)")
        duplicate_rejects = _dedupe_staged(conn)
        count = conn.execute("select (select count(*) from stage.items) - (select count(*) from stage.dropped)"
                             ).fetchone()[0]
        rejected = conn.execute("select count(*) from stage.rejects").fetchone()[0] + len(duplicate_rejects)
        # Compared with what the source yielded last time it was good (a feed's window, not our history).
        previous = conn.execute(
            "select items - rejected from runs where source = ? and status = 'ok' order by run_id desc limit 1",
            [source]).fetchone()
        previous = previous[0] if previous else 0
        error = judge(count, rejected, previous, errors, force)
        run = {"run_id": run_id, "source": source, "started": started, "items": count + rejected,
               "rejected": rejected, "new": 0, "updated": 0, "unchanged": 0, "withdrawn": 0,
               "status": "failed" if error else "ok", "error": error}
        conn.execute("BEGIN IMMEDIATE")
        if error is None:
            run.update(_upsert(conn, table, source, run_id, complete))
        n = 0
        for rows in _reject_batches(conn, duplicate_rejects):
            conn.executemany(
                "insert or replace into rejects (run_id, source, n, reason, raw) values (?, ?, ?, ?, ?)",
                [(run_id, source, n + k, reason, raw) for k, (reason, raw) in enumerate(rows, start=1)])
            n += len(rows)
        run["finished"] = now()
        columns = list(run)
        conn.execute(
            f"insert or replace into runs ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
            [run[c] for c in columns],
        )
        conn.execute("COMMIT")
        return run
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
        if own:
            stage.discard()


def same_common_cells(old_raw, new_raw):
    """Whether two `raw` rows (JSON objects) agree on every cell both have: the difference is only
    columns added or dropped, which the spider does not read."""
    try:
        old, new = json.loads(old_raw), json.loads(new_raw)
    except (TypeError, ValueError):
        return False
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    return all(old[key] == new[key] for key in old.keys() & new.keys())


def corrections_in_force(conn, table):
    """{record id: {column: the source's value}} for the reviewed corrections applied to `table`
    (db/corrections.py publishes them in `corrections` at each build)."""
    from db.corrections import typed
    try:
        rows = conn.execute("select record_id, column_name, source_value from corrections where table_name = ?",
                            [table]).fetchall()
    except sqlite3.OperationalError:   # a file built before corrections existed
        return {}
    found = {}
    for record_id, column, source_value in rows:
        if column in schema.TABLES[table]["columns"]:
            found.setdefault(record_id, {})[column] = None if source_value is None else typed(table, column, source_value)
    return found


def _upsert(conn, table, source, run_id, complete=True):
    """The staged items (less repeats) upserted BATCH at a time, each batch compared with the rows the
    build already has for those ids; then the source's rows it no longer lists withdrawn, in SQL."""
    seen_at = run_id
    columns = [c for c in schema.TABLES[table]["columns"]]
    compared = [c for c in columns if c not in schema.BOOKKEEPING | schema.FILLED_AT_BUILD]
    counts = {"new": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
    placeholders = ", ".join("?" * len(columns))
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "id")
    upsert = (f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({placeholders}) "
              f"on conflict(id) do update set {updates}")
    in_force = corrections_in_force(conn, table)
    staged = conn.execute("select item, changed from stage.items where seq not in (select seq from stage.dropped) "
                          "order by seq")
    while True:
        batch = staged.fetchmany(BATCH)
        if not batch:
            break
        records = []
        for blob, changed in batch:
            item = pickle.loads(blob)
            records.append({**item, **pickle.loads(changed)} if changed is not None else enrich(table, item))
        ids = [r["id"] for r in records]
        existing = {row["id"]: dict(row) for row in conn.execute(
            f"select * from [{table}] where source = ? and id in ({', '.join('?' * len(ids))})", [source, *ids])}
        rows, versions = [], []
        for record in records:
            old = existing.get(record["id"])
            if old is None:
                counts["new"] += 1
                record["first_seen"] = seen_at
            else:
                record["first_seen"] = old["first_seen"]
                corrected = in_force.get(record["id"], {})
                # A reviewed correction replaced some of the stored values: compare the source's item with
                # what the source said, and keep the correction while the source still says the same.
                as_published = {**old, **corrected}
                changed = [c for c in compared if as_published.get(c) != record.get(c)]
                for column, source_value in corrected.items():
                    if record.get(column) == source_value:
                        record[column] = old[column]
                # `raw` always changes with a mapped field; name it only when nothing else did, and not
                # when only the file's columns changed (5,000 unknown columns added are not 5,000 updates).
                changed = [c for c in changed if c != "raw"] or changed
                if changed == ["raw"] and same_common_cells(old.get("raw"), record.get("raw")):
                    changed = []
                if changed:
                    counts["updated"] += 1
                    version = conn.execute(
                        "select coalesce(max(version), 0) + 1 from versions where table_name = ? and record_id = ?",
                        [table, record["id"]]).fetchone()[0]
                    versions.append((table, record["id"], version, run_id, seen_at,
                                     json.dumps(changed), json.dumps(old, ensure_ascii=False)))
                else:
                    counts["unchanged"] += 1
            record["last_seen"] = seen_at
            record["withdrawn"] = None
            rows.append(list(map(record.get, columns)))
        conn.executemany(upsert, rows)
        conn.executemany(
            "insert into versions (table_name, record_id, version, run_id, replaced, changed, record) "
            "values (?, ?, ?, ?, ?, ?, ?)", versions)
    # Records the source no longer lists are withdrawn, never deleted.
    if complete:
        counts["withdrawn"] = conn.execute(
            f"update [{table}] set withdrawn = ? where source = ? and withdrawn is null "
            f"and id not in (select id from stage.items where id is not null)", [seen_at, source]).rowcount
    return counts
