"""Running the CLI inside a test (several test folders share it; pytest puts ``tests/`` on the
import path through ``tests/conftest.py``)."""

from __future__ import annotations

from typer.testing import CliRunner

from liqcascade.cli import app

_runner = CliRunner()


def run(*args):
    """``(exit status, stdout, stderr)`` of ``liqcascade ARGS``; an exception other than the
    CLI's own exit fails the test with the command line."""
    r = _runner.invoke(app, [str(a) for a in args])
    try:
        out, err = r.stdout, r.stderr
    except ValueError:
        out, err = r.output, ""
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}") from r.exception
    return r.exit_code, out, err
