"""Plain-Python twin of :mod:`liqcascade.oracles.fundamental.kernel`: compounding step by step."""

from __future__ import annotations

import math

from liqcascade.oracles.twin import Base


class FundamentalPy(Base):
    def step(self, t, sources):
        value = self.fund
        growth = math.exp(self.fund_g)
        for _ in range(self.read_time(t)):
            value *= growth
        self.try_publish(t, value)
        return self.published


TWIN = FundamentalPy
