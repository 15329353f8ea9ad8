"""A realistic mix of requests: >= 10,000 distinct URLs drawn Zipf-like from the file's own vocabulary.

Real traffic is a long tail of distinct searches, filters and record pages, with a few popular pages on
top. The population (`urls()`): the home page and the public lists first (the most popular), then, in
a shuffled order, searches (words and word pairs of the establishments' names, on the table, the
unified search and the public list, JSON and HTML), filters (province × year, source, jurisdiction, on
the table and the public list), record pages, business pages and later pages of the unified search.
The i-th URL is requested with probability ∝ 1/i^S (Zipf, S = 1): `paths_file()` writes 200,000
draws, and wrk picks a line at random for each request. The server is `make serve` as served (the
response cache on): a URL seen before is a hit. wrk.lua counts the `x-minhbach-cache: hit` answers.

    .venv/bin/python bench/mix.py --db bench/data/serve_1m/minhbach.db   # writes the file, prints counts
"""
import argparse
import random
import re
import sqlite3
from urllib.parse import quote_plus

from common import DATA

S = 1.0
DRAWS = 200_000


def urls(db, seed=16, n_records=5000, n_businesses=2500):
    from datasette.utils import tilde_encode

    from vn.fold import fold
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    top = ["/", "/thu-hoi", "/xu-phat", "/xep-hang-chung-nhan", "/minhbach/violations", "/minhbach/violations.json",
           "/minhbach/recalls", "/minhbach/listings", "/minhbach/search?q=nuoc+mam", "/thong-ke", "/nguon"]
    names = [r[0] for r in conn.execute("select establishment from violations where rowid % 97 = 0 limit 20000")]
    words, pairs = set(), set()
    for name in names:
        w = [x for x in re.findall(r"\w+", fold(name or "")) if len(x) >= 3]
        words.update(w)
        pairs.update(f"{a} {b}" for a, b in zip(w, w[1:]))
    terms = sorted(words) + sorted(pairs)
    rng.shuffle(terms)
    terms = terms[:4000]
    rest = []
    for i, term in enumerate(terms):
        q = quote_plus(term)
        rest.append([f"/minhbach/violations.json?_search={q}", f"/minhbach/violations?_search={q}",
                     f"/minhbach/search?q={q}", f"/minhbach/search.json?q={q}&kind=&page=1", f"/xu-phat?q={q}"][i % 5])
    provinces = [r[0] for r in conn.execute("select distinct province_code from violations where province_code is not null")]
    years = [r[0] for r in conn.execute("select distinct year from violations where year is not null")]
    for p in provinces:
        for y in years:
            rest.append(f"/minhbach/violations.json?province_code={p}&year={y}")
            rest.append(f"/xu-phat?province={p}&year={y}")
        rest.append(f"/minhbach/violations?province_code={p}")
    for (s,) in conn.execute("select distinct source from violations"):
        rest.append(f"/minhbach/violations.json?source={quote_plus(s)}")
    total = conn.execute("select max(rowid) from violations").fetchone()[0]
    for rowid in rng.sample(range(1, total + 1), n_records):
        (i,) = conn.execute("select id from violations where rowid = ?", [rowid]).fetchone()
        rest.append(f"/minhbach/violations/{tilde_encode(i)}")
    n_est = conn.execute("select max(rowid) from establishments").fetchone()[0]
    for rowid in rng.sample(range(1, n_est + 1), min(n_businesses, n_est)):
        row = conn.execute("select id from establishments where rowid = ?", [rowid]).fetchone()
        if row:
            rest.append(f"/minhbach/establishments/{tilde_encode(row[0])}")
    for term in terms[:300]:
        for page in (2, 3):
            rest.append(f"/minhbach/search?q={quote_plus(term)}&page={page}")
    conn.close()
    rest = list(dict.fromkeys(u for u in rest if u not in top))
    rng.shuffle(rest)
    return top + rest


def paths_file(db, path=None, seed=16):
    population = urls(db, seed)
    weights = [1 / (i + 1) ** S for i in range(len(population))]
    draws = random.Random(seed).choices(population, weights=weights, k=DRAWS)
    path = path or DATA / "mix_paths.txt"
    path.write_text("".join(u + "\n" for u in draws))
    return path, len(population), len(set(draws))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(DATA / "serve_1m" / "minhbach.db"))
    args = parser.parse_args()
    path, distinct, drawn = paths_file(args.db)
    print(f"{path}: {DRAWS:,} draws over {distinct:,} distinct URLs ({drawn:,} of them drawn at least once)")
