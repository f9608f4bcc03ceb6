"""liqcascade — simulate, measure and prevent liquidation cascades.

Layers (importing only downward): ``kernels`` (numba loops, arrays in and out) → ``engine``
with the models it composes (``market``, ``oracles``, ``protocols``, ``positions``, ``results``)
→ surfaces (``cli``, ``report``, ``data``).
"""

__version__ = "0.1.0"
