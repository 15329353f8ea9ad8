from scrapers.bases import CitedCsvSpider, clean
from scrapers.parsers import parse_declaration_no, parse_drug_registration


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
        record["manufacturer"] = ", ".join(filter(None, [maker, maker_address])) or None
        record["company"] = record["company"] or maker
        registration = clean(row.get("Số đăng ký"))
        parsed = parse_drug_registration(registration) or parse_declaration_no(registration)
        record["registration_no"] = parsed or registration
        if registration and not parsed:
            self.flag(record, "registration_no", registration, "not a recognised registration number format")
        self.set_date(record, "published", row.get("Ngày thông báo"))
        self.set_date(record, "manufactured", row.get("Ngày sản xuất"))
        self.set_date(record, "expires", row.get("Hạn dùng"))
        return record
