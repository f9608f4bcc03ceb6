"""External liquidation flow: a real liquidation-volume series driven into a venue.

``model.py`` (the ``[flow]`` table), ``series.py`` (the series file → arrays), ``kernel.py``
(the compiled loop over the series) and its twin ``twin.py``, ``backstop/`` (the
stability/backstop pool: model, kernel, twin). The engine entry point is
:mod:`liqcascade.engine.flow`; rules and definitions: ``README.md`` and ``docs/external-flow.md``.
"""
