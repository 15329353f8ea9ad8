"""Ours with the response cache off against Datasette 1.0a defaults, a few endpoints, side by side in one
run (wrk -c8, interleaved, medians), then a short realistic mix on ours as served (cache on, hit rate).
A lighter check than `make bench` (which also runs Datasette 0.65, the ingest and the map).

    .venv/bin/python bench/peer_ab.py [--duration 3] [--reps 3] [--mix 20] [--only table_json,row] [--ds065] [--no-pages]
"""
import argparse
import json

from common import DATA, DATASETTE, Server, alternate, median
from db.serving import free_port
from serve import (ENDPOINTS, OURS_ONLY, business_paths, ensure_ds1, ensure_wrk, makefile_commands, row_paths,
                   wait_map_warm, wrk)

import mix


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(DATA / "serve_1m" / "minhbach.db"))
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--mix", type=int, default=20)
    parser.add_argument("--only", default="table_json,table_html,row,search_broad,search_rare,facet,filter")
    parser.add_argument("--ds065", action="store_true", help="also Datasette 0.65 defaults (this venv's)")
    parser.add_argument("--no-pages", action="store_true", help="skip our own pages (OURS_ONLY)")
    args = parser.parse_args()
    ensure_wrk()
    import subprocess
    from common import ROOT
    inspect, argv = makefile_commands(args.db, 0)
    if inspect:
        subprocess.run(inspect, cwd=ROOT, check=True, capture_output=True)
    peer_config = DATA / "peer_config.json"
    peer_config.write_text(json.dumps({"databases": {"minhbach": {"tables": {"violations": {
        "fts_table": "violations_fts", "fts_pk": "rowid"}}}}}))

    def ours(name, env):
        a, port = list(argv), free_port()
        a[a.index("--port") + 1] = str(port)
        return Server(name, a, port, env=env)
    port = free_port()
    servers = [ours("ours-nocache", {"MINHBACH_CACHE_MB": "0"}),
               Server("ds1.0a", [ensure_ds1(), "serve", args.db, "-c", peer_config, "--host", "127.0.0.1",
                                 "--port", port], port)]
    if args.ds065:
        port = free_port()
        servers.append(Server("ds0.65", [DATASETTE, "serve", args.db, "--metadata", peer_config, "--host", "127.0.0.1",
                                         "--port", port], port))
    keys = set(args.only.split(","))
    endpoints = [(k, p) for k, _l, p, _t in ENDPOINTS if k in keys]
    rows_file = row_paths(args.db) if any(p is None for _k, p in endpoints) else None   # None: random record ids

    def load(s, path):
        return wrk(s.base + (path or "/"), args.duration, rows_file if path is None else None)
    try:
        for s in servers:
            s.start()
        wait_map_warm(servers[0])
        runs = alternate(servers, endpoints, args.reps, load)
        for peer in [s.name for s in servers[1:]]:
            print(f"\n| endpoint, 1M rows, c=8, medians of {args.reps} | ours, cache off, req/s | {peer} req/s | ratio | "
                  f"ours p99 ms | {peer} p99 ms |\n|---|---:|---:|---:|---:|---:|")
            for key, path in endpoints:
                o, p = runs["ours-nocache"][key], runs[peer][key]
                orps, prps = median([r["rps"] for r in o]), median([r["rps"] for r in p])
                print(f"| {key} `{path or 'random record ids'}` | {orps:.1f} | {prps:.1f} | "
                      f"{orps / prps if prps else float('inf'):.2f} | "
                      f"{median([r['p99'] for r in o if r['p99']]) or '–'} | {median([r['p99'] for r in p if r['p99']]) or '–'} |")
        # ours-only pages, cache off
        nocache = servers[0]
        bfile = business_paths(args.db)
        print("\n| our page, cache off | req/s | p99 ms |\n|---|---:|---:|")
        for key, _label, path in ([] if args.no_pages else OURS_ONLY):
            rs = [wrk(nocache.base + (path or "/"), args.duration, bfile if path is None else None) for _ in range(1)]
            nocache.wait_idle(timeout=5)
            print(f"| {key} `{path or 'random establishments'}` | {rs[0]['rps']:.1f} | {rs[0]['p99']} |")
    finally:
        for s in servers:
            s.stop()
    if args.mix:
        mix_file, distinct, _ = mix.paths_file(args.db)
        served = ours("ours", {})
        try:
            served.start()
            wait_map_warm(served)
            r = wrk(served.base + "/", args.mix, mix_file, count_cache=True)
        finally:
            served.stop()
        print(f"\nmix over {distinct:,} distinct URLs (Zipf s={mix.S}), {args.mix}s, cache on as served: "
              f"{r['rps']:.1f} req/s, p50 {r['p50']} ms, p99 {r['p99']} ms, errors {r['errors']}, "
              f"cache hits {r['cache_hits']}/{r['cache_answers']}")


if __name__ == "__main__":
    main()
