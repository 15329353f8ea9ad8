#!/usr/bin/env python3
"""The nightly job, one script for GitHub Actions and cron: restore → verify → ingest → verify → publish.

The published SQLite file is the project's memory (`first_seen`, `last_seen`, `withdrawn`, `versions`,
`runs`): an ingest on top of an empty file would call every record new and forget every withdrawal.
So the job first restores yesterday's file from a durable place, checks it, and refuses to start from
nothing unless told to (FORCE_FROM_EMPTY=1). Durable places, each switched on by one variable:

  MINHBACH_STORE_DIR=/path        a directory (another disk, an rsync'd backup; the tests use it)
  MINHBACH_S3_BUCKET=bucket       S3-compatible object storage (boto3: pip install '.[s3]'); with the
                                  standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
                                  AWS_ENDPOINT_URL (for a non-AWS provider); MINHBACH_S3_PREFIX (default
                                  "minhbach/")
  MINHBACH_RELEASE_TAG=tag        assets of a GitHub release (the `gh` CLI, with GH_TOKEN and
                                  GITHUB_REPOSITORY, which Actions provides)
  MINHBACH_RESTORE_URL=https://…/minhbach.db
                                  the live site's own download (restore only: its SHA-256 is the
                                  X-Minhbach-Db header that deploy/datasette_replica.py adds)

Restore tries them in that order and takes the first that has a copy; a copy that fails its checks
(SHA-256, PRAGMA integrity_check, the history tables) stops the job: nothing is ingested or published.
A local file (the Actions cache, the cron machine's own file) is only a speed-up: used as is when its
hash is the durable copy's, kept when it is verifiably newer (last night's upload failed), replaced
otherwise.

Publish: the file is uploaded to every writable store that does not hold it yet (file, then its
`.sha256`): all when it changed, and an empty one even when it did not (restored from another
store, the live site say); on the 1st of
the month a snapshot (db/snapshot.py: file, `.sha256`, manifest) goes beside the older ones under
`snapshots/`; when a record changed (build.content_hash) the site is redeployed: the Dockerfile built
and pushed to MINHBACH_IMAGE, then `gcloud run deploy` when MINHBACH_CLOUDRUN_SERVICE is set; without
MINHBACH_IMAGE the deploy is skipped with one line.

Exit status: 0 ok; 1 a source failed (the others were still published, as `python -m ingest run` does);
2 refused or failed (restore, checks, ingest error, upload, deploy).

  python deploy/nightly.py run [--db db/minhbach.db] [--ingest "SOURCE=FILE …"] [--today YYYY-MM-DD]
  python deploy/nightly.py restore [--db …]     # rebuild a machine: restore and verify only
  python deploy/nightly.py verify FILE [--sha256 HEX]
"""
import argparse
import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `db` is the project's package

from db import build, schema  # noqa: E402
from db.snapshot import snapshot  # noqa: E402

NAME = "minhbach.db"   # the published file's name in every store
# What a restored file must hold: the records and their history. (A table added to db/schema.py since
# yesterday is not required: the ingest's apply_schema creates it.)
HISTORY_TABLES = (*schema.RECORD_TABLES, "versions", "runs", "sources")


class Refused(Exception):
    """The job must stop here: nothing is ingested or published."""


def log(message):
    print(f"nightly: {message}", file=sys.stderr, flush=True)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_line(text):
    """The hash of a `sha256sum` line (`<hex>  <name>`), or of a bare hex string."""
    return (text.split() or [""])[0].strip().lower()


# --- durable stores: fetch(name, dest, have) -> expected SHA-256 or None (no copy); put_file(path, name) ---

