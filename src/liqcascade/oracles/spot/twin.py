"""Plain-Python twin of :mod:`liqcascade.oracles.spot.kernel`, written naively for parity tests."""

from __future__ import annotations

from liqcascade.oracles.twin import Base, mean_of_rows


class SpotPy(Base):
    def step(self, t, sources):
        self.try_publish(t, mean_of_rows(sources, self.read_time(t)))
        return self.published


#: the class :func:`liqcascade.oracles.twin.make_oracle_py` builds for this kind
TWIN = SpotPy
