"""Command line of the ingest: `python -m ingest run|demo`. The Makefile and deploy/nightly.py call it."""
import argparse
import os
import stat
import sys

from db import build
from ingest import run as ingest
from scrapers.spiders import all_spiders, spider_class


class BadFile(Exception):
    pass


def check_received_file(target):
    """A received file is read only when it is a regular file named as itself: a symbolic link
    (to /etc/passwd, say) or a device, FIFO or directory is refused before anything is read."""
    try:
        info = os.lstat(target)
    except OSError as error:
        raise BadFile(f"cannot open {target}: {error.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise BadFile(f"{target} is a symbolic link: give the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise BadFile(f"{target} is not a regular file")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ingest")
    parser.add_argument("--db", default="db/minhbach.db", help="the published database file")
    commands = parser.add_subparsers(dest="command", required=True)

    # "ingest": the name this command had under `python -m db`, still accepted (tests and scripts call it so).
    run = commands.add_parser("run", aliases=["ingest"], help="crawl sources into a new build, then publish it")
    run.add_argument("jobs", nargs="*", metavar="SOURCE[=FILE|URL]",
                     help="spiders to run (default: all, live); FILE is that source's complete current "
                          "listing in its own format, URL another live address of that format")
    run.add_argument("--force", action="store_true", help="accept a count that fell by more than half")
    run.add_argument("--verbose", action="store_true",
                     help="print the Python traceback of an expected failure (unreadable file, HTTP error…)")
    commands.add_parser("demo", help="build from the bundled samples only (no network), from scratch")

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            jobs = [(s.name, str(build.ROOT / "samples" / s.sample)) for s in all_spiders()]
            return ingest.ingest(args.db, jobs, fresh=True)
        jobs = [tuple(job.split("=", 1)) if "=" in job else (job, None) for job in args.jobs]
        for name, target in jobs:
            spider_class(name)  # fails early, clearly, on an unknown name
            if target and not target.startswith(("http://", "https://")):
                check_received_file(target)
        if not jobs:
            live = [s for s in all_spiders() if s.live_url and not s.file_only]
            skipped = sorted(s.name for s in all_spiders() if s not in live)
            print(f"live sources: {len(live)}; file-only (load with SOURCE=… FILE=…): {', '.join(skipped)}",
                  file=sys.stderr)
            jobs = [(s.name, None) for s in live]
        return ingest.ingest(args.db, jobs, force=args.force, verbose=args.verbose)
    except (ingest.Busy, build.BuildError, KeyError, BadFile) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
