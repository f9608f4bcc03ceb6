"""Shared reading helpers for the data loaders: files, CSV, JSON, numbers, times.

Every problem raises :class:`liqcascade.errors.InputError` naming the file, the place
(``line N``, ``line N, column 'c'``, ``record N, field 'f'`` …) and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..flow.series import parse_time as _parse_time

__all__ = ["check_file", "read_text", "read_json", "CsvTable", "read_csv", "read_csv_text",
           "parse_float", "parse_time", "float_column", "time_column", "check_increasing"]


def check_file(path) -> tuple[Path, str]:
    """``(Path, name for messages)``; the file must exist, be a file and not be empty."""
    p = Path(path)
    fname = str(path)
    if not p.exists():
        raise InputError(fname, None, "file not found")
    if p.is_dir():
        raise InputError(fname, None, "is a directory, expected a file")
    try:
        size = p.stat().st_size
    except OSError as e:  # pragma: no cover - permissions
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    if size == 0:
        raise InputError(fname, None, "file is empty")
    return p, fname


def read_text(path) -> tuple[str, str]:
    """``(text, fname)`` of a UTF-8 file (a BOM is dropped)."""
    p, fname = check_file(path)
    try:
        raw = p.read_bytes()
    except OSError as e:  # pragma: no cover - permissions
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig"), fname
    except UnicodeDecodeError as e:
        raise InputError(fname, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_json(path):
    """``(parsed JSON, fname)``; a syntax error names its line and column."""
    text, fname = read_text(path)
    if not text.strip():
        raise InputError(fname, None, "file is empty")
    try:
        return json.loads(text), fname
    except json.JSONDecodeError as e:
        raise InputError(fname, f"line {e.lineno}, column {e.colno}", f"invalid JSON: {e.msg}") from None


class CsvTable:
    """A CSV file's header and data rows as text, with the physical line of every row."""

    def __init__(self, fname: str, header: list[str], rows: list[list[str]], lines: list[int]):
        self.fname = fname
        self.header = header
        self.norm = [h.strip() for h in header]
        self.rows = rows
        self.lines = lines

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, name: str) -> bool:
        return name in self.norm

    def index(self, name: str) -> int:
        return self.norm.index(name)

    def where(self, i: int, col: str | None = None) -> str:
        return f"line {self.lines[i]}" + (f", column '{col}'" if col else "")

    def column(self, name: str) -> list[str]:
        j = self.index(name)
        return [r[j] for r in self.rows]

    def require(self, columns, what: str) -> None:
        """Every name in ``columns`` must be in the header (exact, after stripping spaces)."""
        missing = [c for c in columns if c not in self.norm]
        if missing:
            raise InputError(self.fname, f"line {self.header_line}",
                             f"not a {what} file: missing column(s) {','.join(missing)}; expected "
                             f"{','.join(columns)}; found {','.join(self.header) or '(nothing)'}")

    header_line: int = 1


def read_csv(path, *, what: str = "CSV", required=None, allow_empty: bool = False) -> CsvTable:
    """Read a CSV file with a header row (see :func:`read_csv_text`)."""
    text, fname = read_text(path)
    return read_csv_text(text, fname, what=what, required=required, allow_empty=allow_empty)


def read_csv_text(text: str, fname: str, *, what: str = "CSV", required=None,
                  allow_empty: bool = False) -> CsvTable:
    """Parse CSV text: first non-blank line is the header; blank lines are skipped; every row
    must have as many fields as the header. ``required`` columns must be present; a file
    without data rows is an error unless ``allow_empty``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for rec in reader:
            if header is None:
                if rec and any(f.strip() for f in rec):
                    header = rec
                    header_line = reader.line_num
                continue
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if len(rec) != len(header):
                raise InputError(fname, f"line {reader.line_num}",
                                 f"expected {len(header)} fields ({','.join(header)}), found {len(rec)}")
            rows.append(rec)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise InputError(fname, f"line {reader.line_num}", f"malformed CSV: {e}") from None
    if header is None:
        raise InputError(fname, "line 1", f"file is empty; expected a {what} header")
    t = CsvTable(fname, header, rows, lines)
    t.header_line = header_line
    if required:
        t.require(required, what)
        dups = sorted({c for c in required if t.norm.count(c) > 1})
        if dups:
            raise InputError(fname, f"line {header_line}", f"repeated column(s) {','.join(dups)}")
    if not rows and not allow_empty:
        raise InputError(fname, f"line {header_line + 1}", f"no data rows after the {what} header")
    return t


def parse_float(fname: str, where: str, value, *, allow_nan: bool = False, min_value: float | None = None,
                positive: bool = False, allow_empty: bool = False) -> float:
    """A finite number (or NaN where allowed); ``min_value``/``positive`` bound it."""
    if isinstance(value, bool):
        raise InputError(fname, where, f"expected a number, got {value!r}")
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_empty:
            return math.nan
        raise InputError(fname, where, "missing value")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(fname, where, f"not a number: {value!r}") from None
    if math.isnan(x):
        if allow_nan:
            return x
        raise InputError(fname, where, "NaN is not allowed")
    if not math.isfinite(x):
        raise InputError(fname, where, f"must be finite, got {value!r}")
    if positive and not x > 0:
        raise InputError(fname, where, f"must be > 0, got {value!r}")
    if min_value is not None and x < min_value:
        raise InputError(fname, where, f"must be >= {min_value:g}, got {value!r}")
    return x


def parse_time(fname: str, where: str, value) -> float:
    """Seconds since the Unix epoch (UTC) from an ISO-8601 text (naive = UTC) or a number.

    Numbers are seconds, or milliseconds / microseconds when larger than 1e11 / 1e14 (that is,
    after the year 5138 in seconds), so Binance's ``open_time`` (ms) and ``timestamp_x`` (µs)
    work as they are.
    """
    return _parse_time(value, fname, where)


def float_column(t: CsvTable, name: str, **kw) -> np.ndarray:
    j = t.index(name)
    out = np.empty(len(t.rows))
    for i, r in enumerate(t.rows):
        out[i] = parse_float(t.fname, t.where(i, name), r[j], **kw)
    return out


def time_column(t: CsvTable, name: str) -> np.ndarray:
    j = t.index(name)
    return np.array([parse_time(t.fname, t.where(i, name), r[j]) for i, r in enumerate(t.rows)],
                    dtype=np.float64)


def check_increasing(fname: str, times: np.ndarray, where_of, *, strict: bool = True) -> None:
    """Times must increase (strictly unless ``strict=False``); name the first offending row."""
    if times.size < 2:
        return
    d = np.diff(times)
    bad = np.flatnonzero(d <= 0 if strict else d < 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(fname, where_of(i), "times must be increasing "
                         f"({'repeated' if d[i - 1] == 0 else 'goes back'} after the previous row)")
