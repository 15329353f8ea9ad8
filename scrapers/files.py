"""Reading the files people send (CSV and XLSX), within bounds that no file can exceed.

- Encodings: UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's "Unicode Text"), Windows-1258.
  The text is decoded as it is read (a stream), never held whole beside the file's bytes.
- Separators: comma, semicolon (Excel's list separator in a Vietnamese locale) or tab ("Unicode
  Text"), chosen by which one splits the heading row into the columns the spider expects.
- XLSX: the first sheet by its real extent (the `<dimension>` a writer declares can be wrong both
  ways: too small hid real rows, `A1:XFD1048576` padded every row to 16,384 cells), after checking
  what the archive unpacks to (a zip bomb fails before openpyxl reads it); its shared strings are
  kept in a temporary file (_StringsOnDisk), not as millions of Python strings.
- Bounds: MAX_ROWS rows, MAX_COLUMNS columns, and MAX_UNZIPPED_BYTES for an XLSX fail the whole
  file with a clear message; a cell over MAX_CELL_CHARS fails only its row (CsvSpider rejects it).
- Memory: a file received on disk is read from disk as it is parsed, never held whole (the
  `file://` requests of spiders that read CSV/XLSX are answered by LocalFileHandler with the path
  and an empty body, instead of Scrapy's handler that reads the whole file). A row holds at most
  MAX_ROW_CHARS characters, so no line or cell can grow without bound either.
- `stop_reading`: set by the ingest command on SIGTERM/SIGINT; reading stops at the next row.
"""
import codecs
import csv
import io
import os
import stat
import threading
import unicodedata
import zipfile
from contextlib import contextmanager
from pathlib import Path

from scrapy.core.downloader.handlers.file import FileDownloadHandler
from scrapy.http import Response
from w3lib.url import file_uri_to_path

MAX_ROWS = 2_000_000
MAX_COLUMNS = 16_384                       # Excel's own limit (column XFD)
MAX_CELL_CHARS = 131_072                   # Excel holds 32,767; csv's old field limit was this
MAX_ROW_CHARS = 16 * 1024 * 1024           # one CSV row (all its lines and cells); 512 cells at Excel's limit
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


@contextmanager
def _binary(source):
    """A binary stream of ``source``: the bytes of a response, or a file on disk (a path)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    else:
        with open(source, "rb") as handle:
            yield handle


def _decodes(source, encoding):
    """Whether ``source`` decodes as ``encoding``, checked in chunks (neither bytes nor text are kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with _binary(source) as raw:
            while chunk := raw.read(_CHUNK):
                if stop_reading.is_set():
                    raise UnreadableFile("interrupted (SIGTERM/SIGINT): reading stopped")
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(source):
    """The encoding of a text file as people send them: UTF-8 (with or without BOM), UTF-16, Windows-1258.
    ``source``: the file's bytes, or its path (read twice at most, in chunks, never held whole)."""
    with _binary(source) as raw:
        body = raw.read(4)      # enough for any BOM
    if body.startswith(codecs.BOM_UTF8):
        if not _decodes(source, "utf-8-sig"):
            raise UnreadableFile("cannot read the file: it starts as UTF-8 but is not UTF-8")
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if not _decodes(source, "utf-16"):
            raise UnreadableFile("cannot read the file: it starts as UTF-16 but is not UTF-16")
        return "utf-16"
    if _decodes(source, "utf-8"):
        return "utf-8"
    if _decodes(source, "cp1258"):     # Windows-1258 writes tones as combining marks: NFC recomposes them
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


class _Lines:
    """The lines of a text stream, as csv.reader takes them, with at most MAX_ROW_CHARS characters
    read for one row: a line without end, or a quoted cell running over millions of lines, fails the
    file with a clear message before it fills the memory. read_csv resets the count at each row."""

    def __init__(self, stream):
        self.stream, self.row_chars, self.row = stream, 0, 1

    def __iter__(self):
        return self

    def __next__(self):
        line = self.stream.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self.row_chars += len(line)
        if self.row_chars > MAX_ROW_CHARS:
            raise UnreadableFile(f"row {self.row:,} of the file is longer than {MAX_ROW_CHARS:,} characters "
                                 "(a cell or a quote that never ends?)")
        return line

    def next_row(self):
        self.row_chars = 0
        self.row += 1


def read_csv(source, delimiter=",", expected=()):
    """Rows of a CSV file as lists of NFC text, the heading row first; decoded as it is read.
    ``source``: the file's bytes, or its path (then read from disk as it is parsed)."""
    encoding = detect_encoding(source)
    with _binary(source) as raw:
        stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            delimiter = choose_delimiter(stream.readline(MAX_ROW_CHARS), expected, delimiter)
            stream.seek(0)
            lines = _Lines(stream)
            for cells in _bounded(csv.reader(lines, delimiter=delimiter)):
                yield [nfc(cell) for cell in cells]
                lines.next_row()
        except UnicodeDecodeError as error:     # the file changed since its encoding was checked
            raise UnreadableFile(f"cannot read the file as {encoding}: {error}") from None
        finally:
            stream.detach()     # the file is closed by _binary


def _zip_input(source):
    return io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source


def check_archive(source):
    """An XLSX archive that unpacks to at most MAX_UNZIPPED_BYTES, measured (declared sizes can lie).
    ``source``: the file's bytes or its path."""
    try:
        archive = zipfile.ZipFile(_zip_input(source))
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


class _StringsOnDisk:
    """An XLSX's shared strings in a temporary file, read back by index as cells need them: 8 bytes of
    memory a string (its offset), where openpyxl holds every string as a Python object (10 million
    short strings in a 240 MB table took more than 1 GB). The table is parsed as a stream, each
    string dropped once written."""
    _SI = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}si"

    def __init__(self, src):
        import tempfile
        from array import array

        from openpyxl.cell.text import Text
        from openpyxl.xml.functions import iterparse
        self.file = tempfile.TemporaryFile()
        self.offsets = array("Q", [0])
        root = None
        for event, node in iterparse(src, events=("start", "end")):
            if root is None:
                root = node
            if event != "end" or node.tag != self._SI:
                continue
            if stop_reading.is_set():
                raise UnreadableFile("interrupted (SIGTERM/SIGINT): reading stopped")
            data = (Text.from_tree(node).content or "").replace("x005F_", "").encode("utf-8", "surrogatepass")
            self.file.write(data)
            self.offsets.append(self.offsets[-1] + len(data))
            root.clear()        # the parsed strings leave the tree
        self.file.flush()
        self.fd = self.file.fileno()

    def __len__(self):
        return len(self.offsets) - 1

    def __getitem__(self, index):
        if not 0 <= index < len(self.offsets) - 1:
            raise IndexError(f"shared string {index} is not in the table")
        start, end = self.offsets[index], self.offsets[index + 1]
        return os.pread(self.fd, end - start, start).decode("utf-8", "surrogatepass")

    def close(self):
        self.file.close()


