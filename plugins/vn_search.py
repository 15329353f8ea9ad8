"""Vietnamese search: Datasette's `?_search=` folds the query as the index was folded.

Datasette builds `... match escape_fts(:search)`; we register our own `escape_fts` that folds
marks and đ→d and expands common aliases (db/fold.py) before quoting, so "da nang", "Đà Nẵng" and
"ĐÀ NẴNG" find the same rows. trylast: Datasette registers its own escape_fts in the same hook;
ours must be the one left standing.
"""
import re

from datasette import hookimpl
from markupsafe import Markup, escape

from db.fold import canonical, fold, fts_query


def highlight(text, query, width=0):
    """Mark the words of ``text`` that the search matched (HTML-safe): whole words, except the last
    query word, which matches as a prefix (search as you type), as `fts_query` does."""
    if not text:
        return Markup("")
    words = re.findall(r"\w+", canonical(query or "", for_query=True))
    whole, prefix = set(words[:-1]), words[-1] if words else None
    parts, hits = [], []
    for token in re.split(r"(\w+)", str(text)):
        folded = fold(token)
        if token and re.match(r"\w", token) and (folded in whole or (prefix and folded.startswith(prefix))):
            hits.append(len(parts))
            parts.append(Markup("<mark>") + escape(token) + Markup("</mark>"))
        else:
            parts.append(escape(token))
    if width and hits:
        # A snippet: some context around the first hit.
        start = max(0, hits[0] - 12)
        parts = ([Markup("… ")] if start else []) + parts[start:start + 40] + (
            [Markup(" …")] if start + 40 < len(parts) else [])
    return Markup("").join(parts)


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, lambda q: fts_query(q or ""), deterministic=True)
    conn.create_function("vn_fold", 1, lambda t: fold(t or ""), deterministic=True)
    # The query as one folded phrase: the search ranks rows holding the words side by side first.
    conn.create_function("vn_phrase", 1, lambda q: " ".join(re.findall(r"\w+", canonical(q or "", for_query=True))),
                         deterministic=True)


@hookimpl
def extra_template_vars():
    return {"vn_highlight": highlight}
