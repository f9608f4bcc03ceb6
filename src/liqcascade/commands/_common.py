"""What every command shares: console, error handling, output paths, scenario loading.

The CLI (``cli.py``) and the command groups in this package import these helpers from here, so
no command imports ``cli`` (which imports the commands). JSON is printed and written through
:func:`liqcascade.jsonout.dumps` (strict JSON: no ``NaN`` or ``Infinity``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ..errors import InputError, KernelError


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def console():
    """A rich console; when output is not a terminal, wide enough that tables don't fold."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=150)


def fail(msg: str, code: int = 2):
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


class scenario_file:
    """Attach the scenario's file name to input errors raised while building or running it."""

    def __init__(self, path):
        self.path = str(path)

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if isinstance(exc, InputError) and exc.file is None and not (exc.where or "").startswith("--"):
            raise InputError(self.path, exc.where, exc.reason) from None
        if isinstance(exc, KernelError) and exc.file is None:
            exc.file = self.path
        return False


def load_compiled(path: Path):
    from ..engine.compile import compile_scenario
    from ..scenario.load import load_scenario

    sc, base = load_scenario(path)
    with scenario_file(path):
        return compile_scenario(sc, base)


def check_out_path(out: Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be created: an existing ancestor that is a file."""
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(str(parent), option, "exists and is not a directory")
            return


def guard(fn):
    """Run a command body; bad input becomes a one-line message and exit status 2, an error
    inside a compiled kernel (:class:`KernelError`) one line and exit status 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **k):
        import warnings

        import numpy as np

        try:
            # NumPy's floating-point warnings never reach the terminal: results are checked for
            # non-finite values where they are made (KernelError) and JSON carries none
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return fn(*a, **k)
        except InputError as exc:
            fail(exc.message())
        except KernelError as exc:  # a compiled loop stopped: an error, never a partial result
            if os.environ.get("LIQCASCADE_DEBUG"):
                raise
            fail(exc.message(), 1)
        except OSError as exc:  # an output path that cannot be written
            where = exc.filename or "output"
            fail(f"{where}: cannot write: {exc.strerror or exc}")
        except (KeyboardInterrupt, BrokenPipeError):
            raise typer.Exit(130)

    return wrapper
