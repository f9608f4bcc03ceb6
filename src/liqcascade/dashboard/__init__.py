"""The browser dashboard (``liqcascade serve``): FastAPI + uvicorn, one static page, plotly.js
served from the installed ``plotly`` package. See ``docs/dashboard.md``.

:func:`create_app` (in :mod:`.app`) builds the application; FastAPI is imported there, so this
package can be imported without the ``dashboard`` extra.
"""


def create_app(*args, **kwargs):
    from .app import create_app as _create

    return _create(*args, **kwargs)
