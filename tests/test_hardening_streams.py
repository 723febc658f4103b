"""Streams, forced encodings and export zips as people and machines get them wrong:
each is a one-line error naming what the user gave (exit 2), never an internal error,
a full disk or a private temporary path."""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_import_e2e import invoke, write

from importer.errors import SourceError, UsageError
from importer.read.streams import copy_stream
from importer.run.export import run_export

PIPELINE = "11111111-1111-4111-8111-111111111111"
CSV = "Record ID,First Name,Last Name,Email\n1,Ann,Lee,ann@northwind-logistics.com\n"
ACCOUNTS = b"Id,Name,Website\n001A,Northwind,http://www.northwind.com\n001B,Bright,bright.io\n"


def _cli(*args: str, stdin: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "importer", *args], stdin=stdin, capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_an_endless_binary_stream_is_refused_at_its_first_bytes(tmp_path):
    with open("/dev/zero", "rb") as zero:
        done = _cli("-", "--mapping", "hubspot", "--dry-run", "--out", str(tmp_path / "r.csv"),
                    stdin=zero)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "standard input: looks like a binary file" in done.stderr


def test_a_stream_with_no_line_break_stops_at_the_line_limit(tmp_path):
    with subprocess.Popen(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.buffer.write(b'a' * 65536)"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    ) as feed:  # fmt: skip
        try:
            done = _cli("-", "--mapping", "hubspot", "--dry-run", "--out",
                        str(tmp_path / "r.csv"), stdin=feed.stdout)  # fmt: skip
        finally:
            feed.kill()
    assert done.returncode == 2, done.stderr
    assert "standard input: line 1 is longer than 16 MiB with no line break" in done.stderr


def test_errors_about_standard_input_name_it_not_its_copy(tmp_path):
    bad = 'Record ID,First Name,Last Name,Email\n1,"Ann,Lee,ann@acme.com\n2,Bob,Ray,bob@acme.com\n'
    with write(tmp_path / "bad.csv", bad).open("rb") as stdin:
        done = _cli("-", "--mapping", "hubspot", "--dry-run", "--out", str(tmp_path / "r.csv"),
                    stdin=stdin)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "standard input: row 2: a quoted cell is never closed" in done.stderr
    assert "octolane-import-" not in done.stderr


def test_forced_utf16_without_a_byte_order_mark_reads_or_says_which_to_pass(tmp_path):
    data = tmp_path / "leads.csv"
    data.write_bytes(CSV.encode("utf-16-le"))
    result = invoke(data, "--mapping", "hubspot", "--dry-run", "--encoding", "utf-16",
                    "--out", tmp_path / "r.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    ascii_file = write(tmp_path / "ascii.csv", CSV)
    result = invoke(ascii_file, "--mapping", "hubspot", "--dry-run", "--encoding", "utf-16",
                    "--out", tmp_path / "r.csv")  # fmt: skip
    assert result.exit_code == 2
    assert "it has no byte-order mark; pass --encoding utf-16-le or utf-16-be" in result.output
    for codec in ("rot13", "base64", "zlib", "undefined", "punycode", "idna"):
        result = invoke(ascii_file, "--mapping", "hubspot", "--dry-run", "--encoding", codec,
                        "--out", tmp_path / "r.csv")  # fmt: skip
        assert result.exit_code == 2, (codec, result.output)
        assert "is not a text encoding" in result.output


def _zip(path: Path, data: bytes, method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("WE_00D_1/Account.csv", data)
    return path


def _bad_crc(path: Path) -> Path:
    raw = bytearray(_zip(path, ACCOUNTS).read_bytes())
    raw[raw.find(b"Northwind")] = ord("X")
    path.write_bytes(bytes(raw))
    return path


def _encrypted(path: Path) -> Path:
    raw = bytearray(_zip(path, ACCOUNTS).read_bytes())
    struct.pack_into("<H", raw, 6, 1)
    struct.pack_into("<H", raw, raw.rfind(b"PK\x01\x02") + 8, 1)
    path.write_bytes(bytes(raw))
    return path


def _unsupported(path: Path) -> Path:
    raw = bytearray(_zip(path, ACCOUNTS).read_bytes())
    struct.pack_into("<H", raw, 8, 6)  # "imploded": a method zipfile cannot read
    struct.pack_into("<H", raw, raw.rfind(b"PK\x01\x02") + 10, 6)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_bad_crc, "the zip is damaged"),
        (_encrypted, "is password-protected"),
        (_unsupported, "compression method is not supported"),
    ],
)
def test_a_damaged_or_locked_member_of_an_export_zip_is_named(tmp_path, make, said):
    archive = make(tmp_path / "export.zip")
    with pytest.raises(UsageError, match=said) as caught:
        run_export(archive, "salesforce-data-export", out_dir=tmp_path / "out", dry_run=True,
                   pipeline_id=PIPELINE)  # fmt: skip
    assert "export.zip: WE_00D_1/Account.csv" in str(caught.value)
    result = invoke(archive, "--mapping", "salesforce-data-export", "--dry-run",
                    "--pipeline-id", PIPELINE, "--out", tmp_path / "cli")  # fmt: skip
    assert result.exit_code == 2 and said in result.output


