"""SQLite collation `vi`: Vietnamese alphabetical order for names (``order by province collate vi``).

Letters in the Vietnamese alphabet's order (a ă â b c d đ e ê … o ô ơ … u ư …), tone marks only
breaking ties; a leading administrative prefix ("Thành phố ", "Tỉnh ", "TP ") is skipped, so
"Thành phố Đà Nẵng" sorts under Đ, after every D, and "Tỉnh An Giang" under A.
"""
import functools
import re
import unicodedata

from datasette import hookimpl

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# combining marks that make a letter of its own (breve, circumflex, horn) vs tone marks
LETTER_MARKS = {"\u0306": "ă", "\u0302": "â", "\u031b": "ơ"}
TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
PREFIX = re.compile(r"^(thành phố|tỉnh|tp\.?)\s+", re.IGNORECASE)


def _letter(base, marks):
    if base == "e" and "\u0302" in marks:
        return "ê"
    if base == "o" and "\u0302" in marks:
        return "ô"
    if base in "ou" and "\u031b" in marks:
        return "ơ" if base == "o" else "ư"
    if base == "a":
        for mark, letter in LETTER_MARKS.items():
            if mark in marks and letter in "ăâ":
                return letter
    return base


@functools.lru_cache(maxsize=4096)
def sort_key(name):
    text = PREFIX.sub("", unicodedata.normalize("NFC", name or "").strip()).lower()
    letters, tones = [], []
    for ch in text:
        if ch == "đ":
            letters.append((0, ALPHABET.index("đ"), ""))
            tones.append(0)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        letter = _letter(base, marks)
        if letter in ALPHABET:
            letters.append((0, ALPHABET.index(letter), ""))
        else:
            letters.append((0 if base.isalnum() else -1, -1, base))
        tones.append(sum(TONES.get(m, 0) for m in marks))
    return letters, tones


def collate(a, b):
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


@hookimpl
def prepare_connection(conn):
    conn.create_collation("vi", collate)
