"""One ingest, the whole orchestration: lock -> prepare -> crawl -> finalize -> smoke -> swap. Every chosen
source is crawled in one Scrapy process into a new file, then db/build.py finalizes, smoke tests and swaps it. One process for all sources, because Scrapy's engine runs them concurrently
and politely (per-domain throttling) and a failure in one spider does not stop the others.
"""
import fcntl
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from db import build
from db.store import connect, now
from ingest.enricher import Enricher
from scrapers.bases import SourceError
from scrapers.files import stop_reading
from scrapers.spiders import all_spiders, spider_class


class Busy(Exception):
    pass


class Interrupted(BaseException):
    """SIGTERM or SIGINT: the build is abandoned, the published file is left as it was."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Stop:
    """SIGTERM/SIGINT during an ingest. While Scrapy runs, the first signal stops reading (every file
    reader checks `stop_reading` at each row) and stops the crawl; outside the crawl it raises
    Interrupted where the main thread is. A second signal ends the process at once. Either way the
    build file is abandoned and never published (the next run removes what is left of it)."""

    def __init__(self):
        self.signum, self.process = None, None

    def __call__(self, signum, _frame):
        if self.signum is not None:     # a second signal: now, with the enrich worker (ingest/enricher.py)
            for child in multiprocessing.active_children():
                child.kill()
            os._exit(128 + signum)
        self.signum = signum
        stop_reading.set()
        print(f"{signal.Signals(signum).name}: stopping; the published database is left as it was",
              file=sys.stderr, flush=True)
        if self.process is None:
            raise Interrupted(signum)
        from twisted.internet import reactor
        reactor.callFromThread(self.process.stop)

    def check(self):
        if self.signum is not None:
            raise Interrupted(self.signum)


@contextmanager
def stop_on_signals():
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_reading.clear()


class OneLineErrors(logging.Filter):
    """An expected failure (scrapers.bases.SourceError: an unreadable file, an HTTP error) is reported
    once, in one line, by the pipeline and the final table; Scrapy's traceback of it is dropped.
    Unexpected exceptions keep their traceback (a bug to fix). `--verbose` keeps every traceback."""

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, SourceError)


@contextmanager
def lock(published):
    """No two ingests on one database: the second one exits with a clear message."""
    path = Path(published).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Busy(f"another ingest is running on {published} (lock {path}); try again when it ends")
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def crawl(path, run_id, jobs, force=False, verbose=False, stop=None, enricher=None):
    """Run the spiders (name, file-or-None) into the database at ``path``; ``enricher`` (this ingest's
    Enricher) collects the texts its workers fold for the build."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("MINHBACH_DB", str(path))
    settings.set("MINHBACH_ENRICHER", enricher)
    settings.set("MINHBACH_RUN_ID", run_id)
    settings.set("MINHBACH_FORCE", force)
    process = CrawlerProcess(settings)
    # Scrapy's handler drops records below LOG_LEVEL, but only after each one is built: a debug
    # record per item ("Scraped from …") is ~10 µs of nothing on a 100k-row file.
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL") or "DEBUG")
    if not verbose:
        logging.getLogger("scrapy.core.scraper").addFilter(OneLineErrors())
    print(f"crawling {len(jobs)} source(s) into {path.name}…", file=sys.stderr, flush=True)
    for name, target in jobs:
        if target and target.startswith(("http://", "https://")):
            process.crawl(spider_class(name), url=target)
        elif target:
            crawler = process.create_crawler(spider_class(name))
            lighten_for_file(crawler.settings)
            process.crawl(crawler, file=target)
        else:
            process.crawl(spider_class(name), file=target)
    if stop is None:
        process.start()
        return
    stop.process = process
    try:
        process.start(install_signal_handlers=False)   # ours stop the readers too (stop_on_signals)
    finally:
        stop.process = None
    stop.check()


def lighten_for_file(settings):
    """A received file is one local response that yields only items. CoreStats counts every item
    through a signal, and three spider middlewares wrap every item in a layer that only acts on
    requests: ~30 µs an item that change nothing here. The rest of the stack stays (Referer and
    Start too: the redirect middlewares expect Referer, the start request is marked as usual)."""
    off = ("scrapy.spidermiddlewares.urllength.UrlLengthMiddleware", "scrapy.spidermiddlewares.depth.DepthMiddleware",
           "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware")
    spider_mw = {**{name: None for name in off}, **settings.getdict("SPIDER_MIDDLEWARES")}
    extensions = {**settings.getdict("EXTENSIONS"), "scrapy.extensions.corestats.CoreStats": None}
    settings.set("SPIDER_MIDDLEWARES", spider_mw, priority="spider")
    settings.set("EXTENSIONS", extensions, priority="spider")


def report(path, run_id, jobs):
    conn = connect(path)
    rows = {r["source"]: dict(r) for r in conn.execute("select * from runs where run_id = ?", [run_id])}
    conn.close()
    for name, _file in jobs:
        # A spider that crashed before writing its run still gets one, as failed.
        rows.setdefault(name, {"run_id": run_id, "source": name, "status": "failed",
                               "error": "the spider crashed before its run was recorded (see the log above)"})
    return [rows[name] for name, _f in jobs]


def print_report(runs, out=sys.stderr):
    head = f"{'source':<24} {'status':<7} {'new':>6} {'upd':>6} {'same':>6} {'gone':>6} {'rej':>5}  error"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in runs:
        print(f"{r['source']:<24} {r['status']:<7} {r.get('new') or 0:>6} {r.get('updated') or 0:>6} "
              f"{r.get('unchanged') or 0:>6} {r.get('withdrawn') or 0:>6} {r.get('rejected') or 0:>5}  "
              f"{r.get('error') or ''}", file=out)


def ingest(published, jobs, fresh=False, force=False, verbose=False):
    """Returns the exit status: 0 when every source succeeded, 1 when any failed (others still
    published), 128 + the signal's number when SIGTERM/SIGINT stopped it (nothing published)."""
    try:
        with stop_on_signals() as stop:
            return _ingest(Path(published), jobs, fresh, force, verbose, stop)
    except Interrupted as interrupted:
        print(f"interrupted by {interrupted}: nothing was published", file=sys.stderr)
        return 128 + interrupted.signum


def _ingest(published, jobs, fresh, force, verbose, stop):
    started = time.monotonic()
    with lock(published):
        new = build.new_path(published)
        build.remove_stale_builds(published)
        try:
            build.prepare(new, base=None if fresh else published)
            run_id = now()
            with Enricher() as enricher:
                crawl(new, run_id, jobs, force=force, verbose=verbose, stop=stop, enricher=enricher)
                runs = report(new, run_id, jobs)
                build.finalize(new, sources=all_spiders(), folded=enricher.folded)
            build.smoke(new)
            stop.check()
            failed = any(r["status"] != "ok" for r in runs)   # a failure is news: publish it in `runs`
            if published.exists() and not fresh and not failed and \
                    build.content_hash(new) == build.content_hash(published):
                print("no record changed: the published database is left as it was", file=sys.stderr)
            else:
                build.swap(new, published)
                print(f"published {published}", file=sys.stderr)
        finally:
            new.unlink(missing_ok=True)
    print_report(runs)
    log = published.with_suffix(".runs.jsonl")
    with open(log, "a", encoding="utf-8") as handle:
        for r in runs:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    failed = [r["source"] for r in runs if r["status"] != "ok"]
    print(f"{len(runs) - len(failed)} of {len(runs)} sources ok in {time.monotonic() - started:.1f}s"
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0
