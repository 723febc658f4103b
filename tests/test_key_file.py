"""--api-key-file as people get it wrong: a key given in its place, a Notepad file, a
UTF-16 file; and a base URL whose port is out of range. Never the key in a message,
never an internal error."""

from __future__ import annotations

from test_import_e2e import invoke, write

from importer.sandbox import running_sandbox

KEY = "sk_live_SECRET123"
CSV = "Record ID,First Name,Last Name,Email\n1,Ann,Lee,ann@northwind-logistics.com\n"


def test_a_key_given_as_the_key_files_path_is_not_printed(tmp_path):
    data = write(tmp_path / "ok.csv", CSV)
    out = tmp_path / "r.csv"
    for args, env in (
        (["--api-key-file", KEY], {}),
        ([], {"OCTOLANE_API_KEY_FILE": KEY}),
    ):
        result = invoke(data, "--mapping", "hubspot", "--out", out, *args,
                        env={"OCTOLANE_API_KEY": "", **env})  # fmt: skip
        assert result.exit_code == 2
        assert KEY not in result.output
        assert "its value is not shown, as it may be the key itself" in result.output
    result = invoke(data, "--mapping", "hubspot", "--out", out, "--api-key-file",
                    tmp_path / "keys" / "octolane.txt", env={"OCTOLANE_API_KEY": ""})  # fmt: skip
    assert result.exit_code == 2 and "octolane.txt: no such file" in result.output


def test_key_files_saved_with_a_byte_order_mark_or_in_utf16_are_read(tmp_path):
    data = write(tmp_path / "ok.csv", CSV)
    with running_sandbox() as box:
        for name, content in (
            ("notepad.txt", b"\xef\xbb\xbf" + box.api_key.encode() + b"\r\n"),
            ("utf16.txt", (box.api_key + "\r\n").encode("utf-16")),
        ):
            key_file = tmp_path / name
            key_file.write_bytes(content)
            result = invoke(data, "--mapping", "hubspot", "--out", tmp_path / f"{name}.csv",
                            "--api-key-file", key_file, "--base-url", box.base_url,
                            env={"OCTOLANE_API_KEY": ""})  # fmt: skip
            assert result.exit_code == 0, result.output
            assert "1 imported" in result.output or "imported" in result.output
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"sk_\xe9\xff\n")
    result = invoke(data, "--mapping", "hubspot", "--out", tmp_path / "r.csv", "--api-key-file",
                    bad, env={"OCTOLANE_API_KEY": ""})  # fmt: skip
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output


def test_a_base_url_with_a_port_out_of_range_is_refused_up_front(tmp_path):
    data = write(tmp_path / "ok.csv", CSV)
    result = invoke(data, "--mapping", "hubspot", "--out", tmp_path / "r.csv", "--base-url",
                    "http://127.0.0.1:99999/v1", env={"OCTOLANE_API_KEY": KEY})  # fmt: skip
    assert result.exit_code == 2
    assert "its port 99999 is not between 1 and 65535" in result.output
    assert "internal error" not in result.output
