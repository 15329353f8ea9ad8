import re

from scrapers.bases import CitedCsvSpider, clean
from vn.ids import parse_declaration_no, parse_drug_registration

# `Loại` -> the kind that chooses the advice shown.
KINDS = {"thuốc": "drug", "mỹ phẩm": "cosmetic", "thực phẩm": "food", "xe": "vehicle", "thiết bị": "device"}
# A fake product or fake papers: "thuốc giả", "hàng giả", "làm giả", "nghi giả", "giả mạo".
COUNTERFEIT = re.compile(r"(?i)\b(?:thuốc giả|hàng giả|làm giả|nghi giả|nghi bị làm giả|giả mạo)\b")
# A notification or registration number withdrawn (often at the company's request): no safety finding.
WITHDRAWAL = re.compile(r"(?i)\b(?:rút|thu hồi) số (?:tiếp nhận|đăng ký|công bố)")
# The curator's words for a genuine owner named on a fake-product warning: the victim, not the party responsible.
# A product of the "khác" (other) class made for children ("Áo phao bơi trẻ em", "Đệm nằm cho trẻ sơ sinh").
FOR_CHILDREN = re.compile(r"(?i)\btrẻ em\b|\btrẻ sơ sinh\b|\bem bé\b")
GENUINE_OWNER = re.compile(r"(?i)chủ sản phẩm thật|báo cáo nghi giả")


class VnNewsRecallsSpider(CitedCsvSpider):
    name = "vn_news_recalls"
    table = "recalls"
    title = "Vietnamese recalls, suspensions and warnings (drugs, cosmetics, food, vehicles), from press reports of official notices"
    publisher = "Cục Quản lý Dược, Cục An toàn thực phẩm, Cục Đăng kiểm, Ủy ban Cạnh tranh Quốc gia… as reported in the press; curated by Minh Bạch"
    live_url = None  # a curated file: `make ingest SOURCE=vn_news_recalls FILE=…`
    sample = "vn_news_recalls.csv"
    key_columns = ("Tên sản phẩm", "Số lô", "Ngày thông báo", "Số đăng ký", "Nguồn")
    fields = {
        "Tên sản phẩm": "product",
        "Loại": "category",
        "Số lô": "lots",
        "Lý do": "hazard",
        "Mức độ": "risk_class",
        "Phạm vi": "distribution",
        "Cơ quan": "authority",
        "Cơ sở chịu trách nhiệm": "company",
    }

    def post_process(self, record, row):
        record["title"] = record["product"]
        maker, maker_address = clean(row.get("Cơ sở sản xuất")), clean(row.get("Địa chỉ cơ sở sản xuất"))
        maker = ", ".join(filter(None, [maker, maker_address])) or None
        # The responsible party is only what the source names as responsible (never the maker by default).
        reason = " ".join(filter(None, [record["hazard"], record["product"]]))
        record["counterfeit"] = int(bool(COUNTERFEIT.search(reason)))
        record["name_on_product"] = None
        if record["counterfeit"]:
            # On a fake, the maker printed on the pack (and a genuine owner who reported it) is the victim.
            owners = [maker]
            if record["company"] and GENUINE_OWNER.search(record["company"]):
                owners.append(record["company"])
                record["company"] = None
            record["name_on_product"] = "; ".join(filter(None, owners)) or None
            record["manufacturer"] = None
        else:
            record["manufacturer"] = maker
        category = (record["category"] or "").strip().lower()
        record["kind"] = ("counterfeit" if record["counterfeit"] else
                          "withdrawal" if WITHDRAWAL.search(record["hazard"] or "") else
                          "children" if category == "khác" and FOR_CHILDREN.search(record["product"] or "") else
                          KINDS.get(category, "other"))
        record["status"] = "unknown"   # the curated table has no status column
        self.set_gtins(record, record["product"], row.get("Số lô"), row.get("Ghi chú"))   # "mã vạch 893…"
        registration = clean(row.get("Số đăng ký"))
        parsed = parse_drug_registration(registration) or parse_declaration_no(registration)
        record["registration_no"] = parsed or registration
        if registration and not parsed:
            self.flag(record, "registration_no", registration, "not a recognised registration number format")
        self.set_date(record, "published", row.get("Ngày thông báo"))
        self.set_date(record, "manufactured", row.get("Ngày sản xuất"))
        self.set_date(record, "expires", row.get("Hạn dùng"))
        return record
