import re

from scrapers.bases import CitedCsvSpider
from scrapers.spiders.vn_ocop_tra_vinh import ocop_terms

# "Quyết định số 5445/QĐ-UBND": the recognition decision a row reports. "theo Quyết định 148/QĐ-TTg"
# is the programme the evaluation follows, not this row's decision, so it is skipped.
DECISION = re.compile(r"(?<!theo )Quyết định (?:số )?(\d+/QĐ-[\w-]+)")
STARS = re.compile(r"([0-5])\s*sao", re.IGNORECASE)
# A council's scoring that the article says still awaits the People's Committee's decision.
AWAITING_DECISION = re.compile(r"\b(?:trình|chờ)\b.*\b(?:phê duyệt|quyết định)\b", re.IGNORECASE)


class VnNewsListingsSpider(CitedCsvSpider):
    name = "vn_news_listings"
    table = "listings"
    title = "OCOP-rated products and “Hàng Việt Nam chất lượng cao” companies, from press reports of recognition decisions"
    publisher = "UBND tỉnh/huyện, Hội đồng OCOP, Hội DN HVNCLC… as reported in the press; curated by Minh Bạch"
    live_url = None
    sample = "vn_news_listings.csv"
    key_columns = ("Chương trình", "Tên sản phẩm", "Chủ thể", "Ngày công nhận", "Hạng", "Nguồn")
    fields = {
        "Chương trình": "scheme",
        "Hạng": "rating",
        "Tên sản phẩm": "product",
        "Chủ thể": "holder",
        "Địa chỉ": "address",
        "Tỉnh/thành": "province",
        "Cơ quan công nhận": "authority",
    }

    def post_process(self, record, row):
        if not (record["product"] or record["holder"]):
            raise ValueError("neither a product nor a holder is named")
        self.set_date(record, "valid_from", row.get("Ngày công nhận"))
        notes = row.get("Ghi chú") or ""   # CitedCsvSpider copies it to `notes` after this hook
        decision = DECISION.search(notes)
        if decision:
            record["certificate_no"] = decision[1]
        self.set_kind_and_status(record, notes)
        return record

    def set_kind_and_status(self, record, notes):
        """What the listing is, in the scheme's own terms; other schemes stay unclassified, not guessed."""
        scheme = (record["scheme"] or "").upper()
        if scheme == "OCOP":
            stars = STARS.fullmatch(record["rating"] or "")
            record["kind"] = "rating"
            if stars or not record["rating"]:
                record["status"], record["rating_text"] = ocop_terms(int(stars[1]) if stars else 0)
            if AWAITING_DECISION.search(notes):
                record["status"] = "pending"
                record["rating_text"] += " — kết quả chấm điểm của hội đồng, chờ quyết định công nhận · a council's score, awaiting the decision"
        elif scheme == "HVNCLC":
            # Hàng Việt Nam chất lượng cao: an award voted by consumers, run by an association.
            record["kind"], record["status"] = "award", "awarded"
            record["rating_text"] = (f"{record['rating'] or 'Hàng Việt Nam chất lượng cao'} — danh hiệu do người tiêu dùng"
                                     " bình chọn, không phải chứng nhận của cơ quan nhà nước"
                                     " · an award voted by consumers, not a state certificate")
