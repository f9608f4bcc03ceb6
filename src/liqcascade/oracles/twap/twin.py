"""Plain-Python twin of :mod:`liqcascade.oracles.twap.kernel`, written naively for parity tests."""

from __future__ import annotations

from liqcascade.oracles.twin import Base, mean_of_rows


class TwapPy(Base):
    def step(self, t, sources):
        end = self.read_time(t)
        window = max(1, self.window)
        start = max(0, end - window + 1)
        samples = [mean_of_rows(sources, u) for u in range(start, end + 1)]
        total = 0.0
        for v in samples:
            total = total + v
        self.try_publish(t, total / len(samples))
        return self.published


#: the class :func:`liqcascade.oracles.twin.make_oracle_py` builds for this kind
TWIN = TwapPy
