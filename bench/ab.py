"""Before/after, side by side in one run: two builds of our server on the same file, response cache off.

"before" is the same `make serve` command with another plugins directory and metadata file (for
example the last commit's, copied out with `git show`); "after" is the working tree. Each endpoint
runs `wrk -c8` for `--duration` s on each server, alternating, `--reps` times; medians of req/s and p99.

    .venv/bin/python bench/ab.py --before-plugins /tmp/before/plugins --before-metadata /tmp/before/metadata.yml \
        [--before-templates DIR] [--db bench/data/serve_1m/minhbach.db] [--duration 3] [--reps 3] [--only search_broad,table_html]
"""
import argparse
import json
import subprocess
import time

from common import DATA, ROOT, Server, alternate, get, log, median
from db.serving import free_port
from serve import makefile_commands, wrk

ENDPOINTS = [
    ("search_broad", "/minhbach/violations.json?_search=nuoc+mam"),
    ("search_broad_html", "/minhbach/violations?_search=nuoc+mam"),
    ("search_rare", "/minhbach/violations.json?_search=zentrixa"),
    ("table_json", "/minhbach/violations.json"),
    ("table_html", "/minhbach/violations"),
    ("facet", "/minhbach/violations.json?_facet=province_code"),
    ("filter", "/minhbach/violations.json?province_code=48"),
    ("unified_search", "/minhbach/search.json?q=nuoc+mam&kind=&page=1"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(DATA / "serve_1m" / "minhbach.db"))
    parser.add_argument("--before-plugins", required=True)
    parser.add_argument("--before-metadata", required=True)
    parser.add_argument("--before-templates", default=None)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    endpoints = [e for e in ENDPOINTS if not only or e[0] in only]
    inspect, argv = makefile_commands(args.db, 0)
    if inspect:
        subprocess.run(inspect, cwd=ROOT, check=True, capture_output=True)

    def server(name, plugins=None, metadata=None, templates=None):
        a = list(argv)
        port = free_port()
        a[a.index("--port") + 1] = str(port)
        if plugins:
            a[a.index("--plugins-dir") + 1] = plugins
            a[a.index("--metadata") + 1] = metadata
        if templates:
            a[a.index("--template-dir") + 1] = templates
        return Server(name, a, port, env={"MINHBACH_CACHE_MB": "0"})

    servers = [server("before", args.before_plugins, args.before_metadata, args.before_templates), server("after")]
    probes = {}
    try:
        for s in servers:
            s.start()
        for key, path in endpoints:
            for s in servers:
                status, seconds, body = get(s.base + path, timeout=120)
                info = {"status": status, "ms": round(seconds * 1000), "kb": round(len(body) / 1024)}
                if status == 200 and ".json" in path:
                    data = json.loads(body)
                    info["count"] = data.get("filtered_table_rows_count")
                    info["timed_out"] = data.get("facets_timed_out")
                probes[(s.name, key)] = info
                log(f"probe {key:<18} {s.name:<7} {info}")
        runs = alternate(servers, endpoints, args.reps, lambda s, path: wrk(s.base + path, args.duration),
                         label_width=18)
    finally:
        for s in servers:
            s.stop()
    print(f"\n| endpoint (cache off, c=8, medians of {args.reps}) | before req/s | after req/s | after/before "
          f"| before p99 ms | after p99 ms |\n|---|---:|---:|---:|---:|---:|")
    out = {}
    for key, path in endpoints:
        b, a = runs["before"][key], runs["after"][key]
        br, ar = median([r["rps"] for r in b]), median([r["rps"] for r in a])
        bp = median([r["p99"] for r in b if r["p99"] is not None])
        ap = median([r["p99"] for r in a if r["p99"] is not None])
        out[key] = {"path": path, "before_rps": br, "after_rps": ar, "before_p99": bp, "after_p99": ap,
                    "probe_before": probes[("before", key)], "probe_after": probes[("after", key)]}
        print(f"| {key} `{path}` | {br:.1f} | {ar:.1f} | {ar / br if br else float('inf'):.2f} | "
              f"{bp if bp is not None else '–'} | {ap if ap is not None else '–'} |")
    (DATA / f"ab_{time.strftime('%Y%m%d_%H%M')}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
