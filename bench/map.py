"""Map benchmark in headless Chromium: our aggregate map (static/map/ + plugins/map_grid.py) on a
100k-point and a 1M-point table, against the stock datasette-cluster-map table page at 100k.

Servers: the Makefile `serve` command (as bench/serve.py reads it) on bench/data/ingest_100000 (the
100k published by our ingest) and bench/data/serve_1m (1M rows). Nothing leaves the machine: our page
is opened with `tiles=none` (no basemap) and the stock page's OpenStreetMap tile requests are
aborted by the browser before they go out (they would fail here anyway), so neither waits on tiles.

Measured per page load (fresh browser context each time, so nothing is cached), median of `reps`:
- ours: ms from navigation until the first aggregate is painted (two animation frames after the
  circles are added), and bytes received until then (CDP encodedDataLength: on the wire, headers in);
  then a zoom to Hồ Chí Minh City at z14 (ms until painted, bytes);
- stock: ms until the first marker or cluster icon is in the page (its first 1,000 rows), bytes;
  then "load all" clicked and timed until every page is loaded, bounded by `load_all_limit` seconds.

    .venv/bin/python bench/map.py [--reps 3]
"""
import argparse
import json
import time

from common import DATA, Server, log, median
from db.serving import free_port  # common.py puts the project on sys.path
from serve import makefile_commands, wait_map_warm, ROOT

import subprocess

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
HCMC = (10.776, 106.700)
TARGET_MS = 2000
TARGET_BYTES = 2_000_000


