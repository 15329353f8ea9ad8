"""Summarise a py-spy raw ("collapsed stacks") profile: inclusive and self share per file:function,
and the share of each stage of our ingest path.

    .venv/bin/python bench/profile_summary.py bench/data/profile_ingest_100k.txt [top]
"""
import re
import sys
from collections import Counter

# Stages of `python -m ingest run`, outermost first: the first frame of a stack that matches names it.
STAGES = [
    ("finalize: FTS (build_fts, fold/canonical)", "build_fts (db/build.py"),
    ("finalize: indexes", "build_indexes (db/build.py"),
    ("finalize: establishments", "build_establishments (db/build.py"),
    ("finalize: reference tables", "load_reference (db/build.py"),
    ("finalize: other (ANALYZE, integrity_check, sources)", "finalize (db/build.py"),
    ("store: upsert (enrich, geocode, executemany)", "_upsert (db/store.py"),
    ("store: other", "commit_source (db/store.py"),
    ("spider: CSV rows -> records", "parse (scrapers/bases.py"),
    ("pipeline: validate", "process_item (ingest/pipelines.py"),
    ("smoke test (Datasette in process)", "smoke (db/build.py"),
    ("content hash", "content_hash (db/build.py"),
    ("prepare (schema)", "prepare (db/build.py"),
    ("imports", "_find_and_load"),
]
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def parse(path):
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        yield stack.split(";"), int(count)


def name(frame):
    m = FRAME.match(frame)
    if not m:
        return frame
    return f"{m.group('file')}:{m.group('func')}"


def summarise(path, top=25):
    total = 0
    inclusive, own, stages = Counter(), Counter(), Counter()
    for frames, count in parse(path):
        total += count
        names = [name(f) for f in frames]
        for n in set(names):
            inclusive[n] += count
        own[names[-1]] += count
        for label, needle in STAGES:
            if any(needle in f for f in frames):
                stages[label] += count
                break
        else:
            stages["other (Scrapy engine, Twisted, startup)"] += count
    return total, inclusive, own, stages


def report(path, top=25, out=sys.stdout):
    total, inclusive, own, stages = summarise(path, top)
    def pct(n):
        return 100.0 * n / total if total else 0.0
    print(f"{total} samples", file=out)
    print("\nby stage:", file=out)
    for label, n in stages.most_common():
        print(f"  {pct(n):5.1f}%  {label}", file=out)
    print("\ninclusive (ours: db/, scrapers/):", file=out)
    ours = [(n, c) for n, c in inclusive.most_common() if n.startswith(("db/", "scrapers/"))]
    for n, c in ours[:top]:
        print(f"  {pct(c):5.1f}%  {n}", file=out)
    print("\nself time (any file):", file=out)
    for n, c in own.most_common(top):
        print(f"  {pct(c):5.1f}%  {n}", file=out)
    return {"samples": total,
            "stages": {label: round(pct(n), 1) for label, n in stages.most_common()},
            "inclusive": {n: round(pct(c), 1) for n, c in ours[:top]},
            "self": {n: round(pct(c), 1) for n, c in own.most_common(top)}}


if __name__ == "__main__":
    report(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
