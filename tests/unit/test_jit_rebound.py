"""``kernels._jit.Rebound``: copies of a call tree with a different kernel at its bottom.

Toy kernels live in a module of their own (written to a temporary folder) so the family's
globals are those of a real module, as in the engine: ``top`` calls ``middle``, which calls
``leaf_all`` by the name ``leaf``; ``side`` calls nothing that is rebound. Binding ``leaf_all``
to ``leaf_core`` (by identity, whatever the name) must copy ``middle`` and leave ``side``
shared, and a copy of the plain body ``top`` must call the copies.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from liqcascade.kernels import _jit

SOURCE = textwrap.dedent('''
    from liqcascade.kernels._jit import njit

    @njit(cache=False)
    def leaf_all(x):
        return x + 1.0

    @njit(cache=False)
    def leaf_core(x):
        return x + 100.0

    leaf = leaf_all

    @njit(cache=False)
    def side(x):
        return 2.0 * x

    @njit(cache=False)
    def middle(x):
        return leaf(x) + side(x)

    def top(x):
        return middle(x) - 1.0
''')


@pytest.fixture()
def toy(tmp_path):
    if _jit.DISABLED:
        pytest.skip("JIT disabled: nothing is copied")
    path = tmp_path / "toy_rebound.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("toy_rebound", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["toy_rebound"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("toy_rebound", None)


def test_the_copies_call_the_bound_kernel_and_the_originals_do_not(toy):
    fam = _jit.Rebound([toy.top], [(toy.leaf_all, toy.leaf_core)], "_core")
    top_core = _jit.njit(fam.variant(toy.top, "top_core"))
    top_all = _jit.njit(_jit.variant(toy.top, "top_all"))
    assert top_all(1.0) == 1.0 + 1.0 + 2.0 - 1.0
    assert top_core(1.0) == 1.0 + 100.0 + 2.0 - 1.0
    assert toy.middle(1.0) == 4.0  # the original is untouched


def test_only_what_reaches_the_bound_name_is_copied(toy):
    fam = _jit.Rebound([toy.top], [(toy.leaf_all, toy.leaf_core)], "_core")
    middle_core = fam.kernel(toy.middle)
    assert middle_core is not toy.middle
    assert middle_core.py_func.__qualname__ == "middle_core"
    assert fam.kernel(toy.side) is toy.side  # shared: it reaches no bound name
    assert fam.kernel(toy.leaf_all) is toy.leaf_all
    assert middle_core(1.0) == 1.0 + 100.0 + 2.0
    assert type(middle_core._cache).__name__ == "NullCache"  # cached only where the original is
