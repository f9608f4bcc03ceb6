"""Atomic file writes: a temporary file in the destination's folder, then a rename, so a
failure (bad input found late, a full disk, Ctrl-C) leaves nothing half-written. Used by every
layer that writes user-facing files (reports, figures, position books, converted data)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_path(path, write: Callable[[str], object], *, mode: int = 0o644, mkdir: bool = True) -> Path:
    """Call ``write(tmp)`` with a temporary path beside ``path``, then rename it over ``path``.
    ``mode``: permissions of the result (``mkstemp`` makes 0600; outputs are meant to be shared).
    ``mkdir``: create the destination folder when missing."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if mkdir:
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_text_atomic(path, text: str, *, mkdir: bool = True) -> Path:
    """Write ``text`` (UTF-8) atomically, flushed to disk before the rename."""

    def w(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return atomic_path(path, w, mkdir=mkdir)
