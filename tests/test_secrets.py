"""The key stays secret: --api-key-file, a warning for --api-key on the command line,
no credentials in URLs, scrubbing in any letter case, output files the user's alone."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from importer.cli import cli
from importer.errors import UsageError
from importer.sandbox import running_sandbox
from importer.send.client import InboundClient, check_base_url

DATA = "Email,First Name\njo@acme.com,Jo\nnot-an-email,Al\n"
MAPPING = "contact:\n  email: {column: Email, transforms: [email]}\n"


def files(folder: Path) -> tuple[Path, Path]:
    data, mapping = folder / "leads.csv", folder / "m.yaml"
    data.write_text(DATA, encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    return data, mapping


def test_the_key_from_a_file_and_private_output_files(tmp_path):
    data, mapping = files(tmp_path)
    with running_sandbox() as box:
        key_file = tmp_path / "key.txt"
        key_file.write_text(box.api_key + "\n", encoding="utf-8")
        out = tmp_path / "out" / "r.results.csv"
        result = CliRunner().invoke(
            cli,
            [str(data), "-m", str(mapping), "--base-url", box.base_url, "--api-key-file",
             str(key_file), "--out", str(out), "-q"],
            env={"OCTOLANE_API_KEY": ""},
        )  # fmt: skip
        assert result.exit_code == 1, result.output  # one row is not an e-mail
        assert "warning: --api-key" not in result.output
        for path in (
            out,
            tmp_path / "out" / "r.failures.csv",
            tmp_path / "out" / "r.journal.sqlite",
        ):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_key_on_the_command_line_warns(tmp_path):
    data, mapping = files(tmp_path)
    result = CliRunner().invoke(
        cli, [str(data), "-m", str(mapping), "--dry-run", "-q", "--api-key", "sk_test_visible",
              "--out", str(tmp_path / "r.csv")],
    )  # fmt: skip
    assert "other users of this machine" in result.stderr
    assert "sk_test_visible" not in result.output


def test_both_or_an_empty_key_file_are_usage_errors(tmp_path):
    data, mapping = files(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    runner = CliRunner()
    both = runner.invoke(cli, [str(data), "-m", str(mapping), "--api-key", "x",
                               "--api-key-file", str(empty)])  # fmt: skip
    assert both.exit_code == 2 and "not both" in both.output
    none = runner.invoke(cli, [str(data), "-m", str(mapping), "--api-key-file", str(empty)])
    assert none.exit_code == 2 and "holds no API key" in none.output


@pytest.mark.parametrize(
    "url", ["https://user:Pa55word@enrich.octolane.com/v1", "http://:Pa55word@localhost/v1"]
)
def test_credentials_in_a_url_are_refused_without_printing_them(url):
    with pytest.raises(UsageError) as refused:
        check_base_url(url)
    assert "Pa55word" not in str(refused.value)
    assert "user name or password" in str(refused.value)


def test_the_key_is_scrubbed_from_echoed_text_in_any_letter_case():
    key = "sk_live_MixedCase_Secret_9"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"bad key {key.lower()} and {key.upper()}")

    async def go() -> str:
        async with InboundClient(key, transport=httpx.MockTransport(echo)) as client:
            try:
                await client.create_account({"domain": "acme.com"})
            except Exception as exc:  # the ServerError the 500 becomes
                return str(exc)
        return ""

    message = asyncio.run(go())
    assert message and key.lower() not in message.lower()


def test_with_no_key_anywhere_a_person_is_asked_without_echo(tmp_path, monkeypatch):
    data, mapping = files(tmp_path)
    monkeypatch.setattr("importer.cli._interactive", lambda: True)
    with running_sandbox() as box:
        result = CliRunner().invoke(
            cli,
            [str(data), "-m", str(mapping), "--base-url", box.base_url, "-q",
             "--out", str(tmp_path / "r.csv")],
            env={"OCTOLANE_API_KEY": ""}, input=box.api_key + "\n",
        )  # fmt: skip
        assert result.exit_code == 1, result.output  # imported, one row rejected
        assert "Octolane API key:" in result.stderr
        assert box.api_key not in result.output
        stats = httpx.get(f"{box.url}/_sandbox/stats", headers={"X-API-Key": box.api_key})
        assert stats.json()["data"]["records"]["contacts"] == 1
