"""A Windows-1252 file with rows pasted in from a UTF-8 one: those rows' accents read
as UTF-8, each such row says so, and nothing else changes (they were 'ZoÃ«' before,
sent as names, with no word)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_import_e2e import results_of

from importer.read import open_source
from importer.run import run_import

HEADER = "Record ID,First Name,Last Name,Email\n"
REAL = Path(__file__).resolve().parents[2] / "shared" / "real-exports"


def _mixed(path: Path, cp1252_rows: list[str], utf8_rows: list[str]) -> Path:
    data = HEADER.encode() + "".join(cp1252_rows).encode("cp1252")
    path.write_bytes(data + "".join(utf8_rows).encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "rows",
    [
        [f"{i},“Ann”,O’Neil{i},a{i}@acme.com\n" for i in range(1, 6)],  # quotes only
        [f"{i},Hélène,Lefèvre{i},h{i}@acme.fr\n" for i in range(1, 6)],  # accents
    ],
)
def test_a_utf8_row_in_a_cp1252_file_reads_as_written_and_says_so(tmp_path, rows):
    data = _mixed(tmp_path / "leads.csv", rows, ["9,Zoë,Müller,zoe@acme.com\n"])
    report = run_import(
        data, "hubspot", dry_run=True, results_path=tmp_path / "r.csv",
        requests_path=tmp_path / "q.jsonl",
    )  # fmt: skip
    assert report.source.encoding == "cp1252"  # (the UTF-8 letters made it look like cp1250)
    sent = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    zoe = next(r["body"] for r in sent if r["body"].get("email") == "zoe@acme.com")
    assert (zoe["first_name"], zoe["last_name"]) == ("Zoë", "Müller")
    lines = {r["row"]: r for r in results_of(tmp_path / "r.csv")}
    assert "read as UTF-8" in lines["7"]["warnings"] and "'ZoÃ«' as 'Zoë'" in lines["7"]["warnings"]
    assert not any("UTF-8" in lines[str(n)]["warnings"] for n in range(2, 7))
    with open_source(data) as source:
        cells = [row for batch in source.batches() for row in batch.rows]
    assert cells[0][1] == rows[0].split(",")[1]  # the cp1252 rows as they are


def test_plain_cp1252_text_and_a_forced_encoding_are_read_as_they_are(tmp_path):
    rows = ["1,JOÃO,SÃO PAULO,j@acme.com.br\n", "2,Ana,Müller,a@acme.de\n"]
    plain = _mixed(tmp_path / "plain.csv", rows, [])
    with open_source(plain) as source:
        cells = [row for batch in source.batches() for row in batch.rows]
        assert source.info.encoding == "cp1252"
    assert cells[0][1:3] == ["JOÃO", "SÃO PAULO"]
    mixed = _mixed(tmp_path / "mixed.csv", rows, ["9,Zoë,Müller,zoe@acme.com\n"])
    with open_source(mixed, encoding="cp1252") as source:
        cells = [row for batch in source.batches() for row in batch.rows]
    assert cells[-1][1] == "ZoÃ«"  # asked for: every byte as cp1252


@pytest.mark.skipif(not REAL.exists(), reason="the shared real exports are absent")
def test_the_real_salesforce_accounts_utf8_cities_read_as_written(tmp_path):
    path = REAL / "salesforce" / "data-export-Account.csv"
    with open_source(path) as source:
        batches = list(source.batches())
    cities = {cell for batch in batches for row in batch.rows for cell in row}
    assert "BOGOTÁ D.C." in cities and "BOGOTÃ\x81 D.C." not in cities
    notes = [text for batch in batches for text in batch.problems.values()]
    assert any("'BOGOTÃ\\x81 D.C.' as 'BOGOTÁ D.C.'" in text for text in notes)
    assert any("reads garbled: correct it in the file" in text for text in notes)


@pytest.mark.parametrize(
    ("names", "encoding"),
    [
        # Polish and Czech names in cp1250: cp1252 read them 'D¹browski', 'Dvoøák'
        (["Paweł Dąbrowski", "Małgorzata Wójcik", "Zdeněk Dvořák", "Jiří Černý"], "cp1250"),
        (["Zdeněk Dvořák", "Růžena Nováková", "Jiří Černý", "Věra Malá"], "cp1250"),
        # Western text with what cp1250 would read otherwise: it stays cp1252
        (["Søren Østergaard", "Hélène Très", "Lunedì Così", "¿qué tal?", "50 m³ Büro"], "cp1252"),
        # Hungarian in cp1250: cp1252 read ő ű as õ û ('Gergõ', 'Gyõr', 'Szûcs')
        (["Kovács Gergő", "Szőke Tünde", "Győr", "Szűcs Béla", "Horváth Zsófia"], "cp1250"),
        (["Kovács Gergő", "Szőke Tünde", "Győr"], "cp1250"),
        # Romanian in cp1250 (its ş ţ have a cedilla): cp1252 read 'Braºov', 'Tudoricã'
        (["Ştefan Popescu", "Braşov", "Timişoara", "Ioana Tudorică", "Constanţa"], "cp1250"),
        (["Ştefan Popescu", "Braşov", "Timişoara", "Tudorică"], "cp1250"),
        # Czech in ISO-8859-2: cp1250 read Š ž š as © ľ ą ('©»astný', '®iľka', 'Tomáą')
        (["Antonín Dvořák", "Jan Šťastný", "Jan Žižka", "Příbram", "Tomáš Růžička"], "iso8859-2"),
        (["Jan Šťastný", "Jan Žižka", "Příbram"], "iso8859-2"),
        (["Paweł Woźniak", "Agnieszka Świątek", "Łódź"], "iso8859-2"),
        # Portuguese and Estonian õ ã, French û are cp1252's own letters
        (["João Simões", "Maria da Conceição", "Luís Camões", "Guimarães"], "cp1252"),
        (["Tõnis Kõiv", "Mart Põld", "Õie Lõhmus", "Pärnu", "Õun"], "cp1252"),
        (["Tõnis Kõiv", "José Põld", "Õun", "Réka Tõnisson"], "cp1252"),
        (["François Bûcheron", "Brûlée", "le 3 août", "Hélène Très"], "cp1252"),
        (["Þórður Guðmundsson", "Dª María", "Nº 5", "2ª planta"], "cp1252"),
    ],
)
def test_a_central_european_file_is_read_in_its_code_page(tmp_path, names, encoding):
    rows = "".join(f"{n},x{i}@acme.com\n" for i, n in enumerate(names * 20))
    data = tmp_path / "people.csv"
    data.write_bytes(("Name,Email\n" + rows).encode(encoding))
    with open_source(data) as source:
        assert source.info.encoding == encoding
        cells = [row[0] for batch in source.batches() for row in batch.rows]
    assert cells[: len(names)] == names
