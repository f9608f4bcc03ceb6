"""Plain-Python twin of :mod:`liqcascade.oracles.osm.kernel`, written naively for parity tests."""

from __future__ import annotations

from liqcascade.oracles.twin import Base, mean_of_rows


class OsmPy(Base):
    """Maker OSM with a keeper poking at every multiple of ``hop`` (``t >= hop``)."""

    def __init__(self, params, p0):
        super().__init__(params, p0)
        self.hop = max(1, self.hop)
        self.next_value = float(p0)

    def step(self, t, sources):
        if t >= self.hop and t % self.hop == 0:  # a poke happens now
            self.try_publish(t, self.next_value)
            self.next_value = mean_of_rows(sources, self.read_time(t))
        return self.published

    def peep(self):
        return self.next_value


#: the class :func:`liqcascade.oracles.twin.make_oracle_py` builds for this kind
TWIN = OsmPy
