"""Tests for importer.read.source (and its helpers sniffing, csvfile, excel)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import SourceError, UsageError
from importer.read._excel import cell_text
from importer.read._sniff import (
    CP1252_ERRORS,
    SAMPLE_BYTES,
    column_names,
    find_header_index,
    sniff_delimiter,
)
from importer.read.source import RowBatch, Source, open_source

REAL_EXPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "real-exports"


def read_all(source: Source) -> list[tuple[int, list[str]]]:
    return [
        (n, row)
        for batch in source.batches()
        for n, row in zip(batch.row_numbers, batch.rows, strict=True)
    ]


def read_file(path: Path, **options) -> tuple[Source, list[tuple[int, list[str]]]]:
    with open_source(path, **options) as source:
        return source, read_all(source)


@pytest.fixture
def write(tmp_path: Path):
    def write(data: bytes | str, name: str = "leads.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return write


# ---- encodings --------------------------------------------------------------------

ACCENTS = "First Name,Last Name,Company\nJosé,Müller,Café Crème SARL\nZoë,Ørsted,Straße GmbH\n"
EURO = "Name,Amount\nFrançois,€1.200\nŁukasz,£300\n"


@pytest.mark.parametrize(
    ("data", "expected_encoding", "text"),
    [
        pytest.param(ACCENTS.encode(), "utf-8", ACCENTS, id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + ACCENTS.encode(), "utf-8-sig", ACCENTS, id="utf-8-bom"),
        pytest.param(ACCENTS.encode("utf-16"), "utf-16", ACCENTS, id="utf-16-native-bom"),
        pytest.param(codecs.BOM_UTF16_LE + ACCENTS.encode("utf-16-le"), "utf-16", ACCENTS, id="utf-16-le-bom"),
        pytest.param(codecs.BOM_UTF16_BE + ACCENTS.encode("utf-16-be"), "utf-16", ACCENTS, id="utf-16-be-bom"),
        pytest.param(ACCENTS.encode("utf-16-le"), "utf-16-le", ACCENTS, id="utf-16-le-no-bom"),
        pytest.param(codecs.BOM_UTF32_LE + ACCENTS.encode("utf-32-le"), "utf-32", ACCENTS, id="utf-32-bom"),
        pytest.param(ACCENTS.encode("cp1252"), "cp1252", ACCENTS, id="cp1252-accents"),
        pytest.param(EURO.replace("Ł", "L").encode("cp1252"), "cp1252", EURO.replace("Ł", "L"), id="cp1252-euro"),
        pytest.param(ACCENTS.encode("latin-1"), "cp1252", ACCENTS, id="latin-1-read-as-cp1252"),
        pytest.param("Имя,Компания\nИван,ООО Ромашка\nМария,ЗАО Вектор\n".encode("cp1251"), "cp1251",
                     "Имя,Компания\nИван,ООО Ромашка\nМария,ЗАО Вектор\n", id="cp1251-detected"),
    ],
)  # fmt: skip
def test_encodings_are_detected_and_reported(write, data, expected_encoding, text):
    source, rows = read_file(write(data))
    expected = list(csv.reader(io.StringIO(text)))
    assert source.info.encoding == expected_encoding
    assert source.info.columns == tuple(expected[0])
    assert [r for _, r in rows] == expected[1:]


#: ISO-8859-1 with a C1 byte (0x81: no cp1252 character) and ½: Salesforce's Data Export.
HALF = "Name,Street,Notes\nAlpha,Km 41 V\x81a,1½ floors\n" + "".join(
    f"Beta {i},Calle {i} Peñalolén,Café Zoë à São José\n" for i in range(20)
)
#: Latin-9 used as Latin-9: œ inside a word, € beside an amount (and a C1 byte).
LATIN9 = "Nom,Rue,Notes\nAlpha,Km 41 V\x81a,Cœur 3000 €\n" + "".join(
    f"Beta {i},Rue {i} de la Pépinière,Café Zoë à Genève\n" for i in range(20)
)


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        pytest.param(HALF, "cp1252", "latin-1", id="iso-8859-1-with-half"),
        pytest.param(LATIN9, "iso8859-15", "iso8859-15", id="latin-9-with-euro-and-oe"),
        # (an about as clean reading with no language's words seen in it, cp1256, yields)
        pytest.param(
            LATIN9.replace("Cœur 3000 €", "Prix: 3000 €"),
            "iso8859-15",
            "iso8859-15",
            id="latin-9-with-euro-not-farsi",
        ),
    ],
)
def test_latin9_only_where_the_file_uses_it(write, text, encoding, expected):
    """½ is not read as œ (nor ¤ as €): Latin-9 only where its own characters are used so."""
    source, rows = read_file(write(text.encode(expected)))
    assert source.info.encoding == encoding
    assert [r for _, r in rows] == list(csv.reader(io.StringIO(text)))[1:]


def test_evaboot_utf16_tab_export(write):
    text = "Prospect Position\tCompany Employee Count\tEvaboot Email\nCEO\t11-50\tjo@acme.com\n"
    source, rows = read_file(write(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "evaboot.csv"))
    assert (source.info.encoding, source.info.delimiter) == ("utf-16", "\t")
    assert rows == [(2, ["CEO", "11-50", "jo@acme.com"])]


@pytest.mark.parametrize(
    ("data", "forced", "reported", "first_row"),
    [
        (ACCENTS.encode("cp1252"), "latin-1", "iso8859-1", ["José", "Müller", "Café Crème SARL"]),
        (ACCENTS.encode("cp1252"), "cp1250", "cp1250", ["José", "Müller", "Café Crčme SARL"]),
        (
            codecs.BOM_UTF8 + ACCENTS.encode(),
            "utf-8",
            "utf-8-sig",
            ["José", "Müller", "Café Crème SARL"],
        ),
        (
            b"a,b\n\x81x,y\n",
            "cp1252",
            "cp1252",
            ["\x81x", "y"],
        ),  # undefined in cp1252: kept, not an error
    ],
)
def test_encoding_option_overrides_detection(write, data, forced, reported, first_row):
    source, rows = read_file(write(data), encoding=forced)
    assert source.info.encoding == reported
    assert rows[0] == (2, first_row)


def test_a_non_utf8_byte_after_the_first_mib_is_found_before_reading(write):
    filler = "".join(f"{i},plain ascii text\n" for i in range(SAMPLE_BYTES // 20))
    path = write(("id,name\n" + filler).encode() + "999,Café Zoë\n".encode("cp1252"))
    source, rows = read_file(path)
    assert source.info.encoding == "cp1252"
    assert rows[-1][1] == ["999", "Café Zoë"]


def test_a_character_cut_by_the_sample_boundary_is_not_an_error(write):
    filler = b"1," + b"x" * 61 + b"\n"
    prefix = b"id,name\n" + filler * ((SAMPLE_BYTES - 1000) // len(filler)) + b"2,"
    padding = b"y" * (SAMPLE_BYTES - 1 - len(prefix))
    data = prefix + padding + "€uro\n".encode()  # '€' (3 bytes) starts 1 byte before the cut
    assert data.index("€".encode()) == SAMPLE_BYTES - 1
    source, rows = read_file(write(data))
    assert source.info.encoding == "utf-8"
    assert rows[-1][1] == ["2", padding.decode() + "€uro"]


# ---- delimiters and the sep= line -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter", "rows"),
    [
        ("Name,Notes\nJo,a;b|c\nAl,x;y\n", ",", [["Jo", "a;b|c"], ["Al", "x;y"]]),
        ("Name;Amount;Note\nJo;12,50;a, b\nAl;1.200,00;x\n", ";", [["Jo", "12,50", "a, b"], ["Al", "1.200,00", "x"]]),
        ("Name\tCompany\nJo\tAcme, Inc.\n", "\t", [["Jo", "Acme, Inc."]]),
        ("a|b|c\n1|2,5|x;y\n", "|", [["1", "2,5", "x;y"]]),
        ('"Name","Notes"\n"Jo","1;2;3;4;5"\n"Al","6;7;8"\n', ",", [["Jo", "1;2;3;4;5"], ["Al", "6;7;8"]]),
        ("Email\njo@acme.com\nal@acme.com\n", ",", [["jo@acme.com"], ["al@acme.com"]]),
    ],
    ids=["comma", "semicolon-decimal-comma", "tab", "pipe", "quoted-semicolons", "one-column"],
)  # fmt: skip
def test_delimiter_is_sniffed(write, text, delimiter, rows):
    source, read = read_file(write(text))
    assert source.info.delimiter == delimiter
    assert [r for _, r in read] == rows


def test_one_column_tsv_defaults_to_tab(write):
    source, _ = read_file(write("Email\njo@acme.com\n", "leads.tsv"))
    assert source.info.delimiter == "\t"


@pytest.mark.parametrize("sep_line", ["sep=;\r\n", '"sep=;"\n', "sep=;\n"])
def test_excel_sep_line_sets_the_delimiter_and_counts_as_row_1(write, sep_line):
    source, rows = read_file(write(sep_line + "Name;Amount\r\nJo;12,50\r\n\r\nAl;3\r\n"))
    assert (source.info.delimiter, source.info.header_row) == (";", 2)
    assert source.info.columns == ("Name", "Amount")
    assert rows == [(3, ["Jo", "12,50"]), (5, ["Al", "3"])]
    assert source.blank_rows == 1


@pytest.mark.parametrize(
    ("option", "delimiter"), [(",", ","), ("tab", "\t"), ("\\t", "\t"), (";", ";")]
)
def test_delimiter_option_overrides_sniffing(write, option, delimiter):
    path = write("a;b\tc,d\n1;2\t3,4\n")
    source, rows = read_file(path, delimiter=option)
    assert source.info.delimiter == delimiter
    assert rows[0][1] == next(csv.reader(["1;2\t3,4"], delimiter=delimiter))


@pytest.mark.parametrize(
    ("text", "truncated", "expected"),
    [
        ("a,b,c\n1,2,3\n", False, ","),
        ("a;b\n1;2,5\n3;4,5\n", False, ";"),  # "," splits the rows but not the header
        ("a,b\nx;y,1\n", False, ","),
        ("a\tb c,d\n1\t2,3\n", False, "\t"),  # a tie: tab is rarer inside values
        ("a;b,c\n1;2,3\n", False, ";"),
        ("title\na|b|c\n1|2|3\n4|5|6\n", False, "|"),
        ('a,b\n1,2\n3,"unfinished', True, ","),
        ("just one column\nvalue\n", False, ","),
    ],
)
def test_sniff_delimiter_table(text, truncated, expected):
    assert sniff_delimiter(text, truncated=truncated) == expected


# ---- cells are text -------------------------------------------------------------------


def test_cells_stay_exactly_as_written(write):
    text = (
        "ID,Phone,Zip,Amount,Flag,Note\n"
        '00123,+44 7700 900123,02134,1E5,TRUE,"Acme, Inc."\n'
        '12345678901234567890,0049 151 1234,00000,3.5E8,null,"line one\r\nline two, still"\n'
        "007,  spaced  ,,1.0,0,\n"
    )
    _, rows = read_file(write(text))
    assert rows == [
        (2, ["00123", "+44 7700 900123", "02134", "1E5", "TRUE", "Acme, Inc."]),
        (3, ["12345678901234567890", "0049 151 1234", "00000", "3.5E8", "null", "line one\r\nline two, still"]),
        (4, ["007", "  spaced  ", "", "1.0", "0", ""]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        b'"a","b"\r\n"x\r\ny","2"\r\n"3",""',  # Pipedrive: CRLF inside a value, no final newline
        b'a,b\r\n"x\r\ny",2\r\n3,\r\n',
        b'a,b\n"x\r\ny",2\n3,',
        b'a,b\r"x\r\ny",2\r3,\r',  # classic Mac line ends
    ],
)
def test_multiline_quoted_cells_are_one_row(write, data):
    _, rows = read_file(write(data))
    assert rows == [(2, ["x\r\ny", "2"]), (3, ["3", ""])]


def test_nul_characters_inside_text_are_kept(write):
    # The Salesforce Opportunity export has a NUL at the start of some rich-text cells.
    text = b"<p>" + b"lorem ipsum " * 20 + b"</p>"
    data = b"Id,Comments\n" + b"".join(b'%d,"\x00%s"\n' % (i, text) for i in range(300))
    _, rows = read_file(write(data))
    assert rows[0] == (2, ["0", "\x00" + text.decode()])


# ---- rows: blank, numbering, ragged, batches ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'h1,h2\na,b\n\n,\n  ,\t\n"",""\nc,"multi\nline"\n\nd,e\n',  # empty lines too
        'h1,h2\na,b\n,\n,\n  ,\t\n"",""\nc,"multi\nline"\n ,\nd,e\n',  # every row 2 cells
        'h1,h2\na,b\n,\n,\n  ,\t\n"",""\n c,"multi\nline"\n ,\nd,e\n',  # first cell " c"
    ],
)
def test_blank_rows_are_skipped_counted_and_numbering_keeps_them(write, text):
    source, rows = read_file(write(text))
    assert [n for n, _ in rows] == [2, 7, 9]
    assert [r[1] for _, r in rows] == ["b", "multi\nline", "e"]
    assert source.blank_rows == 5


def test_ragged_rows_are_padded_or_cut_with_a_problem(write):
    text = "a,b,c\n1\n1,2,3,4\n1,2,3,,\n1,2,3,  ,\n"
    with open_source(write(text)) as source:
        batches = list(source.batches())
    assert [row for batch in batches for row in batch.rows] == [["1", "", ""]] + [
        ["1", "2", "3"]
    ] * 3
    assert batches[0].problems == {
        3: "row has 4 cells but the header has 3: a value holding the delimiter without"
        " quotes has split it, so its cells are not under their columns (beyond the header:"
        " '4'); quote that value in the file"
    }


def test_batches_respect_batch_rows_and_continue_numbering(write):
    text = "n\n" + "".join(f"{i}\n" if i % 4 else "\n" for i in range(1, 11))
    with open_source(write(text), batch_rows=3) as source:
        batches = list(source.batches())
        assert source.blank_rows == 2
    # batch_rows counts records read, so a batch that skipped blank rows is shorter
    assert [b.row_numbers for b in batches] == [[2, 3, 4], [6, 7], [8, 10], [11]]
    assert all(len(b.rows) <= 3 for b in batches)
    assert [b.bytes_read for b in batches][-1] == len(text)


def test_batches_can_be_read_twice_and_closed_midway(write):
    path = write("n\n" + "".join(f"{i}\n" for i in range(100)))
    with open_source(path, batch_rows=10) as source:
        first = read_all(source)
        assert read_all(source) == first
        unfinished = source.batches()
        next(unfinished)
    assert len(first) == 100
    with pytest.raises(StopIteration):
        next(unfinished)  # closed with the source


def peak_memory_of_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        with open_source(path, batch_rows=1000) as source:
            for _ in source.batches():
                pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_is_streamed_in_bounded_memory(write):
    row = "1000000001,José,Müller,jo@acme.com,+44 7700 900123,Acme Inc.,acme.com,CEO\n"
    header = "Id,First,Last,Email,Phone,Company,Domain,Title\n"
    small = peak_memory_of_reading(write(header + row * 20_000, "small.csv"))  # 1.5 MB
    large = peak_memory_of_reading(write(header + row * 80_000, "large.csv"))  # 6.1 MB
    assert large < small + 512 * 1024


# ---- header -------------------------------------------------------------------------------


def test_header_cells_are_cleaned_and_made_unique(write):
    source, _ = read_file(
        write(b"\xef\xbb\xbf Phone ,Phone,,Phone (2),\xe2\x80\x8bEmail\t\nx,y,z,w,v\n")
    )
    assert source.info.columns == ("Phone", "Phone (3)", "Column 3", "Phone (2)", "Email")


@pytest.mark.parametrize(
    ("cells", "names"),
    [
        (["a", "a", "a"], ("a", "a (2)", "a (3)")),
        (["", " ", "x"], ("Column 1", "Column 2", "x")),
        (["Column 2", ""], ("Column 2", "Column 2 (2)")),
        (["\ufeffRecord ID", "Email "], ("Record ID", "Email")),
    ],
)
def test_column_names_table(cells, names):
    assert column_names(cells) == names


def test_title_rows_above_a_csv_header_are_skipped(write):
    text = "Contacts report\nGenerated,2024-01-01\n\nName,Email,Phone\nJo,jo@xy.com,007\n"
    source, rows = read_file(write(text))
    assert (source.info.header_row, source.info.columns) == (4, ("Name", "Email", "Phone"))
    assert rows == [(5, ["Jo", "jo@xy.com", "007"])]


@pytest.mark.parametrize(
    ("rows", "index"),
    [
        ([["Report"], ["a", "b", "c"], ["1", "2", "3"]], 1),
        (
            [
                [""],
                ["Report", ""],
                ["Generated", dt.date(2024, 1, 1)],
                [],
                ["a", "b", "c"],
                [1, 2, 3],
            ],
            4,
        ),
        ([["Email"], ["a@xy.com"], ["b@yz.com"]], 0),  # one column: no title rows
        ([["", "Email"], ["0", "a@xy.com"]], 0),  # unnamed index column
        ([["Name", ""], ["Jo", "jo@xy.com", "555"]], 0),  # the row below is data, not a header
        # a title narrower than the data: skipped, however few the columns (it used to be
        # "too close to tell" with two columns, and the title was taken for the header)
        ([["Report"], ["Name", "Email"], ["Jo", "jo@x"]], 1),
        ([["Exported by:", "Jo"], ["Name", "Email"], ["Jo", "jo@x"]], 1),  # its words
        ([["Name", "Email"], ["Jo", "jo@x", "extra"], ["Al", "al@x"]], 0),  # a ragged row
        ([["", ""], ["  "]], None),
    ],
)
def test_find_header_index_table(rows, index):
    assert find_header_index(rows) == index


def test_header_row_option(write):
    source, rows = read_file(write("junk,,\nName,Email,Phone\nJo,jo@xy.com,1\n"), header_row=2)
    assert source.info.columns == ("Name", "Email", "Phone")
    assert rows == [(3, ["Jo", "jo@xy.com", "1"])]


# ---- Excel --------------------------------------------------------------------------------

SHEETS = "'Hidden', 'Report', 'Plain', 'Empty', 'HeaderOnly', 'Offset'"


# fmt: off
REPORT_SHEET = [
    ["Pipeline report – Q3"],
    ["Generated", dt.datetime(2024, 7, 1, 9, 0)],
    [],
    ["Record ID", "Name", "Phone", "Amount", "Close Date", "Created", "Call Time", "Active", "Ratio",
     "Big", " Email ", None],
    [1001, "José", "00491511234", 12345.0, dt.date(2024, 3, 4), dt.datetime(2024, 3, 4, 13, 14, 15),
     dt.time(9, 30), True, 0.1, 1.5e20, "jo@xy.com", "extra"],
    [],
    [1002.0, "Al", 4915112345678, 12.5, None, dt.datetime(2024, 3, 4, 23, 59, 59, 600000), None, False,
     1e-7, 123456789012345678, " x ", None],
]
# fmt: on


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    hidden = book.active
    hidden.title, hidden.sheet_state = "Hidden", "hidden"
    hidden.append(["secret"])
    hidden.append(["x"])
    report = book.create_sheet("Report")
    for row in REPORT_SHEET:
        report.append(row)
    plain = book.create_sheet("Plain")
    plain.append(["Email", "Phone"])
    plain.append(["a@xy.com", "0123"])
    book.create_sheet("Empty")
    book.create_sheet("HeaderOnly").append(["Email", "Phone"])
    offset = book.create_sheet("Offset")  # data from C5, a blank row 7
    for cell, value in {
        "C5": "Email",
        "D5": "Phone",
        "C6": "a@xy.com",
        "D6": "0123",
        "C8": "b@yz.com",
    }.items():
        offset[cell] = value
    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    book.save(path)
    return path


REPORT_ROWS = [
    (5, ["1001", "José", "00491511234", "12345", "2024-03-04", "2024-03-04 13:14:15", "09:30:00",
         "TRUE", "0.1", "150000000000000000000", "jo@xy.com", "extra"]),
    (7, ["1002", "Al", "4915112345678", "12.5", "", "2024-03-05 00:00:00", "", "FALSE",
         "0.0000001", "123456789012345700", " x ", ""]),
]  # fmt: skip


def test_xlsx_title_rows_typed_cells_and_real_row_numbers(workbook):
    source, rows = read_file(workbook)
    assert (source.info.format, source.info.sheet, source.info.header_row) == ("xlsx", "Report", 4)
    assert (source.info.encoding, source.info.delimiter) == (None, None)
    assert source.info.columns == ("Record ID", "Name", "Phone", "Amount", "Close Date", "Created",
                                   "Call Time", "Active", "Ratio", "Big", "Email", "Column 12")  # fmt: skip
    assert rows == REPORT_ROWS
    assert source.blank_rows == 1


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [("Report", "Report"), ("report", "Report"), (2, "Report"), ("2", "Report"), (1, "Hidden"), ("Plain", "Plain")],
)  # fmt: skip
def test_xlsx_sheet_by_name_or_1_based_number(workbook, sheet, expected):
    with open_source(workbook, sheet=sheet) as source:
        assert source.info.sheet == expected


def test_xlsx_leading_empty_rows_and_columns(workbook):
    source, rows = read_file(workbook, sheet="Offset")
    assert (source.info.header_row, source.info.columns) == (5, ("Email", "Phone"))
    assert rows == [(6, ["a@xy.com", "0123"]), (8, ["b@yz.com", ""])]
    assert source.blank_rows == 1


def test_xlsx_header_row_option(workbook):
    source, rows = read_file(workbook, sheet="Report", header_row=4)
    assert source.info.header_row == 4
    assert rows == REPORT_ROWS


def test_xlsx_named_csv_is_read_as_xlsx_and_csv_named_xlsx_as_csv(workbook, write):
    disguised = shutil.copy(workbook, workbook.parent / "export.csv")
    with open_source(disguised, sheet="Plain") as source:
        assert (source.info.format, read_all(source)) == ("xlsx", [(2, ["a@xy.com", "0123"])])
    with open_source(write("Email,Phone\na@xy.com,0123\n", "export.xlsx")) as source:
        assert (source.info.format, read_all(source)) == ("csv", [(2, ["a@xy.com", "0123"])])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345.0, "12345"), (-3.0, "-3"), (0.1, "0.1"), (1e-7, "0.0000001"), (1.5e20, "150000000000000000000"),
        (12, "12"), (True, "TRUE"), (False, "FALSE"), ("00123", "00123"), ("", ""),
        (dt.date(2024, 2, 29), "2024-02-29"), (dt.datetime(2024, 2, 29, 8, 5, 9), "2024-02-29 08:05:09"),
        (dt.datetime(2024, 2, 29, 8, 5, 9, 700000), "2024-02-29 08:05:10"), (dt.time(7, 5), "07:05:00"),
        (dt.timedelta(hours=936, minutes=58, seconds=56), "936:58:56"),
    ],
)  # fmt: skip
def test_cell_text_table(value, text):
    assert cell_text(value) == text


# ---- bad input: one-line errors that name the file ------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("leads.csv", b"", "the file is empty"),
        ("leads.csv", b"\n\r\n  \n", "the file is empty"),
        ("leads.csv", codecs.BOM_UTF8, "the file is empty"),
        ("leads.csv", b"Email,Name\n", "the file has a header row but no data rows (read as comma-delimited, the header on row 1): if that is not how the file is laid out, pass --delimiter or --header-row"),
        ("leads.csv", b"Email,Name\n\n,\n", "the file has a header row but no data rows (read as comma-delimited, the header on row 1): if that is not how the file is laid out, pass --delimiter or --header-row"),
        ("leads.csv", bytes(range(256)) * 8, "looks like a binary file, not CSV or Excel"),
        # (a stray control byte or three in a small text file no longer makes it binary)
        ("leads.csv", b"Email,Name\n\x00\x00\x00\x00\x00,x\n", "looks like a binary file, not CSV or Excel"),
        ("logo.csv", b"\x89PNG\r\n\x1a\n" + b"a" * 100, "looks like a binary file, not CSV or Excel"),
        ("report.xls", b"<html><body><table><tr><td>a</td></tr></table>",
         "is an HTML or XML document, not CSV or Excel; open it in Excel and save it as CSV or .xlsx"),
        ("leads.csv", b'a,b\n1,2\n"3,4\n5,6\n',
         'row 3: a quoted cell is never closed (a " without its closing "), so the rest of the file '
         "was read into it; fix the quote and try again"),
        ("leads.csv", "Name,Note\nJosé,x\n".encode() + "Zoë,y\n".encode("cp1252"),
         "row 3 is not valid UTF-8 (byte 0xEB at offset 20) although the text before it is; the file "
         "mixes encodings. Re-save it as UTF-8, or pass --encoding (e.g. --encoding cp1252)"),
    ],
)  # fmt: skip
def test_bad_files(write, name, data, message):
    path = write(data, name)
    with pytest.raises(SourceError) as caught:
        open_source(path)
    assert str(caught.value) == f"{path}: {message}"


def test_missing_file_and_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError) as caught:
        open_source("leads.csv")
    assert str(caught.value) == "leads.csv: no such file"
    with pytest.raises(SourceError) as caught:
        open_source(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a file"


def test_forced_wrong_encoding_names_row_offset_and_a_better_encoding(write):
    path = write("Name,Note\nJo,x\nJosé,€ 5\n".encode("cp1252"))
    with pytest.raises(SourceError) as caught:
        open_source(path, encoding="utf-8")
    assert str(caught.value) == (
        f"{path}: row 3 cannot be decoded as utf-8 (byte 0xE9 at offset 18); try --encoding cp1252"
    )


def test_a_file_changed_after_open_reports_the_bad_row(write):
    data = ("id,name\n" + "".join(f"{i},name {i}\n" for i in range(5000))).encode()
    path = write(data)
    with open_source(path, batch_rows=1000) as source:
        at = data.index(b"4000,name")
        path.write_bytes(
            data[:at] + "4000,Café\n".encode("cp1252") + data[data.index(b"\n", at) + 1 :]
        )
        with pytest.raises(SourceError) as caught:
            read_all(source)
    assert str(caught.value) == (
        f"{path}: row 4002 cannot be decoded as utf-8 (byte 0xE9 at offset {at + 8:,}); "
        "try --encoding cp1252"
    )


def test_runaway_quote_in_a_big_file(write):
    path = write(b'a,b\n1,2\n3,"' + b"x" * (11 * 1024 * 1024) + b"\n")
    with pytest.raises(SourceError) as caught:
        read_file(path)
    assert str(caught.value) == (
        f"{path}: row 3: a cell is longer than 10,485,760 characters; "
        'most likely a quote (") opened in that row is never closed'
    )


def test_zip_and_damaged_workbooks(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("leads.csv", "a,b\n1,2\n")
    with pytest.raises(SourceError) as caught:
        open_source(archive)
    assert (
        str(caught.value)
        == f"{archive}: is a zip archive, not CSV or Excel; unzip it and import a file inside"
    )
    for name, data, kind in [
        ("bad.xlsx", b"PK\x03\x04" + os.urandom(300), "Excel workbook"),
        ("bad.xls", bytes.fromhex("D0CF11E0A1B11AE1") + os.urandom(600), "Excel workbook"),
        ("bad.ods", b"PK\x03\x04" + os.urandom(300), "OpenDocument spreadsheet"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SourceError) as caught:
            open_source(path)
        assert str(caught.value).startswith(f"{path}: is not a valid {kind} (")  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sheet": "Nope"}, f"no sheet named 'Nope'; the workbook's sheets are: {SHEETS}"),
        (
            {"sheet": 9},
            f"no sheet number 9 (numbers start at 1); the workbook's sheets are: {SHEETS}",
        ),
        (
            {"sheet": "0"},
            f"no sheet number 0 (numbers start at 1); the workbook's sheets are: {SHEETS}",
        ),
        ({"sheet": "Empty"}, "sheet 'Empty' is empty"),
        ({"sheet": "HeaderOnly"}, "sheet 'HeaderOnly' has a header row but no data rows"),
        (
            {"sheet": "Report", "header_row": 3},
            "sheet 'Report': row 3 is blank, so it cannot be the header",
        ),
        ({"sheet": "Report", "header_row": 99}, "sheet 'Report' has no row 99 (the last row is 7)"),
    ],
)
def test_bad_sheets(workbook, options, message):
    with pytest.raises(SourceError) as caught:
        open_source(workbook, **options)
    assert str(caught.value) == f"{workbook}: {message}"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sheet": "Leads"}, "{path}: --sheet applies to Excel workbooks; this is a CSV text file"),
        ({"delimiter": "ab"}, "--delimiter must be one character such as , ; | or tab, not 'ab'"),
        ({"delimiter": '"'}, "--delimiter must be one character such as , ; | or tab, not '\"'"),
        ({"header_row": 0}, "--header-row must be a whole number from 1, not 0"),
        ({"batch_rows": 0}, "batch_rows must be a whole number from 1, not 0"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'; use a name such as utf-8, cp1252, latin-1 or utf-16"),
        ({"header_row": 1}, "{path}: row 1 is Excel's 'sep=' line, not the header; the header is row 2"),
    ],
)  # fmt: skip
def test_bad_options(write, options, message):
    path = write("sep=,\na,b\n1,2\n")
    error = SourceError if "sep=" in message else UsageError
    with pytest.raises(error) as caught:
        open_source(path, **options)
    assert str(caught.value) == message.format(path=path)


def test_csv_options_on_a_workbook(workbook):
    with pytest.raises(UsageError) as caught:
        open_source(workbook, encoding="utf-8")
    assert (
        str(caught.value)
        == f"{workbook}: --encoding and --delimiter apply to CSV files; this is an Excel workbook"
    )


# ---- invariants -------------------------------------------------------------------------

cell_text_strategy = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(",;\t|\"'\r\n "), max_size=12
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    names=st.lists(
        st.text("ABCDEFGHIJ", min_size=1, max_size=6), min_size=2, max_size=6, unique=True
    ),
    data=st.data(),
)
def test_written_csv_reads_back_exactly(tmp_path, delimiter, names, data):
    rows = data.draw(
        st.lists(
            st.lists(cell_text_strategy, min_size=len(names), max_size=len(names)), max_size=20
        )
    )
    kept = [(n, r) for n, r in enumerate(rows, 2) if "".join(r).strip()]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([names, *rows])
    path = tmp_path / "round-trip.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    if not kept:
        with pytest.raises(SourceError, match="no data rows"):
            open_source(path)
        return
    source, read = read_file(path)
    assert (source.info.delimiter, source.info.columns) == (delimiter, tuple(names))
    assert read == kept
    assert source.blank_rows == len(rows) - len(kept)


# ---- the real exports in shared/real-exports ---------------------------------------------------

# (file, data rows as SOURCES.md counts them, columns, encoding)
REAL = [
    ("apollo/contacts-export-india-finance.csv", 14, 52, "utf-8"),
    ("apollo/contacts-export-anz-logistics.csv", 24, 59, "utf-8"),
    ("apollo/contacts-export-2025-format-philanthropy.csv", 25, 63, "utf-8"),
    ("apollo/accounts-export-benelux-tech.csv", 12, 32, "utf-8"),
    ("hubspot/contacts-export-all-contacts-au-textiles.csv", 687, 12, "utf-8"),
    ("hubspot/contacts-export-all-properties.csv", 158, 311, "utf-8"),
    ("hubspot/deals-export-all-properties-with-associations.csv", 54, 146, "utf-8"),
    ("hubspot/deals-export-all-deals-solar.csv", 11_583, 4, "utf-8"),
    ("hubspot/companies-export-view-schools.csv", 12_788, 9, "utf-8"),
    ("hubspot/contacts-export-doctors-it.xlsx", 4_171, 7, None),
    ("hubspot/companies-appraisal.csv", 32, 19, "utf-8"),
    ("hubspot/contacts-with-company-assoc-appraisal.csv", 790, 27, "utf-8"),
    ("salesforce/data-export-Contact.csv", 96, 72, "cp1252"),  # ISO-8859-1; cp1252 is its superset
    ("salesforce/data-export-Lead.csv", 35, 67, "cp1252"),
    ("salesforce/data-export-Opportunity.csv", 512, 55, "cp1252"),
    ("salesforce/dataloader-extract-Account.csv", 49, 8, "utf-8"),
    # 0x81 and 0x8D are not cp1252, and the detector would settle on a Latin-9 reading
    # (½ read as œ); no byte is used as Latin-9 uses it, so cp1252 reads it, falling back
    # to ISO-8859-1 (what Salesforce writes) for those two bytes.
    ("salesforce/data-export-Account.csv", 2_002, 110, "cp1252"),
    ("salesforce/data-export-OpportunityContactRole.csv", 2, 11, "utf-8"),
    ("salesforce/data-export-Task.csv", 507, 43, "cp1252"),
    ("pipedrive/people-export-uk-print.csv", 8_106, 12, "utf-8"),
    ("pipedrive/organisations-export-uk-print.csv", 6_856, 8, "utf-8"),
    ("pipedrive/deals-export-custom-fields-nyc-offices.csv", 118, 49, "utf-8"),
    ("zoho/accounts-export-br-industrial.csv", 30, 43, "utf-8"),
    ("zoho/leads-export-br-industrial.csv", 14, 55, "utf-8"),
]
needs_real_exports = pytest.mark.skipif(
    not REAL_EXPORTS.is_dir(), reason="shared/real-exports is not beside the repo"
)


@needs_real_exports
def test_every_real_export_is_covered():
    on_disk = {
        str(p.relative_to(REAL_EXPORTS))
        for p in REAL_EXPORTS.rglob("*")
        if p.suffix in (".csv", ".xlsx", ".xls")
    }
    assert on_disk == {name for name, *_ in REAL}


@needs_real_exports
@pytest.mark.parametrize(
    ("name", "n_rows", "n_columns", "encoding"), REAL, ids=[r[0] for r in REAL]
)
def test_real_export(name, n_rows, n_columns, encoding):
    path = REAL_EXPORTS / name
    source, rows = read_file(path, batch_rows=5_000)
    assert (len(rows), source.blank_rows, len(source.info.columns)) == (n_rows, 0, n_columns)
    assert (source.info.encoding, source.info.header_row) == (encoding, 1)
    assert [n for n, _ in rows] == list(range(2, n_rows + 2))
    if path.suffix == ".csv":  # cell for cell what the csv module reads, in the right encoding
        errors = CP1252_ERRORS if encoding == "cp1252" else "strict"  # ISO-8859-1's C1 bytes
        with path.open(encoding=encoding, errors=errors, newline="") as f:
            expected = list(csv.reader(f))
        if encoding == "cp1252":  # cells written in UTF-8 inside it read as UTF-8
            expected = [[_utf8_back(cell) for cell in row] for row in expected]
        assert source.info.delimiter == ","
        assert [r for _, r in rows] == expected[1:]
        assert len(set(source.info.columns)) == n_columns


def _utf8_back(cell: str) -> str:
    if not any(c in cell for c in "ÃÄÅ"):
        return cell
    try:
        return cell.encode("cp1252", CP1252_ERRORS).decode("utf-8")
    except UnicodeError:
        return cell


@needs_real_exports
def test_real_export_details():
    _, rows = read_file(REAL_EXPORTS / "salesforce/data-export-Lead.csv")
    assert any("Persona Jurídica" in cell for _, row in rows for cell in row)
    source, rows = read_file(REAL_EXPORTS / "hubspot/contacts-with-company-assoc-appraisal.csv")
    assert {"Phone Number", "Phone Number (2)", "Create Date (2)", "Country/Region (2)"} <= set(
        source.info.columns
    )
    source, rows = read_file(REAL_EXPORTS / "hubspot/contacts-export-doctors-it.xlsx")
    assert source.info.columns[-1] == "Doctor - Has own website? (S) [Manual]"
    assert (source.info.format, source.info.sheet) == ("xlsx", "Check widget inf")
    assert rows[0] == (
        2,
        ["1379491454", "Mikhail", "Thakur", "", "https://www.an-fisio-osteo-spine.it/", "", "yes"],
    )
    source, rows = read_file(REAL_EXPORTS / "salesforce/dataloader-extract-Account.csv")
    revenue = source.info.columns.index("ANNUALREVENUE")
    assert {"3.5E8", "9.5E8"} <= {row[revenue] for _, row in rows}


def test_rowbatch_defaults():
    batch = RowBatch([2], [["x"]])
    assert (batch.problems, batch.bytes_read) == ({}, 0)
