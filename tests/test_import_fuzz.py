"""Bad input never crashes the file import: every row is kept, or rejected with a reason, or the whole
file fails with a clear SourceError (issue 8). `HYPOTHESIS_PROFILE=full make test` runs 10,000 cases each."""
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import Request, TextResponse

from conftest import SAMPLES
from scrapers.bases import SourceError
from scrapers.pipelines import ValidatePipeline
from scrapers.spiders.vn_news_violations import VnNewsViolationsSpider
from scrapy.exceptions import DropItem

HEADER = (SAMPLES / "vn_news_violations.csv").read_text(encoding="utf-8-sig").splitlines()[0]
COLUMNS = HEADER.split(",")


def run(body):
    """Every item validated or dropped with a reason; a SourceError is a clean whole-file failure."""
    spider = VnNewsViolationsSpider(file="fuzz.csv")
    response = TextResponse(url="file:///fuzz.csv", body=body, request=Request("file:///fuzz.csv"))
    validate = ValidatePipeline()
    kept = rejected = 0
    try:
        for output in spider.parse(response):
            try:
                validate.process_item(output, spider)
                kept += 1
            except DropItem as reason:
                assert str(reason).strip(), "a rejection must carry its reason"
                rejected += 1
    except SourceError as error:
        assert str(error)
        return None
    return kept, rejected


@given(st.binary(max_size=2000))
def test_arbitrary_bytes(body):
    run(body)


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=0, max_size=len(COLUMNS) + 2), max_size=20),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_rows_under_the_real_header(rows, encoding):
    import csv
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    result = run(out.getvalue().encode(encoding))
    assert result is not None        # a readable file with the right header never fails whole
    kept, rejected = result
    non_blank = [r for r in rows if any(c.strip() for c in r)]
    assert kept + rejected <= len(non_blank)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
@given(st.lists(st.lists(st.one_of(cell, st.integers(), st.floats(allow_nan=False), st.none()),
                         min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=10))
def test_xlsx_files(rows):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([c if not isinstance(c, str) else "".join(ch for ch in c if ch.isprintable()) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    assert run(buffer.getvalue()) is not None
