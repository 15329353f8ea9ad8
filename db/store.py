"""Writing one source's run: run health, upsert with history, withdrawals, rejects and the `runs` row.

"What did we have last time" is a SQL query on the database being built, never state in a spider.
"""
import json
import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

from db import schema
from db.enrich import enrich, enrich_inputs, inputs
from db.fold import fold_ahead
from scrapers.files import stop_reading

MAX_INVALID_SHARE = 0.10   # more than 10% invalid items fails the source
MIN_COUNT_SHARE = 0.5      # fewer than half of last time's records fails it, unless forced


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


class Enricher:
    """enrich() of a source's items in a second process while the spider is still running.

    Geocoding is the costliest per-item step and is pure, so on a large file it runs beside Scrapy's
    engine on the other core, and so does folding each record's search text for build_fts. Small
    runs (tests, feeds) never start a process, and any trouble with the worker (it cannot start, it
    fails) gives up on it: enrich() is then called in _upsert as before. ``results()`` gives
    {id(item): enriched record} for the items it could enrich.
    """
    BATCH = 1000          # items per task: amortises the inter-process traffic
    START_AT = 10_000     # a process costs ~0.5 s to start; below this many items stay serial

    def __init__(self, table):
        self.table = table
        self.items, self.futures, self.pool, self.submitted = [], [], None, 0
        self.failed = False

    def add(self, item):
        self.items.append(item)
        if len(self.items) >= self.START_AT and len(self.items) - self.submitted >= self.BATCH:
            self._submit()

    def _submit(self):
        if self.failed:
            return
        try:
            if self.pool is None:
                # spawn, not fork: the parent runs Twisted's threads and reactor.
                self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            for at in range(self.submitted, len(self.items), self.BATCH):
                self.futures.append((at, self.pool.submit(enrich_inputs, self.table, self._batch(at))))
            self.submitted = len(self.items)
        except Exception:
            self._give_up()

    def _batch(self, at):
        return [inputs(self.table, item) for item in self.items[at:at + self.BATCH]]

    def _steal(self):
        """Batches the worker has not started are done here, last first: once the crawl is over this
        process would only wait, so both cores finish the queue. Returns {batch start: result}."""
        done = {}
        for at, future in reversed(self.futures):
            if not future.cancel():
                break     # the worker has it, and every batch before it
            done[at] = enrich_inputs(self.table, self._batch(at))
        return done

    def results(self):
        """{id(item): enriched record}, empty when the run stayed serial; stops the worker."""
        if self.pool is None:
            return {}
        if stop_reading.is_set():     # SIGTERM/SIGINT: the source fails, enriching the rest is wasted time
            self.close()
            return {}
        self._submit()    # the last, partial batch
        out, folded = {}, {}
        try:
            done = self._steal()
            for at, future in self.futures:
                result = done[at] if at in done else future.result()
                for item, (changed, text, folded_text) in zip(self.items[at:], result):
                    out[id(item)] = {**item, **changed}
                    if text is not None:
                        folded[text] = folded_text
        except Exception:
            out, folded = {}, {}   # _upsert enriches them all itself (and raises there if enrich() does)
        self.close()
        fold_ahead(folded)    # build_fts takes them from there
        return out

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


def commit_source(db_path, table, source, run_id, started, items, rejects, errors, force=False,
                  complete=True, enriched=None):
    """Write one source's run in one transaction. Returns the `runs` row.

    ``complete``: the response lists everything the source currently publishes, so a record missing
    from it is withdrawn. Feeds that show only the latest records (RSS, "last 100") pass False.
    ``enriched``: {id(item): enrich(table, item)} computed beforehand (Enricher), for some or all items.
    """
    conn = connect(db_path)
    try:
        items, duplicate_rejects = _dedupe(items)
        rejects = list(rejects) + duplicate_rejects
        # Compared with what the source yielded last time it was good (a feed's window, not our history).
        previous = conn.execute(
            "select items - rejected from runs where source = ? and status = 'ok' order by run_id desc limit 1",
            [source]).fetchone()
        previous = previous[0] if previous else 0
        error = judge(len(items), len(rejects), previous, errors, force)
        run = {"run_id": run_id, "source": source, "started": started, "items": len(items) + len(rejects),
               "rejected": len(rejects), "new": 0, "updated": 0, "unchanged": 0, "withdrawn": 0,
               "status": "failed" if error else "ok", "error": error}
        conn.execute("BEGIN IMMEDIATE")
        if error is None:
            run.update(_upsert(conn, table, source, run_id, items, complete, enriched))
        conn.executemany(
            "insert or replace into rejects (run_id, source, n, reason, raw) values (?, ?, ?, ?, ?)",
            [(run_id, source, n, r["reason"], json.dumps(r["raw"], ensure_ascii=False, default=str))
             for n, r in enumerate(rejects, start=1)],
        )
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


def _upsert(conn, table, source, run_id, items, complete=True, enriched=None):
    seen_at = run_id
    columns = [c for c in schema.TABLES[table]["columns"]]
    compared = [c for c in columns if c not in schema.BOOKKEEPING | schema.FILLED_AT_BUILD]
    existing = {row["id"]: dict(row) for row in conn.execute(f"select * from [{table}] where source = ?", [source])}
    counts = {"new": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
    rows, versions = [], []
    for item in items:
        record = (enriched or {}).get(id(item)) or enrich(table, item)
        old = existing.get(record["id"])
        if old is None:
            counts["new"] += 1
            record["first_seen"] = seen_at
        else:
            record["first_seen"] = old["first_seen"]
            changed = [c for c in compared if old.get(c) != record.get(c)]
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
    placeholders = ", ".join("?" * len(columns))
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "id")
    conn.executemany(
        f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({placeholders}) "
        f"on conflict(id) do update set {updates}", rows)
    conn.executemany(
        "insert into versions (table_name, record_id, version, run_id, replaced, changed, record) "
        "values (?, ?, ?, ?, ?, ?, ?)", versions)
    # Records the source no longer lists are withdrawn, never deleted.
    listed = {item["id"] for item in items}
    gone = [(seen_at, rid) for rid, row in existing.items()
            if complete and rid not in listed and row["withdrawn"] is None]
    conn.executemany(f"update [{table}] set withdrawn = ? where id = ?", gone)
    counts["withdrawn"] = len(gone)
    return counts