class DirectoryStore:
    writable = True

    def __init__(self, folder):
        self.folder = Path(folder)

    def __str__(self):
        return f"directory {self.folder}"

    def fetch(self, name, dest, have=None):
        path, sidecar = self.folder / name, self.folder / f"{name}.sha256"
        if not path.exists() and not sidecar.exists():
            return None
        if not sidecar.exists() or not path.exists():
            raise Refused(f"{self}: {path.name if path.exists() else sidecar.name} is there without its "
                          f"{'.sha256' if path.exists() else 'database'}: a half-written copy, fix it by hand")
        expected = sha256_line(sidecar.read_text())
        if expected != have:
            shutil.copyfile(path, dest)
        return expected

    def put_file(self, path, name):
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(path, partial)
        os.replace(partial, target)    # readers never see half a file


class S3Store:
    """S3 or any S3-compatible service (AWS_ENDPOINT_URL): boto3 reads the standard AWS variables."""
    writable = True

    def __init__(self, bucket, prefix="minhbach/"):
        try:
            import boto3
        except ImportError:
            raise Refused("MINHBACH_S3_BUCKET is set but boto3 is not installed: pip install '.[s3]'")
        self.client, self.bucket, self.prefix = boto3.client("s3"), bucket, prefix

    def __str__(self):
        return f"s3://{self.bucket}/{self.prefix}"

    def _sidecar(self, name):
        from botocore.exceptions import ClientError
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}{name}.sha256")["Body"]
            return sha256_line(body.read().decode())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise

    def fetch(self, name, dest, have=None):
        expected = self._sidecar(name)
        if expected is None:
            return None
        if expected != have:
            self.client.download_file(self.bucket, f"{self.prefix}{name}", str(dest))
        return expected

    def put_file(self, path, name):
        self.client.upload_file(str(path), self.bucket, f"{self.prefix}{name}")   # atomic per object


class ReleaseStore:
    """Assets of one GitHub release, through the `gh` CLI. Asset names are flat: snapshots/x -> x."""
    writable = True

    def __init__(self, tag, repo=None):
        self.tag, self.repo = tag, repo or os.environ.get("GITHUB_REPOSITORY")

    def __str__(self):
        return f"GitHub release {self.repo or '(this repository)'}@{self.tag}"

    def _gh(self, verb, *args, check=True):
        command = ["gh", "release", verb, self.tag, *args, *(["-R", self.repo] if self.repo else [])]
        result = subprocess.run(command, capture_output=True, text=True)
        if check and result.returncode:
            raise Refused(f"{self}: `{' '.join(command[:3])}` failed: {result.stderr.strip()}")
        return result

    def _download(self, asset, folder):
        result = self._gh("download", "--pattern", asset, "--dir", str(folder), "--clobber", check=False)
        if result.returncode == 0:
            return Path(folder) / asset
        message = result.stderr.lower()
        if "release not found" in message or "no assets match" in message or "no assets to download" in message:
            return None
        raise Refused(f"{self}: download of {asset} failed: {result.stderr.strip()}")

    def fetch(self, name, dest, have=None):
        asset = Path(name).name
        with tempfile.TemporaryDirectory() as folder:
            sidecar = self._download(f"{asset}.sha256", folder)
            if sidecar is None:
                return None
            expected = sha256_line(sidecar.read_text())
            if expected != have:
                downloaded = self._download(asset, folder)
                if downloaded is None:
                    raise Refused(f"{self}: {asset}.sha256 is there without {asset} (an upload died midway?)")
                shutil.move(downloaded, dest)
        return expected

    def put_file(self, path, name):
        if self._gh("view", check=False).returncode:
            self._gh("create", "--title", "Minh Bạch data (nightly)", "--latest=false",
                     "--notes", "The published database and the monthly snapshots, uploaded by deploy/nightly.py.")
        with tempfile.TemporaryDirectory() as folder:
            named = Path(folder) / Path(name).name    # the asset takes the file's name
            shutil.copyfile(path, named)
            self._gh("upload", str(named), "--clobber")


