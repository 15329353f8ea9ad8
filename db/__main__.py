"""Command line for the published database: `python -m db snapshot`. The ingest is `python -m ingest`."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m db")
    parser.add_argument("--db", default="db/minhbach.db", help="the published database file")
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="write a dated, citable copy with its SHA-256 and a manifest")
    snap.add_argument("--to", default="snapshots", help="folder for the snapshots")

    args = parser.parse_args(argv)
    from db.snapshot import snapshot
    for path in snapshot(args.db, args.to):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
