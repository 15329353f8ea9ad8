"""Synthetic violations in the `vn_news_violations` CSV format, for the benchmarks only.

Every row is marked synthetic: the source URL is under https://synthetic-bench.invalid/ (a reserved
TLD), the article title and the note say `synthetic_bench`. Files go to bench/data/ (git-ignored),
never into db/minhbach.db.

Deterministic for a given (n, seed). Addresses use the real 2025 wards (new style, "phường X, Tỉnh Y")
and the pre-2025 wards (old style, "phường X, quận Y (cũ), Tỉnh Z", or without the "(cũ)"), so the
geocoder (db/places.py) does its real work; street numbers make most addresses distinct.

    .venv/bin/python bench/gen.py 100000 bench/data/violations_100k.csv
"""
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["Ngày quyết định", "Cơ quan xử phạt", "Tên cơ sở", "Mã số thuế", "Địa chỉ", "Tỉnh/thành",
          "Hành vi vi phạm", "Hình thức xử phạt", "Số tiền phạt", "Số quyết định", "Nguồn", "Tiêu đề nguồn",
          "Ghi chú"]

# A word that only RARE_ROWS rows carry, for the "rare search" endpoint.
RARE_WORD = "Zentrixa"
RARE_ROWS = 10
# Share of rows whose violation names food safety: the "broad search" (`an toan thuc pham`).
BROAD_QUERY = "an toan thuc pham"

STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Lý Thường Kiệt", "Hai Bà Trưng", "Điện Biên Phủ",
           "Nguyễn Huệ", "Phan Đình Phùng", "Quang Trung", "Lê Duẩn", "Võ Thị Sáu", "Hùng Vương",
           "Trần Phú", "Nguyễn Văn Cừ", "Ngô Quyền", "Bà Triệu", "Đinh Tiên Hoàng", "Phạm Văn Đồng",
           "Lạc Long Quân", "Nguyễn Thị Minh Khai", "Cách Mạng Tháng Tám", "Tô Hiến Thành", "Âu Cơ",
           "Hoàng Diệu", "Lê Thánh Tông", "Pasteur", "Đường 30/4", "Quốc lộ 1A", "Tỉnh lộ 10"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
            "Hồ", "Ngô", "Dương", "Lý"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đức", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phúc", "Phương", "Quân", "Quỳnh",
         "Sơn", "Thảo", "Thắng", "Thủy", "Trang", "Trung", "Tuấn", "Vy", "Yến"]
TRADES = ["Thực phẩm", "Dược phẩm", "Mỹ phẩm", "Thẩm mỹ", "Nha khoa", "Nước mắm", "Bánh kẹo", "Sữa",
          "Nhà hàng", "Karaoke", "Phòng khám", "Spa", "Thương mại", "Xuất nhập khẩu", "Chế biến thủy sản",
          "Rượu bia", "Nước giải khát", "Vật tư y tế", "Thức ăn chăn nuôi", "Phân bón", "Xăng dầu"]
FORMS = ["Công ty TNHH {t} {n}", "Công ty Cổ phần {t} {n}", "Hộ kinh doanh {p}", "Cơ sở {t} {n}",
         "Công ty TNHH MTV {t} {n}", "Hợp tác xã {t} {n}", "Chi nhánh Công ty CP {t} {n}", "{t} {p}"]
AUTHORITIES = ["Cục An toàn thực phẩm", "Cục Quản lý Dược", "Thanh tra Bộ Y tế", "Thanh tra Sở Y tế {p}",
               "Sở Y tế {p}", "Chi cục Quản lý thị trường {p}", "Cục Quản lý thị trường {p}",
               "UBND {p}", "Chi cục An toàn vệ sinh thực phẩm {p}", "Công an {p}"]
VIOLATIONS = [
    "Kinh doanh thực phẩm không bảo đảm an toàn thực phẩm",
    "Vi phạm quy định về điều kiện bảo đảm an toàn thực phẩm trong sản xuất",
    "Khám, chữa bệnh không có giấy phép hoạt động",
    "Quảng cáo dịch vụ khám chữa bệnh khi chưa được xác nhận nội dung",
    "Kinh doanh hàng hóa không rõ nguồn gốc, xuất xứ",
    "Sản xuất mỹ phẩm không đáp ứng điều kiện",
    "Không niêm yết giá dịch vụ",
    "Sử dụng phụ gia ngoài danh mục được phép",
    "Kinh doanh thuốc không có chứng chỉ hành nghề",
    "Bán thuốc kê đơn không có đơn thuốc",
    "Biển hiệu ghi sai so với giấy phép",
    "Không thực hiện kiểm nghiệm định kỳ sản phẩm",
    "Lưu hành thuốc vi phạm chất lượng mức độ 3",
    "Buôn bán hàng giả mạo nhãn hiệu",
    "Không có giấy chứng nhận cơ sở đủ điều kiện kinh doanh",
    "Người trực tiếp chế biến không được khám sức khỏe",
    "Vi phạm quy định về phòng cháy chữa cháy",
    "Quảng cáo thực phẩm bảo vệ sức khỏe như thuốc chữa bệnh",
]
FOOD_SAFETY = {0, 1}   # the violations above that name "an toàn thực phẩm"
SANCTIONS = ["phạt tiền", "phạt tiền; đình chỉ hoạt động 3 tháng", "phạt tiền; tịch thu tang vật",
             "phạt tiền; buộc tiêu hủy hàng hóa", "phạt tiền; tước giấy phép 2 tháng", "cảnh cáo",
             "phạt tiền; đình chỉ hoạt động 18 tháng; gỡ quảng cáo"]
