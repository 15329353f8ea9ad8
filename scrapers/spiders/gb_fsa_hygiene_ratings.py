from scrapers.bases import CsvSpider, clean
from vn.money import parse_float

# A rating is an inspection result, never a certificate: each value in the scheme's own words
# (FSA wording for FHRS 0–5; Scotland's FHIS terms), Vietnamese first. value -> (status, words).
FHRS_TERMS = {
    "5": ("rated", "5 — rất tốt · very good"),
    "4": ("rated", "4 — tốt · good"),
    "3": ("rated", "3 — nhìn chung đạt yêu cầu · generally satisfactory"),
    "2": ("rated", "2 — cần cải thiện · improvement necessary"),
    "1": ("rated", "1 — cần cải thiện nhiều · major improvement necessary"),
    "0": ("rated", "0 — cần cải thiện khẩn cấp · urgent improvement necessary"),
    "AwaitingInspection": ("pending", "chờ kiểm tra, chưa được xếp hạng · awaiting inspection"),
    "AwaitingPublication": ("pending", "đã kiểm tra, chờ công bố kết quả · awaiting publication"),
    "Exempt": ("exempt", "được miễn xếp hạng · exempt"),
}
FHIS_TERMS = {   # Food Hygiene Information Scheme (Scotland)
    "Pass": ("rated", "đạt · pass"),
    "Pass and Eat Safe": ("rated", "đạt, kèm giải Eat Safe · pass and Eat Safe"),
    "Improvement Required": ("rated", "cần cải thiện · improvement required"),
    "Awaiting Inspection": ("pending", "chờ kiểm tra, chưa được xếp hạng · awaiting inspection"),
    "Exempt Premises": ("exempt", "được miễn xếp hạng · exempt premises"),
}


class GbFsaHygieneRatingsSpider(CsvSpider):
    """Food hygiene ratings of one local authority, in the 2015 open-data CSV (SOURCES.md B3).

    This spider reads the per-authority CSV ``{LocalAuthorityCode}.csv``: an unnamed first column
    (the FHRSID), ``businessname, ratingvalue`` (0–5, ``Exempt``, ``AwaitingInspection``),
    ``structural, hygiene, confidenceinmanagement`` (inspection scores, lower is better; ``nan``
    when not rated; kept in raw), ``ratingdate`` (YYYY-MM-DD), ``latitude, longitude`` (empty for
    about 1.5% of rows). The file carries neither addresses nor the authority's name: pass it as
    ``-a local_authority=Westminster`` (code 533 in authoritynamesandcodes.csv); without it,
    ``authority`` stays empty rather than guessed from a file name.

    Live, the FHRS API v2 (``live_url``; ``localAuthorityId`` is the API's own id, from
    ``GET /Authorities`` where ``LocalAuthorityIdCode`` is "533", not the code itself) needs the
    header ``x-api-version: 2`` (with ``Accept: application/json``) and answers
    ``{"establishments": [...], "meta": {dataSource, extractDate, itemCount, returncode, totalCount,
    totalPages, pageSize, pageNumber}, "links": [...]}``; each establishment has ``FHRSID,
    LocalAuthorityBusinessID, BusinessName, BusinessType, BusinessTypeID, AddressLine1..4,
    PostCode, Phone, RatingValue`` (string), ``RatingKey, RatingDate`` ("2019-08-06T00:00:00"),
    ``LocalAuthorityCode, LocalAuthorityName, LocalAuthorityWebSite, LocalAuthorityEmailAddress,
    scores{Hygiene, Structural, ConfidenceInManagement}, SchemeType, geocode{longitude, latitude}``
    (strings), ``RightToReply, Distance, NewRatingPending``. That JSON is not this CSV: a live run
    fails cleanly (missing columns) until a JSON variant of this spider is written.
    """
    name = "gb_fsa_hygiene_ratings"
    table = "listings"
    title = "Food hygiene ratings of food businesses (England, Wales, Northern Ireland), by local authority"
    publisher = "Food Standards Agency and local authorities"
    jurisdiction = "GB"
    licence = "Open Government Licence v3.0"
    licence_url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    live_url = "https://api.ratings.food.gov.uk/Establishments"
    file_only = True   # the live API answers JSON, this spider reads the CSV: files only until then
    sample = "gb_fsa_hygiene_ratings.csv"
    historical = True  # the 2015 open-data extract per authority: fixed files, not the live API
    local_authority = None   # spider argument: the file does not name its authority
    fields = {
        "": "source_id",          # the unnamed first column is the FHRSID
        "businessname": "holder",
        "ratingvalue": "rating",
    }

    def post_process(self, record, row):
        rating = record["rating"]
        record["scheme"] = "Food Hygiene Information Scheme" if rating in FHIS_TERMS else "Food Hygiene Rating Scheme"
        record["kind"] = "rating"
        record["status"], record["rating_text"] = FHRS_TERMS.get(rating) or FHIS_TERMS.get(rating) or (None, None)
        if rating is not None and record["status"] is None:
            self.flag(record, "rating", rating, "not a value of the FHRS or FHIS schemes")
        record["authority"] = self.local_authority
        # The establishment's page on the FHRS site (a name slug may follow the id; it is optional).
        record["url"] = f"https://ratings.food.gov.uk/business/{record['source_id']}" if record["source_id"] else None
        self.set_date(record, "valid_from", row.get("ratingdate"), order="dmy")
        for column in ("latitude", "longitude"):
            text = clean(row.get(column))
            record[column] = parse_float(text)
            if text and record[column] is None:
                self.flag(record, column, text, "not a number")
        return record
