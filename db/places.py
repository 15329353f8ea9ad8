"""Place Vietnamese addresses on the 2025 administrative map (34 provinces, 3,321 wards).

Vietnam went from 63 provinces / ~700 districts / ~10,000 wards to 34 provinces and 3,321
wards with no district level on 1 July 2025. Published addresses use either scheme, often
mixed ("phường Minh Khai, quận Hồng Bàng (cũ), Thành phố Hải Phòng"). ``locate`` turns such
an address (plus an optional separate province cell and optional coordinates) into a 2025
province and, where that is honest, a 2025 ward, with coordinates.

Data: everything comes from the installed ``vietnamadminunits`` package (MIT), read directly
from its files, without importing it (its import pulls in geopy and shapely and builds a geocoder):

* ``data/dataset.db`` table ``admin_units``: the 2025 units, codes and centroids;
* ``data/dataset.db`` table ``admin_units_legacy``: the pre-2025 units and their name aliases;
* ``data/converter_2025.json``: the old ward -> 2025 ward mapping, with divided wards.

The package's own ``parse_address`` was measured and not used: ~3,000 calls/s in FROM_2025 mode
(it compiles a regex over a province's ward list on every call), substring matching without
word boundaries ("Trà Vinh" read as the 2025 ward Phường Trà Vinh), no way to combine a district
marked "(cũ)" with the 2025 province, and ``convert_address`` geocodes divided wards over the
network. Here a folded-name index is built once (~0.5 s) and addresses are matched token by token:
~17,000-25,000 distinct addresses/s, and repeated (address, province) pairs come from a cache.

How an address is read:

1. It is cut into segments at commas, semicolons and brackets; "(cũ)" marks the segment before.
   Within a segment, type words ("phường", "P.", "xã", "thị trấn", "quận", "Q.", "huyện",
   "thị xã", "TX", "thành phố", "TP", "tỉnh", "đặc khu") introduce a name, matched as the longest
   known name. A whole segment (or dash-separated part of one) can also be a bare name, and the
   tail of the last segment a province ("Quận 1 TP HCM").
2. Province: the province cell wins; else the rightmost province named in the address; else a
   district or ward name that exists in one province only. An old province (Trà Vinh, Bình
   Dương) gives its 2025 province and narrows the search to its old territory.
3. Ward: the rightmost old district (in that territory) and the ward named to its left are
   looked up in the old units and mapped to 2025; without a district, the ward name is looked
   up among 2025 wards and old wards of the province, preferring the written accents and type
   word. An old ward divided between several 2025 wards gives no ward (province level).

Names: ``Place.province`` and ``Place.ward`` are the full official names as in the package
("Thành phố Hà Nội", "Tỉnh Vĩnh Long", "Phường Hồng Hà"); ``reference_rows()['provinces']``
also carries the short name ("Hà Nội").

Known limitations:

* Without a district, an old ward name that a different 2025 ward now bears (same province) is
  read as the 2025 ward, unless the address is marked as pre-2025 (an old province name, "thị
  trấn"). Written "ward, province" for all 10,035 old wards, ~1.5% land on the wrong ward.
* A bare name that is also an old district ("Ba Đình, Hà Nội") is read as the district: the
  province level, not the 2025 ward of that name.
* Old wards divided between 2025 wards (~4.7%) and wards whose name differs only by accents in
  an unaccented address stay at the province level. Street-level disambiguation is not tried.
* Several addresses in one cell: the rightmost one is used.
* Coordinates are geocoder centroids (from the package), not official ones.
"""
from __future__ import annotations

import importlib.util
import json
import math
import re
import sqlite3
import threading
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from db.fold import fold


class Place(NamedTuple):
    """Where an address is, on the 2025 map. All fields are None when nothing was found."""
    province_code: str | None = None   # 2025 province code, 2 digits ("01")
    province: str | None = None        # full official 2025 name ("Thành phố Hà Nội")
    ward_code: str | None = None       # 2025 ward code, 5 digits ("00097")
    ward: str | None = None            # full official 2025 name ("Phường Hồng Hà")
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: str | None = None   # 'point' | 'ward' | 'district' | 'province' | None


EMPTY = Place()

# A generous box around Vietnam's land territory and its islands: Lũng Cú (23.39 N) to the
# southern Spratly features (~7.9 N), A Pa Chải (102.14 E) to the eastern Spratlys (~114.5 E).
# It also covers parts of neighbouring countries and the sea: it is a sanity check that rejects
# points that are plainly elsewhere (foreign addresses, swapped lat/lon, 0,0), not a border test.
VN_LAT = (7.5, 23.5)
VN_LON = (102.0, 117.5)


