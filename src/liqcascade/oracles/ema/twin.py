"""Plain-Python twin of :mod:`liqcascade.oracles.ema.kernel`, written naively for parity tests."""

from __future__ import annotations

import math

from liqcascade.oracles.twin import Base, mean_of_rows


class EmaPy(Base):
    def __init__(self, params, p0):
        super().__init__(params, p0)
        self.ema = float(p0)
        if self.halflife > 0.0:
            self.alpha = 1.0 - 0.5 ** (1.0 / self.halflife)
        else:
            self.alpha = 1.0

    def step(self, t, sources):
        x = mean_of_rows(sources, self.read_time(t))
        if math.isfinite(x):
            self.ema = self.ema + self.alpha * (x - self.ema)
            self.try_publish(t, self.ema)
        else:
            self.try_publish(t, self.ema)
        return self.published


#: the class :func:`liqcascade.oracles.twin.make_oracle_py` builds for this kind
TWIN = EmaPy
