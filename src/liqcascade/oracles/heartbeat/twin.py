"""Plain-Python twin of :mod:`liqcascade.oracles.heartbeat.kernel`, written naively for parity tests."""

from __future__ import annotations

from liqcascade.oracles.twin import Base, mean_of_rows


class HeartbeatPy(Base):
    def step(self, t, sources):
        candidate = mean_of_rows(sources, self.read_time(t))
        stale = t - self.last_update >= self.heartbeat
        deviates = abs(candidate / self.published - 1.0) >= self.deviation
        if stale or deviates:
            self.try_publish(t, candidate)
        return self.published


#: the class :func:`liqcascade.oracles.twin.make_oracle_py` builds for this kind
TWIN = HeartbeatPy
