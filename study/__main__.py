"""`python -m study migrate SRC DST [--json]`: copy every learner's progress, own cards and
resume links from one store to another. SRC and DST are SQLite paths or database URLs
(postgresql+psycopg://user@host/db); DST is created and upgraded to the current schema."""

from __future__ import annotations

import argparse
import json
import sys

from study.copy_store import copy_store
from study.store import StoreError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="copy all progress from SRC to DST")
    migrate.add_argument("source", metavar="SRC")
    migrate.add_argument("target", metavar="DST")
    migrate.add_argument("--json", action="store_true", help='print {"profiles": n, "cards": n, "reviews": n}')
    args = parser.parse_args(argv)
    try:
        counts = copy_store(args.source, args.target)
    except StoreError as error:
        print(f"python -m study migrate: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"copied {counts['profiles']} profiles, {counts['cards']} cards and {counts['reviews']} reviews")
    return 0


if __name__ == "__main__":
    sys.exit(main())