def test_a_zip_bomb_is_refused_as_it_unpacks(tmp_path):
    header = b"Id,Name,Website\n"
    archive = tmp_path / "export.zip"
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
        out.open("Account.csv", "w") as member,
    ):
        member.write(header)
        for _ in range(24):
            member.write(b"," * (1 << 20))  # 24 MiB of commas: packs to a few KiB
    with pytest.raises(UsageError, match="unpacks more than 200 times its packed size"):
        run_export(archive, "salesforce-data-export", out_dir=tmp_path / "out", dry_run=True,
                   pipeline_id=PIPELINE)  # fmt: skip


def test_a_member_whose_zip_claims_more_packed_bytes_than_it_has_is_damaged(tmp_path):
    """The central directory says 2 MiB packed, more than the whole zip: the reading
    stops where the zip ends (a bomb cannot borrow a bigger packed size this way), and
    the message says why, not '()'."""
    archive = tmp_path / "export.zip"
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
        out.open("Account.csv", "w") as member,
    ):
        member.write(b"Id,Name,Website\n")
        for _ in range(24):
            member.write(b"," * (1 << 20))
    raw = bytearray(archive.read_bytes())
    struct.pack_into("<I", raw, raw.rfind(b"PK\x01\x02") + 20, 2 << 20)
    archive.write_bytes(bytes(raw))
    assert zipfile.ZipFile(archive).getinfo("Account.csv").compress_size == 2 << 20
    with pytest.raises(UsageError) as caught:
        run_export(archive, "salesforce-data-export", out_dir=tmp_path / "out", dry_run=True,
                   pipeline_id=PIPELINE)  # fmt: skip
    assert "export.zip: Account.csv: cannot be extracted, the zip is damaged (it ends before" in (
        str(caught.value)
    )


def test_an_unreadable_member_is_reported_under_the_zips_name(tmp_path):
    archive = _zip(tmp_path / "export.zip", b'Id,Name,Website\n001A,"Acme,acme.com\n001B,B,b.com\n')
    report = run_export(archive, "salesforce-data-export", out_dir=tmp_path / "out",
                        dry_run=True, pipeline_id=PIPELINE)  # fmt: skip
    assert report.failed, report
    name, message = report.failed[0]
    assert name == "Account.csv"
    assert message.startswith(f"{archive}: Account.csv: row 2: a quoted cell is never closed")
    assert "/tmp" not in message.replace(str(tmp_path), "")
    assert SourceError  # (the part's SourceError is what the report keeps)


def test_a_closed_row_spool_never_falls_back_to_the_shared_temp_folder(tmp_path, monkeypatch):
    import tempfile
    from contextlib import ExitStack

    from importer.read.spool import RowSpool

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "rows.csv").write_text("someone,else\n")
    with ExitStack() as stack:
        spool = RowSpool.temporary(stack)
        with spool.writer() as write:
            write([2], [["jo", "acme"]])
        assert list(spool.rows()) == [(2, ["jo", "acme"])]
    with pytest.raises(ValueError, match="closed"):
        list(spool.rows())
    with pytest.raises(ValueError, match="closed"), spool.writer():
        pass
    assert (tmp_path / "rows.csv").read_text() == "someone,else\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full")
def test_no_room_to_copy_a_stream_is_a_clear_error(tmp_path):
    """The copy of a stream fills the disk: the message says so, not that the input
    cannot be read."""
    data = write(tmp_path / "leads.csv", "Email\njo@acme.com\n")
    folder = tmp_path / "tmp" / "copy"
    folder.mkdir(parents=True)
    (folder / "leads.csv").symlink_to("/dev/full")  # writes fail: no space left on device
    with pytest.raises(SourceError) as caught:
        copy_stream(data, folder)
    assert str(caught.value) == (
        f"{data}: cannot be copied into the temporary folder {tmp_path / 'tmp'} (No space"
        " left on device): give the file's path instead, or set TMPDIR to a folder with"
        " room for it"
    )