class LiveSite:
    """The site's own download (/minhbach.db): its X-Minhbach-Db header is the file's SHA-256."""
    writable = False

    def __init__(self, url):
        self.url = url

    def __str__(self):
        return f"the live site {self.url}"

    def fetch(self, name, dest, have=None):
        request = urllib.request.Request(self.url, headers={"User-Agent": "minhbach-nightly"})
        try:
            response = urllib.request.urlopen(request, timeout=120)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise Refused(f"{self}: HTTP {error.code}")
        except (urllib.error.URLError, OSError) as error:
            raise Refused(f"{self}: {error}")
        with response:
            expected = sha256_line(response.headers.get("X-Minhbach-Db") or "")
            if not expected:
                raise Refused(f"{self}: no X-Minhbach-Db header, so nothing to check the download against")
            if expected != have:
                with open(dest, "wb") as out:
                    shutil.copyfileobj(response, out, 1 << 20)
        return expected


def stores_from_env(env=os.environ):
    """The durable places configured, in restore order."""
    stores = []
    if env.get("MINHBACH_STORE_DIR"):
        stores.append(DirectoryStore(env["MINHBACH_STORE_DIR"]))
    if env.get("MINHBACH_S3_BUCKET"):
        stores.append(S3Store(env["MINHBACH_S3_BUCKET"], env.get("MINHBACH_S3_PREFIX", "minhbach/")))
    if env.get("MINHBACH_RELEASE_TAG") and env["MINHBACH_RELEASE_TAG"] != "none":
        stores.append(ReleaseStore(env["MINHBACH_RELEASE_TAG"]))
    if env.get("MINHBACH_RESTORE_URL"):
        stores.append(LiveSite(env["MINHBACH_RESTORE_URL"]))
    return stores


def upload(store, path, name):
    """The file first, its `.sha256` last: a hash without its file is refused at restore, never trusted."""
    store.put_file(path, name)
    with tempfile.TemporaryDirectory() as folder:
        sidecar = Path(folder) / f"{Path(name).name}.sha256"
        sidecar.write_text(f"{sha256(path)}  {Path(name).name}\n")
        store.put_file(sidecar, f"{name}.sha256")


# --- checks ---

