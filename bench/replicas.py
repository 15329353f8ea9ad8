#!/usr/bin/env python3
"""One replica direct vs N replicas behind nginx: same run, same load, measured with wrk.

    .venv/bin/python bench/replicas.py [--n 2] [--db db/minhbach.db] [--duration 10]
                                      [--connections 16] [--rounds 3] [--json out.json]

Starts `deploy/replicas.py` (N replicas behind nginx, loopback only), then for each page — a table's
JSON and a full-text search — runs the same wrk load (1 thread, fixed connections, fixed duration,
after a warm-up) against replica 0 directly and against nginx, alternating the order over a few rounds,
and prints the median req/s and p99 of each.
Everything runs on this machine: wrk, nginx and the replicas share its cores, so the gain from N
replicas is capped by the number of cores (on 2 cores: well under 2x). Without --db, a demo database
is built in a temporary folder. wrk is the Debian package `wrk` (installed with apt-get when missing).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "replicas.py"
sys.path.insert(0, str(ROOT))
from db.serving import free_port  # noqa: E402
PAGES = [
    ("table JSON", "/minhbach/recalls.json?_size=20"),
    ("search JSON", "/minhbach/violations.json?_search=ha+noi"),
]


def find_wrk():
    for candidate in (shutil.which("wrk"), "/usr/bin/wrk"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL)
        if shutil.which("wrk"):
            return shutil.which("wrk")
    raise SystemExit("wrk not found: install the Debian package `wrk`")


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(binary, url, duration, connections):
    out = subprocess.run([binary, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s", url],
                         capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "errors": non2xx + socket_errors}


def cpu_seconds(pids):
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2)
    parser.add_argument("--db", help="the database to serve (default: a demo database built for the run)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="measurements per setup, order alternated; "
                                                              "the median is reported (default 3)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    binary = find_wrk()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="minhbach-bench-") as tmp:
        tmp = Path(tmp)
        db = Path(args.db).resolve() if args.db else tmp / "minhbach.db"
        if not args.db:
            subprocess.run([python, "-m", "ingest", "--db", str(db), "demo"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run_dir, port = tmp / "run", free_port()
        subprocess.run([python, str(SCRIPT), "start", "--n", str(args.n), "--db", str(db), "--port", str(port),
                        "--run-dir", str(run_dir)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        try:
            state = json.loads((run_dir / "state.json").read_text())
            direct = state["replicas"][0]["port"]
            pids = [r["pid"] for r in state["replicas"]]
            targets = [("1 replica, direct", direct), (f"{args.n} replicas behind nginx", port)]
            results = []
            for page, path in PAGES:
                runs = {label: [] for label, _t in targets}
                for round_ in range(args.rounds):
                    # Alternate the order, so a neighbour's load on the machine does not favour one setup.
                    for label, target in (targets if round_ % 2 == 0 else targets[::-1]):
                        url = f"http://127.0.0.1:{target}{path}"
                        wrk(binary, url, args.warmup, args.connections)
                        before = cpu_seconds(pids)
                        measured = wrk(binary, url, args.duration, args.connections)
                        measured["cpu_ms_per_request"] = 1000 * (cpu_seconds(pids) - before) / max(1, measured["requests"])
                        runs[label].append(measured)
                        print(f"  {page:<12} {label:<26} {measured['rps']:>8.1f} req/s  "
                              f"p99 {measured['p99_ms']:>7.1f} ms", file=sys.stderr, flush=True)
                for label, measured in runs.items():
                    median = sorted(measured, key=lambda m: m["rps"])[len(measured) // 2]
                    results.append({"page": page, "path": path, "setup": label, **median,
                                    "errors": sum(m["errors"] for m in measured),
                                    "rps_all": [m["rps"] for m in measured]})
        finally:
            subprocess.run([python, str(SCRIPT), "stop", "--run-dir", str(run_dir)], cwd=ROOT,
                           stdout=subprocess.DEVNULL)
    cores = os.cpu_count()
    print(f"\nwrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds per row (median shown, "
          f"all req/s in brackets), loopback, {cores} cores shared by wrk, nginx and the replicas; "
          f"database {'demo' if not args.db else args.db}\n")
    print("| page | setup | req/s | p50 ms | p99 ms | errors | replica CPU ms/req | req/s of each round |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['page']} `{r['path']}` | {r['setup']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['errors']} | {r['cpu_ms_per_request']:.1f} | "
              f"{', '.join(f'{x:.0f}' for x in r['rps_all'])} |")
    for page, _path in PAGES:
        one, many = [r for r in results if r["page"] == page]
        print(f"\n{page}: {many['rps'] / one['rps']:.2f}x the throughput of one replica "
              f"(p99 {one['p99_ms']:.0f} → {many['p99_ms']:.0f} ms)", end="")
    print(f"\n\nThe gain is capped by the {cores} cores: each replica is one Python process, and wrk and "
          f"nginx take their share of the same cores.")
    if args.json:
        Path(args.json).write_text(json.dumps({"cores": cores, "n": args.n, "duration": args.duration,
                                               "connections": args.connections, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
