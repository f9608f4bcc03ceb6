"""Helpers for the Monte Carlo tests: small scenarios (a 40-position book, a jump process, few steps)."""

from __future__ import annotations

import sys
from pathlib import Path

SCENARIO = """
name = "{name}"

[simulation]
steps = {steps}
dt_seconds = 60
seed = {seed}

[[assets]]
name = "WETH"
price = 2000.0

[[assets]]
name = "USDC"
price = 1.0
stable = true

[price]
kind = "jump"
sigma = 1.0
lam = 3000.0
jump_mean = -0.06
jump_std = 0.06

[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = {reserve}
fee = 0.003

[[oracles]]
name = "o"
asset = "WETH"
kind = "spot"

[[protocols]]
name = "aave"
kind = "aave_v3"
positions = "{positions}"
collateral = "WETH"
debt = "USDC"

[protocols.params.WETH]
{params}
[arbitrage]
enabled = false
{extra}"""


def scenario_text(*, steps: int = 100, positions: str = "book.csv", name: str = "mc-test", seed: int = 3,
                  reserve: float = 150, params: str = "liquidation_threshold = 0.86\nliquidation_bonus = 0.05\n",
                  extra: str = "") -> str:
    """The small Monte Carlo scenario: one WETH pool, a spot oracle, one Aave-rule protocol."""
    return SCENARIO.format(name=name, steps=steps, seed=seed, reserve=f"{reserve:g}", positions=positions,
                           params=params, extra=extra)

POSITIONS = "id,collateral,debt\n" + "\n".join(
    f"p{i},{1.0 + (i % 7) * 0.9:.4f},{(1.0 + (i % 7) * 0.9) * 2000 * 0.86 / (1.02 + 0.013 * i):.2f}" for i in range(40)
) + "\n"


def write_scenario(folder: Path, steps: int = 100, csv: bool = True, name: str = "s.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if csv:
        (folder / "book.csv").write_text(POSITIONS)
        positions = "book.csv"
    else:
        positions = "synth:60:1"
    p = folder / name
    p.write_text(scenario_text(steps=steps, positions=positions))
    return p


def cli_app():
    """The Monte Carlo command group on its own Typer app (independent of cli.MODULES)."""
    import typer

    from liqcascade.commands import montecarlo

    app = typer.Typer(add_completion=False)
    montecarlo.register(app)
    return app


def cli_cmd() -> list[str]:
    return [sys.executable, "-m", "liqcascade.commands.montecarlo"]
