"""Vietnamese search: Datasette's `?_search=` folds the query as the index was folded.

Datasette builds `... match escape_fts(:search)`; we register our own `escape_fts` that folds
marks and đ→d and expands common aliases (db/fold.py) before quoting, so "da nang", "Đà Nẵng" and
"ĐÀ NẴNG" find the same rows. trylast: Datasette registers its own escape_fts in the same hook;
ours must be the one left standing.

A search is capped (MAX_QUERY_CHARS, MAX_QUERY_TERMS) before Datasette sees it: FTS5 works through
every term of a MATCH inside one SQLite step, where the time limit cannot stop it (25,000 words held
a SQL thread for 35 s). People type a few words; a longer query gets a 400 that says why.
"""
import json
import re
from urllib.parse import parse_qsl

from datasette import hookimpl
from markupsafe import Markup, escape

from vn.fold import PREFIX_MIN, canonical, exact_marks, fold, fts_query, marked_words


def highlight(text, query, width=0):
    """Mark the words of ``text`` that the search matched (HTML-safe): whole words, except the last
    query word of PREFIX_MIN letters or more, which matches as a prefix (search as you type), as
    `fts_query` does."""
    if not text:
        return Markup("")
    words = re.findall(r"\w+", canonical(query or "", for_query=True))
    whole, prefix = set(words[:-1]), words[-1] if words else None
    if prefix and len(prefix) < PREFIX_MIN:
        whole.add(prefix)
        prefix = None
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


MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
TOO_LONG = ("Từ khóa tìm kiếm quá dài: tối đa {chars} ký tự và {terms} từ · "
            "The search is too long: at most {chars} characters and {terms} words")


def search_params(query_string):
    """The values of a request's search parameters: `q` (the search pages and feeds), `_search*`."""
    return [value for name, value in parse_qsl(query_string, keep_blank_values=True)
            if name == "q" or name.startswith("_search")]


def too_long(text):
    if len(text) > MAX_QUERY_CHARS:
        return True
    return len(re.findall(r"\w+", canonical(text, for_query=True))) > MAX_QUERY_TERMS


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def capped_search(scope, receive, send):
            if scope["type"] == "http":
                query_string = scope.get("query_string", b"").decode("latin-1")
                if ("q=" in query_string or "_search" in query_string) and \
                        any(too_long(v) for v in search_params(query_string)):
                    message = TOO_LONG.format(chars=MAX_QUERY_CHARS, terms=MAX_QUERY_TERMS)
                    if scope.get("path", "").endswith(".json"):
                        body, kind = json.dumps({"ok": False, "error": message, "status": 400},
                                                ensure_ascii=False), b"application/json; charset=utf-8"
                    else:
                        body, kind = message, b"text/plain; charset=utf-8"
                    await send({"type": "http.response.start", "status": 400, "headers": [(b"content-type", kind)]})
                    await send({"type": "http.response.body", "body": body.encode("utf-8")})
                    return
            return await app(scope, receive, send)
        return capped_search
    return wrap


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, lambda q: fts_query(q or ""), deterministic=True)
    conn.create_function("vn_fold", 1, lambda t: fold(t or ""), deterministic=True)
    # The query as one folded phrase: the search ranks rows holding the words side by side first.
    conn.create_function("vn_phrase", 1, lambda q: " ".join(re.findall(r"\w+", canonical(q or "", for_query=True))),
                         deterministic=True)
    # Ranking: a query typed with diacritics puts rows holding those words as typed first
    # ("sửa" before "sữa"); vn_marked is checked first so an unaccented query reads no row text.
    conn.create_function("vn_marked", 1, lambda q: int(bool(marked_words(q))), deterministic=True)
    conn.create_function("vn_exact", 2, exact_marks, deterministic=True)


@hookimpl
def extra_template_vars():
    return {"vn_highlight": highlight}