def _open_workbook(source):
    """openpyxl's read-only workbook, its shared strings kept on disk (_StringsOnDisk)."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    class Reader(ExcelReader):
        def read_strings(self):
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    self.shared_strings = _StringsOnDisk(src)

    reader = Reader(source, read_only=True, data_only=True)
    try:
        reader.read()
    except BaseException:
        if isinstance(reader.shared_strings, _StringsOnDisk):
            reader.shared_strings.close()
        raise
    return reader.wb, reader.shared_strings


def read_xlsx(source):
    """Rows of the first sheet of an XLSX file as lists of cell text, by the sheet's real extent.
    ``source``: the file's bytes, or its path (then its sheet is unpacked from disk as it is read)."""
    check_archive(source)
    strings = None
    try:
        book, strings = _open_workbook(_zip_input(source))
        sheet = book.worksheets[0]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, IndexError, TypeError, SyntaxError) as error:
        raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
    sheet.reset_dimensions()     # read the rows that are there, not the extent the file declares
    try:
        for cells in _bounded(sheet.iter_rows(values_only=True)):
            row = ["" if cell is None else nfc(str(cell)) for cell in cells]
            while row and row[-1] == "":     # a real row ends at its last cell with a value
                row.pop()
            yield row
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError) as error:
        raise UnreadableFile(f"cannot read the XLSX file: {error}") from error
    finally:
        book.close()
        if isinstance(strings, _StringsOnDisk):
            strings.close()


def is_xlsx(source):
    """Whether ``source`` (bytes or a path) starts as a ZIP archive, as every XLSX does."""
    with _binary(source) as raw:
        return raw.read(4) == b"PK\x03\x04"


# Scrapy's side: a received file reaches the spider as its path, not as a body in memory.
STREAM_FILE = "minhbach_stream_file"    # Request.meta key set by spiders that read files as streams


class FileOnDisk(Response):
    """The answer to a ``file://`` request whose spider reads the file itself, from ``path``, as a
    stream: the body is empty (Scrapy's own file handler would hold the whole file in memory)."""
    attributes = (*Response.attributes, "path")

    def __init__(self, *args, path, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = path


class LocalFileHandler(FileDownloadHandler):
    """``file://`` download handler (settings.DOWNLOAD_HANDLERS): a request marked STREAM_FILE is
    answered with a FileOnDisk holding the path of the regular file; any other request is read
    whole, by Scrapy's handler, as before (JSON and RSS are parsed whole anyway)."""

    async def download_request(self, request):
        if not request.meta.get(STREAM_FILE):
            return await super().download_request(request)
        path = Path(file_uri_to_path(request.url))
        info = os.stat(path)        # FileNotFoundError etc. fail the request as Scrapy's handler does
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        return FileOnDisk(url=request.url, path=str(path))
