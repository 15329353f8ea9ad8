"""Command line for the database: `python -m db ingest|demo|inspect`. The Makefile calls these."""
import argparse
import sys

from db import build, ingest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m db")
    parser.add_argument("--db", default="db/minhbach.db", help="the published database file")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("ingest", help="crawl sources into a new build, then publish it")
    run.add_argument("jobs", nargs="*", metavar="SOURCE[=FILE|URL]",
                     help="spiders to run (default: all, live); FILE is that source's complete current "
                          "listing in its own format, URL another live address of that format")
    run.add_argument("--force", action="store_true", help="accept a count that fell by more than half")
    commands.add_parser("demo", help="build from the bundled samples only (no network), from scratch")
    snap = commands.add_parser("snapshot", help="write a dated, citable copy with its SHA-256 and a manifest")
    snap.add_argument("--to", default="snapshots", help="folder for the snapshots")

    args = parser.parse_args(argv)
    from scrapers.spiders import all_spiders, spider_class

    try:
        if args.command == "snapshot":
            from db.snapshot import snapshot
            for path in snapshot(args.db, args.to):
                print(path)
            return 0
        if args.command == "demo":
            jobs = [(s.name, str(build.ROOT / "samples" / s.sample)) for s in all_spiders()]
            return ingest.ingest(args.db, jobs, fresh=True)
        jobs = [tuple(job.split("=", 1)) if "=" in job else (job, None) for job in args.jobs]
        for name, _target in jobs:
            spider_class(name)  # fails early, clearly, on an unknown name
        if not jobs:
            live = [s for s in all_spiders() if s.live_url and not s.file_only]
            skipped = sorted(s.name for s in all_spiders() if s not in live)
            print(f"live sources: {len(live)}; file-only (load with SOURCE=… FILE=…): {', '.join(skipped)}",
                  file=sys.stderr)
            jobs = [(s.name, None) for s in live]
        return ingest.ingest(args.db, jobs, force=args.force)
    except (ingest.Busy, build.BuildError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
