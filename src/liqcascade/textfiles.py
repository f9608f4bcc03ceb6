"""Reading small text files the scenario points at (price series, tick snapshots): the checks
and messages every such reader shares.

Every problem raises :class:`~liqcascade.errors.InputError` naming the file, the line and the
reason. A leaf module: it imports nothing of the package but the errors.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import InputError


def check_file(path) -> tuple[Path, str]:
    """``(Path, name for messages)`` of an existing regular file."""
    fname = os.fspath(path)
    p = Path(fname)
    if not p.exists():
        raise InputError(fname, None, "file not found")
    if not p.is_file():
        raise InputError(fname, None, "not a regular file")
    return p, fname


def read_text(path) -> tuple[str, str]:
    """``(text, name for messages)`` of a UTF-8 file (a BOM is dropped)."""
    p, fname = check_file(path)
    try:
        return p.read_text(encoding="utf-8-sig"), fname
    except UnicodeDecodeError:
        raise InputError(fname, None, "not UTF-8 text") from None
    except OSError as e:
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None


def headed_rows(path, header: Sequence[str]) -> Iterator[tuple[str, str, list[str]]]:
    """The data rows of a CSV file whose first non-blank line is exactly ``header`` (case and
    surrounding spaces ignored): ``(fname, "line N", cells)`` per row, cells stripped, blank
    lines skipped. A missing, empty or headless file, a row with another number of columns, or
    no data row at all raises :class:`InputError` naming the line."""
    text, fname = read_text(path)
    names = ",".join(header)
    if not text.strip():
        raise InputError(fname, "line 1", f"empty file (expected header '{names}')")
    want = [h.lower() for h in header]
    header_seen = False
    rows = 0
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        where = f"line {lineno}"
        if not row or all(not c.strip() for c in row):
            continue
        cells = [c.strip() for c in row]
        if not header_seen:
            if [c.lower() for c in cells] != want:
                raise InputError(fname, where, f"expected header '{names}', got {','.join(row)!r}")
            header_seen = True
            continue
        if len(cells) != len(header):
            raise InputError(fname, where, f"expected {len(header)} columns '{names}', got {len(cells)}")
        rows += 1
        yield fname, where, cells
    if not rows:
        raise InputError(fname, "line 2", "no data rows after the header")
