"""The ingest's speed machinery, in one object: ``Enricher``, made by the orchestrator (ingest/run.py)
for one ingest and closed at its end.

* A worker process enriches a large source's items (geocoding, establishment keys: db/enrich.py)
  while Scrapy is still crawling it (``SourceEnricher``, one per source, made by the item pipeline).
* The worker also folds each record's search text; those results wait in ``Enricher.folded`` until
  the build's full-text index takes them (db/build.finalize(folded=...)) instead of folding again.

Nothing here changes a record: without it (a small source, a worker that fails) the same values are
computed at commit (db/store.commit_source) and at build_fts.
"""
import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor

from db.enrich import enrich_inputs, inputs
from scrapers.files import stop_reading

FOLD_AHEAD_MAX = 100_000   # texts folded by the worker kept for build_fts (~0.85 KB each); beyond, build_fts folds


class Enricher:
    """One ingest's enrich workers and the search texts they folded ahead.

    Scrapy copies its settings (deepcopy) for each crawler: the ingest's Enricher rides in the
    ``MINHBACH_ENRICHER`` setting and stays one object (``__deepcopy__``), so every source's pipeline
    adds to the same ``folded``.
    """

    def __init__(self):
        self.folded = {}       # {index text: canonical(text)} computed by the workers
        self.sources = []      # the SourceEnrichers of this ingest, closed with it

    def __deepcopy__(self, memo):
        return self

    def source(self, table, sink=None):
        """A SourceEnricher for one source's items, closed with this Enricher."""
        enricher = SourceEnricher(table, sink=sink, folded=self.folded)
        self.sources.append(enricher)
        return enricher

    def close(self):
        """Stop every worker and drop what the index build did not use (a failed source, replaced rows)."""
        for enricher in self.sources:
            enricher.close()
        self.sources.clear()
        self.folded.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SourceEnricher:
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

    def __init__(self, table, sink=None, folded=None):
        self.table, self.sink = table, sink
        self.folded = {} if folded is None else folded   # the ingest's texts folded ahead (Enricher.folded)
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
        if len(self.folded) < FOLD_AHEAD_MAX:
            self.folded.update(folded)    # build_fts takes them from there

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
