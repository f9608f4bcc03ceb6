"""Errors for bad input: each names the file, the place in it and the reason; and errors of
the compiled kernels (:class:`KernelError`).

The CLI turns :class:`InputError` into a one-line message and exit status 2 (no traceback).
"""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: ``file`` (path or None), ``where`` (field, line or column), ``reason``."""

    def __init__(self, file: str | None, where: str | None, reason: str):
        self.file = None if file is None else str(file)
        self.where = where
        self.reason = reason
        super().__init__(self.message())

    def message(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.where:
            parts.append(self.where)
        head = ": ".join(parts)
        return f"{head}: {self.reason}" if head else self.reason


class KernelError(RuntimeError):
    """A compiled kernel stopped with an error or produced a non-finite result: a bug or an
    input the validation let through, never a partial result. The CLI prints one line
    ``error: [FILE: ]WHAT: REASON`` and exits with status 1."""

    def __init__(self, where: str, reason: str, file: str | None = None):
        self.file = None if file is None else str(file)
        self.where = where
        self.reason = reason
        super().__init__(self.message())

    def message(self) -> str:
        head = ": ".join(p for p in (self.file, self.where) if p)
        return f"{head}: {self.reason}" if head else self.reason


class EngineWarning(UserWarning):
    """Something the user must know about a result (events not recorded, …). The CLI prints
    each as one ``warning: …`` line on stderr."""
