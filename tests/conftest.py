"""Shared fixtures: small CSV files written per test, the shared real exports."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_EXPORTS = REPO.parent / "shared" / "real-exports"
PIPELINE_ID = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a CSV from text (dedented lines) and return its path."""

    def write(text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        lines = [line.strip() for line in text.strip().splitlines()]
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return path

    return write


@pytest.fixture
def write_mapping(tmp_path: Path):
    def write(text: str, name: str = "mapping.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
