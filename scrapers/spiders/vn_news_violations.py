from scrapers.bases import CitedCsvSpider, clean
from vn.ids import parse_tax_code


class VnNewsViolationsSpider(CitedCsvSpider):
    name = "vn_news_violations"
    table = "violations"
    title = "Administrative penalties on named Vietnamese establishments, from press reports of official decisions"
    publisher = "Sở Y tế, Cục Quản lý Dược, Cục An toàn thực phẩm, Quản lý thị trường, UBND… as reported in the press; curated by Minh Bạch"
    live_url = None
    sample = "vn_news_violations.csv"
    key_columns = ("Tên cơ sở", "Ngày quyết định", "Số quyết định", "Hành vi vi phạm", "Nguồn")
    fields = {
        "Tên cơ sở": "establishment",
        "Địa chỉ": "address",
        "Tỉnh/thành": "province",   # as published; replaced by the 2025 province when written
        "Hành vi vi phạm": "violation",
        "Hình thức xử phạt": "sanction",
        "Số quyết định": "decision_no",
        "Cơ quan xử phạt": "authority",
    }

    def post_process(self, record, row):
        tax = clean(row.get("Mã số thuế"))
        record["tax_code"] = parse_tax_code(tax)
        if tax and not record["tax_code"]:
            self.flag(record, "tax_code", tax, "not a valid Vietnamese tax code")
        if clean(row.get("Số tiền phạt")):
            self.set_fine_vnd(record, row.get("Số tiền phạt"))
        self.set_date(record, "decided", row.get("Ngày quyết định"))
        return record
