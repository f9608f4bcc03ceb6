"""Read the fenced code blocks of a Markdown page: ``python`` snippets, the ``text`` block that
follows a snippet (the output it must print) and a ``<!-- needs: shared-data -->`` marker."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

DATA_MARK = "<!-- needs: shared-data -->"


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    code: str
    expected: str | None  # the text block right after it
    needs_data: bool


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```python":
            i += 1
            continue
        start = i
        j = i + 1
        while lines[j].strip() != "```":
            j += 1
        code = "\n".join(lines[start + 1:j]) + "\n"
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        needs = k >= 0 and lines[k].strip() == DATA_MARK
        n = j + 1
        while n < len(lines) and not lines[n].strip():
            n += 1
        expected = None
        end = j + 1
        if n < len(lines) and lines[n].strip() == "```text":
            m = n + 1
            while lines[m].strip() != "```":
                m += 1
            expected = "\n".join(lines[n + 1:m])
            end = m + 1
        out.append(Block(start + 1, code, expected, needs))
        i = end
    return out


def run_block(block: Block, ns: dict, name: str) -> str:
    """Execute one snippet in ``ns``; return what it printed, lines right-stripped."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(block.code, f"{name}:{block.line}", "exec"), ns)  # noqa: S102 - the docs are ours
    return "\n".join(line.rstrip() for line in buf.getvalue().rstrip("\n").splitlines())
