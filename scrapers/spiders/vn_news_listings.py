from scrapers.bases import CitedCsvSpider


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
        return record
