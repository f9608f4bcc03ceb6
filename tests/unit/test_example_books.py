"""Every generator in ``examples/`` (``make_*.py``) reproduces the files it wrote, byte for byte:
the committed books are what their scripts make, so a change to the samplers cannot leave them
stale unnoticed. Each script runs on a copy in a temporary folder, with the helper modules they
share (``_*.py``; they write next to themselves)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GENERATORS = sorted(EXAMPLES.glob("make_*.py"))
#: example data files written by a command (named in the scenario that uses them)
BY_COMMAND = {
    "compare_positions.csv": ["positions", "synth", "--n", "1500", "--seed", "11"],  # compare.toml
}
#: example data files with no generator, and why
BY_HAND = {
    "minimal_positions.csv": "40 positions chosen by hand for the README's worked example",
}


def _generate(script: Path, tmp_path: Path) -> dict[str, Path]:
    work = tmp_path / script.stem
    work.mkdir()
    shutil.copy(script, work / script.name)
    for helper in EXAMPLES.glob("_*.py"):  # what the generators share (_books.py)
        shutil.copy(helper, work / helper.name)
    out = subprocess.run([sys.executable, str(work / script.name)], capture_output=True, text=True, timeout=600,
                         cwd=work)
    assert out.returncode == 0, out.stderr
    return {p.name: p for p in work.iterdir() if p.is_file() and p.suffix in (".csv", ".parquet")}


@pytest.mark.parametrize("script", GENERATORS, ids=lambda p: p.name)
def test_generator_reproduces_its_committed_files(script, tmp_path):
    made = _generate(script, tmp_path)
    assert made, f"{script.name} wrote no file"
    for name, path in made.items():
        committed = EXAMPLES / name
        assert committed.is_file(), f"{script.name} writes {name}, which is not committed in examples/"
        assert path.read_bytes() == committed.read_bytes(), (
            f"examples/{name} is not what {script.name} writes: run `python examples/{script.name}` and "
            "review the diff (results of the examples using it change too: regenerate the golden files)")


@pytest.mark.parametrize("name", sorted(BY_COMMAND))
def test_command_reproduces_its_committed_file(name, tmp_path):
    from typer.testing import CliRunner

    from liqcascade.cli import app

    out = tmp_path / name
    r = CliRunner().invoke(app, [*BY_COMMAND[name], "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == (EXAMPLES / name).read_bytes(), f"examples/{name} is not what `liqcascade " \
        f"{' '.join(BY_COMMAND[name])}` writes"


def test_every_example_data_file_has_a_generator_or_a_reason(tmp_path):
    made = set()
    for script in GENERATORS:
        src = script.read_text()
        made |= {p.name for p in EXAMPLES.glob("*.csv") if p.name in src or p.stem in src}
    data = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".csv", ".parquet")}
    orphans = data - made - set(BY_HAND) - set(BY_COMMAND)
    assert not orphans, f"example data files no script writes: {sorted(orphans)}"
    assert set(BY_HAND) <= data
