from scrapers.bases import CsvSpider, clean
from scrapers.parsers import parse_float


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
    local_authority = None   # spider argument: the file does not name its authority
    fields = {
        "": "source_id",          # the unnamed first column is the FHRSID
        "businessname": "holder",
        "ratingvalue": "rating",
    }

    def post_process(self, record, row):
        record["scheme"] = "Food Hygiene Rating Scheme"
        record["jurisdiction"] = "GB"
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
