"""Reading the files people send (CSV and XLSX), within bounds that no file can exceed.

- Encodings: UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's "Unicode Text"), Windows-1258.
  The text is decoded as it is read (a stream), never held whole beside the file's bytes.
- Separators: comma, semicolon (Excel's list separator in a Vietnamese locale) or tab ("Unicode
  Text"), chosen by which one splits the heading row into the columns the spider expects.
- XLSX: the first sheet by its real extent (the `<dimension>` a writer declares can be wrong both
  ways: too small hid real rows, `A1:XFD1048576` padded every row to 16,384 cells), after checking
  what the archive unpacks to (a zip bomb fails before openpyxl reads it).
- Bounds: MAX_ROWS rows, MAX_COLUMNS columns, and MAX_UNZIPPED_BYTES for an XLSX fail the whole
  file with a clear message; a cell over MAX_CELL_CHARS fails only its row (CsvSpider rejects it).
- `stop_reading`: set by the ingest command on SIGTERM/SIGINT; reading stops at the next row.
"""
import codecs
import csv
import io
import threading
import unicodedata
import zipfile

MAX_ROWS = 2_000_000
MAX_COLUMNS = 16_384                       # Excel's own limit (column XFD)
MAX_CELL_CHARS = 131_072                   # Excel holds 32,767; csv's old field limit was this
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024    # what an XLSX archive may unpack to, in all
MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024   # openpyxl holds every shared string in memory at once
MAX_XLSX_MEMBERS = 10_000
DELIMITERS = (",", ";", "\t")
_CHUNK = 1024 * 1024

stop_reading = threading.Event()

# A cell may be as long as the file; MAX_CELL_CHARS is enforced per row, with a reason, instead of
# csv's "field larger than field limit" failing the whole file.
csv.field_size_limit(2 ** 31 - 1)


class UnreadableFile(Exception):
    """The whole file cannot be read; the message says why."""


def _decodes(body, encoding):
    """Whether ``body`` decodes as ``encoding``, checked in chunks (the text is not kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for at in range(0, len(body), _CHUNK):
            decoder.decode(body[at:at + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(body):
    """The encoding of a text file as people send them: UTF-8 (with or without BOM), UTF-16, Windows-1258."""
    if body.startswith(codecs.BOM_UTF8):
        if not _decodes(body, "utf-8-sig"):
            raise UnreadableFile("cannot read the file: it starts as UTF-8 but is not UTF-8")
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if not _decodes(body, "utf-16"):
            raise UnreadableFile("cannot read the file: it starts as UTF-16 but is not UTF-16")
        return "utf-16"
    if _decodes(body, "utf-8"):
        return "utf-8"
    if _decodes(body, "cp1258"):     # Windows-1258 writes tones as combining marks: NFC recomposes them
        return "cp1258"
    raise UnreadableFile("cannot read the file: it is not UTF-8, UTF-16 or Windows-1258")


def nfc(text):
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def decode_text(body):
    """The whole text of a (small) text file, NFC."""
    return unicodedata.normalize("NFC", body.decode(detect_encoding(body)))


def choose_delimiter(heading_line, expected=(), preferred=","):
    """The separator that splits the heading row into the most expected columns (else the most columns)."""
    expected = set(expected)

    def score(delimiter):
        headings = [nfc(h).strip() for h in next(csv.reader([heading_line], delimiter=delimiter), [])]
        return (len(expected.intersection(headings)), delimiter == preferred, len(headings))
    return max(dict.fromkeys((preferred, *DELIMITERS)), key=score)


def _bounded(rows):
    """Rows, stopping with a clear error past MAX_ROWS or when the ingest is asked to stop."""
    for count, row in enumerate(rows):
        if stop_reading.is_set():
            raise UnreadableFile("interrupted (SIGTERM/SIGINT): reading stopped")
        if count > MAX_ROWS:
            raise UnreadableFile(f"the file has more than {MAX_ROWS:,} rows")
        if count == 0 and len(row) > MAX_COLUMNS:
            raise UnreadableFile(f"the file has {len(row):,} columns, more than {MAX_COLUMNS:,}")
        yield row


def read_csv(body, delimiter=",", expected=()):
    """Rows of a CSV file as lists of NFC text, the heading row first; decoded as it is read."""
    stream = io.TextIOWrapper(io.BytesIO(body), encoding=detect_encoding(body), newline="")
    delimiter = choose_delimiter(stream.readline(), expected, delimiter)
    stream.seek(0)
    for cells in _bounded(csv.reader(stream, delimiter=delimiter)):
        yield [nfc(cell) for cell in cells]


def check_archive(body):
    """An XLSX archive that unpacks to at most MAX_UNZIPPED_BYTES, measured (declared sizes can lie)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as error:
        raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise UnreadableFile(f"cannot read the XLSX file: {len(members):,} parts in the archive")
        total = 0
        for member in members:
            if total + member.file_size > MAX_UNZIPPED_BYTES:
                break
            size = 0
            try:
                with archive.open(member) as part:
                    while chunk := part.read(_CHUNK):
                        size += len(chunk)
                        if total + size > MAX_UNZIPPED_BYTES:
                            break
            except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as error:
                raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
            total += size
            if member.filename.lower().endswith("sharedstrings.xml") and size > MAX_SHARED_STRINGS_BYTES:
                raise UnreadableFile(f"the XLSX file's shared strings unpack to more than "
                                     f"{MAX_SHARED_STRINGS_BYTES // 2 ** 20:,} MB")
            if total > MAX_UNZIPPED_BYTES:
                break
        else:
            return
    raise UnreadableFile(f"the XLSX file unpacks to more than {MAX_UNZIPPED_BYTES // 2 ** 20:,} MB "
                         "(a compressed archive this large is refused)")


def read_xlsx(body):
    """Rows of the first sheet of an XLSX file as lists of cell text, by the sheet's real extent."""
    from openpyxl import load_workbook
    check_archive(body)
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, IndexError, TypeError) as error:
        raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
    sheet.reset_dimensions()     # read the rows that are there, not the extent the file declares
    try:
        for cells in _bounded(sheet.iter_rows(values_only=True)):
            row = ["" if cell is None else nfc(str(cell)) for cell in cells]
            while row and row[-1] == "":     # a real row ends at its last cell with a value
                row.pop()
            yield row
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as error:
        raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
    finally:
        book.close()
