"""Vietnam's administrative units before and after 1 July 2025, and the old -> 2025 mapping.

Everything comes from the installed ``vietnamadminunits`` package (MIT), read directly from its
files, without importing it (its import pulls in geopy and shapely and builds a geocoder):

* ``data/dataset.db`` table ``admin_units``: the 2025 units, codes and centroids;
* ``data/dataset.db`` table ``admin_units_legacy``: the pre-2025 units and their name aliases;
* ``data/converter_2025.json``: the old ward -> 2025 ward mapping, with divided wards.

``admin_units()`` builds the folded-name lexicons once (~0.5 s); vn/places.py reads addresses with
them and ``reference_rows()`` gives the tables the build publishes.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from pathlib import Path

from vn.fold import fold

__all__ = ["AdminUnits", "admin_units", "name_key", "norm_token", "accent_key", "reference_rows"]


# --------------------------------------------------------------------------- name keys
# Names fold as the search does (vn/fold.py): lower case, no diacritics, đ -> d ("Đắk Lắk" -> "dak lak").

def name_key(text: str) -> str:
    """A name as a lookup key: folded, letters and digits only, leading zeros of numbers dropped."""
    return "".join(norm_token(t) for t in re.findall(r"\w+", fold(text)))


def norm_token(tok: str) -> str:
    """A number without its leading zeros ("05" -> "5"); other tokens as they are."""
    return str(int(tok)) if tok.isascii() and tok.isdigit() and len(tok) < 6 else tok


_TONES = {"\u0300": "1", "\u0301": "2", "\u0303": "3", "\u0309": "4", "\u0323": "5"}


def accent_key(name: str | None) -> str:
    """The accented spelling as a key: lower case, words joined, numbers without leading zeros,
    each syllable's tone moved to its end, so that "Hoà" and "Hòa" match but "Hoàng" and
    "Hoằng", or "Đồng Lê" and "Đông Lễ", do not."""
    out = []
    for syl in re.findall(r"\w+", unicodedata.normalize("NFC", (name or "").lower())):
        if syl.isdigit():
            out.append(norm_token(syl))
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
            k = name_key(name)
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


class AdminUnits:
    """The 2025 units, the pre-2025 units and the old -> 2025 ward mapping, with folded-name lexicons."""

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
            province_code = r["provinceCode"].zfill(2)
            if province_code not in self.provinces:
                self.provinces[province_code] = dict(
                    code=province_code, name=r["province"], short=r["provinceShort"], key=r["provinceKey"],
                    lat=r["provinceLat"], lon=r["provinceLon"], keywords=r["provinceKeywords"])
                self.prov_code_by_key[r["provinceKey"]] = province_code
            ward_code = r["wardCode"].zfill(5)
            self.wards[ward_code] = dict(
                code=ward_code, name=r["ward"], short=r["wardShort"], type=r["wardType"], province=province_code,
                lat=r["wardLat"], lon=r["wardLon"], area=r["wardAreaKm2"], keywords=r["wardKeywords"],
                acc=accent_key(r["wardShort"]))
            new_by_key[(r["provinceKey"], r["wardKey"])] = ward_code

        # pre-2025 provinces, districts, wards
        self.old_provinces = {}      # provinceKey -> dict(name, code, new)
        old_to_new_prov = {}
        for new_key, old_keys in conv["DICT_PROVINCE"].items():
            for ok in old_keys:
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
                    acc=accent_key(_strip_type(r["district"], _TYPE_WORDS)))
            self.old_wards[(pk, dk, wk)] = dict(
                name=r["ward"], short=r["wardShort"], type=_type_of(r["ward"] or "") or r["wardType"],
                code=r["wardCode"].zfill(5) if r["wardCode"] else None,
                keywords=r["wardKeywords"], targets=[], divided=False,
                acc=accent_key(_strip_type(r["ward"] or "", _TYPE_WORDS)))
        for new_pk, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for new_wk, old_keys in wards.items():
                for composite in old_keys:
                    self.old_wards[tuple(composite.split("_"))]["targets"].append(new_by_key[(new_pk, new_wk)])
        for new_pk, old_keys in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
            for composite, targets in old_keys.items():
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
        for province_code, p in self.provinces.items():
            for k in _province_names(p) + _PROVINCE_ALIASES.get(province_code, []):
                add(self.prov_lex, k, (province_code, None))
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
        for ward_code, w in self.wards.items():
            for k in _names(w["name"], w["short"], w["type"], w["keywords"], _TYPE_KEYS_WARD):
                add(self.new_ward_lex[w["province"]], k, ward_code)
                add(self.new_ward_nat, k, ward_code)
        # "Phường Cam Ly - Đà Lạt" is also written "phường Cam Ly"
        for ward_code, w in self.wards.items():
            if " - " in w["short"]:
                k = name_key(w["short"].split(" - ")[0])
                if k not in self.new_ward_lex[w["province"]]:
                    add(self.new_ward_lex[w["province"]], k, ward_code)
                    add(self.new_ward_nat, k, ward_code)

        self._district_centres = {}

        self.all_keys = frozenset(self.prov_lex) | frozenset(self.dist_lex) \
            | frozenset(self.old_ward_nat) | frozenset(self.new_ward_nat)

    def district_centre(self, district):
        """(latitude, longitude, 2025 province code) of an old district: the mean of the centroids of the
        2025 wards its old wards (with a ward code, as in ``ward_aliases``) went into, or Nones."""
        centre = self._district_centres.get(district)
        if centre is None:
            pk, dk = district
            codes = {ward_code for (opk, odk, _wk), w in self.old_wards.items() if (opk, odk) == district and w["code"]
                     for ward_code in w["targets"]}
            # sorted: a float sum depends on its order, and a set's order on the process's hash seed (the
            # enrich worker must place an address exactly as the main process does)
            points = [(self.wards[ward_code]["lat"], self.wards[ward_code]["lon"]) for ward_code in sorted(codes)
                      if self.wards[ward_code]["lat"] is not None and self.wards[ward_code]["lon"] is not None]
            provinces = {self.wards[ward_code]["province"] for ward_code in codes}
            if points and len(provinces) == 1:
                centre = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points),
                          provinces.pop())
            else:
                centre = (None, None, None)
            self._district_centres[district] = centre
        return centre


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


def admin_units() -> AdminUnits:
    """The units, read once per process (~0.5 s)."""
    global _DATA
    if _DATA is None:
        with _LOCK:
            if _DATA is None:
                _DATA = AdminUnits()
    return _DATA


# --------------------------------------------------------------------------- reference tables

def reference_rows() -> dict[str, list[dict]]:
    """The 2025 provinces and wards, and the old ward -> 2025 ward mapping, as table rows."""
    units = admin_units()
    provinces = []
    for province_code, p in sorted(units.provinces.items()):
        old_provinces = sorted((o for o in units.old_provinces.values() if o["new"] == province_code), key=lambda o: o["code"])
        provinces.append(dict(
            province_code=province_code, province=p["name"], province_short=p["short"],
            latitude=p["lat"], longitude=p["lon"],
            old_provinces=json.dumps([o["name"] for o in old_provinces], ensure_ascii=False)))
    wards = []
    for ward_code, w in sorted(units.wards.items()):
        p = units.provinces[w["province"]]
        wards.append(dict(
            ward_code=ward_code, ward=w["name"], ward_short=w["short"], ward_type=w["type"],
            province_code=p["code"], province=p["name"], latitude=w["lat"], longitude=w["lon"],
            area_km2=w["area"]))
    aliases = []
    for (pk, dk, wk), ow in units.old_wards.items():
        if not ow["code"]:
            continue      # island districts without wards have no old ward code
        for ward_code in dict.fromkeys(ow["targets"]):
            w = units.wards[ward_code]
            p = units.provinces[w["province"]]
            aliases.append(dict(
                old_ward_code=ow["code"], old_ward=ow["name"], old_district=units.old_districts[(pk, dk)]["name"],
                old_province=units.old_provinces[pk]["name"], ward_code=ward_code, ward=w["name"],
                province_code=p["code"], province=p["name"], divided=int(ow["divided"])))
    aliases.sort(key=lambda r: (r["old_ward_code"], r["ward_code"]))
    return {"provinces": provinces, "wards": wards, "ward_aliases": aliases}
