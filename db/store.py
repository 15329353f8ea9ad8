"""Writing one source's run: run health, upsert with history, withdrawals, rejects and the `runs` row.

"What did we have last time" is a SQL query on the database being built, never state in a spider.

Memory stays bounded whatever the size of a source: its items are staged on disk while it is crawled
(``Stage``, a private SQLite file beside the build), then judged, deduplicated, upserted and withdrawn
from there in batches, by SQL against the rows the build already has. A failed source's stage is
simply deleted: its previous rows are untouched.
"""
import json
import multiprocessing
import os
import pickle
import sqlite3
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

from db import schema
from db.enrich import enrich, enrich_inputs, inputs
from scrapers.files import stop_reading
from vn import fold
from vn.fold import fold_ahead

MAX_INVALID_SHARE = 0.10   # more than 10% invalid items fails the source
MIN_COUNT_SHARE = 0.5      # fewer than half of last time's records fails it, unless forced
BATCH = 500                # staged items upserted per step (one `where id in (...)` query)
FOLD_AHEAD_MAX = 100_000   # texts folded by the worker kept for build_fts (~0.85 KB each); beyond, build_fts folds


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
    enrich worker computed for the item (db/enrich.enrich_inputs), or NULL: enriched at commit.
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


class Enricher:
    """enrich() of a source's items in a second process while the spider is still running.

    Geocoding is the costliest per-item step and is pure, so on a large file it runs beside Scrapy's
    engine on the other core, and so does folding each record's search text for build_fts. Small
    runs (tests, feeds) never start a process, and any trouble with the worker (it cannot start, it
    fails) gives up on it: those items are enriched at commit (commit_source) as before.

    Memory is bounded: at most START_AT items wait before the worker starts, then batches of BATCH go
    to it, at most IN_FLIGHT at a time (beyond, this process enriches the batch itself), and results
    go to ``sink(item, changed_or_None)`` in the order of the items as soon as they are ready. Without
    a sink, ``results()`` gives {id(item): enriched record} for the items it could enrich.
    """
    BATCH = 1000          # items per task: amortises the inter-process traffic
    START_AT = 10_000     # a process costs ~0.5 s to start; below this many items stay serial
    IN_FLIGHT = 4         # batches waiting for the worker
    QUEUE = 16            # batches held in all (done ones waiting behind one the worker still does)

    def __init__(self, table, sink=None):
        self.table, self.sink = table, sink
        self.pending, self.queue = [], deque()   # queue: [items, future or None, result or None]
        self.pool, self.parallel, self.failed = None, False, False
        self.out = {}

    def add(self, item):
        self.pending.append(item)
        if not self.parallel:
            if len(self.pending) < self.START_AT:
                return
            self.parallel = True
        if len(self.pending) >= self.BATCH:
            self._dispatch()

    def _dispatch(self, final=False):
        while len(self.pending) >= self.BATCH or (final and self.pending):
            batch, self.pending = self.pending[:self.BATCH], self.pending[self.BATCH:]
            self._enqueue(batch)
            self._harvest()

    def _enqueue(self, batch):
        if not self.failed and self._waiting() < self.IN_FLIGHT:
            try:
                if self.pool is None:
                    # spawn, not fork: the parent runs Twisted's threads and reactor.
                    self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                self.queue.append([batch, self.pool.submit(enrich_inputs, self.table, self._inputs(batch)), None])
                return
            except Exception:
                self._give_up()
        if self.failed:
            self.queue.append([batch, None, None])    # enriched at commit
        else:   # the worker is behind: this process takes this batch
            self.queue.append([batch, None, enrich_inputs(self.table, self._inputs(batch))])

    def _inputs(self, batch):
        return [inputs(self.table, item) for item in batch]

    def _waiting(self):
        return sum(1 for _b, future, _r in self.queue if future is not None and not future.done())

    def _harvest(self, block=False):
        while self.queue:
            entry = self.queue[0]
            batch, future, result = entry
            if future is not None:
                if not (block or future.done() or len(self.queue) > self.QUEUE):
                    return
                try:
                    result = future.result()
                except Exception:
                    result = None     # enriched at commit (and raises there if enrich() does)
                    self._give_up()
            self.queue.popleft()
            self._emit(batch, result)

    def _emit(self, batch, result):
        if result is None:
            if self.sink is not None:
                for item in batch:
                    self.sink(item, None)
            return
        folded = {}
        for item, (changed, text, folded_text) in zip(batch, result):
            if self.sink is not None:
                self.sink(item, changed)
            else:
                self.out[id(item)] = {**item, **changed}
            if text is not None:
                folded[text] = folded_text
        if len(getattr(fold, "_AHEAD", ())) < FOLD_AHEAD_MAX:
            fold_ahead(folded)    # build_fts takes them from there

    def finish(self):
        """Every item given to the sink (or to results()); stops the worker."""
        if stop_reading.is_set():     # SIGTERM/SIGINT: the source fails, enriching the rest is wasted time
            self.close()
            for entry in self.queue:
                entry[1] = entry[2] = None
            self._harvest(block=True)
            self._emit(self.pending, None)
            self.pending = []
            return
        if not self.parallel:
            self._emit(self.pending, None)
            self.pending = []
            return
        self._dispatch(final=True)    # the last, partial batch
        # Batches the worker has not started are done here, last first: once the crawl is over this
        # process would only wait, so both cores finish the queue.
        for entry in reversed(self.queue):
            future = entry[1]
            if future is None:
                continue
            if not future.cancel():
                break     # the worker has it, and every batch before it
            entry[1], entry[2] = None, enrich_inputs(self.table, self._inputs(entry[0]))
        self._harvest(block=True)
        self.close()

    def results(self):
        """{id(item): enriched record}, empty when the run stayed serial; stops the worker."""
        self.finish()
        return self.out

    def _give_up(self):
        self.failed = True
        self.close()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


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
