"""The ingest's memory is bounded (issue 15, item 9): a source's items are staged on disk while it is
crawled (db/store.Stage) and committed from there in batches, never all held in memory.

50,000 synthetic rows (bench/gen.py: marked synthetic, written under pytest's tmp_path, never into
db/minhbach.db) ingest with a peak RSS under PEAK_MB. Before the staging, all items, their enriched
copies and the source's existing rows were held until the commit: the same 50k rows peaked at 513 MB
(measured with this test on the code before), 1,000,000 rows at 5.35 GB. Now: 250 MB at 50k.
"""
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

ROWS = 50_000
PEAK_MB = 400


def peak_rss_mb(argv):
    """Peak RSS of the largest process `argv` runs (it or a child it waited for), through a fresh
    Python whose only child is that command: getrusage(RUSAGE_CHILDREN) sees nothing else."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
             "print(r.stderr[-3000:], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True, text=True,
                            timeout=1800)
    kb, code = result.stdout.split()
    assert code == "0", result.stderr
    return int(kb) / 1024


@pytest.mark.slow   # generates 50,000 rows and ingests them (~1 min)
def test_a_large_source_ingests_in_bounded_memory(tmp_path):
    import gen
    csv_path = tmp_path / "synthetic_bench_violations.csv"
    gen.generate(ROWS, csv_path)
    db = tmp_path / "minhbach.db"
    peak = peak_rss_mb([sys.executable, "-m", "db", "--db", str(db), "ingest", f"vn_news_violations={csv_path}"])
    conn = sqlite3.connect(db)
    run = conn.execute("select status, items, new, rejected from runs where source = 'vn_news_violations'").fetchone()
    published = conn.execute("select count(*), count(distinct id) from violations "
                             "where source = 'vn_news_violations' and url like 'https://synthetic-bench.invalid/%'"
                             ).fetchone()
    conn.close()
    assert run[0] == "ok", run
    assert published[0] == published[1] == run[2] == run[1] - run[3] > 0.99 * ROWS
    # No stage file is left beside the published database.
    assert sorted(p.name for p in tmp_path.iterdir() if "stage" in p.name) == []
    print(f"peak RSS of the ingest: {peak:.0f} MB for {ROWS:,} rows")
    assert peak < PEAK_MB, f"peak RSS {peak:.0f} MB for {ROWS:,} rows (bound {PEAK_MB} MB)"
