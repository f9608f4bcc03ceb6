"""Constants shared by the time loop and the protocol units (see docs/architecture.md)."""

# accumulators (float64[NACC]) every unit adds to
ACC_NLIQ = 0  # liquidation actions (calls, absorbs, takes, bites …)
ACC_LIQ_VALUE = 1  # collateral taken from positions, valued at the protocol's price
ACC_REPAID = 2  # debt repaid / covered (quote)
ACC_BAD = 3  # bad debt created (quote)
ACC_FEES = 4  # protocol revenue from liquidations (quote)
ACC_BONUS = 5  # liquidators' / keepers' gain at the protocol's price (quote)
ACC_GAS = 6  # gas spent by agents (quote)
ACC_FUND_DRAW = 7  # insurance fund / reserves / surplus drawn (quote)
ACC_EV_LOST = 8  # events the unit could not write (event buffer full)
NACC = 9

# liquidator / keeper settings (float64[NLIQ])
LQ_MODE = 0  # 0 mechanical, 1 rational
LQ_GAS = 1  # quote per action
LQ_CAPITAL = 2  # quote per step
LQ_MAX = 3  # actions per step (0 = unlimited)
NLIQ = 4
