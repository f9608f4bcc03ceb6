"""What the benchmark scripts share: the CPU they ran on, and writing one section of
``results.json`` without touching the others (run from ``benchmarks/``: ``from _machine import …``)."""

from __future__ import annotations

import json
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_section(path: Path, key: str, value) -> None:
    """Set ``key`` of the JSON file ``path`` to ``value`` (read-modify-write: the other keys
    belong to other benchmarks and stay as they are)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path} ({key})")