def start_ours(db, name):
    inspect, serve_argv = makefile_commands(db, 0)
    if inspect:
        subprocess.run(inspect, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    argv = list(serve_argv)
    argv[argv.index("--port") + 1] = str(port)
    server = Server(name, argv, port).start()
    wait_map_warm(server)
    return server


class Page:
    """A fresh context and page with CDP byte counting."""

    def __init__(self, browser, block_tiles=False):
        # bypass_csp: our CSP forbids eval, which Playwright needs for wait_for_function (no effect on timing)
        self.context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        self.page = self.context.new_page()
        if block_tiles:
            self.page.route("**/*tile.openstreetmap.org/**", lambda route: route.abort())
        self.cdp = self.context.new_cdp_session(self.page)
        self.bytes = 0
        self.requests = 0
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def _finished(self, event):
        self.bytes += event.get("encodedDataLength", 0)

    def _sent(self, event):
        self.requests += 1

    def close(self):
        self.context.close()


def ours_once(browser, base, table="violations"):
    p = Page(browser)
    try:
        page = p.page
        page.goto(f"{base}/static/map/index.html?table={table}&tiles=none", wait_until="commit")
        page.wait_for_function("window.__mapGrid && window.__mapGrid.renders >= 1", timeout=30000)
        first = page.evaluate("({t: window.__mapGrid.lastRender, mode: window.__mapGrid.mode, "
                              "items: window.__mapGrid.items, total: window.__mapGrid.total})")
        out = {"ms": round(first["t"]), "bytes": p.bytes, "requests": p.requests, "mode": first["mode"],
               "items": first["items"], "rows": first["total"]}
        before = p.bytes
        t0 = page.evaluate(f"(() => {{ const t = performance.now(); window.__mapGrid.map.setView([{HCMC[0]}, {HCMC[1]}], 14, "
                           "{animate: false}); return t; })()")
        page.wait_for_function("window.__mapGrid.renders >= 2", timeout=30000)
        z = page.evaluate("({t: window.__mapGrid.lastRender, mode: window.__mapGrid.mode, items: window.__mapGrid.items, "
                          "total: window.__mapGrid.total})")
        out.update(zoom_ms=round(z["t"] - t0), zoom_bytes=p.bytes - before, zoom_mode=z["mode"], zoom_items=z["items"],
                   zoom_rows=z["total"])
        return out
    finally:
        p.close()


def stock_once(browser, base, load_all_limit):
    p = Page(browser, block_tiles=True)
    try:
        page = p.page
        page.goto(f"{base}/minhbach/violations", wait_until="commit")
        page.wait_for_function("document.querySelector('.leaflet-marker-icon')", timeout=60000, polling="raf")
        first_ms = page.evaluate("performance.now()")
        out = {"ms": round(first_ms), "bytes": p.bytes, "requests": p.requests}
        progress = page.evaluate("(document.querySelector('.cluster-map-button') || {}).parentNode ? "
                                 "document.querySelector('.cluster-map-button').parentNode.textContent : ''")
        out["progress"] = progress.strip()
        if load_all_limit:
            before = p.bytes
            t0 = time.perf_counter()
            page.click("button.cluster-map-button")
            try:
                # Loading ends when the progress line (and its button) is gone.
                page.wait_for_function("!document.querySelector('.cluster-map-button')",
                                       timeout=load_all_limit * 1000, polling=250)
                out["load_all_ms"] = round((time.perf_counter() - t0) * 1000)
                out["load_all_done"] = True
            except Exception:
                out["load_all_ms"] = round((time.perf_counter() - t0) * 1000)
                out["load_all_done"] = False
                out["progress_at_limit"] = page.evaluate(
                    "(document.querySelector('.cluster-map-button') || {parentNode: {textContent: ''}}).parentNode.textContent").strip()
            out["load_all_bytes"] = p.bytes - before
        return out
    finally:
        p.close()


def bench(reps=3, load_all_limit=20):
    from playwright.sync_api import sync_playwright

    db100k = DATA / "ingest_100000" / "minhbach.db"
    db1m = DATA / "serve_1m" / "minhbach.db"
    runs = {"ours_100k": [], "ours_1m": [], "stock_100k": []}
    s100k = s1m = None
    started = time.perf_counter()
    try:
        s100k = start_ours(db100k, "map-100k")
        s1m = start_ours(db1m, "map-1m")
        log(f"map servers up: 100k :{s100k.port}, 1M :{s1m.port}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                ours_once(browser, s100k.base)          # warm-up (the server's first answers)
                ours_once(browser, s1m.base)
                for rep in range(reps):
                    for name, fn in (("ours_100k", lambda: ours_once(browser, s100k.base)),
                                     ("ours_1m", lambda: ours_once(browser, s1m.base)),
                                     ("stock_100k", lambda: stock_once(browser, s100k.base,
                                                                       load_all_limit if rep == 0 else 0))):
                        try:
                            r = fn()
                        except Exception as error:      # one failed page load is recorded, not fatal
                            r = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
                        runs[name].append(r)
                        log(f"map rep {rep + 1} {name}: " + json.dumps(r, ensure_ascii=False))
            finally:
                browser.close()
    finally:
        for s in (s100k, s1m):
            if s:
                s.stop()
    summary = {name: {k: median([r[k] for r in rs if isinstance(r.get(k), (int, float))])
                      for k in ("ms", "bytes", "requests", "zoom_ms", "zoom_bytes", "load_all_ms", "load_all_bytes")}
               for name, rs in runs.items()}
    details = {"seconds": round(time.perf_counter() - started, 1), "runs": runs, "summary": summary}
    return measurements(summary, runs), details


def measurements(summary, runs):
    o100, o1m, st = summary["ours_100k"], summary["ours_1m"], summary["stock_100k"]
    stock_all = runs["stock_100k"][0] if runs["stock_100k"] else {}
    stock_errors = [r["error"] for r in runs["stock_100k"] if "error" in r]
    ours_errors = [r["error"] for name in ("ours_100k", "ours_1m") for r in runs[name] if "error" in r]
    out = [
        {"name": "map 100k: ms until the whole table is visible (ours: aggregates; stock: its first 1,000 markers)",
         "ours": o100["ms"], "peer": st["ms"], "ratio": _ratio(st["ms"], o100["ms"]),
         "target": f"ours <= {TARGET_MS} ms", "met": o100["ms"] is not None and o100["ms"] <= TARGET_MS,
         "ours_bytes": o100["bytes"], "peer_bytes": st["bytes"], "errors": (ours_errors + stock_errors) or None},
        {"name": "map 100k: ms until all 100k rows are on the map (stock: click 'load all', bounded)",
         "ours": o100["ms"], "peer": stock_all.get("load_all_ms"),
         "ratio": _ratio(stock_all.get("load_all_ms"), o100["ms"]), "target": None, "met": None,
         "peer_finished": stock_all.get("load_all_done"), "peer_bytes": stock_all.get("load_all_bytes"),
         "note": "the stock time is from the click, after its first page"},
        {"name": "map 1M: ms until the map shows the whole table", "ours": o1m["ms"], "peer": None, "ratio": None,
         "target": f"<= {TARGET_MS} ms", "met": o1m["ms"] is not None and o1m["ms"] <= TARGET_MS},
        {"name": "map 1M: bytes transferred until then (page, Leaflet, data)", "ours": o1m["bytes"], "peer": None,
         "ratio": None, "target": f"<= {TARGET_BYTES} bytes", "met": o1m["bytes"] is not None and o1m["bytes"] <= TARGET_BYTES},
        {"name": "map 1M: zoom to HCMC z14, ms until painted", "ours": o1m["zoom_ms"], "peer": None, "ratio": None,
         "target": None, "met": None, "bytes": o1m["zoom_bytes"]},
    ]
    return out


def _ratio(peer, ours):
    return round(peer / ours, 2) if peer and ours else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--load-all-limit", type=int, default=20)
    args = parser.parse_args()
    results, details = bench(args.reps, args.load_all_limit)
    (DATA / "map_details.json").write_text(json.dumps(details, ensure_ascii=False, indent=1))
    for r in results:
        print(r)
