"""Command groups added to the CLI by area (Monte Carlo, data, protocols, mechanisms …).

Each module here defines ``register(app)`` that adds its Typer commands; ``cli.py`` calls it for
every name in :data:`MODULES`. Modules import heavy dependencies inside their commands only.
"""

MODULES: tuple[str, ...] = ("data", "montecarlo", "protocols", "mechanisms", "replay", "attack", "predict", "serve")
