"""``--help`` of every command and sub-command reads as plain text: no ``<bool>`` beside on/off
flags (they take no value) and no reStructuredText left in from docstrings."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from liqcascade.cli import app

RST = ("``", ":func:`", ":class:`", ":mod:`", ":meth:`")


def _commands():
    root = typer.main.get_command(app)

    def walk(c, path):
        yield path
        for name, sub in sorted(getattr(c, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    return list(walk(root, []))


def test_help_has_no_bool_metavar_and_no_rst():
    runner = CliRunner()
    paths = _commands()
    assert len(paths) > 20  # the whole tree, sub-commands included
    bad = {}
    for path in paths:
        r = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert r.exit_code == 0, (path, r.output)
        found = [x for x in ("<bool>", *RST) if x in r.output]
        if found:
            bad[" ".join(path) or "(top)"] = found
    assert not bad, bad


def test_flags_still_listed_and_valued_options_keep_their_type():
    out = CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output
    assert "--json" in out and "print one JSON object" in out
    assert "<int range>" in out and "<path>" in out
