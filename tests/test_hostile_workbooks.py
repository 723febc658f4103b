"""The attack suite, workbooks: tiny files that ask for a huge grid, zip bombs, a giant
shared string, millions of cells; and ODS, read like any workbook. Each runs the console
entry point in a child whose peak memory is measured (``pytest -s`` prints it)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from test_hostile_inputs import run_measured

from importer.read.source import WorkbookLimits, open_source

CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    'sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><dimension ref="{dim}"/><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
HEADER_ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Name</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>ann@acme.com</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>Ann</t></is></c></row>'
)
SST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
)
SMALL_CI = bool(os.environ.get("CI"))


def xlsx(path: Path, rows: str = "", *, dim: str = "A1:B2", parts=None) -> Path:
    """A minimal workbook; ``parts`` maps extra members to text or to a chunk writer."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CT)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr(
            "xl/worksheets/sheet1.xml", SHEET_HEAD.format(dim=dim) + HEADER_ROWS + rows + SHEET_TAIL
        )
        for member, content in (parts or {}).items():
            if callable(content):
                with archive.open(member, "w", force_zip64=True) as out:
                    content(out)
            else:
                archive.writestr(member, content)
    return path


def big_sheet(path: Path, cells: int) -> Path:
    """``cells`` cells in rows of 10: a genuine sheet of that size (compressed ~1:100)."""

    def write(out) -> None:
        out.write(SHEET_HEAD.format(dim="A1:J1").encode())
        row = "".join(f'<c r="{c}{{n}}"><v>1</v></c>' for c in "ABCDEFGHIJ")
        for start in range(1, cells // 10 + 1, 10_000):
            block = "".join(
                f'<row r="{n}">{row.format(n=n)}</row>' for n in range(start, start + 10_000)
            )
            out.write(block.encode())
        out.write(SHEET_TAIL.encode())

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CT)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            write(out)
    return path


def dry_run(path: Path, *extra: object) -> tuple[int, str, str, float, float]:
    return run_measured(path, "-m", "hubspot", "--dry-run", "--out", path.with_suffix(".r.csv"),
                        "-q", *extra)  # fmt: skip


def refused(path: Path, says: str, *extra: object, peak_mib: float = 300) -> None:
    for command in (("import",), ("map",)):
        if command == ("map",):
            code, _, stderr, peak, _ = run_measured("map", path, *extra)
        else:
            code, _, stderr, peak, _ = dry_run(path, *extra)
        assert code == 2, stderr
        assert "Traceback" not in stderr and "panicked" not in stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert says in stderr, stderr
        assert peak < peak_mib


def test_one_cell_at_the_last_row_and_column(tmp_path):
    # 1.6 KB: calamine would allocate a grid of 17 billion cells and abort the process
    path = xlsx(
        tmp_path / "far.xlsx",
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
        dim="A1:XFD1048576",
    )
    assert path.stat().st_size < 2000
    refused(path, "spans 1,048,576 rows × 16,384 columns")


