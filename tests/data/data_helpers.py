"""Shared helpers for tests/data: where the reference data lives, and the data CLI app.

The reference files are in ``../shared/data`` beside the repository (never copied into it);
tests that need them skip with a clear reason when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data").resolve()
EXAMPLES = REPO / "examples"


def need(*parts: str) -> Path:
    """The path ``DATA/parts…``; skip the test when it is absent."""
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (reference data beside the repository; absent here)")
    return p


def cli_app():
    """A Typer app holding only the data commands (``commands/data.py``), so the tests do not
    depend on ``commands.MODULES``."""
    import typer

    from liqcascade.commands import data as D

    app = typer.Typer(add_completion=False, no_args_is_help=True)
    D.register(app)
    return app


def invoke(app, *args):
    """``(exit_code, stdout, stderr)`` of one in-process CLI call."""
    from typer.testing import CliRunner

    r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args} raised {r.exception!r}") from r.exception
    try:
        out, err = r.stdout, r.stderr
    except ValueError:  # older Click without separate stderr capture
        out, err = r.output, ""
    return r.exit_code, out, err
