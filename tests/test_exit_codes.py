"""Exit codes that mean one thing: 0 fine, 1 rows rejected, 2 usage or input, 3 aborted,
4 an internal error (a bug), through the console script's own entry point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import importer.run
from importer.cli import main

KEY = "sk_live_Exit_Codes_SECRET_42"


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["octolane-import", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return int(stopped.value.code or 0)


def write(folder: Path, text: str) -> Path:
    path = folder / "leads.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_0_1_2(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    good = write(tmp_path, "Email\njo@acme.com\n")
    assert run_main(monkeypatch, str(good), "-m", "hubspot", "--dry-run", "-q") == 0
    bad = write(tmp_path, "Email\njo@acme.com\nnot-an-email\n")
    assert run_main(monkeypatch, str(bad), "-m", "hubspot", "--dry-run", "-q") == 1
    assert run_main(monkeypatch, str(tmp_path / "none.csv"), "-m", "hubspot", "--dry-run") == 2
    assert run_main(monkeypatch, "--no-such-flag") == 2
    assert run_main(monkeypatch, "--version") == 0


def test_a_bug_exits_4_with_one_line_and_a_traceback_file(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OCTOLANE_API_KEY", KEY)

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom with {KEY.upper()} inside")  # another letter case too

    monkeypatch.setattr(importer.run, "run_import", broken)
    data = write(tmp_path, "Email\njo@acme.com\n")
    assert run_main(monkeypatch, str(data), "-m", "hubspot", "--dry-run") == 4

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("error: internal error (RuntimeError: boom with [API key] inside)")
    path = Path(re.search(r"the traceback is in (\S+):", lines[0]).group(1))
    try:
        text = path.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" in text and "in broken" in text
        assert KEY.lower() not in text.lower()
        assert path.stat().st_mode & 0o077 == 0  # the user's alone
    finally:
        path.unlink()
