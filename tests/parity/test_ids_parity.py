"""Parity: the compiled id hashing kernel vs its plain-Python twin, on generated ids."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.kernels import ids as K
from liqcascade.kernels import ids_py as P

SETTINGS = settings(deadline=None, max_examples=150)

# every code point str.isspace() knows, some near misses, ASCII, multi-byte and astral text
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
ALPHABET = st.one_of(
    st.sampled_from(SPACES),
    st.sampled_from(["\x1b", "\x84", "\x86", "\u200b", "\u2060", "\ufeff", "é", "€", "𝄞", "x", "0", ","]),
    st.characters(codec="utf-8"),
)
IDS = st.lists(st.text(ALPHABET, max_size=12), max_size=30)


def _arrow_like(ids: list[str]):
    data = b"".join(s.encode("utf-8") for s in ids)
    off = np.zeros(len(ids) + 1, np.int64)
    np.cumsum([len(s.encode("utf-8")) for s in ids], out=off[1:])
    return off, np.frombuffer(data, np.uint8).copy() if data else np.zeros(1, np.uint8)


@SETTINGS
@given(IDS, st.integers(0, 3))
def test_hash_ids_matches_twin(ids, start):
    off, data = _arrow_like(ids)
    out = np.zeros(start + len(ids), np.uint64)
    status = K.hash_ids(off, data, out, start)
    ref, ref_status = P.hash_ids_py(ids)
    assert status == ref_status
    assert out[start:].tolist() == ref


@SETTINGS
@given(st.lists(st.integers(0, 20), max_size=40))
def test_first_repeat_matches_twin(values):
    v = np.sort(np.array(values, dtype=np.uint64))
    assert K.first_repeat(v) == P.first_repeat_py(v.tolist())


def test_status_names_each_problem():
    for ids, want in ((["a", "b"], K.ID_OK), (["a", ""], K.ID_EMPTY), ([" a"], K.ID_SPACE),
                      (["a\u3000"], K.ID_SPACE), (["a", "", "b\t"], K.ID_SPACE), (["é", "𝄞"], K.ID_OK)):
        off, data = _arrow_like(ids)
        assert K.hash_ids(off, data, np.zeros(len(ids), np.uint64), 0) == want, ids


def test_equal_ids_equal_hashes_distinct_ids_distinct_hashes():
    ids = [f"0x{i:040x}" for i in range(20000)] + ["0x" + "0" * 40]
    off, data = _arrow_like(ids)
    h = np.zeros(len(ids), np.uint64)
    K.hash_ids(off, data, h, 0)
    assert h[0] == h[-1]
    assert np.unique(h[:-1]).size == 20000
