"""Load under abuse (issue 15): does the site keep serving while hostile queries run?

`make serve` (WORKERS=2, as deployed) on a copy of a database; for DURATION seconds:
- wrk, 45 connections, plain pages only (home, lists, JSON, a search, record pages): their p99 is the
  number that matters (target: 250 ms);
- wrk, 19 connections, every request a URL never seen before (a search or a filtered list with a
  unique value): 19 of 64 connections, so 30% of the URLs are unique (the response cache cannot help);
- 4 threads, each keeping one hostile query in flight (items 1-2: a gigabyte randomblob, a billion-
  character printf, a string doubled by a recursive CTE, a 25,000-word search, a query that runs
  into the time limit), one after the other.
Pass: no errors (wrk's socket errors and non-2xx answers; a hostile query must get its 400 quickly,
never a timeout or a dropped connection; a 429 after waiting its turn is a refusal, not an error),
plain p99 <= 250 ms.

    .venv/bin/python bench/abuse.py [--db db/minhbach.db] [--duration 60]

The unique URLs are synthetic words searched for (`synthetic…`); nothing is written anywhere.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from common import BENCH, HOST, ROOT, get, log
from db.serving import free_port  # common.py puts the project on sys.path

PLAIN = ["/", "/minhbach/violations", "/minhbach/recalls", "/minhbach/listings.json?_size=20",
         "/minhbach/violations.json?_shape=array&_size=10", "/minhbach/search?q=sua", "/thong-ke", "/nguon",
         "/minhbach/recalls.json?_facet=source&_size=0", "/ban-do", "/api"]
HOSTILE = [
    ("sql", "select randomblob(1000000000)"),
    ("sql", "select printf('%.*c', 1000000000, 'x')"),
    ("sql", "select hex(randomblob(400000000))"),
    ("sql", "with recursive r(s, n) as (select 'x', 0 union all select s || s, n + 1 from r where n < 40) "
            "select length(s) from r"),
    ("sql", "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) "
            "select count(*) from n"),
    ("q", " ".join(["a"] * 25_000)),
]


def record_paths(db, n=200):
    import sqlite3
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = [r[0] for r in conn.execute("select id from violations order by random() limit ?", [n])]
    finally:
        conn.close()
    from datasette.utils import tilde_encode
    return [f"/minhbach/violations/{tilde_encode(i)}" for i in ids]


def unique_paths(n, seed=15):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        word = f"synthetic{rng.randrange(10 ** 9)}x{i}"
        out.append(rng.choice([f"/minhbach/search?q=sua+{word}",
                               f"/minhbach/violations.json?_size={rng.randint(1, 50)}&establishment={word}",
                               f"/minhbach/recalls?_search={word}"]))
    return out


def wrk(url, connections, duration, paths_file):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", str(BENCH / "wrk.lua"), url]
    result = subprocess.run(argv, capture_output=True, text=True, env={"WRK_PATHS": str(paths_file), "PATH": "/usr/bin"})
    line = next(out for out in result.stdout.splitlines() if out.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON "):])


def hostile_loop(base, offset, stop, results):
    """One hostile query in flight at a time, going round every kind of them."""
    turn = offset
    while not stop.is_set():
        kind, text = HOSTILE[turn % len(HOSTILE)]
        turn += 1
        if kind == "sql":
            url = f"{base}/minhbach.json?" + urllib.parse.urlencode({"sql": text})
        else:
            url = f"{base}/minhbach/search?" + urllib.parse.urlencode({"q": text})
        try:
            status, seconds, body = get(url, timeout=30)
        except Exception as error:  # noqa: BLE001 - a dropped connection is the failure we count
            results.append(("error", repr(error), 0, 0))
            continue
        results.append((kind, status, seconds, len(body)))


def probe_loop(base, paths, stop, timings):
    """One more client going round the plain pages, timing each: which page makes the tail."""
    turn = 0
    while not stop.is_set():
        path = paths[turn % len(paths)]
        turn += 1
        try:
            status, seconds, _ = get(base + path, timeout=30)
        except Exception:  # noqa: BLE001 - wrk counts errors; this only times pages
            continue
        timings.append((path, status, seconds))


def warm(base, paths, most=30):
    """Visit every page until one pass is all cache hits: each worker's first visit is not what we measure.

    Eight clients at once, so that both workers take requests (an idle worker alone would accept them
    all); a page missing from one worker is a hit in a pass with probability 1/2, so a pass of hits
    only leaves, very likely, none cold.
    """
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def cached(path):
        with urllib.request.urlopen(base + path, timeout=60) as response:
            response.read()
            return response.headers.get("x-minhbach-cache") == "hit"
    with ThreadPoolExecutor(8) as pool:
        for done in range(1, most + 1):
            if all(pool.map(cached, paths)):
                return done
    return most


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "db" / "minhbach.db"))
    parser.add_argument("--duration", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="minhbach-abuse."))
    db = work / "minhbach.db"
    shutil.copy(args.db, db)
    port = free_port()
    base = f"http://{HOST}:{port}"
    plain_file, unique_file = work / "plain.txt", work / "unique.txt"
    plain = PLAIN + record_paths(db)
    plain_file.write_text("\n".join(plain) + "\n")
    unique_file.write_text("\n".join(unique_paths(200_000)) + "\n")
    server = subprocess.Popen(["make", "--no-print-directory", "serve", f"DB={db}", f"PORT={port}", f"HOST={HOST}",
                               "WORKERS=2"], cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
    try:
        for _ in range(600):
            try:
                if get(f"{base}/-/versions.json", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        passes = warm(base, plain)
        log(f"warm after {passes} passes; serving {db} on {base}; {args.duration}s: 45 plain + 19 unique connections, 4 hostile")
        stop, hostile_results = threading.Event(), []
        threads = [threading.Thread(target=hostile_loop, args=(base, i, stop, hostile_results)) for i in range(4)]
        probe_timings = []
        threads.append(threading.Thread(target=probe_loop, args=(base, plain, stop, probe_timings)))
        for thread in threads:
            thread.start()
        outcome = {}
        runners = [threading.Thread(target=lambda: outcome.__setitem__("plain", wrk(base, 45, args.duration, plain_file))),
                   threading.Thread(target=lambda: outcome.__setitem__("unique", wrk(base, 19, args.duration, unique_file)))]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        # make, its shell and gunicorn share the session started for them: stop them all, not only make
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    # A hostile query is handled when it gets its 400 (or a 429 after waiting for its turn: arbitrary
    # SQL runs one query at a time, plugins/sql_limits.py), never a timeout or a dropped connection.
    hostile_ok = [r for r in hostile_results if r[0] != "error" and r[1] in (400, 429)]
    summary = {
        "duration_s": args.duration, "warm_passes": passes,
        "plain": outcome["plain"], "unique": outcome["unique"],
        "hostile": {"requests": len(hostile_results), "answered_400": sum(r[1] == 400 for r in hostile_ok),
                    "answered_429": sum(r[1] == 429 for r in hostile_ok),
                    "errors": len(hostile_results) - len(hostile_ok),
                    "max_seconds": round(max((r[2] for r in hostile_ok), default=0), 2),
                    "max_bytes": max((r[3] for r in hostile_ok), default=0)},
    }
    errors = sum(summary[k][e] for k in ("plain", "unique") for e in ("connect", "read", "write", "status", "timeout"))
    summary["errors"] = errors + summary["hostile"]["errors"]
    slowest = sorted(probe_timings, key=lambda t: -t[2])[:12]
    probe_ms = sorted(seconds * 1000 for _path, _status, seconds in probe_timings) or [0]
    summary["probe"] = {"requests": len(probe_timings), "p50_ms": round(probe_ms[len(probe_ms) // 2], 1),
                        "p99_ms": round(probe_ms[int(len(probe_ms) * 0.99)], 1),
                        "slowest": [f"{seconds * 1000:.0f} ms {status} {path}" for path, status, seconds in slowest]}
    summary["plain_p99_ms"] = round(outcome["plain"]["p99"] / 1000, 1)
    summary["pass"] = summary["errors"] == 0 and summary["plain_p99_ms"] <= 250
    print(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
