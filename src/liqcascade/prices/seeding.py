"""Per-path random streams: path ``p`` depends only on ``(seed, p)``, however paths are chunked."""

from __future__ import annotations

import numpy as np

from liqcascade.prices.common import input_error


def root_seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise input_error("seed", f"expected a non-negative integer or a numpy SeedSequence, got {seed!r}")
    if int(seed) < 0:
        raise input_error("seed", f"must be >= 0, got {int(seed)}")
    return np.random.SeedSequence(int(seed))


def path_seed_sequences(seed, path_offset: int, n_paths: int) -> list[np.random.SeedSequence]:
    """Per-path seed sequences for paths ``path_offset .. path_offset + n_paths - 1``.

    Path ``p`` gets exactly ``SeedSequence(seed).spawn(p + 1)[p]`` (same entropy, spawn key
    ``root.spawn_key + (p,)``), built directly so neither the offset's size nor any earlier
    ``spawn()`` call on a passed-in ``SeedSequence`` changes the result (children are indexed
    from 0, whatever ``n_children_spawned`` says).
    """
    root = root_seed_sequence(seed)
    return [
        np.random.SeedSequence(
            entropy=root.entropy, spawn_key=tuple(root.spawn_key) + (p,), pool_size=root.pool_size
        )
        for p in range(path_offset, path_offset + n_paths)
    ]
