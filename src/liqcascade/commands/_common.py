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


def warn_start(c) -> None:
    """One ``warning:`` line on stderr for positions already liquidatable at t = 0 and for debt
    without collateral (``engine.start``); the same facts are in the notes and the JSON."""
    st = getattr(c, "start", None) or {}
    n = st.get("liquidatable_at_start", {}).get("positions", 0)
    if n:
        typer.echo(f"warning: {n:,} position(s) are liquidatable at t = 0 (HF < 1 at the initial prices)", err=True)
    pb = st.get("pre_existing_bad_debt", {})
    if pb.get("positions"):
        typer.echo(f"warning: {pb['positions']:,} position(s) have debt and no collateral: "
                   f"{pb['value']:,.2f} of pre-existing bad debt", err=True)


def load_compiled(path: Path, ids: bool = True):
    """Load and compile a scenario; ``ids=False`` when the command names no position."""
    from ..engine.compile import compile_scenario
    from ..scenario.load import load_scenario

    sc, base = load_scenario(path)
    with scenario_file(path):
        return compile_scenario(sc, base, ids=ids)


def check_out_path(out: Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be created: an existing ancestor that is a file."""
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(str(parent), option, "exists and is not a directory")
            return


class _compile_progress:
    """While a command runs: kernels that compile for the first time (an empty or outdated numba
    cache) show ``compiling kernels (first run only, ~N s)`` and a progress bar on stderr
    (:mod:`liqcascade.engine.warmup`)."""

    def __enter__(self):
        from ..engine import warmup

        self.prev = warmup.REPORTER
        self.progress = None
        warmup.REPORTER = self.report
        return self

    def report(self, kind, *args):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        if kind == "start":
            groups, seconds, functions = args
            con = Console(stderr=True)
            con.print(f"compiling kernels (first run only, ~{max(1, round(seconds))} s)")
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                     TimeElapsedColumn(), console=con, transient=not con.is_terminal)
            self.progress.start()
            self.task = self.progress.add_task(", ".join(groups), total=functions)
        elif self.progress is None:
            return
        elif kind == "tick":
            total = self.progress.tasks[0].total
            self.progress.update(self.task, completed=min(args[0], total - 1))
        elif kind == "done":
            self.progress.update(self.task, completed=self.progress.tasks[0].total)
            self.progress.stop()
            self.progress.console.print(f"kernels compiled in {args[0]:.1f} s (cached for the next runs)")
            self.progress = None

    def __exit__(self, *exc):
        from ..engine import warmup

        if self.progress is not None:
            self.progress.stop()
        warmup.REPORTER = self.prev
        return False


def guard(fn):
    """Run a command body; bad input becomes a one-line message and exit status 2, an error
    inside a compiled kernel (:class:`KernelError`) one line and exit status 1. Engine warnings
    print as one ``warning: ...`` line; first-run kernel compiles show a progress bar."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **k):
        import warnings

        import numpy as np

        from ..errors import EngineWarning

        previous = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, EngineWarning):
                typer.echo(f"warning: {message}", err=True)
            else:
                previous(message, category, filename, lineno, file, line)

        try:
            # NumPy's floating-point warnings never reach the terminal: results are checked for
            # non-finite values where they are made (KernelError) and JSON carries none
            with np.errstate(all="ignore"), warnings.catch_warnings(), _compile_progress():
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("always", EngineWarning)
                warnings.showwarning = show
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
