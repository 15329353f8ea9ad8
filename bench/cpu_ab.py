"""Before/after in CPU time per request: robust to other processes on a shared machine.

Each build runs in its own process (our plugins patch Datasette's classes, so two builds cannot share
one), in-process through `datasette.client` with the response cache off, the builds alternating per
round; per request the process CPU time (time.process_time: SQLite's work included, other processes'
not) is recorded. Prints the median ms of CPU per request and the ratio before/after.

`--before ROOT` is a directory laid out as the project (plugins/, metadata.yml, templates/, with the
rest symlinked to this checkout), e.g. the last commit's plugins copied out with `git show`.

    .venv/bin/python bench/cpu_ab.py --before /tmp/before [--db bench/data/serve_1m/minhbach.db] [--n 15] [--paths a,b,row]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = [
    "/minhbach/violations.json?_search=nuoc+mam",
    "/minhbach/violations?_search=nuoc+mam",
    "/minhbach/violations.json?_search=zentrixa",
    "/minhbach/violations.json",
    "/minhbach/violations",
    "/minhbach/violations.json?_facet=province_code",
    "/minhbach/violations.json?province_code=48",
]

CHILD = r"""
import asyncio, json, sys, time
sys.path.insert(0, {root!r})
from datasette.app import Datasette
from db.serving import datasette_kwargs
import os
inspect_file = {db!r} + ".inspect.json"   # as `make serve` (row counts from the inspect file)
inspect_data = json.load(open(inspect_file)) if os.path.exists(inspect_file) else None
ds = Datasette(immutables=[{db!r}], inspect_data=inspect_data, **datasette_kwargs(root={root!r}))
async def main():
    await ds.invoke_startup()
    out = {{}}
    for path in {paths!r}:
        for _ in range(2):
            await ds.client.get(path)
        cpu = []
        for _ in range({n}):
            t = time.process_time()
            r = await ds.client.get(path)
            cpu.append((time.process_time() - t) * 1000)
        out[path] = {{"status": r.status_code, "cpu_ms": cpu, "bytes": len(r.content)}}
    print("CPUJSON " + json.dumps(out))
asyncio.run(main())
"""


def run(root, db, paths, n):
    env = {**os.environ, "MINHBACH_CACHE_MB": "0"}
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(root), db=str(db), paths=paths, n=n)],
                         cwd=root, env=env, capture_output=True, text=True, timeout=1800).stdout
    line = [x for x in out.splitlines() if x.startswith("CPUJSON ")]
    if not line:
        raise RuntimeError(out[-2000:])
    return json.loads(line[0][8:])


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True)
    parser.add_argument("--db", default=str(ROOT / "bench" / "data" / "serve_1m" / "minhbach.db"))
    parser.add_argument("--n", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paths", default="", help="comma-separated paths instead of the default ones; "
                        "`row` is the first record of bench/data/row_paths.txt (serve.py writes it)")
    args = parser.parse_args()
    global PATHS
    if args.paths:
        rows = ROOT / "bench" / "data" / "row_paths.txt"
        first_row = rows.read_text().split("\n", 1)[0] if rows.exists() else None
        PATHS = [first_row if p == "row" else p for p in args.paths.split(",")]
    cpu = {"before": {p: [] for p in PATHS}, "after": {p: [] for p in PATHS}}
    status = {}
    for rnd in range(args.rounds):
        for name, root in ([("before", args.before), ("after", ROOT)] if rnd % 2 == 0 else
                           [("after", ROOT), ("before", args.before)]):
            for path, r in run(root, args.db, PATHS, args.n).items():
                cpu[name][path] += r["cpu_ms"]
                status[(name, path)] = (r["status"], r["bytes"])
    print(f"| request (cache off, in process, {args.rounds}×{args.n}) | before ms CPU | after ms CPU | before/after |"
          f" status, bytes before → after |\n|---|---:|---:|---:|---|")
    for path in PATHS:
        b, a = median(cpu["before"][path]), median(cpu["after"][path])
        print(f"| `{path}` | {b:.1f} | {a:.1f} | {b / a:.2f} | {status[('before', path)]} → {status[('after', path)]} |")


if __name__ == "__main__":
    main()
