#!/usr/bin/env python3
"""`make replicas N=2`: N Datasette replicas of the published database behind nginx on loopback, with a
rolling swap whenever a new database is published. `make replicas-stop` stops everything.

    python deploy/replicas.py start  [--n 2] [--db db/minhbach.db] [--host 127.0.0.1] [--port 8001]
                                     [--run-dir deploy/run] [--foreground]
    python deploy/replicas.py swap   [--run-dir deploy/run]   # look at the published file now
    python deploy/replicas.py status [--run-dir deploy/run]
    python deploy/replicas.py stop   [--run-dir deploy/run]

`start` launches a supervisor in the background and returns once the site answers through nginx.
The supervisor:
- gives each replica its own immutable copy, ``<run>/replica-<i>/<hash16>/minhbach.db`` (copied to a
  temporary name while hashing, then renamed: a replica never sees a half-copied file; the folder is
  named by the hash because Datasette names a database after its file: the site stays /minhbach/…);
- runs each replica as `python deploy/datasette_replica.py serve -i …` with the serving options of
  db/serving.py, as `make serve` (plus cache headers, ETag, /-/health: see that file) on a free loopback port;
- writes ``<run>/nginx.conf`` and runs nginx in the foreground as its child (pid file
  ``<run>/nginx/nginx.pid``; the system's nginx and its configuration are never used or touched);
- watches the published file (it is replaced by an atomic rename, db/build.py `swap`) and, when its
  content changes, swaps replica by replica: copy, start the new replica on a new port, wait for its
  /-/health to report the new hash, point nginx's upstream at it (`nginx -s reload`, graceful), wait
  for the old nginx workers to finish, then stop the old replica (SIGTERM: it finishes what it serves);
- restarts a replica that died, on the same port (meanwhile nginx sends its requests to the others).

nginx: passive health checks (`max_fails=1 fail_timeout=5s`) and `proxy_next_upstream error timeout
http_502 http_503 http_504`: a request that meets a dead replica is retried on another one.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DATABASE = "minhbach"
sys.path.insert(0, str(ROOT))
# The Datasette options of every way we serve (`make serve`, the Dockerfile, the tests): one definition.
from db.serving import free_port, serve_args  # noqa: E402
HEALTH_TIMEOUT = 90
TICK = 0.5


def log(message):
    print(f"{time.strftime('%H:%M:%S')} replicas: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- small helpers

def http_get(url, timeout=5.0):
    """(status, headers, body) — never raises for an HTTP status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid, marker=None):
    """The process exists (and is not a zombie), and its command line mentions ``marker``."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    return marker is None or marker in cmdline(pid)


def children(pid):
    """Pids whose parent is ``pid`` (nginx's workers), with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found[int(entry.name)] = cmdline(entry.name)
    return found


def write_atomic(path, text):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def find_nginx(install=True):
    """The nginx binary; installed with apt-get (Debian package `nginx`) when missing and we are root."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("nginx is missing: apt-get install nginx")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"]
        if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL)
        return find_nginx(install=False)
    raise SystemExit("nginx not found: install the Debian package `nginx` (apt-get install nginx)")


# ---------------------------------------------------------------- immutable copies

class Changing(Exception):
    """The published file changed while it was read (someone writes it in place): try again later."""


def stat_key(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def install_copy(published, folder):
    """Copy the published file into ``folder/<hash16>/minhbach.db``: temp name, fsync, rename.

    One read does both the copy and the sha256 (which is Datasette's own hash of the file). The open
    handle keeps the inode it opened, so a publish (a rename) during the copy cannot mix two files.
    Returns (sha256, the version folder).
    """
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".incoming-{os.getpid()}.db"
    digest = hashlib.sha256()
    with open(published, "rb") as source, open(tmp, "wb") as target:
        before = os.fstat(source.fileno())
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
        after = os.fstat(source.fileno())
    if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
        tmp.unlink(missing_ok=True)
        raise Changing(f"{published} changed while it was copied")
    sha = digest.hexdigest()
    version = folder / sha[:16]
    if (version / f"{DATABASE}.db").exists():
        tmp.unlink()
        return sha, version
    version.mkdir(exist_ok=True)
    os.replace(tmp, version / f"{DATABASE}.db")
    directory = os.open(version, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return sha, version


def check_and_inspect(version, sha, cache):
    """Once per content: SQLite's quick_check, then Datasette's inspect file (counts, hash), shared."""
    inspect = cache / f"{sha[:16]}.inspect.json"
    if not inspect.exists():
        conn = sqlite3.connect(f"file:{version / f'{DATABASE}.db'}?mode=ro&immutable=1", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
        if result != "ok":
            raise RuntimeError(f"the published file fails SQLite's quick_check: {result}")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = inspect.with_name(f".{inspect.name}.tmp")
        subprocess.run([str(Path(sys.executable).with_name("datasette")), "inspect",
                        str(version / f"{DATABASE}.db"), "--inspect-file", str(tmp)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        os.replace(tmp, inspect)
    data = json.loads(inspect.read_text())
    if data[DATABASE]["hash"] != sha:
        raise RuntimeError("inspect hash differs from the copy's hash")
    data[DATABASE]["file"] = str(version / f"{DATABASE}.db")
    write_atomic(version / "inspect.json", json.dumps(data, indent=2))


# ---------------------------------------------------------------- replicas

class Replica:
    def __init__(self, slot, port, version, sha, run_dir):
        self.slot, self.port, self.version, self.sha, self.run_dir = slot, port, version, sha, run_dir
        self.proc = None
        self.restarts = 0
        self.started = 0.0

    def command(self):
        return [sys.executable, str(DEPLOY / "datasette_replica.py"), "serve",
                "-i", str(self.version / f"{DATABASE}.db"), "--inspect-file", str(self.version / "inspect.json"),
                *serve_args(ROOT), "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self):
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        logfile = open(self.logfile, "ab")
        self.started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env)
        logfile.close()
        return self

    @property
    def logfile(self):
        return self.run_dir / "logs" / f"replica-{self.slot}-port-{self.port}.log"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"replica {self.slot} on port {self.port} exited (log: {self.logfile})")
            try:
                status, _headers, body = http_get(f"http://127.0.0.1:{self.port}/-/health", timeout=2)
                if status == 200 and json.loads(body).get("db") == self.sha:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica {self.slot} on port {self.port} not healthy after {timeout}s")

    def stop(self, grace=15):
        """SIGTERM: uvicorn stops accepting, finishes the requests it has, exits. SIGKILL after ``grace``."""
        if not self.running():
            return
        self.proc.terminate()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def state(self):
        return {"slot": self.slot, "port": self.port, "pid": self.pid, "db": self.sha,
                "file": str(self.version / f"{DATABASE}.db"), "restarts": self.restarts}


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
# Generated by deploy/replicas.py: rewritten at every swap. Not the system's nginx.
worker_processes 1;
daemon off;
pid {run}/nginx/nginx.pid;
error_log {run}/nginx/error.log warn;
worker_shutdown_timeout 20s;
events {{ worker_connections 4096; }}

http {{
    log_format upstream '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time '
                        'upstream=$upstream_addr $upstream_status $upstream_response_time';
    access_log {run}/nginx/access.log upstream buffer=64k flush=5s;
    client_body_temp_path {run}/nginx/client_body;
    proxy_temp_path {run}/nginx/proxy;
    fastcgi_temp_path {run}/nginx/fastcgi;
    uwsgi_temp_path {run}/nginx/uwsgi;
    scgi_temp_path {run}/nginx/scgi;
    server_tokens off;
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_types application/json text/css text/csv application/javascript application/atom+xml;

    upstream {name}_replicas {{
{servers}
        keepalive 32;
        keepalive_timeout 4s;  # under uvicorn's 5 s: nginx never reuses a connection the replica closed
    }}

    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://{name}_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A dead or failing replica: the request goes to the next one (GET/HEAD only, as nginx does).
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 0;
            proxy_next_upstream_timeout 15s;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_max_temp_file_size 0;
            add_header X-Minhbach-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, run_dir, host, port):
        self.run_dir, self.host, self.port = run_dir, host, port
        self.binary = find_nginx()
        self.prefix = run_dir / "nginx"
        self.conf = run_dir / "nginx.conf"
        self.proc = None
        for sub in ("", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)

    def args(self):
        return [self.binary, "-p", f"{self.prefix}/", "-c", str(self.conf), "-e", str(self.prefix / "error.log")]

    def write(self, ports):
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)
        write_atomic(self.conf, NGINX_CONF.format(run=self.run_dir, name=DATABASE, servers=servers,
                                                  host=self.host, port=self.port))
        test = subprocess.run([*self.args(), "-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {test.stderr.strip()}")

    def start(self):
        logfile = open(self.prefix / "stdout.log", "ab")
        self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        logfile.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                errors = (self.prefix / "error.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"nginx exited ({self.prefix}/error.log): " + " | ".join(errors))
            try:
                status, _h, _b = http_get(f"http://{self.host}:{self.port}/-/health", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx does not answer")

    def reload(self, timeout=40):
        """`nginx -s reload` (graceful: old workers finish their requests), then wait until the old
        workers are gone, so nothing still talks to a replica that is about to stop."""
        old = set(children(self.proc.pid))
        subprocess.run([*self.args(), "-s", "reload"], check=True, capture_output=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = children(self.proc.pid)
            fresh = {pid for pid, line in current.items() if pid not in old and "shutting down" not in line}
            if fresh and not (old & set(current)):
                return
            time.sleep(0.05)
        raise RuntimeError("nginx reload did not complete in time")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.running():
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.proc.wait(25)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(10)


# ---------------------------------------------------------------- the supervisor

class Supervisor:
    def __init__(self, args):
        self.run_dir = Path(args.run_dir).resolve()
        self.published = Path(args.db).resolve()
        self.n, self.host, self.port = args.n, args.host, args.port
        self.replicas = []
        self.nginx = None
        self.served = None
        self.swaps = 0
        self.status = "starting"
        self.error = None
        self.stopping = False
        self.check_now = False
        self.failed_key = None

    # state, read by `status`, `stop`, tests
    def save(self):
        state = {
            "status": self.status, "supervisor_pid": os.getpid(), "url": f"http://{self.host}:{self.port}/",
            "published": str(self.published), "db": self.served, "swaps": self.swaps, "error": self.error,
            "nginx_pid": self.nginx.proc.pid if self.nginx and self.nginx.proc else None,
            "nginx_conf": str(self.run_dir / "nginx.conf"),
            "replicas": [r.state() for r in self.replicas],
        }
        write_atomic(self.run_dir / "state.json", json.dumps(state, indent=2))

    def slot_dir(self, slot):
        return self.run_dir / f"replica-{slot}"

    def copy_for(self, slot, expected=None):
        sha, version = install_copy(self.published, self.slot_dir(slot))
        try:
            if expected and sha != expected:
                raise Changing("the published file changed during the swap")
            check_and_inspect(version, sha, self.run_dir / "inspect")
        except BaseException:
            if not any(r.version == version for r in self.replicas):
                shutil.rmtree(version, ignore_errors=True)   # a refused file leaves no copy behind
            raise
        return sha, version

    def ports(self):
        return [r.port for r in self.replicas]

    def start(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not self.published.exists():
            raise SystemExit(f"{self.published} does not exist: build it first (make demo-db)")
        self.nginx = Nginx(self.run_dir, self.host, self.port)
        key = stat_key(self.published)
        sha = None
        for slot in range(self.n):
            sha, version = self.copy_for(slot, expected=sha)
            self.replicas.append(Replica(slot, free_port(self.ports()), version, sha, self.run_dir).start())
        self.save()
        for replica in self.replicas:
            replica.wait_healthy()
        self.served, self.last_key = sha, key
        self.nginx.write(self.ports())
        self.nginx.start()
        self.status = "ready"
        self.save()
        log(f"ready: {self.n} replica(s) of {sha[:16]} on ports {self.ports()} behind "
            f"http://{self.host}:{self.port}/")

    def rolling_swap(self):
        """Replica by replica; nginx always has N healthy upstreams, and a stopping replica gets no request."""
        started = time.monotonic()
        self.status = "swapping"
        self.save()
        target = None
        try:
            for slot, old in enumerate(list(self.replicas)):
                sha, version = self.copy_for(slot, expected=target)
                if target is None:
                    target = sha
                    if sha == self.served and all(r.sha == sha for r in self.replicas):
                        log("published file touched, content unchanged: nothing to swap")
                        return
                    log(f"publishing {sha[:16]} (was {self.served[:16]}): rolling swap")
                if old.sha == sha and old.running():
                    continue  # already swapped by an interrupted earlier swap
                new = Replica(slot, free_port(self.ports()), version, sha, self.run_dir).start()
                try:
                    new.wait_healthy()
                except Exception:
                    new.stop(grace=5)
                    if not any(r.version == version for r in self.replicas):
                        shutil.rmtree(version, ignore_errors=True)
                    raise
                self.replicas[slot] = new
                self.nginx.write(self.ports())
                self.nginx.reload()
                old.stop()
                if old.version != version and not any(r.version == old.version for r in self.replicas):
                    shutil.rmtree(old.version, ignore_errors=True)
                self.save()
                log(f"slot {slot}: port {old.port} → {new.port}")
            self.served = target
            self.swaps += 1
            self.error = None
            log(f"swap done in {time.monotonic() - started:.1f}s: serving {target[:16]}")
        finally:
            self.status = "ready"
            self.save()

    def heal(self):
        for replica in self.replicas:
            if not replica.running() and time.monotonic() - replica.started > min(30, 2 ** replica.restarts):
                replica.restarts += 1
                log(f"replica {replica.slot} (port {replica.port}) died: restarting it on the same port")
                replica.start()
                self.save()
        if not self.nginx.running():
            log("nginx died: restarting it")
            self.nginx.start()
            self.save()

    def loop(self):
        previous = stat_key(self.published)
        while not self.stopping:
            time.sleep(TICK)
            if self.stopping:
                break
            self.heal()
            key = stat_key(self.published)
            # Act on a change once it has been still for one tick (a rename is; an in-place write may not be).
            settled = key is not None and key == previous
            previous = key
            if (settled and key != self.last_key and key != self.failed_key) or self.check_now:
                self.check_now = False
                try:
                    self.rolling_swap()
                    self.last_key, self.failed_key = key, None
                except Changing as error:
                    log(f"{error}: will try again")
                except Exception as error:
                    self.failed_key = key
                    self.error = f"{type(error).__name__}: {error}"
                    log(f"swap failed, the previous database is still served: {self.error}")
                    self.save()

    def shutdown(self):
        self.status = "stopping"
        self.save()
        if self.nginx:
            self.nginx.stop()
        for replica in self.replicas:
            replica.stop()
        for slot in range(self.n):
            shutil.rmtree(self.slot_dir(slot), ignore_errors=True)  # the copies (logs stay in <run>/logs)
        self.status = "stopped"
        self.replicas = []
        self.save()
        log("stopped")

    def run(self):
        def on_stop(_signum, _frame):
            self.stopping = True

        def on_hup(_signum, _frame):
            self.check_now = True
        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)
        try:
            self.start()
            self.loop()
        except BaseException as error:
            if not isinstance(error, SystemExit):
                self.error = f"{type(error).__name__}: {error}"
                log(f"failed: {self.error}")
            raise
        finally:
            self.shutdown()


# ---------------------------------------------------------------- command line

def read_state(run_dir):
    try:
        return json.loads((Path(run_dir) / "state.json").read_text())
    except (OSError, ValueError):
        return None


def supervisor_alive(state):
    return state and alive(state.get("supervisor_pid"), "replicas.py")


def command_start(args):
    run_dir = Path(args.run_dir).resolve()
    state = read_state(run_dir)
    if supervisor_alive(state) and state["status"] != "stopped":
        raise SystemExit(f"already running at {state['url']} (make replicas-stop first)")
    if state and state["status"] != "stopped":
        command_stop(args, quiet=True)   # what a killed supervisor left running
    find_nginx()  # install before going to the background, where apt-get's output would be lost
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "state.json").unlink(missing_ok=True)
    run_args = ["run", "--n", str(args.n), "--db", str(Path(args.db).resolve()), "--host", args.host,
                "--port", str(args.port), "--run-dir", str(run_dir)]
    if args.foreground:
        return command_run(build_parser().parse_args(run_args))
    logfile = open(run_dir / "supervisor.log", "ab")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *run_args], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)
    logfile.close()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = read_state(run_dir)
        if state and state["status"] == "ready":
            print(f"{args.n} replica(s) of {state['published']} (sha256 {state['db'][:16]}) behind nginx: "
                  f"{state['url']}")
            for replica in state["replicas"]:
                print(f"  replica {replica['slot']}: http://127.0.0.1:{replica['port']}/  pid {replica['pid']}")
            print(f"log: {run_dir}/supervisor.log · stop: make replicas-stop")
            return 0
        if proc.poll() is not None:
            print((run_dir / "supervisor.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit("the replicas did not start (log above)")
        time.sleep(0.2)
    command_stop(args)
    raise SystemExit("the replicas did not start within 300s")


def command_run(args):
    Supervisor(args).run()
    return 0


def command_swap(args):
    state = read_state(args.run_dir)
    if not supervisor_alive(state):
        raise SystemExit("not running")
    os.kill(state["supervisor_pid"], signal.SIGHUP)
    return 0


def command_status(args):
    state = read_state(args.run_dir)
    if not state:
        print("not running")
        return 1
    state["supervisor_alive"] = bool(supervisor_alive(state))
    print(json.dumps(state, indent=2))
    return 0 if state["supervisor_alive"] else 1


def command_stop(args, quiet=False):
    run_dir = Path(args.run_dir).resolve()
    state = read_state(run_dir)
    if not state:
        if not quiet:
            print("not running")
        return 0
    if supervisor_alive(state):
        os.kill(state["supervisor_pid"], signal.SIGTERM)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and alive(state["supervisor_pid"]):
            time.sleep(0.1)
    # Whatever a killed supervisor left behind: only processes that name this run directory.
    leftovers = [(state.get("nginx_pid"), str(run_dir / "nginx.conf"), signal.SIGQUIT)]
    leftovers += [(r["pid"], r["file"], signal.SIGTERM) for r in state.get("replicas", [])]
    if alive(state.get("supervisor_pid"), "replicas.py"):
        leftovers.insert(0, (state["supervisor_pid"], "replicas.py", signal.SIGKILL))
    for pid, marker, sig in leftovers:
        if alive(pid, marker):
            os.kill(pid, sig)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.1)
            if alive(pid, marker):
                os.kill(pid, signal.SIGKILL)
    if not quiet:
        print("stopped")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="deploy/replicas.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "run"):
        sub = commands.add_parser(name, help="start N replicas behind nginx" if name == "start" else argparse.SUPPRESS)
        sub.add_argument("--n", type=int, default=2, help="number of replicas (default 2)")
        sub.add_argument("--db", default=str(ROOT / "db" / f"{DATABASE}.db"), help="the published database")
        sub.add_argument("--host", default="127.0.0.1", help="nginx listens here (default 127.0.0.1)")
        sub.add_argument("--port", type=int, default=8001, help="nginx listens on this port (default 8001)")
        sub.add_argument("--run-dir", default=str(DEPLOY / "run"))
        if name == "start":
            sub.add_argument("--foreground", action="store_true", help="stay in the foreground (Ctrl-C stops)")
    for name, text in (("swap", "look at the published file now"), ("status", "print the state"),
                       ("stop", "stop nginx and every replica")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--run-dir", default=str(DEPLOY / "run"))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "n", 1) < 1:
        raise SystemExit("--n must be at least 1")
    return {"start": command_start, "run": command_run, "swap": command_swap, "status": command_status,
            "stop": command_stop}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