def in_vietnam(lat, lon) -> bool:
    """True when (lat, lon) are finite numbers inside Vietnam's bounding box (see VN_LAT/VN_LON)."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return VN_LAT[0] <= lat <= VN_LAT[1] and VN_LON[0] <= lon <= VN_LON[1]


# --------------------------------------------------------------------------- text folding
# Names fold as the search does (db/fold.py): lower case, no diacritics, đ -> d ("Đắk Lắk" -> "dak lak").

def _key(text: str) -> str:
    """A name as a lookup key: folded, letters and digits only, leading zeros of numbers dropped."""
    return "".join(_norm_token(t) for t in re.findall(r"\w+", fold(text)))


def _norm_token(tok: str) -> str:
    return str(int(tok)) if tok.isascii() and tok.isdigit() and len(tok) < 6 else tok


# --------------------------------------------------------------------------- tokenising

# Administrative type words in front of a name: (folded tokens, accented form or None for an
# abbreviation, class, canonical type). A word written with diacritics must carry the right ones
# ("Phương Mai" is a name, "phường Mai" is not); written without any it counts as the type word,
# except "xa" in a text that has diacritics elsewhere, so that "Xa La" (a place) is not "xã La".
_PREFIXES = [
    (("thi", "tran"), "thị trấn", "ward", "Thị trấn"),
    (("dac", "khu"), "đặc khu", "ward", "Đặc khu"),
    (("thi", "xa"), "thị xã", "district", "Thị xã"),
    (("thanh", "pho"), "thành phố", "city", "Thành phố"),
    (("phuong",), "phường", "ward", "Phường"),
    (("xa",), "xã", "ward", "Xã"),
    (("p",), None, "ward", "Phường"),
    (("tt",), None, "ward", "Thị trấn"),
    (("x",), None, "ward", "Xã"),
    (("quan",), "quận", "district", "Quận"),
    (("huyen",), "huyện", "district", "Huyện"),
    (("q",), None, "district", "Quận"),
    (("h",), None, "district", "Huyện"),
    (("tx",), None, "district", "Thị xã"),
    (("tp",), None, "city", "Thành phố"),
    (("tinh",), "tỉnh", "province", "Tỉnh"),
]
_PREFIX_BY_FIRST = defaultdict(list)
for _p in _PREFIXES:
    _PREFIX_BY_FIRST[_p[0][0]].append(_p)

_SEGMENT_SPLIT = re.compile(r"[,;:()\[\]{}\n\r\t|]+")
_OLD_MARK = re.compile(r"\(\s*(?:cũ|cu)\s*\)")
_DASH = re.compile(r"\s[-–—]|[-–—]\s|[–—]")
_TOKEN = re.compile(r"\w+")
_GLUED = re.compile(r"^(p|q|phuong|quan)(\d{1,2})$")   # "P5", "Q10", "phuong12"
_MAX_TOKENS = 8


class _Seg(NamedTuple):
    fold: list
    acc: list
    bounds: frozenset       # token indices where a sub-segment starts or ends (dashes, ends)
    old: bool = False       # followed by "(cũ)": a pre-2025 unit named in a post-2025 address


def _segments(text: str) -> tuple[list, bool]:
    text = unicodedata.normalize("NFC", text).lower().replace("\x01", " ")
    plain = text.isascii()
    text = _OLD_MARK.sub(",\x01,", text)
    segs = []
    for part in _SEGMENT_SPLIT.split(text):
        if part.strip() == "\x01":
            if segs:
                segs[-1] = segs[-1]._replace(old=True)
            continue
        fl, ac, bounds = [], [], {0}
        for piece in _DASH.split(part):
            for tok in _TOKEN.findall(piece.replace("_", " ")):
                f = fold(tok)
                m = _GLUED.match(f)
                if m:
                    fl += [m.group(1), _norm_token(m.group(2))]
                    ac += [tok[:len(m.group(1))], m.group(2)]
                else:
                    fl.append(_norm_token(f))
                    ac.append(tok)
            bounds.add(len(fl))
        old = len(ac) > 1 and ac[-1] == "cũ"        # "quận Hồng Bàng cũ"
        if old:
            del fl[-1], ac[-1]
            bounds = {min(b, len(fl)) for b in bounds}
        if fl:
            segs.append(_Seg(fl, ac, frozenset(bounds), old))
    return segs, plain


class _Mention(NamedTuple):
    cls: str          # typed: 'ward' | 'district' | 'city' | 'province'; bare: 'bare' | 'suffix'
    type: str | None  # canonical type word for typed mentions
    key: str          # folded name key
    acc: str          # the name as written, lower case
    pos: tuple        # (segment index, start token) for ordering
    end: tuple
    old: bool = False  # the segment is marked "(cũ)"


def _mentions(text: str, D) -> tuple[list, bool]:
    """Typed mentions ("phường X", "Q.1", "TP HCM") and bare names (whole segments, and the
    tail of the last segment) whose keys are known names."""
    segs, plain = _segments(text)
    lex_keys, prov_keys = D.all_keys, D.prov_lex
    out = []
    last = len(segs) - 1
    for si, seg in enumerate(segs):
        fl, ac, n = seg.fold, seg.acc, len(seg.fold)
        covered = [False] * n
        i = 0
        while i < n:
            hit = None
            for toks, accented, cls, typ in _PREFIX_BY_FIRST.get(fl[i], ()):
                k = len(toks)
                if tuple(fl[i:i + k]) != toks or i + k >= n:
                    continue
                if accented is not None and not plain:
                    written = " ".join(ac[i:i + k])
                    if written != accented and (not written.isascii() or toks == ("xa",)):
                        continue
                j0 = i + k
                for L in range(min(_MAX_TOKENS, n - j0), 0, -1):
                    key = "".join(fl[j0:j0 + L])
                    if key in lex_keys:
                        hit = _Mention(cls, typ, key, " ".join(ac[j0:j0 + L]), (si, i), (si, j0 + L), seg.old)
                        break
                if hit:
                    break
            if hit:
                out.append(hit)
                for t in range(i, hit.end[1]):
                    covered[t] = True
                i = hit.end[1]
            else:
                i += 1
        # Bare names: a whole segment or dash-separated part of one ("Hoài Đức", "Cam Ly - Đà Lạt").
        bounds = sorted(seg.bounds)
        bare = []
        for ia, a in enumerate(bounds):
            for b in reversed(bounds[ia + 1:bisect_right(bounds, a + _MAX_TOKENS)]):
                if any(covered[a:b]):
                    continue
                if any(x.pos[1] <= a and b <= x.end[1] for x in bare):
                    continue      # inside a longer bare name already found
                key = "".join(fl[a:b])
                if key in lex_keys:
                    bare.append(_Mention("bare", None, key, " ".join(ac[a:b]), (si, a), (si, b), seg.old))
        out += bare
        # The tail of the last segment may be a province ("Quận 1 TP HCM" has no comma).
        if si == last:
            for a in range(max(0, n - _MAX_TOKENS), n):
                if any(covered[a:]) or a in seg.bounds:
                    continue
                key = "".join(fl[a:])
                if key in prov_keys:
                    out.append(_Mention("suffix", None, key, " ".join(ac[a:]), (si, a), (si, n)))
                    break
    out.sort(key=lambda m: (m.end, m.pos))
    return out, plain


# --------------------------------------------------------------------------- data

_TYPE_KEYS_WARD = ("phuong", "xa", "thitran", "tt", "dackhu", "p")
_TYPE_KEYS_DISTRICT = ("quan", "huyen", "thixa", "tx", "thanhpho", "tp", "q")
_TYPE_KEYS_PROVINCE = ("tinh", "thanhpho", "tp")
_PROVINCE_ALIASES = {   # extra names, keyed by 2025 province code
    "79": ["hcm", "tphcm", "hcmc", "saigon", "hochiminhcity"],
    "01": ["hn", "tphn", "hanoicity"],
    "48": ["tpdn"],
}
_OLD_PROVINCE_ALIASES = {   # pre-2025 names, keyed by pre-2025 province code
    "46": ["thuathienhue"],     # "Tỉnh Thừa Thiên Huế" until 2025-01-01
    "77": ["brvt"],
}


def _strip_type(name: str, types) -> str:
    low = name.lower()
    for t in types:
        if low.startswith(t.lower() + " "):
            return name[len(t) + 1:]
    return name


def _names(full: str, short: str | None, type_word: str | None, keywords, type_keys):
    """Folded keys a unit is known by: its name without the type word, plus the package's
    keyword aliases that appear both with and without a type word."""
    keys = []
    type_word = _type_of(full) or type_word     # the name wins: some rows have a wrong type
    bare = _strip_type(full, (type_word,)) if type_word else full
    for name in (bare, short):
        if name:
            k = _key(name)
            if k and k not in keys:
                keys.append(k)
    kw = set(json.loads(keywords)) if keywords else set()
    for k in sorted(kw):
        for t in type_keys:
            if k.startswith(t) and k[len(t):] in kw:
                rest = k[len(t):]
                if rest and rest not in keys:
                    keys.append(rest)
    return keys


def _package_data_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


class _Data:
    def __init__(self):
        ddir = _package_data_dir()
        conn = sqlite3.connect(f"file:{ddir / 'dataset.db'}?mode=ro&immutable=1", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            new_rows = [dict(r) for r in conn.execute("select * from admin_units order by wardCode")]
            old_rows = [dict(r) for r in conn.execute(
                "select * from admin_units_legacy order by provinceCode, districtCode, wardCode")]
        finally:
            conn.close()
        conv = json.loads((ddir / "converter_2025.json").read_text(encoding="utf-8"))

        # 2025 provinces and wards
        self.provinces = {}          # code -> dict
        self.wards = {}              # code -> dict
        new_by_key = {}              # (provinceKey, wardKey) -> ward code
        self.prov_code_by_key = {}   # provinceKey -> code
        for r in new_rows:
            pc = r["provinceCode"].zfill(2)
            if pc not in self.provinces:
                self.provinces[pc] = dict(
                    code=pc, name=r["province"], short=r["provinceShort"], key=r["provinceKey"],
                    lat=r["provinceLat"], lon=r["provinceLon"], keywords=r["provinceKeywords"])
                self.prov_code_by_key[r["provinceKey"]] = pc
            wc = r["wardCode"].zfill(5)
            self.wards[wc] = dict(
                code=wc, name=r["ward"], short=r["wardShort"], type=r["wardType"], province=pc,
                lat=r["wardLat"], lon=r["wardLon"], area=r["wardAreaKm2"], keywords=r["wardKeywords"],
                acc=_acc_key(r["wardShort"]))
            new_by_key[(r["provinceKey"], r["wardKey"])] = wc

        # pre-2025 provinces, districts, wards
        self.old_provinces = {}      # provinceKey -> dict(name, code, new)
        old_to_new_prov = {}
        for new_key, olds in conv["DICT_PROVINCE"].items():
            for ok in olds:
                old_to_new_prov[ok] = self.prov_code_by_key[new_key]
        self.old_districts = {}      # (provKey, distKey) -> dict
        self.old_wards = {}          # (provKey, distKey, wardKey) -> dict
        for r in old_rows:
            pk, dk, wk = r["provinceKey"], r["districtKey"], r["wardKey"] or ""
            if pk not in self.old_provinces:
                self.old_provinces[pk] = dict(
                    key=pk, name=r["province"], short=r["provinceShort"], code=r["provinceCode"].zfill(2),
                    new=old_to_new_prov[pk], keywords=r["provinceKeywords"])
            if (pk, dk) not in self.old_districts:
                self.old_districts[(pk, dk)] = dict(
                    name=r["district"], short=r["districtShort"], type=_type_of(r["district"]) or r["districtType"],
                    keywords=r["districtKeywords"], province=pk,
                    acc=_acc_key(_strip_type(r["district"], _TYPE_WORDS)))
            self.old_wards[(pk, dk, wk)] = dict(
                name=r["ward"], short=r["wardShort"], type=_type_of(r["ward"] or "") or r["wardType"],
                code=r["wardCode"].zfill(5) if r["wardCode"] else None,
                keywords=r["wardKeywords"], targets=[], divided=False,
                acc=_acc_key(_strip_type(r["ward"] or "", _TYPE_WORDS)))
        for new_pk, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for new_wk, olds in wards.items():
                for composite in olds:
                    self.old_wards[tuple(composite.split("_"))]["targets"].append(new_by_key[(new_pk, new_wk)])
        for new_pk, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
            for composite, targets in olds.items():
                w = self.old_wards[tuple(composite.split("_"))]
                w["divided"] = True
                w["targets"] += [new_by_key[(new_pk, t["newWardKey"])] for t in targets]

        self.old_provs_of = defaultdict(set)   # new code -> {old province keys}
        for pk, p in self.old_provinces.items():
            self.old_provs_of[p["new"]].add(pk)

        # --- lexicons (folded name key -> candidates) ---
        def add(lex, key, value):
            lst = lex.setdefault(key, [])
            if value not in lst:
                lst.append(value)

        # provinces: key -> [(new code, old key or None)]
        self.prov_lex = {}
        self.city_keys = set()       # names of centrally-run cities ("Thành phố X" is then a province)
        for pc, p in self.provinces.items():
            for k in _province_names(p) + _PROVINCE_ALIASES.get(pc, []):
                add(self.prov_lex, k, (pc, None))
                if p["name"].startswith("Thành phố"):
                    self.city_keys.add(k)
        for pk, p in self.old_provinces.items():
            for k in _province_names(p) + _OLD_PROVINCE_ALIASES.get(p["code"], []):
                add(self.prov_lex, k, (p["new"], pk))
                if p["name"].startswith("Thành phố"):
                    self.city_keys.add(k)
        # names that name a 2025 province are not narrowed to one old province
        for k, lst in self.prov_lex.items():
            if any(old is None for _, old in lst):
                self.prov_lex[k] = [(c, None) for c, old in lst if old is None]

        # old districts: key -> [(provKey, distKey)]
        self.dist_lex = {}
        for (pk, dk), d in self.old_districts.items():
            for k in _names(d["name"], d["short"], d["type"], d["keywords"], _TYPE_KEYS_DISTRICT):
                add(self.dist_lex, k, (pk, dk))
        # a district whose old wards all became one 2025 ward (e.g. island districts)
        targets, split = defaultdict(set), set()
        for (pk, dk, wk), w in self.old_wards.items():
            targets[(pk, dk)].update(w["targets"])
            if w["divided"]:
                split.add((pk, dk))
        self.dist_target = {d: next(iter(t)) for d, t in targets.items() if len(t) == 1 and d not in split}

        # old wards: per district and nationwide (names and the package's aliases of older names)
        self.old_ward_lex = defaultdict(dict)    # (provKey, distKey) -> key -> [wardKey]
        self.old_ward_nat = {}                   # key -> [(provKey, distKey, wardKey)]
        for (pk, dk, wk), w in self.old_wards.items():
            if not w["name"]:
                continue
            for k in _names(w["name"], None, w["type"], w["keywords"], _TYPE_KEYS_WARD):
                add(self.old_ward_lex[(pk, dk)], k, wk)
                add(self.old_ward_nat, k, (pk, dk, wk))

        # 2025 wards: per province and nationwide
        self.new_ward_lex = defaultdict(dict)    # province code -> key -> [ward code]
        self.new_ward_nat = {}
        for wc, w in self.wards.items():
            for k in _names(w["name"], w["short"], w["type"], w["keywords"], _TYPE_KEYS_WARD):
                add(self.new_ward_lex[w["province"]], k, wc)
                add(self.new_ward_nat, k, wc)
        # "Phường Cam Ly - Đà Lạt" is also written "phường Cam Ly"
        for wc, w in self.wards.items():
            if " - " in w["short"]:
                k = _key(w["short"].split(" - ")[0])
                if k not in self.new_ward_lex[w["province"]]:
                    add(self.new_ward_lex[w["province"]], k, wc)
                    add(self.new_ward_nat, k, wc)

        self._district_centres = {}

        self.all_keys = frozenset(self.prov_lex) | frozenset(self.dist_lex) \
            | frozenset(self.old_ward_nat) | frozenset(self.new_ward_nat)


def _district_centre(self, district):
    """(latitude, longitude, 2025 province code) of an old district: the mean of the centroids of the
    2025 wards its old wards (with a ward code, as in ``ward_aliases``) went into, or Nones."""
    centre = self._district_centres.get(district)
    if centre is None:
        pk, dk = district
        codes = {wc for (opk, odk, _wk), w in self.old_wards.items() if (opk, odk) == district and w["code"]
                 for wc in w["targets"]}
        # sorted: a float sum depends on its order, and a set's order on the process's hash seed (the
        # enrich worker must place an address exactly as the main process does)
        points = [(self.wards[wc]["lat"], self.wards[wc]["lon"]) for wc in sorted(codes)
                  if self.wards[wc]["lat"] is not None and self.wards[wc]["lon"] is not None]
        provinces = {self.wards[wc]["province"] for wc in codes}
        if points and len(provinces) == 1:
            centre = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points),
                      provinces.pop())
        else:
            centre = (None, None, None)
        self._district_centres[district] = centre
    return centre


_Data.district_centre = _district_centre


def _province_names(p) -> list:
    """A province's keys: its name and the package's keywords, without "tỉnh"/"thành phố" forms."""
    keys = _names(p["name"], p["short"], _type_of(p["name"]), p["keywords"], _TYPE_KEYS_PROVINCE)
    for k in json.loads(p["keywords"] or "[]"):
        if k not in keys and not k.startswith(("tinh", "thanhpho")):
            keys.append(k)
    return keys


_TYPE_WORDS = ("Thành phố", "Tỉnh", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Xã", "Quận", "Huyện")


def _type_of(name: str) -> str | None:
    low = name.lower()
    for t in _TYPE_WORDS:
        if low.startswith(t.lower() + " "):
            return t
    return None


_DATA = None
_LOCK = threading.Lock()


def _data() -> _Data:
    global _DATA
    if _DATA is None:
        with _LOCK:
            if _DATA is None:
                _DATA = _Data()
    return _DATA


# --------------------------------------------------------------------------- resolution

_TONES = {"\u0300": "1", "\u0301": "2", "\u0303": "3", "\u0309": "4", "\u0323": "5"}


def _acc_key(name: str | None) -> str:
    """The accented spelling as a key: lower case, words joined, numbers without leading zeros,
    each syllable's tone moved to its end, so that "Hoà" and "Hòa" match but "Hoàng" and
    "Hoằng", or "Đồng Lê" and "Đông Lễ", do not."""
    out = []
    for syl in re.findall(r"\w+", unicodedata.normalize("NFC", (name or "").lower())):
        if syl.isdigit():
            out.append(_norm_token(syl))
            continue
        tone, base = "", []
        for ch in unicodedata.normalize("NFD", syl):
            t = _TONES.get(ch)
            if t:
                tone = t
            else:
                base.append(ch)
        out.append(unicodedata.normalize("NFC", "".join(base)) + tone)
    return "".join(out)


def _prefer(cands, m, type_of, acc_of, plain):
    """Among same-named candidates keep those with the written type word, then the written accents."""
    if len(cands) > 1 and m.type:
        same = [c for c in cands if type_of(c) == m.type]
        cands = same or cands
    if len(cands) > 1 and not plain:
        macc = _acc_key(m.acc)
        same = [c for c in cands if acc_of(c) == macc]
        cands = same or cands
    return cands


def _is_province_mention(D, m):
    return m.key in D.prov_lex and (
        m.cls in ("province", "suffix", "bare") or (m.cls == "city" and m.key in D.city_keys))


def _province_of(D: _Data, mentions):
    """(2025 code, {old province keys} or None, mention) of the rightmost province mention."""
    for m in reversed(mentions):
        if _is_province_mention(D, m):
            cands = D.prov_lex[m.key]
            codes = {c for c, _ in cands}
            if len(codes) == 1:
                olds = {o for _, o in cands if o}
                return next(iter(codes)), (olds or None), m
    return None, None, None


def _choose(D: _Data, m, new, old, old_style: bool, plain: bool):
    """The 2025 ward a ward mention stands for, from 2025 candidates (codes) and pre-2025 ones
    (keys). Candidates score on the written accents, the written type word and the era the
    address seems to be written in; the best ones must agree on one 2025 ward, and an old ward
    that was divided between several 2025 wards gives no ward."""
    macc = _acc_key(m.acc)
    scored = []
    for w in new:
        c = D.wards[w]
        scored.append((4 * (plain or c["acc"] == macc) + 2 * (m.type is None or c["type"] == m.type)
                       + (not old_style), True, w))
    for w in old:
        c = D.old_wards[w]
        scored.append((4 * (plain or c["acc"] == macc) + 2 * (m.type is None or c["type"] == m.type)
                       + old_style, False, w))
    if not scored:
        return None
    top = max(s for s, _, _ in scored)
    targets = set()
    for s, is_new, w in scored:
        if s != top:
            continue
        if is_new:
            targets.add(w)
        elif D.old_wards[w]["divided"]:
            return None
        else:
            targets.update(D.old_wards[w]["targets"])
    return next(iter(targets)) if len(targets) == 1 else None


def _national(D: _Data, mentions, plain: bool):
    """Province from a district or ward named without a province, when the name is unique."""
    allowed = None          # provinces an ambiguous district name leaves open
    for m in reversed(mentions):
        if m.cls in ("district", "city") and m.key in D.dist_lex and m.key not in D.city_keys:
            # no preference on the type word here: "huyện" became "thị xã" or "thành phố" over time
            cands = _prefer(D.dist_lex[m.key], m._replace(type=None), None,
                            lambda d: D.old_districts[d]["acc"], plain)
            codes = {D.old_provinces[pk]["new"] for pk, _ in cands}
            if len(codes) == 1:
                return next(iter(codes)), {pk for pk, _ in cands}
            allowed = codes
            break
    for m in reversed(mentions):
        if m.cls != "ward":
            continue
        # The name may be a 2025 ward or a pre-2025 one: the province counts only when
        # every reading agrees ("xã Hưng Lộc" is a 2025 commune in Huế and was one in Đồng Nai).
        news = olds = ()
        if m.key in D.new_ward_nat:
            news = _prefer(D.new_ward_nat[m.key], m, lambda w: D.wards[w]["type"],
                           lambda w: D.wards[w]["acc"], plain)
        if m.key in D.old_ward_nat:
            olds = _prefer(D.old_ward_nat[m.key], m, lambda w: D.old_wards[w]["type"],
                           lambda w: D.old_wards[w]["acc"], plain)
        readings = [(D.wards[w]["province"], None) for w in news] \
            + [(D.old_provinces[w[0]]["new"], w[0]) for w in olds]
        if allowed is not None:
            readings = [r for r in readings if r[0] in allowed]
        codes = {c for c, _ in readings}
        if len(codes) == 1:
            old_keys = {o for _, o in readings}
            return next(iter(codes)), (old_keys if None not in old_keys else None)
        if readings:
            return None, None
    return None, None


def _usable(D: _Data, mentions, skip):
    return [m for m in mentions if m is not skip and m.cls not in ("province", "suffix")
            and not (m.cls == "city" and m.key in D.city_keys)]


def _district_of(D: _Data, olds: set, usable, plain: bool):
    """(candidate old districts, position, marked "(cũ)") of the rightmost pre-2025 district in one
    of the candidate old provinces, or (None, None, False)."""
    for m in reversed(usable):
        if m.cls in ("district", "city", "bare") and m.key in D.dist_lex:
            cands = [d for d in D.dist_lex[m.key] if d[0] in olds]
            if cands:
                return _prefer(cands, m, lambda d: D.old_districts[d]["type"],
                               lambda d: D.old_districts[d]["acc"], plain), m.pos, m.old, m
    return None, None, False, None


def _ward_of(D: _Data, pc: str, olds: set, mentions, skip, old_style: bool, plain: bool):
    """The 2025 ward named by the address, or None."""
    usable = _usable(D, mentions, skip)
    # The rightmost pre-2025 district in one of the candidate old provinces.
    district, dpos, dold, _m = _district_of(D, olds, usable, plain)
    new_lex = D.new_ward_lex[pc]
    for m in reversed(usable):
        if m.cls not in ("ward", "bare") or (dpos is not None and m.pos >= dpos):
            continue
        new = new_lex.get(m.key, ())
        if district:
            old = [(pk, dk, wk) for pk, dk in district for wk in D.old_ward_lex[(pk, dk)].get(m.key, ())]
            if m.cls == "bare":
                new = ()      # next to an old district, a bare name that is no ward of it is a street
            if dold:
                # "phường Long Biên, quận Long Biên (cũ)" is written after 2025: a 2025 ward of that
                # name is meant, provided the old ward of that name went (at least partly) into it.
                new = [w for w in new if not old or any(w in D.old_wards[o]["targets"] for o in old)]
                if new:
                    return _choose(D, m, new, (), False, plain)
            if old or new:
                return _choose(D, m, new, old, True, plain)
            continue
        old = [w for w in D.old_ward_nat.get(m.key, ()) if w[0] in olds]
        if new or old:
            return _choose(D, m, new, old, old_style or m.type == "Thị trấn", plain)
    if district:
        # e.g. an island district that became one special zone
        targets = {D.dist_target.get(d) for d in district}
        if len(targets) == 1:
            return next(iter(targets))
    return None


@lru_cache(maxsize=4096)
def _province_cell(province: str) -> tuple:
    """(2025 code, frozenset of old province keys or None) named by a province cell: the few
    distinct cells ("Hà Nội", "TP HCM") are read once, not once per address."""
    pc, olds, _ = _province_of(_data(), _mentions(province, _data())[0])
    return pc, (frozenset(olds) if olds else olds)


@lru_cache(maxsize=200_000)
def _locate_text(address: str | None, province: str | None) -> tuple:
    """(province code, ward code, old district key or None) for an address and a province cell: the
    district only when no ward was found and the address names exactly one pre-2025 district."""
    D = _data()
    mentions, plain = _mentions(address, D) if address else ([], True)
    pc, olds, am = None, None, None
    if province:
        pc, olds = _province_cell(province)
        olds = set(olds) if olds else olds
    apc, aolds, am = _province_of(D, mentions)
    if pc is None:
        pc, olds = apc, aolds
    elif apc == pc and aolds:
        olds = aolds          # the address names the old province more precisely
    national = pc is None
    if pc is None:
        pc, olds = _national(D, mentions, plain)
        am = None
    if pc is None:
        return None, None, None
    # A pre-2025 province name ("Trà Vinh", "Bình Dương") means a pre-2025 address.
    old_style = bool(olds)
    olds = (olds & D.old_provs_of[pc]) if olds else set()
    olds = olds or D.old_provs_of[pc]
    wc = _ward_of(D, pc, olds, mentions, am, old_style, plain)
    if wc is not None and D.wards[wc]["province"] != pc:
        wc = None
    district = None
    if wc is None:
        cands, _pos, _old, m = _district_of(D, olds, _usable(D, mentions, am), plain)
        # A bare name ("Hoài Đức") is a district only beside a named province; a bare number never.
        typed = m is not None and m.cls != "bare"
        if cands and len(cands) == 1 and D.district_centre(cands[0])[2] == pc and (
                typed or (not national and not m.key.isdigit())):
            district = cands[0]
    return pc, wc, district


def _clean(value):
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value[:2000] or None


def locate(address: str | None, province: str | None = None, latitude=None, longitude=None) -> Place:
    """The 2025 place of an address.

    ``address`` as published (pre- or post-2025 names, "(cũ)" marks); ``province`` a separate
    province cell ("TP HCM", "Trà Vinh", ...), which takes precedence over a province read
    from the address. ``latitude``/``longitude`` are used ('point') only when inside Vietnam;
    otherwise the ward centroid ('ward'); for an address naming a pre-2025 district but no ward that
    can be placed, the centre of the 2025 wards its old wards went into ('district': the mean of
    their centroids, as ``ward_aliases`` and ``wards`` give them); else the province centroid
    ('province'). Never raises.
    """
    D = _data()            # a missing package is an error worth raising
    try:
        pc, wc, district = _locate_text(_clean(address), _clean(province))
    except Exception:      # arbitrary text must never break a build
        pc, wc, district = None, None, None
    p = D.provinces[pc] if pc else None
    w = D.wards[wc] if wc else None
    if latitude is not None and longitude is not None and in_vietnam(latitude, longitude):
        lat, lon, precision = float(latitude), float(longitude), "point"
    elif w:
        lat, lon, precision = w["lat"], w["lon"], "ward"
    elif district:
        lat, lon, _pc = D.district_centre(district)
        precision = "district"
    elif p:
        lat, lon, precision = p["lat"], p["lon"], "province"
    else:
        lat = lon = precision = None
    return Place(pc, p["name"] if p else None, wc, w["name"] if w else None, lat, lon, precision)


# --------------------------------------------------------------------------- reference tables

def reference_rows() -> dict[str, list[dict]]:
    """The 2025 provinces and wards, and the old ward -> 2025 ward mapping, as table rows."""
    D = _data()
    provinces = []
    for pc, p in sorted(D.provinces.items()):
        olds = sorted((o for o in D.old_provinces.values() if o["new"] == pc), key=lambda o: o["code"])
        provinces.append(dict(
            province_code=pc, province=p["name"], province_short=p["short"],
            latitude=p["lat"], longitude=p["lon"],
            old_provinces=json.dumps([o["name"] for o in olds], ensure_ascii=False)))
    wards = []
    for wc, w in sorted(D.wards.items()):
        p = D.provinces[w["province"]]
        wards.append(dict(
            ward_code=wc, ward=w["name"], ward_short=w["short"], ward_type=w["type"],
            province_code=p["code"], province=p["name"], latitude=w["lat"], longitude=w["lon"],
            area_km2=w["area"]))
    aliases = []
    for (pk, dk, wk), ow in D.old_wards.items():
        if not ow["code"]:
            continue      # island districts without wards have no old ward code
        for wc in dict.fromkeys(ow["targets"]):
            w = D.wards[wc]
            p = D.provinces[w["province"]]
            aliases.append(dict(
                old_ward_code=ow["code"], old_ward=ow["name"], old_district=D.old_districts[(pk, dk)]["name"],
                old_province=D.old_provinces[pk]["name"], ward_code=wc, ward=w["name"],
                province_code=p["code"], province=p["name"], divided=int(ow["divided"])))
    aliases.sort(key=lambda r: (r["old_ward_code"], r["ward_code"]))
    return {"provinces": provinces, "wards": wards, "ward_aliases": aliases}


__all__ = ["Place", "EMPTY", "VN_LAT", "VN_LON", "in_vietnam", "locate", "reference_rows"]
