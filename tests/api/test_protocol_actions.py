"""``lc.protocols``: the families load on first use, every exported name resolves, and every
revert is a ``ProtocolError`` named as the protocol names it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import liqcascade as lc
from liqcascade.protocols.errors import ProtocolError

FAMILIES = ["aave", "comet", "liquity", "maker", "morpho", "llamma"]


def test_protocols_attribute_stays_light():
    code = ("import sys, liqcascade as lc; p = lc.protocols; "
            "assert 'numba' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules); "
            "assert set(%r) <= set(dir(p)); print('ok')" % FAMILIES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_exported_action_resolves(family):
    mod = getattr(lc.protocols, family)
    names = mod._ACTIONS
    assert names and set(names) <= set(dir(mod))
    for n in names:
        obj = getattr(mod, n)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ProtocolError)
            if obj.revert:
                assert obj.revert in obj().message() or obj.revert == obj.__name__
    actions = importlib.import_module(f"liqcascade.protocols.{family}.actions")
    assert set(actions.__all__) <= set(names) | {"Liquidation", "LiquidatedTrove", "Take"}


def test_crvusd_is_llamma():
    assert lc.protocols.crvusd is lc.protocols.llamma
    with pytest.raises(AttributeError):
        lc.protocols.nosuch


def test_revert_message_names_the_contract_error_and_values():
    L = lc.protocols.liquity
    exc = L.NothingToLiquidate(price=100.0)
    assert str(exc) == "NothingToLiquidate ('TroveManager: nothing to liquidate'): price=100"
    assert exc.price == 100.0 and exc.values == {"price": 100.0}