OLD_STYLE_TYPES = {"Phường": "phường", "Xã": "xã", "Thị trấn": "thị trấn"}


def _lower_type(name):
    for full, low in (("Thành phố", "thành phố"), ("Thị trấn", "thị trấn"), ("Thị xã", "thị xã"),
                      ("Phường", "phường"), ("Xã", "xã"), ("Quận", "quận"), ("Huyện", "huyện"),
                      ("Tỉnh", "tỉnh"), ("Đặc khu", "đặc khu")):
        if name.startswith(full + " "):
            return low + name[len(full):]
    return name


def _tax_code(rng):
    from stdnum.vn import mst
    while True:
        body = f"{rng.randrange(1, 99):02d}{rng.randrange(10 ** 6, 10 ** 7):07d}"
        digits = body + mst.calc_check_digit(body)
        if mst.is_valid(digits):
            return digits


def _fine(rng):
    m = rng.random()
    if m < 0.45:
        return f"{rng.choice([3, 5, 6, 8, 10, 12, 15, 20, 24, 30, 45, 50, 60, 80, 90, 120, 180])} triệu đồng"
    if m < 0.6:
        return f"{rng.randrange(1, 99)},{rng.randrange(1, 9)} triệu đồng"
    if m < 0.75:
        return f"{rng.randrange(1, 900) * 100_000:,}".replace(",", ".") + " đồng"
    if m < 0.8:
        return f"{rng.randrange(1, 4)} tỷ {rng.randrange(1, 9)}00 triệu"
    if m < 0.85:
        return f"hơn {rng.randrange(20, 400)} triệu đồng"
    if m < 0.9:
        return f"{rng.randrange(500, 999)} nghìn đồng"
    return ""


def _date(rng):
    m = rng.random()
    y, mo, d = rng.randrange(2014, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    if m < 0.75:
        return f"{d:02d}/{mo:02d}/{y}"
    if m < 0.9:
        return f"{mo:02d}/{y}"
    return ""


def generate(n, path, seed=7):
    from vn.units import reference_rows

    rng = random.Random(seed)
    ref = reference_rows()
    provinces = {p["province_code"]: p for p in ref["provinces"]}
    wards = ref["wards"]
    aliases = ref["ward_aliases"]
    # Population-ish weights: the two big cities carry more rows.
    weights = [6 if w["province_code"] in ("79", "01") else 2 if w["province_code"] in ("48", "31", "92") else 1
               for w in wards]
    ward_pick = rng.choices(range(len(wards)), weights=weights, k=min(n, 200_000))
    names = []
    for i in range(max(1000, n // 5)):     # ~5 decisions per business on average
        form = rng.choice(FORMS)
        person = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.choice(GIVEN)}"
        names.append(form.format(t=rng.choice(TRADES), n=f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}", p=person))
    taxes = [_tax_code(rng) if rng.random() < 0.35 else "" for _ in range(len(names))]
    rare = set(rng.sample(range(n), min(RARE_ROWS, n)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(n):
            street = f"số {rng.randrange(1, 999)} {rng.choice(STREETS)}"
            style = rng.random()
            if style < 0.7:
                w = wards[ward_pick[i % len(ward_pick)]]
                p = provinces[w["province_code"]]
                address = f"{street}, {_lower_type(w['ward'])}, {p['province']}"
                cell = rng.choice([p["province_short"], p["province"], ""])
            else:
                a = aliases[rng.randrange(len(aliases))]
                mark = " (cũ)" if style < 0.85 else ""
                address = (f"{street}, {_lower_type(a['old_ward'])}, {_lower_type(a['old_district'])}{mark}, "
                           f"{a['old_province'] if style < 0.85 else a['province']}")
                cell = ""
                p = provinces[a["province_code"]]
            k = rng.randrange(len(names))
            name = names[k] + (f" {RARE_WORD}" if i in rare else "")
            v = rng.randrange(len(VIOLATIONS))
            violation = VIOLATIONS[v]
            if rng.random() < 0.3:
                violation += "; " + VIOLATIONS[rng.randrange(2, len(VIOLATIONS))]
            out.writerow([
                _date(rng),
                rng.choice(AUTHORITIES).format(p=p["province_short"]),
                name,
                taxes[k],
                address,
                cell,
                violation,
                rng.choice(SANCTIONS),
                _fine(rng),
                f"{rng.randrange(1, 9999)}/QĐ-XPHC" if rng.random() < 0.6 else "",
                f"https://synthetic-bench.invalid/xu-phat/{i}",
                f"Dữ liệu giả lập synthetic_bench #{i}",
                "SYNTHETIC_BENCH: dữ liệu giả lập để đo hiệu năng, không phải quyết định thật.",
            ])
    return path


if __name__ == "__main__":
    n = int(sys.argv[1])
    target = sys.argv[2] if len(sys.argv) > 2 else ROOT / "bench" / "data" / f"violations_{n}.csv"
    t = time.perf_counter()
    generate(n, target)
    print(f"wrote {n} rows to {target} in {time.perf_counter() - t:.1f}s")