def verify(path, expected=None):
    """Refuse a file that is not what it claims, is damaged, or lacks the history tables."""
    if expected is not None:
        actual = sha256(path)
        if actual != expected:
            raise Refused(f"{path.name}: SHA-256 {actual} is not the expected {expected}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise Refused(f"{path.name}: not a readable SQLite database ({error})")
    if check != ["ok"]:
        raise Refused(f"{path.name}: PRAGMA integrity_check: {'; '.join(check[:5])}")
    missing = [t for t in HISTORY_TABLES if t not in tables]
    if missing:
        raise Refused(f"{path.name}: tables missing: {', '.join(missing)}")


def last_run(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("select max(run_id) from runs").fetchone()[0] or ""
    finally:
        conn.close()


def lost_history(before, after):
    """What the new file lost of the old one: records gone or whose first_seen moved, versions gone."""
    conn = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    try:
        conn.execute("attach database ? as old", [f"file:{before}?mode=ro"])
        problems = []
        for table in schema.RECORD_TABLES:
            (count,), = conn.execute(f"select count(*) from old.[{table}] o left join main.[{table}] n "
                                     f"on n.id = o.id where n.id is null or n.first_seen is not o.first_seen")
            if count:
                problems.append(f"{count} {table} lost or changed their first_seen")
        columns = ", ".join(f"[{row[1]}]" for row in conn.execute("pragma old.table_info(versions)"))
        (count,), = conn.execute(f"select count(*) from (select {columns} from old.versions "
                                 f"except select {columns} from main.versions)")
        if count:
            problems.append(f"{count} rows of versions lost")
        return problems
    finally:
        conn.close()


# --- the steps ---

def restore(db, stores, from_empty=False, held=None):
    """Put yesterday's verified file at ``db``.

    Returns (the durable copy's SHA-256 or None, the SHA-256 of the file the ingest starts from or None).
    ``held``, when given, is filled with what each store asked holds: its copy's SHA-256, or None for no
    copy (publish uploads to an empty writable store even when the file did not change).
    """
    held = {} if held is None else held
    local = sha256(db) if db.exists() else None
    incoming = db.with_name(f".{db.stem}.restoring.db")
    for store in stores:
        incoming.unlink(missing_ok=True)
        try:
            expected = store.fetch(NAME, incoming, have=local)
            held[store] = expected
            if expected is None:
                log(f"{store}: no copy there")
                continue
            if expected == local:
                verify(db, expected)
                log(f"{store}: the local file is the durable copy ({expected[:12]}), not downloaded again")
                return expected, local
            verify(incoming, expected)
            if local and _is_newer(db, incoming):
                log(f"{store}: kept the local file, verified and newer than the durable copy "
                    f"(an upload failed?); it is uploaded after tonight's ingest")
                return expected, local
            build.swap(incoming, db)
            log(f"restored {db} from {store} ({expected[:12]}), verified")
            return expected, expected
        finally:
            incoming.unlink(missing_ok=True)
    if local:
        verify(db)
        log(f"no durable copy yet: the local file {db} is verified and will be uploaded")
        return None, local
    if not from_empty:
        where = ", ".join(map(str, stores)) or ("no durable store configured: MINHBACH_STORE_DIR, "
                                                "MINHBACH_S3_BUCKET, MINHBACH_RELEASE_TAG or MINHBACH_RESTORE_URL")
        raise Refused(f"no published database to restore ({where}): refusing to start from nothing, which "
                      f"would mark every record new and forget every withdrawal. On a real first run set "
                      f"FORCE_FROM_EMPTY=1.")
    log("FORCE_FROM_EMPTY: starting from an empty database")
    return None, None


def _is_newer(local, durable):
    """A local file whose last run is later than the durable copy's (and that passes the checks)."""
    try:
        verify(local)
    except Refused as error:
        log(f"the local file is damaged ({error}): replaced by the durable copy")
        return False
    return last_run(local) > last_run(durable)


def ingest(db, args):
    """`python -m ingest run` in its own process (Scrapy's reactor runs once per process)."""
    command = [sys.executable, "-m", "ingest", "--db", str(db), "run", *args]
    log(f"ingest: {' '.join(shlex.quote(c) for c in command[1:])}")
    return subprocess.run(command, cwd=ROOT).returncode


def publish(db, stores, today, snapshots, durable_hash, before, held=None):
    """Upload what changed, snapshot on the 1st, redeploy when a record changed.

    A writable store gets the file unless it holds it already: ``held`` is what restore found in each
    store it asked (None: no copy), a store it did not ask is taken to hold the durable copy. The durable
    copy may have come from another store (the live site, read-only), so the file being unchanged since
    the restore does not mean an empty store has it.
    """
    held = held or {}
    writable = [s for s in stores if s.writable]
    if not writable:
        log("no writable durable store configured: the new file stays on this machine only")
    digest = sha256(db)
    missing = [store for store in writable if held.get(store, durable_hash) != digest]
    if missing:
        for store in missing:
            upload(store, db, NAME)
            log(f"uploaded {NAME} ({digest[:12]}) to {store}")
    else:
        log("the file is the durable copy already: nothing to upload")
    if today.day == 1 or os.environ.get("MINHBACH_SNAPSHOT") == "1":
        for path in snapshot(db, snapshots, today):   # the file, its .sha256, its manifest
            for store in writable:
                store.put_file(path, f"snapshots/{path.name}")
            log(f"snapshot {path.name} kept beside the older ones in {', '.join(map(str, writable)) or snapshots}")
    if before is not None and build.content_hash(before) == build.content_hash(db):
        log("no record changed: the site is not redeployed")
    else:
        deploy(db)


def deploy(db):
    """The Dockerfile's image pushed to a registry, then Cloud Run; skipped without MINHBACH_IMAGE."""
    image = os.environ.get("MINHBACH_IMAGE")
    if not image:
        log("deploy skipped: MINHBACH_IMAGE is not set (README, The nightly job)")
        return
    inside = db.resolve().is_relative_to(ROOT)
    context_db = db.resolve() if inside else ROOT / "db" / "nightly-deploy.db"   # the build context is ROOT
    if not inside:
        shutil.copyfile(db, context_db)
    try:
        subprocess.run(["docker", "build", "-t", image, "--build-arg", f"DB={context_db.relative_to(ROOT)}",
                        str(ROOT)], check=True)
        subprocess.run(["docker", "push", image], check=True)
    finally:
        if not inside:
            context_db.unlink(missing_ok=True)
    service = os.environ.get("MINHBACH_CLOUDRUN_SERVICE")
    if service:
        region = os.environ.get("MINHBACH_CLOUDRUN_REGION", "asia-southeast1")
        subprocess.run(["gcloud", "run", "deploy", service, "--image", image, "--region", region,
                        "--quiet"], check=True)
        log(f"deployed {image} to Cloud Run service {service} ({region})")
    else:
        log(f"pushed {image}; MINHBACH_CLOUDRUN_SERVICE is not set, so no Cloud Run deploy")


def run(db, stores, ingest_args, today, snapshots, from_empty):
    held = {}
    durable_hash, start_hash = restore(db, stores, from_empty, held)
    # Yesterday's file, kept by a hard link (the ingest swaps by rename, so the old inode survives):
    # the new file is checked against it before anything is published.
    before = None
    if start_hash:
        before = db.with_name(f".{db.stem}.yesterday.db")
        before.unlink(missing_ok=True)
        try:
            os.link(db, before)
        except OSError:
            shutil.copyfile(db, before)
    try:
        status = ingest(db, ingest_args)
        if status not in (0, 1) or not db.exists():
            raise Refused(f"the ingest failed (exit {status}): nothing published")
        verify(db)
        if before is not None:
            problems = lost_history(before, db)
            if problems:
                raise Refused(f"the new file lost history ({'; '.join(problems)}): nothing published")
        publish(db, stores, today, snapshots, durable_hash, before, held)
        return status
    finally:
        if before is not None:
            before.unlink(missing_ok=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="deploy/nightly.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in (("run", "restore, verify, ingest, verify, publish"),
                          ("restore", "restore and verify the published file only (rebuilding a machine)")):
        command = commands.add_parser(name, help=summary)
        command.add_argument("--db", type=Path, default=ROOT / "db" / NAME, help="the published file")
    commands.choices["run"].add_argument(
        "--ingest", default=os.environ.get("MINHBACH_INGEST_ARGS", ""),
        help="arguments of `python -m ingest run` (default: every live source; env MINHBACH_INGEST_ARGS)")
    commands.choices["run"].add_argument("--today", type=date.fromisoformat,
                                         default=os.environ.get("MINHBACH_TODAY") or date.today().isoformat())
    commands.choices["run"].add_argument("--snapshots", type=Path,
                                         default=Path(os.environ.get("MINHBACH_SNAPSHOTS", "snapshots")))
    check = commands.add_parser("verify", help="check one file as a restore does")
    check.add_argument("file", type=Path)
    check.add_argument("--sha256")
    args = parser.parse_args(argv)

    from_empty = os.environ.get("FORCE_FROM_EMPTY") == "1"
    try:
        if args.command == "verify":
            verify(args.file, args.sha256)
            log(f"{args.file}: ok")
            return 0
        args.db = args.db.resolve()   # the ingest runs with the project as its working directory
        args.db.parent.mkdir(parents=True, exist_ok=True)
        stores = stores_from_env()
        if args.command == "restore":
            restore(args.db, stores, from_empty)
            return 0
        return run(args.db, stores, shlex.split(args.ingest), args.today, args.snapshots, from_empty)
    except Refused as error:
        log(f"refused: {error}")
        return 2
    except Exception as error:   # an upload or deploy that failed (botocore, gh, docker): exit 2, not 1
        log(f"failed: {type(error).__name__}: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
