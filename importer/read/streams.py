"""Inputs that can be read only once — standard input (``-``), a named pipe — as a file.

The reader opens its input several times (its bytes to decide the format, a scan
of the encoding, the rows), and the run reads it again for the journal's digest:
a pipe would hang on the second open. So such an input is copied once, as it
comes, into a private temporary folder (readable by the user only, removed when
the run ends) and read from there like any file.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from importer.errors import SourceError

__all__ = ["STDIN", "copy_stream", "is_stream", "same_file"]

#: The name that stands for standard input.
STDIN = "-"


def is_stream(path: str | os.PathLike[str]) -> bool:
    """``-`` (standard input), or a path that is a pipe or a character device."""
    if os.fspath(path) == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # the reader says what is wrong with it
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def same_file(path: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names ``other`` (by another spelling, a link, a hard link): an
    output that would be written over an input."""
    try:
        return Path(path).resolve() == Path(other).resolve() or (
            os.path.exists(path) and os.path.exists(other) and os.path.samefile(path, other)
        )
    except (OSError, ValueError):
        return False


def copy_stream(path: str | os.PathLike[str], folder: Path) -> Path:
    """Copy the stream into ``folder``; the copy's path (named after the input).

    Raises:
        SourceError: the stream cannot be read.
    """
    given = os.fspath(path)
    target = folder / ("stdin" if given == STDIN else Path(given).name or "input")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        with open(os.open(target, flags, 0o600), "wb") as out:
            if given == STDIN:
                if sys.stdin.isatty():
                    raise SourceError(
                        "-: standard input is the terminal; pipe a file in"
                        " (`cat leads.csv | octolane-import - ...`) or name the file"
                    )
                _copy_checked(sys.stdin.buffer, out, shown_name(given))
            else:
                with open(given, "rb") as stream:
                    _copy_checked(stream, out, given)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # writing the copy
            raise SourceError(
                f"{shown_name(given)}: cannot be copied into the temporary folder"
                f" {folder.parent} ({exc.strerror}): give the file's path instead, or set"
                " TMPDIR to a folder with room for it"
            ) from exc
        raise SourceError(f"{given}: cannot be read ({exc.strerror or exc})") from exc
    return target


def shown_name(given: str) -> str:
    """How messages name an input that was copied: ``standard input`` for ``-``."""
    return "standard input" if given == STDIN else given


def _copy_checked(stream: BinaryIO, out: BinaryIO, name: str) -> None:
    """Copy ``stream`` a MiB at a time, refusing as it comes what a file would be refused
    for at open: binary content, or a line past the limit with no break (an endless
    ``/dev/zero`` or pipe stops at once, not when the disk is full)."""
    from importer.read._sniff import MAX_LINE_BYTES, long_line_error, looks_like_text

    text: bool | None = None
    since_break, lines = 0, 1
    while chunk := stream.read(1 << 20):
        if text is None:
            text = looks_like_text(chunk, name)  # (raises for a binary file)
        if text:
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if last < 0:
                since_break += len(chunk)
            else:
                since_break = len(chunk) - 1 - last
                lines += chunk.count(b"\n") or chunk.count(b"\r")
            if since_break > MAX_LINE_BYTES:
                raise long_line_error(name, lines)
        out.write(chunk)
