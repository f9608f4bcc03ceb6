"""Every snippet of docs/api.md runs, in order, and prints what the page says it prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from doc_blocks import blocks, run_block

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "api.md"
DATA = (REPO / ".." / "shared" / "data").resolve()

pytest.importorskip("polars")
pytest.importorskip("plotly")


@pytest.fixture
def docs_cwd(tmp_path, monkeypatch):
    """A folder holding the repository's examples/ (the snippets' relative paths), so the run
    store the Monte Carlo snippets create lands in a temporary folder."""
    os.symlink(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(blocks_, docs_cwd):
    ns: dict = {"__name__": "__api_docs__"}
    for b in blocks_:
        out = run_block(b, ns, "docs/api.md")
        if b.expected is not None:
            assert out == b.expected.rstrip(), f"docs/api.md:{b.line}: printed\n{out}\n--- the page says\n{b.expected}"


def test_doc_has_snippets():
    bs = blocks(DOC)
    assert len(bs) >= 10
    assert sum(b.expected is not None for b in bs) >= 8


def test_api_doc_snippets(docs_cwd):
    _check([b for b in blocks(DOC) if not b.needs_data], docs_cwd)


def test_api_doc_snippets_on_shared_data(docs_cwd, monkeypatch):
    if not DATA.is_dir():
        pytest.skip("needs ../shared/data (reference data beside the repository; absent here)")
    monkeypatch.setenv("LIQCASCADE_DATA", str(DATA))
    marked = [b for b in blocks(DOC) if b.needs_data]
    assert marked, "docs/api.md has no snippet on the shared data"
    _check(marked, docs_cwd)


def test_readme_python_snippets(docs_cwd):
    bs = blocks(REPO / "README.md")
    assert bs, "the README shows the Python API"
    ns: dict = {"__name__": "__readme__"}
    for b in bs:
        out = run_block(b, ns, "README.md")
        if b.expected is not None:
            assert out == b.expected.rstrip()
    assert ns["c"].critical_shock is not None and ns["r"].paths == 100