@pytest.mark.parametrize(
    ("cell", "span"),
    [("CV1048576", "1,048,576 rows × 100 columns"), ("ZZZ40000", "40,000 rows × 18,278 columns")],
)
def test_stray_cells_that_ask_for_a_big_grid(tmp_path, cell, span):
    row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    path = xlsx(
        tmp_path / "stray.xlsx",
        f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    refused(path, span)


def test_a_reference_spelled_with_a_tab_is_still_seen(tmp_path):
    path = xlsx(
        tmp_path / "tab.xlsx",
        '<row r="1048576"><c\tr="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    refused(path, "spans 1,048,576 rows × 16,384 columns")


def test_a_stray_cell_within_the_limit_is_read(tmp_path):
    path = xlsx(
        tmp_path / "near.xlsx",
        '<row r="3"><c r="AB3" t="inlineStr"><is><t>x</t></is></c></row>',
        dim="A1:XFD1048576",  # a declared dimension is not what counts
    )
    code, stdout, stderr, _, _ = dry_run(path)
    assert code == 1, stderr  # row 3 has no e-mail
    assert "rows: 1 valid" in stdout


def test_a_giant_shared_string(tmp_path):
    size = 600 << 20 if SMALL_CI else 1 << 30

    def write(out) -> None:
        out.write(SST_HEAD.encode())
        chunk = b"a" * (1 << 20)
        for _ in range(size >> 20):
            out.write(chunk)
        out.write(b"</t></si></sst>")

    path = xlsx(tmp_path / "text.xlsx", parts={"xl/sharedStrings.xml": write})
    assert path.stat().st_size < 4 << 20
    refused(path, "unpacks")  # caught by its ratio before any of it is read
    # with the ratio allowed, the size of the text is the limit
    code, _, stderr, _, _ = dry_run(path, "--max-shared-strings-mib", "100")
    assert code == 2 and "the workbook's text (shared strings) is" not in stderr


def test_the_shared_strings_size_limit(tmp_path):
    def write(out) -> None:
        out.write(SST_HEAD.encode())
        out.write(os.urandom(3 << 20).hex().encode())  # 6 MiB that barely compresses
        out.write(b"</t></si></sst>")

    path = xlsx(tmp_path / "text.xlsx", parts={"xl/sharedStrings.xml": write})
    refused(path, "the workbook's text (shared strings) is 6 MiB uncompressed",
            "--max-shared-strings-mib", "5")  # fmt: skip
    code, _, stderr, _, _ = dry_run(path, "--max-shared-strings-mib", "7")
    assert code == 0, stderr


@pytest.mark.slow
def test_millions_of_cells(tmp_path):
    cells = 21_000_000 if not SMALL_CI else 2_100_000
    extra = () if not SMALL_CI else ("--max-cells", "2000000")
    path = big_sheet(tmp_path / "cells.xlsx", cells)
    refused(path, "holds more than", *extra)


def test_a_member_that_claims_to_be_small(tmp_path):
    # The zip's header says 100 bytes; the stream is 50 MiB of one repeated byte.
    path = xlsx(tmp_path / "liar.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/blob.bin", b"\0" * (50 << 20))
    refused(path, "unpacks")


def test_a_flag_raises_the_limit(tmp_path):
    path = xlsx(
        tmp_path / "wide.xlsx",
        '<row r="3"><c r="A3" t="inlineStr"><is><t>bo@acme.com</t></is></c>'
        '<c r="ZZ3" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    refused(path, "the limit is 1,000 cells", "--max-cells", "1000")
    code, stdout, stderr, _, _ = dry_run(path, "--max-cells", "5000")
    assert code == 0, stderr
    assert "rows: 2 valid" in stdout
    with pytest.raises(Exception, match="spans 3 rows × 702 columns"):
        open_source(path, limits=WorkbookLimits(max_cells=1000))


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:'
    'tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
    'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
    '"text/xml"/></manifest:manifest>'
)
ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
    'names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
    'xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Data">'
)
ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"


def ods_cell(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeated}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def ods(path: Path, rows: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as _:
            pass
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        archive.writestr("content.xml", ODS_HEAD + rows + ODS_TAIL)
    return path


def test_an_ods_workbook_is_read(tmp_path):
    rows = "".join(
        f"<table:table-row>{ods_cell(a)}{ods_cell(b)}</table:table-row>"
        for a, b in [("Email", "First Name"), ("ann@acme.com", "Ann"), ("bo@beta.io", "Bo")]
    )
    # LibreOffice pads every sheet with empty repeated rows and cells: they cost nothing
    rows += (
        '<table:table-row table:number-rows-repeated="1048573"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
    )
    path = ods(tmp_path / "people.ods", rows)
    with open_source(path) as source:
        assert source.info.format == "ods"
        assert source.info.columns == ("Email", "First Name")
        assert [b.rows for b in source.batches()] == [
            [["ann@acme.com", "Ann"], ["bo@beta.io", "Bo"]]
        ]
    code, stdout, stderr, peak, _ = dry_run(path)
    assert code == 0, stderr
    assert "rows: 2 valid" in stdout
    assert peak < 300


def test_an_ods_whose_repeats_ask_for_a_huge_grid(tmp_path):
    rows = f"<table:table-row>{ods_cell('Email')}{ods_cell('Name')}</table:table-row>"
    rows += (
        f'<table:table-row table:number-rows-repeated="1000000">{ods_cell("x", 16384)}'
        "</table:table-row>"
    )
    path = ods(tmp_path / "repeats.ods", rows)
    assert path.stat().st_size < 2000
    refused(path, "the workbook holds more than 20,000,000 cells")
