"""Shared helpers for the benchmarks: paths, timing, medians, servers started and always stopped."""
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"           # git-ignored: synthetic CSVs, databases, venvs, logs
PY = ROOT / ".venv" / "bin" / "python"
DATASETTE = ROOT / ".venv" / "bin" / "datasette"
HOST = "127.0.0.1"

if str(ROOT) not in sys.path:
    # after bench/ (not before): the project's own `ingest` package must not shadow bench/ingest.py
    sys.path.append(str(ROOT))


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def get(url, timeout=60):
    """(status, seconds, bytes) of one GET; never raises on HTTP errors."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            return response.status, time.perf_counter() - start, body
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - start, error.read()


class Server:
    """A server process on 127.0.0.1, in its own process group, killed by `stop()` (and at exit)."""

    def __init__(self, name, argv, port, cwd=ROOT, env=None, ready_path="/-/versions.json"):
        self.name, self.argv, self.port, self.cwd = name, [str(a) for a in argv], port, cwd
        self.env = {**os.environ, **(env or {})}
        self.ready_path = ready_path
        self.proc = None
        self.log_path = DATA / "logs" / f"{name}.log"

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def start(self, timeout=120):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _, _ = get(self.base + self.ready_path, timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout}s; see {self.log_path}")

    def stop(self, grace=3):
        """SIGTERM, then SIGKILL after `grace` seconds (uvicorn waits for requests still running)."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM if grace else signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace or 10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self):
        self.stop(grace=0)
        return self.start()

    def cpu_seconds(self):
        """User+system CPU of the server process (for 'server busy after the client left')."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, AttributeError):
            return None

    def wait_idle(self, timeout=30, quiet=0.5):
        """Wait until the server burns no CPU for `quiet` seconds (requests a client gave up on may still
        run); returns False on timeout so the caller can restart it instead."""
        deadline = time.monotonic() + timeout
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now is None or last is None or now - last < 0.05 * quiet:
                return True
            last = now
        return False


@contextmanager
def servers(*items):
    started = []
    try:
        for s in items:
            started.append(s.start())
        yield started
    finally:
        for s in started:
            s.stop()


def write_json(path, data):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def alternate(servers, endpoints, reps, run, idle_timeout=5, label_width=13):
    """Side by side: every (endpoint, server) runs `run(server, path)` (a wrk run: a dict with rps, p99,
    errors) `reps` times, the servers' order reversed on every other repetition so each sees the same
    noise; a server still busy after a run (requests the client gave up on) is restarted before the next.
    `endpoints` are (key, path) pairs. Returns {server name: {key: [runs]}}."""
    runs = {s.name: {k: [] for k, _ in endpoints} for s in servers}
    width = max(len(s.name) for s in servers)
    for rep in range(reps):
        for key, path in endpoints:
            for s in (servers if rep % 2 == 0 else servers[::-1]):
                r = run(s, path)
                runs[s.name][key].append(r)
                if not s.wait_idle(timeout=idle_timeout):
                    s.restart()
                    log(f"  {s.name} restarted (still busy after {key})")
                log(f"rep {rep + 1} {key:<{label_width}} {s.name:<{width}} {r['rps']:8.1f} req/s  "
                    f"p99 {r['p99'] or 0:8.1f} ms  err {r['errors']}")
    return runs
