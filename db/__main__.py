"""Command line for the database: `python -m db ingest|demo|inspect`. The Makefile calls these."""
import argparse
import sys

from db import build, ingest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m db")
    parser.add_argument("--db", default="db/minhbach.db", help="the published database file")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("ingest", help="crawl sources into a new build, then publish it")
    run.add_argument("--source", help="one spider (default: all)")
    run.add_argument("--file", help="a saved response or file for --source, instead of its live URL")
    run.add_argument("--force", action="store_true", help="accept a count that fell by more than half")
    commands.add_parser("demo", help="build from the bundled samples only (no network), from scratch")

    args = parser.parse_args(argv)
    from scrapers.spiders import all_spiders, spider_class

    try:
        if args.command == "demo":
            jobs = [(s.name, str(build.ROOT / "samples" / s.sample)) for s in all_spiders()]
            return ingest.ingest(args.db, jobs, fresh=True)
        if args.file and not args.source:
            parser.error("--file needs --source")
        if args.source:
            spider_class(args.source)  # fails early, clearly, on an unknown name
            jobs = [(args.source, args.file)]
        else:
            jobs = [(s.name, None) for s in all_spiders()]
        return ingest.ingest(args.db, jobs, force=args.force)
    except (ingest.Busy, build.BuildError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
