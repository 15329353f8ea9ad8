"""Proposal for db/fold.py (not applied: that file is not the benchmark's to change).

`canonical()` is the largest single cost of our ingest (about a quarter of the samples, all of it from
build_fts folding every row's text). Two behaviour-preserving changes:

1. `fold()`: for text made only of characters whose fold does not depend on their neighbours
   (printable Latin, Latin-1, Latin Extended-A/B and Latin Extended Additional, where Vietnamese
   lives, with no combining marks), fold character by character through one `str.translate` table
   built *from the current fold()* itself; anything else takes the current path unchanged.
2. `_match_alias()`: return at once when the token cannot start an alias (most tokens).

Check and timing (same output on every row, and on random strings of those ranges):

    .venv/bin/python bench/proposals/fast_fold.py [bench/data/ingest_100000/minhbach.db]
"""
import random
import sqlite3
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db import fold as F  # noqa: E402

_RANGES = [range(0x20, 0x7F), range(0xA0, 0x250), range(0x1E00, 0x1F00)]


def _build_table():
    table = {}
    for r in _RANGES:
        for cp in r:
            ch = chr(cp)
            if ch.isspace() and ch != " ":
                continue                      # other whitespace: leave to the general path
            if unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch:
                continue                      # could compose with a neighbour
            table[cp] = F.fold(ch) if ch != " " else " "
    return table


_TABLE = _build_table()
_SAFE = frozenset(map(chr, _TABLE))
_TRANSLATE = str.maketrans({chr(k): v for k, v in _TABLE.items()})


def fast_fold(text):
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if _SAFE.issuperset(text):
        return " ".join(text.translate(_TRANSLATE).split())
    return F.fold(text)


_ALIAS_FIRST = frozenset(tokens[0] for tokens in F._ALIAS_MAP)


def fast_match_alias(tokens, i, _original=F._match_alias):
    if tokens[i] not in _ALIAS_FIRST:
        return None
    return _original(tokens, i)


def main(db_path):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    cols = ["establishment", "address", "violation", "sanction", "authority", "province", "ward"]
    texts = [r[0] for r in conn.execute("select " + " || ' ' || ".join(f"coalesce([{c}], '')" for c in cols)
                                         + " from violations")]
    t = time.perf_counter()
    before = [F.canonical(x) for x in texts]
    slow = time.perf_counter() - t
    original_fold, original_match = F.fold, F._match_alias
    F.fold, F._match_alias = fast_fold, fast_match_alias
    try:
        t = time.perf_counter()
        after = [F.canonical(x) for x in texts]
        fast = time.perf_counter() - t
    finally:
        F.fold, F._match_alias = original_fold, original_match
    print(f"canonical() over {len(texts):,} rows: {slow:.2f}s now, {fast:.2f}s proposed "
          f"({slow / fast:.1f}x); identical output: {before == after}")
    rng = random.Random(1)
    pool = [chr(c) for r in _RANGES for c in r] + ["\u0301", "\u0323", "İ", "ß", "\t", "Ð", "\u212b"]
    bad = 0
    for _ in range(100_000):
        s = "".join(rng.choice(pool) for _ in range(rng.randrange(1, 8)))
        bad += fast_fold(s) != original_fold(s)
    print(f"random strings: {bad} differences in 100,000")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "ingest_100000" / "minhbach.db")
