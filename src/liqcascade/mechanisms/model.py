"""The scenario's ``[mechanisms]`` table, built from the registry (:data:`liqcascade.mechanisms.MECHANISMS`):
one optional field per mechanism, its model the ``CONFIG`` of the mechanism's ``model.py``.
A sub-table's presence switches the mechanism on.

Mechanisms act on the Aave-rule protocols of the scenario (``applies_to`` narrows that list); the
protocol units carry their own versions where the real protocol has one (Maker's ``Hole``/``hole``
and ClipperMom, Liquity's stability pool, a perp venue's insurance fund and ADL) — see
``docs/mechanisms.md``. Every field has a description: ``liqcascade mechanisms`` prints them.
"""

from __future__ import annotations

from pydantic import create_model

from ..strict import Strict
from . import MECHANISMS, config_class


class _Table(Strict):
    def active(self) -> list[str]:
        """The names of the mechanisms that are on, in table order."""
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


Mechanisms = create_model(
    "Mechanisms", __base__=_Table, __module__=__name__,
    **{name: (config_class(name) | None, None) for name in MECHANISMS})
Mechanisms.__doc__ = "The ``[mechanisms]`` table: one optional sub-table per registered mechanism."
