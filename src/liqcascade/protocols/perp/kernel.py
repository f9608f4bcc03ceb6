"""Perpetual-futures venues (Hyperliquid, Binance, Bybit, dYdX v4) — compiled protocol unit.

Follows ``protocol-mechanics.md`` §6 (Hyperliquid §6.1, Binance §6.2, Bybit §6.3, dYdX v4 §6.4,
mark vs last price §6.5). One pack holds one perp venue: ``M`` markets (each with an asset, an
order-book venue in the state array, a tier table and a mark price), margin accounts and the
positions in them. The unit step is :func:`perp_step` (contract in ``docs/architecture.md``).

What is modelled
----------------
* **Positions and accounts.** A position is (side ±1, size in asset units, entry price,
  market, account). A *cross* account holds several positions (in different markets or not)
  and one margin balance; an *isolated* position is an account of its own. Account equity at
  mark: ``E = margin + Σ side · size · (mark − entry)``.
* **Tiered maintenance margin** (§6.1, §6.2, §6.3): per position
  ``MM = notional · mmr(tier) − deduction(tier)`` with ``deduction(0) = 0`` and
  ``deduction(n) = deduction(n−1) + lower_bound(n) · (mmr(n) − mmr(n−1))`` (so MM is
  continuous in the notional). The tier of a notional ``N`` is the last ``n`` with
  ``lower_bound(n) < N`` (Binance's "≤ 50k" is tier 0). Account MM = Σ position MMs.
* **Trigger** (§6.1, §6.2, §6.4): ``E < MM`` at the **mark price**.
* **Mark price** (§6.1 "Prices", §6.2 "Mark price", §6.5), chosen by ``P_MARK``:
  ``MARK_INDEX`` the index (the protocol's oracle price, dYdX); ``MARK_EMA`` index + EMA of
  the basis (book mid − index); ``MARK_HL`` Hyperliquid's median of (index + 150 s basis EMA,
  book median, 30 s EMA of the book median) — the rule for when only two inputs exist, since
  the other exchanges' perp mids are not modelled; ``MARK_BINANCE`` median(index, index +
  basis EMA, book price) (``P1 = index``: the funding term of Price 1 is not used). The EMA update is
  §6.1's ``num ← num·e^(−dt/τ) + sample·dt``, ``den ← den·e^(−dt/τ) + dt``. The book median
  (best bid, best ask, last trade) is the book mid: a depth-curve book has no spread and every
  fill ends at the new mid. The mark is updated once, at the start of each step, from the
  book mid left by the previous step, so this step's own fills move the mark only later.
* **Liquidation through the book** (§6.1 step 1, §6.2 step 2, §6.3): market orders into the
  market's own order-book venue (sells for longs, buys for shorts), for every position of the
  account. Slicing (``P_SLICE``): ``SLICE_FULL`` the whole position; ``SLICE_HL`` 20 % of a
  position whose notional is over 100k, then a 30 s cooldown during which orders are for the
  whole position (§6.1, §8.8); ``SLICE_TIER_DOWN`` (Bybit) an order that brings the position
  down to the lower bound of its tier (tier 0: the whole position). Order limit
  (``P_LIMIT``): ``LIMIT_NONE`` pure market order (Hyperliquid); ``LIMIT_BANKRUPTCY`` an IOC
  order limited at the bankruptcy price ``mark − side · E / size`` (§6.2: what does not fill
  is taken over at the bankruptcy price, step 3); ``LIMIT_DYDX`` limited at dYdX's fillable
  price ``(PNNV − ABR·SMMR·PMMR) / PS`` with ``ABR = clamp(BA·(1 − TNC/TMMR), 0, 1)`` (§6.4).
  A liquidation/clearance fee ``P_FEE`` × filled notional (§6.2, §6.4; none on Hyperliquid)
  is taken from what is left of the equity (never more) and goes to the insurance fund
  (share ``P_FEE_TO_FUND``, the rest to a treasury). Whatever margin is left after the
  positions are closed stays with the trader (§6.1).
* **Backstop** (§6.1 step 2): when ``E < P_BS_FRAC · MM`` (⅔) — at the check, or after the
  book orders of this step left positions open — the liquidator vault takes over every
  position of the account (cross) or the position (isolated) with the margin; the trader
  keeps nothing.
* **Insurance fund** (§6.2, §6.3, §6.4): an account with ``E < 0`` (or one whose bankruptcy-
  limited order did not fill while still short of margin) is taken over by the fund at the
  bankruptcy price — its positions are transferred at ``p_b,i = mark − side · E_i / size_i``
  with the equity split over the positions by notional, so the trader ends at exactly zero and
  the fund books the loss ``−E`` (or the gain ``E`` when ``E > 0``). The fund can take the
  account only if its value stays ``>= 0`` and, when ``P_FUND_CAP`` is finite, its net
  position in each market stays within ``P_FUND_CAP`` × its value (Binance: 100 %, 20 % in
  the older docs).
* **Auto-deleveraging** (§6.1 ADL, §6.2, §6.3, §6.4) when the fund cannot: for each position
  of the account, the opposite-side positions in the same market of *other* accounts with
  positive equity are ranked (``P_ADL_RANK``): ``ADL_HL``: ``(mark / entry) · (notional /
  account value)`` for longs and, mirrored, ``(entry / mark) · (notional / account value)``
  for shorts (§6.1 gives the long form); ``ADL_PNL_LEV`` (BitMEX/Bybit/Binance template,
  §6.3): ``PnL% × leverage`` if ``PnL% > 0`` else ``PnL% / leverage`` with
  ``PnL% = side·(mark − entry)/entry`` and ``leverage = notional / account value``;
  ``ADL_RANDOM`` (dYdX, §6.4): no ranking, candidates visited in index order from a
  pseudo-random start ``floor(u · n)``, ``u`` taken from the pack's ``adl_u`` array (drawn
  outside the kernel) and consumed one per ADL'd position. Fills are at the bankruptcy price
  (``P_ADL_PRICE = ADL_AT_BANKRUPTCY``) or, Hyperliquid, at the previous mark
  (``ADL_AT_PREV_MARK``, §6.1). Ties in rank keep position order.

Simplifications (also in ``protocols/perp/README.md``)
----------------------------------------------------
* Funding (``config.funding``, Binance or Hyperliquid rules) is paid by every holder at the
  start of a step, after the marks and before the margin checks (``funding/kernel.py``);
  without it there are no funding payments. No trading fees, no new positions opened by agents; one shared
  insurance fund and one backstop vault for all markets (Binance has per-symbol funds).
* Accounts are checked once per step in index order, in three phases (book orders for every
  account, then backstop takeovers, then fund / ADL; see :func:`perp_step`); ``liq[LQ_MAX]``
  (if > 0) caps the number of accounts acted on per step. Counters in ``hold`` (``H_N_*``,
  ``H_NOT_*``) count and size the positions closed by each route separately. Nothing else in ``liq`` is read (exchanges run their
  own liquidation engines; there is no keeper gas).
* Binance's "Smart Liquidation" partial IOC is modelled as a full-size IOC at the bankruptcy
  price; its "LeveragePnL" ranking by the ``ADL_PNL_LEV`` template.
* The Hyperliquid backstop is not re-entered: a vault that loses money is not deleveraged.
  The vault and the fund may unwind a fraction of their positions into the book each step
  (``P_UNWIND_FUND``, ``P_UNWIND_BS``; 0 = hold).
* ADL candidates must have positive account equity; dYdX's "bankruptcy prices overlap" test is
  reduced to that. When the ranked opposite positions are exhausted, the rest of the position
  goes to the book's holders (the market makers, counterparty of last resort).
* When market orders without a limit close every position and leave the margin negative, the
  fund pays the deficit as far as its value allows and the rest is written off (``socialized``
  in the pack; §6.1 would ADL, but nothing is left to deleverage against). The same write-off
  takes ADL's rounding residual and, with ``ADL_AT_PREV_MARK``, the loss beyond the previous
  mark.
* A constant-product "book" venue is accepted, but a buy takes at most half its asset reserve
  per order (the rest counts as unfilled). A depth-curve book fills one buy order at most up
  to ``(1 + BOOK_BUY_K_MAX) × mid`` (4×, the price move of the pool's half-reserve cap; the
  rest counts as unfilled): the asks absorb only ``ρ ln(1 + k) / mid`` asset, so the exact
  cost of a large buy grows exponentially with its size and on a thin book overflows to
  ``inf`` (then ``inf − inf`` = NaN in the holders' cash). Sells need no cap (the bids pay at
  most ``D(1)``).

Holders and conservation
------------------------
Every position holder is in *cash form*: signed position ``P`` and cash ``C`` with value
``C + P · mark``. Traders: ``C = margin − Σ side·size·entry``; the book's holders (``M_BOOK_POS``,
``M_BOOK_CASH``: the market makers resting on the book, who start with the opposite of the
traders' net position at the traders' entries), the fund (``M_FUND_POS``, ``H_FUND_CASH``) and
the backstop vault (``M_BS_POS``, ``H_BS_CASH``). Every trade moves cash and position between
two holders, so ``Σ P = 0`` per market (open interest long = short) and
``Σ C + H_TREASURY − H_SOCIAL`` stays at its initial value ``H_CASH0``.

Event fields (per position-level action)
----------------------------------------
``ev_seized`` the position size closed (asset units); ``ev_repaid`` the equity consumed
(``E`` before − ``E`` after for a book order: slippage to mark + fee; the positive equity
handed over in a takeover); ``ev_bad`` the loss beyond zero equity (quote) passed to the fund,
ADL counterparties or the write-off; ``ev_price`` the mark; ``ev_exec`` the average fill price
(book), the transfer price (takeover) or the ADL price, and the mark for the write-off of a
negative margin (nothing closed) — never NaN: filled by the unit, not the engine, because the
unit trades its own book; ``ev_bonus`` the taker's gain at mark (book holders'
slippage gain, equity kept by the vault/fund); ``ev_fee`` the clearance fee. ``sold`` is not
used: the unit trades its own book directly.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_EV_LOST,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_MAX,
)
from liqcascade.funding.kernel import (
    FD_IMPACT, FD_KIND, FD_PAID, FD_PAR, FD_RATE, FD_ST, NFD, perp_funding,
)
from liqcascade.venues.book.kernel import _book_buy_asset, _book_tail_density
from liqcascade.venues.cpmm.kernel import cpmm_buy, cpmm_buy_to_price
from liqcascade.venues.dispatch import venue_sell, venue_sell_to_price, venue_spot
from liqcascade.venues.kernel import FEE, KIND, MID, NK, VENUE_CPMM, X, Y

# --- pack layout -----------------------------------------------------------------------------
# pack = (params, side, size, entry, pos_acct, pos_mkt, margin, last_partial, acct_kind,
#         acct_ptr, acct_pos, mkt, tiers, hold, adl_u)
PACK_FIELDS = (
    "params",  # float64[NPARAM]
    "side",  # float64[N]   +1 long, -1 short
    "size",  # float64[N]   asset units, >= 0
    "entry",  # float64[N]  entry price
    "pos_acct",  # int64[N] margin account of the position
    "pos_mkt",  # int64[N]  market of the position
    "margin",  # float64[NA] account margin balance (quote), realized PnL included
    "last_partial",  # float64[NA] time (s) of the last partial (sliced) liquidation
    "acct_kind",  # int64[NA] 0 cross, 1 isolated (informative)
    "acct_ptr",  # int64[NA+1] CSR: positions of account a are acct_pos[acct_ptr[a]:acct_ptr[a+1]]
    "acct_pos",  # int64[N]
    "mkt",  # float64[M, NMKT] per-market state (columns M_*)
    "tiers",  # float64[M, K, NTIER] per-market tier table (columns T_*)
    "hold",  # float64[NHOLD] holders and counters (H_*)
    "adl_u",  # float64[L] uniforms in [0, 1) for ADL_RANDOM (drawn outside)
)

# params
P_SLICE = 0
P_SLICE_FRAC = 1
P_SLICE_MIN = 2
P_COOLDOWN = 3
P_LIMIT = 4
P_DYDX_BA = 5
P_DYDX_SMMR = 6
P_FEE = 7
P_FEE_TO_FUND = 8
P_BS_ON = 9
P_BS_FRAC = 10
P_FUND_ON = 11
P_FUND_CAP = 12
P_ADL_RANK = 13
P_ADL_PRICE = 14
P_MARK = 15
P_TAU_BASIS = 16
P_TAU_BOOK = 17
P_UNWIND_FUND = 18
P_UNWIND_BS = 19
NPARAM = 20

# codes
SLICE_FULL = 0
SLICE_HL = 1
SLICE_TIER_DOWN = 2
LIMIT_NONE = 0
LIMIT_BANKRUPTCY = 1
LIMIT_DYDX = 2
ADL_HL = 0
ADL_PNL_LEV = 1
ADL_RANDOM = 2
ADL_AT_BANKRUPTCY = 0
ADL_AT_PREV_MARK = 1
MARK_INDEX = 0
MARK_EMA = 1
MARK_HL = 2
MARK_BINANCE = 3

# market columns
M_ASSET = 0
M_VENUE = 1
M_MARK = 2
M_MARK_PREV = 3
M_EB_NUM = 4  # basis EMA numerator / denominator
M_EB_DEN = 5
M_EK_NUM = 6  # book-median EMA numerator / denominator
M_EK_DEN = 7
M_FUND_POS = 8
M_BS_POS = 9
M_BOOK_POS = 10
M_BOOK_CASH = 11
M_NTIER = 12
# funding (funding/kernel.py): a block of NFD columns from M_FD (layout FD_* there)
M_FD = 13
M_FD_KIND = M_FD + FD_KIND
M_FD_IMPACT = M_FD + FD_IMPACT
M_FD_PAID = M_FD + FD_PAID
M_FD_RATE = M_FD + FD_RATE
M_FD_PAR = M_FD + FD_PAR
M_FD_ST = M_FD + FD_ST
# netting through a cross-protocol clearinghouse ([mechanisms.clearinghouse]; set by the loop around
# the step, 0 otherwise): forced buys are filled first from M_X_AVAIL units at M_X_PX, off the book
M_X_AVAIL = M_FD + NFD  # units the clearinghouse offers this step
M_X_PX = M_X_AVAIL + 1  # its price (the book's spot before the step)
M_X_FILL = M_X_AVAIL + 2  # units the step bought from it
NMKT = M_X_AVAIL + 3

# tier columns
T_LB = 0
T_MMR = 1
T_DED = 2
T_IMR = 3
NTIER = 4

# holders and counters
H_FUND_CASH = 0
H_BS_CASH = 1
H_TREASURY = 2
H_SOCIAL = 3  # value created by writing off negative balances (quote)
H_ADL_FILLS = 4
H_ADL_QTY = 5
H_RAND_CUR = 6
H_CASH0 = 7  # conserved total of the holders' cash
H_FUND_DRAWN = 8
H_FEES = 9
H_ADL_NOTIONAL = 10  # Σ ADL fill size × fill price (quote)
# counts by what closed a position (position-level actions; a sliced order counts once per slice)
H_N_BOOK = 11  # liquidation orders filled on the book (partly or fully)
H_N_BACKSTOP = 12  # positions taken over by the backstop vault
H_N_FUND = 13  # positions taken over by the insurance fund at the bankruptcy price
H_N_ADL_CLOSE = 14  # positions closed by ADL against opposite traders (the bankrupt side)
H_N_WRITEOFF = 15  # negative margins written off after market orders closed everything
H_N_BANKRUPT = 16  # fund takeovers and ADL closes of a position whose equity share was < 0
# notional (size × mark) closed by each route, and the part of it that was long
H_NOT_BOOK = 17
H_NOT_BACKSTOP = 18
H_NOT_FUND = 19
H_NOT_ADL_CLOSE = 20
H_NOT_LONG = 21
NHOLD = 22

_HOLD_FUND = 0
_HOLD_BS = 1
_ACT_NONE = 0
_ACT_RESOLVE = 1
_ACT_BACKSTOP = 2
_NEVER = -1.0e300
# a buy order lifts a depth-curve book's mid at most to (1 + BOOK_BUY_K_MAX) · mid (see the
# module docstring); the rest of the order is unfilled
BOOK_BUY_K_MAX = 3.0


# ===========================================================================================
# Tiers and the liquidation price
# ===========================================================================================


@njit
def tier_deductions(lb, mmr):
    """``deduction(0) = 0``, ``deduction(n) = deduction(n−1) + lb(n)·(mmr(n) − mmr(n−1))``."""
    n = lb.shape[0]
    out = np.zeros(n)
    for j in range(1, n):
        out[j] = out[j - 1] + lb[j] * (mmr[j] - mmr[j - 1])
    return out


@njit
def tier_index(tiers_m, ntier, notional):
    """Tier of a position notional: the last ``n`` with ``lower_bound(n) < notional``."""
    n = 0
    for j in range(1, ntier):
        if tiers_m[j, T_LB] < notional:
            n = j
        else:
            break
    return n


@njit
def maintenance_margin(tiers_m, ntier, notional):
    """``MM = notional · mmr(tier) − deduction(tier)`` (§6.1, §6.2, §6.3)."""
    if notional <= 0.0:
        return 0.0
    n = tier_index(tiers_m, ntier, notional)
    return notional * tiers_m[n, T_MMR] - tiers_m[n, T_DED]


@njit
def liquidation_price(side, size, price, margin_available, l):
    """Hyperliquid's liquidation price (§6.1), verbatim:
    ``price − side · margin_available / size / (1 − l · side)`` with ``l = 1 / maintenance
    leverage`` (the MMR) and ``margin_available = account_value − MM_required`` at ``price``.
    Exact for a linear MM; with a tier deduction it is exact when ``l`` is the MMR of the tier
    the liquidation price falls in (see :func:`liquidation_price_tiered`)."""
    return price - side * margin_available / size / (1.0 - l * side)


@njit
def liquidation_price_tiered(side, size, price, account_value, tiers_m, ntier):
    """Mark price of this position at which ``equity = MM`` (its own tiered MM; anything else
    in a cross account held at its current value, i.e. in ``account_value``, and other
    positions' MM in ``account_value`` reduced beforehand by the caller if wanted).

    For each tier ``n`` the §6.1 formula with ``l = mmr(n)`` and ``MM_required`` computed with
    tier ``n``'s linear rule gives the root of ``equity = notional·mmr(n) − deduction(n)``; the
    answer is the root whose notional lies in tier ``n`` (equity − MM is monotone in the price,
    so there is exactly one). A result ``<= 0`` (long) means the position cannot be liquidated.
    """
    for n in range(ntier):
        r = tiers_m[n, T_MMR]
        mm = size * price * r - tiers_m[n, T_DED]
        p = liquidation_price(side, size, price, account_value - mm, r)
        notional = size * p
        lo_ok = n == 0 or notional > tiers_m[n, T_LB]
        hi_ok = n == ntier - 1 or notional <= tiers_m[n + 1, T_LB]
        if lo_ok and hi_ok:
            return p
    return math.nan


# ===========================================================================================
# Mark price
# ===========================================================================================


@njit
def _median3(a, b, c):
    if a > b:
        a, b = b, a
    if b > c:
        b = c
    return a if a > b else b


@njit
def perp_mark_init(pack, prices, vs):
    """Set every market's mark (and previous mark) to its index ``prices[asset]`` and clear the
    EMAs (called once before the first step; the first step's EMA is its first sample)."""
    mkt = pack[11]
    for m in range(mkt.shape[0]):
        idx = prices[int(mkt[m, M_ASSET])]
        mkt[m, M_MARK] = idx
        mkt[m, M_MARK_PREV] = idx
        mkt[m, M_EB_NUM] = 0.0
        mkt[m, M_EB_DEN] = 0.0
        mkt[m, M_EK_NUM] = 0.0
        mkt[m, M_EK_DEN] = 0.0


@njit
def _update_marks(params, mkt, prices, vs, dt):
    mode = int(params[P_MARK])
    wb = math.exp(-dt / params[P_TAU_BASIS])
    wk = math.exp(-dt / params[P_TAU_BOOK])
    for m in range(mkt.shape[0]):
        idx = prices[int(mkt[m, M_ASSET])]
        mid = venue_spot(vs, int(mkt[m, M_VENUE]))
        mkt[m, M_EB_NUM] = mkt[m, M_EB_NUM] * wb + (mid - idx) * dt
        mkt[m, M_EB_DEN] = mkt[m, M_EB_DEN] * wb + dt
        mkt[m, M_EK_NUM] = mkt[m, M_EK_NUM] * wk + mid * dt
        mkt[m, M_EK_DEN] = mkt[m, M_EK_DEN] * wk + dt
        basis = mkt[m, M_EB_NUM] / mkt[m, M_EB_DEN]
        if mode == MARK_INDEX:
            mark = idx
        elif mode == MARK_EMA:
            mark = idx + basis
        elif mode == MARK_HL:
            mark = _median3(idx + basis, mid, mkt[m, M_EK_NUM] / mkt[m, M_EK_DEN])
        else:
            mark = _median3(idx, idx + basis, mid)
        old = mkt[m, M_MARK]
        mkt[m, M_MARK_PREV] = old if old == old else mark
        mkt[m, M_MARK] = mark


# ===========================================================================================
# Trading on the perp's own book
# ===========================================================================================


@njit
def _venue_buy_exact(vs, vdk, vdq, v, amount):
    """Buy exactly ``amount`` asset from venue ``v`` (state updated). Returns the quote paid.

    Book: per segment ``ρ ln((1 + k) / (1 + k0)) = rem · mid`` gives
    ``k = k0 + (1 + k0) · expm1(rem · mid / ρ)`` exactly; the quote is ``D(k)`` and the new
    mid ``mid · (1 + k)`` (as :func:`venues.book_buy`). Pool: ``dy = y·a / ((x − a)(1 − f))``.
    """
    if amount <= 0.0:
        return 0.0
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        x = vs[v, X]
        y = vs[v, Y]
        g = 1.0 - vs[v, FEE]
        b = y * amount / (x - amount)
        vs[v, X] = x - amount
        vs[v, Y] = y + b / g
        return b / g
    mid = vs[v, MID]
    nk = int(vs[v, NK])
    dk = vdk[v]
    dq = vdq[v]
    rem = amount * mid
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = dk[j]
        q1 = dq[j]
        rho = (q1 - q0) / (k1 - k0)
        if rho > 0.0:
            seg = rho * math.log1p((k1 - k0) / (1.0 + k0))
            if seg >= rem:
                k = k0 + (1.0 + k0) * math.expm1(rem / rho)
                if k > k1:
                    k = k1
                vs[v, MID] = mid * (1.0 + k)
                return max(q0 + rho * (k - k0), amount * mid)
            rem -= seg
        k0 = k1
        q0 = q1
    rho = _book_tail_density(dk, dq, nk)
    k = k0 + (1.0 + k0) * math.expm1(rem / rho)
    vs[v, MID] = mid * (1.0 + k)
    return max(q0 + rho * (k - k0), amount * mid)


@njit
def _venue_buy_cap(vs, vdk, vdq, v, p_limit):
    """Asset one buy order can take from venue ``v`` without lifting its price above
    ``p_limit`` (NaN or ``inf``: no limit). Pools: at most half the asset reserve; books: at
    most up to ``(1 + BOOK_BUY_K_MAX) · mid``."""
    kind = int(vs[v, KIND])
    limited = p_limit < math.inf  # False for NaN and inf
    if kind == VENUE_CPMM:
        x = vs[v, X]
        cap = 0.5 * x
        if not limited:
            return cap
        dy = cpmm_buy_to_price(x, vs[v, Y], vs[v, FEE], p_limit)
        if dy == math.inf:
            return cap
        return min(cpmm_buy(x, vs[v, Y], vs[v, FEE], dy)[2], cap)
    mid = vs[v, MID]
    k = BOOK_BUY_K_MAX
    if limited:
        if p_limit <= mid:
            return 0.0
        k_lim = (p_limit - mid) / mid
        if k_lim < k:
            k = k_lim
    return _book_buy_asset(mid, vdk[v], vdq[v], int(vs[v, NK]), k)


@njit
def _close_on_book(vs, vdk, vdq, v, s, dq, p_limit, mkt, m):
    """Market order closing ``dq`` of a position of side ``s`` on venue ``v``, not beyond
    ``p_limit`` (NaN: no limit) nor a venue's per-order buy cap (:func:`_venue_buy_cap`).
    A buy (``s < 0``) first takes what a clearinghouse offers market ``m`` (``M_X_AVAIL`` units
    at ``M_X_PX``, when that price is within the limit), off the book. Returns
    ``(filled, quote)``."""
    d = dq
    if s > 0.0:
        if p_limit == p_limit:
            cap = venue_sell_to_price(vs, vdk, vdq, v, p_limit)
            if cap < d:
                d = cap
        if d <= 0.0:
            return 0.0, 0.0
        return d, venue_sell(vs, vdk, vdq, v, d)
    x = 0.0
    qx = 0.0
    av = mkt[m, M_X_AVAIL]
    if av > 0.0 and d > 0.0 and not (mkt[m, M_X_PX] > p_limit):
        x = d if d < av else av
        qx = x * mkt[m, M_X_PX]
        mkt[m, M_X_AVAIL] = av - x
        mkt[m, M_X_FILL] += x
        d -= x
    cap = _venue_buy_cap(vs, vdk, vdq, v, p_limit)
    if cap < d:
        d = cap
    if d <= 0.0:
        return x, qx
    return x + d, qx + _venue_buy_exact(vs, vdk, vdq, v, d)


@njit
def _unwind(vs, vdk, vdq, mkt, hold, m, col, cash_idx, frac):
    """A holder (fund or vault) closes ``frac`` of its position in market ``m`` on the book."""
    pos = mkt[m, col]
    if frac <= 0.0 or pos == 0.0:
        return
    v = int(mkt[m, M_VENUE])
    d = frac * abs(pos)
    s = 1.0 if pos > 0.0 else -1.0
    d, quote = _close_on_book(vs, vdk, vdq, v, s, d, math.nan, mkt, m)
    if d <= 0.0:
        return
    mkt[m, col] -= s * d
    hold[cash_idx] += s * quote
    mkt[m, M_BOOK_POS] += s * d
    mkt[m, M_BOOK_CASH] -= s * quote


# ===========================================================================================
# Accounts
# ===========================================================================================


@njit
def _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr, acct_pos, mkt, tiers):
    """``(equity, MM, open positions, total notional)`` of account ``a`` at mark."""
    eq = margin[a]
    mm = 0.0
    npos = 0
    ntot = 0.0
    for k in range(acct_ptr[a], acct_ptr[a + 1]):
        i = acct_pos[k]
        q = size[i]
        if q > 0.0:
            m = pos_mkt[i]
            p = mkt[m, M_MARK]
            eq += side[i] * q * (p - entry[i])
            notional = q * p
            mm += maintenance_margin(tiers[m], int(mkt[m, M_NTIER]), notional)
            npos += 1
            ntot += notional
    return eq, mm, npos, ntot


@njit
def _all_equities(side, size, entry, pos_acct, pos_mkt, margin, mkt):
    eq = margin.copy()
    for i in range(size.shape[0]):
        if size[i] > 0.0:
            eq[pos_acct[i]] += side[i] * size[i] * (mkt[pos_mkt[i], M_MARK] - entry[i])
    return eq


@njit
def _fund_value(mkt, hold):
    v = hold[H_FUND_CASH]
    for m in range(mkt.shape[0]):
        if mkt[m, M_FUND_POS] != 0.0:
            v += mkt[m, M_FUND_POS] * mkt[m, M_MARK]
    return v


@njit
def _emit(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price, ev_exec, ev_bonus,
          ev_bad, ev_fee, n_ev, t, pos, proto, asset, seized, repaid, price, exe, bonus, bad, fee, acc):
    if n_ev < ev_step.shape[0]:
        ev_step[n_ev] = t
        ev_pos[n_ev] = pos
        ev_proto[n_ev] = proto
        ev_asset[n_ev] = asset
        ev_seized[n_ev] = seized
        ev_repaid[n_ev] = repaid
        ev_price[n_ev] = price
        ev_exec[n_ev] = exe
        ev_bonus[n_ev] = bonus
        ev_bad[n_ev] = bad
        ev_fee[n_ev] = fee
        return n_ev + 1
    acc[ACC_EV_LOST] += 1.0
    return n_ev


@njit
def _takeover(pack, a, eq, holder, acc, t, ev_step, ev_pos, ev_proto, ev_asset, ev_seized,
              ev_repaid, ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """The fund or the vault takes every open position of account ``a`` and its margin, at the
    bankruptcy prices ``p_b,i = mark − side · E_i / size_i`` (``E`` split by notional)."""
    (params, side, size, entry, pos_acct, pos_mkt, margin, last_partial, acct_kind,
     acct_ptr, acct_pos, mkt, tiers, hold, adl_u) = pack
    ntot = 0.0
    for k in range(acct_ptr[a], acct_ptr[a + 1]):
        i = acct_pos[k]
        if size[i] > 0.0:
            ntot += size[i] * mkt[pos_mkt[i], M_MARK]
    pos_col = M_FUND_POS if holder == _HOLD_FUND else M_BS_POS
    cash_idx = H_FUND_CASH if holder == _HOLD_FUND else H_BS_CASH
    for k in range(acct_ptr[a], acct_ptr[a + 1]):
        i = acct_pos[k]
        q = size[i]
        if q <= 0.0:
            continue
        m = pos_mkt[i]
        p = mkt[m, M_MARK]
        s = side[i]
        ei = eq * (q * p / ntot)
        pb = p - s * ei / q
        margin[a] += s * q * (pb - entry[i])
        size[i] = 0.0
        mkt[m, pos_col] += s * q
        hold[cash_idx] -= s * q * pb
        good = ei if ei > 0.0 else 0.0
        bad = -ei if ei < 0.0 else 0.0
        if holder == _HOLD_FUND:
            hold[H_FUND_DRAWN] += bad
            acc[ACC_FUND_DRAW] += bad
            hold[H_N_FUND] += 1.0
            hold[H_NOT_FUND] += q * p
            if ei < 0.0:
                hold[H_N_BANKRUPT] += 1.0
        else:
            hold[H_N_BACKSTOP] += 1.0
            hold[H_NOT_BACKSTOP] += q * p
        if s > 0.0:
            hold[H_NOT_LONG] += q * p
        acc[ACC_NLIQ] += 1.0
        acc[ACC_LIQ_VALUE] += q * p
        acc[ACC_REPAID] += good
        acc[ACC_BAD] += bad
        acc[ACC_BONUS] += good
        n_ev = _emit(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price, ev_exec,
                     ev_bonus, ev_bad, ev_fee, n_ev, t, pos_offset + i, proto_id,
                     int(mkt[m, M_ASSET]), q, good, p, pb, good, bad, 0.0, acc)
    # the margin is handed over with the positions (zero up to rounding)
    hold[cash_idx] += margin[a]
    margin[a] = 0.0
    return n_ev


@njit
def _order_desc(key, nc, order):
    """``order[:nc]`` = indices of ``key[:nc]`` by decreasing key, ties in index order
    (bottom-up merge sort; written out because numba's ``argsort`` is slow to compile)."""
    buf = np.empty(nc, np.int64)
    for c in range(nc):
        order[c] = c
    width = 1
    while width < nc:
        lo = 0
        while lo < nc:
            mid = min(lo + width, nc)
            hi = min(lo + 2 * width, nc)
            i = lo
            j = mid
            o = lo
            while i < mid and j < hi:
                if key[order[j]] > key[order[i]]:
                    buf[o] = order[j]
                    j += 1
                else:
                    buf[o] = order[i]
                    i += 1
                o += 1
            while i < mid:
                buf[o] = order[i]
                i += 1
                o += 1
            while j < hi:
                buf[o] = order[j]
                j += 1
                o += 1
            lo = hi
        for c in range(nc):
            order[c] = buf[c]
        width *= 2


@njit
def _adl(pack, a, eq, acc, t, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
         ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """Auto-deleverage every open position of account ``a`` against ranked opposite positions."""
    (params, side, size, entry, pos_acct, pos_mkt, margin, last_partial, acct_kind,
     acct_ptr, acct_pos, mkt, tiers, hold, adl_u) = pack
    rank_mode = int(params[P_ADL_RANK])
    at_prev = int(params[P_ADL_PRICE]) == ADL_AT_PREV_MARK
    n = size.shape[0]
    ntot = 0.0
    for k in range(acct_ptr[a], acct_ptr[a + 1]):
        i = acct_pos[k]
        if size[i] > 0.0:
            ntot += size[i] * mkt[pos_mkt[i], M_MARK]
    cand = np.empty(n, np.int64)
    key = np.empty(n)
    for k in range(acct_ptr[a], acct_ptr[a + 1]):
        i = acct_pos[k]
        q = size[i]
        if q <= 0.0:
            continue
        m = pos_mkt[i]
        p = mkt[m, M_MARK]
        s = side[i]
        ei = eq * (q * p / ntot)
        pf = p - s * ei / q
        if at_prev:
            pf = mkt[m, M_MARK_PREV]
        acct_eq = _all_equities(side, size, entry, pos_acct, pos_mkt, margin, mkt)
        nc = 0
        for j in range(n):
            if pos_mkt[j] != m or size[j] <= 0.0 or side[j] != -s or pos_acct[j] == a:
                continue
            ve = acct_eq[pos_acct[j]]
            if not ve > 0.0:
                continue
            cand[nc] = j
            notional = size[j] * p
            lev = notional / ve
            if rank_mode == ADL_HL:
                if side[j] > 0.0:
                    key[nc] = (p / entry[j]) * lev
                else:
                    key[nc] = (entry[j] / p) * lev
            elif rank_mode == ADL_PNL_LEV:
                pnl = side[j] * (p - entry[j]) / entry[j]
                key[nc] = pnl * lev if pnl > 0.0 else pnl / lev
            else:
                key[nc] = 0.0
            nc += 1
        order = np.empty(nc, np.int64)
        if rank_mode == ADL_RANDOM:
            u = 0.0
            if adl_u.shape[0] > 0:
                u = adl_u[int(hold[H_RAND_CUR]) % adl_u.shape[0]]
            hold[H_RAND_CUR] += 1.0
            start = int(u * nc)
            if start >= nc:
                start = nc - 1
            for c in range(nc):
                order[c] = (start + c) % nc
        else:
            _order_desc(key, nc, order)
        rem = q
        for c in range(nc):
            if rem <= 0.0:
                break
            j = cand[order[c]]
            d = size[j] if size[j] < rem else rem
            margin[pos_acct[j]] += -s * d * (pf - entry[j])
            size[j] -= d
            rem -= d
            hold[H_ADL_FILLS] += 1.0
            hold[H_ADL_QTY] += d
            hold[H_ADL_NOTIONAL] += d * pf
        if rem > 0.0:
            # counterparty of last resort: the book's holders
            mkt[m, M_BOOK_POS] += s * rem
            mkt[m, M_BOOK_CASH] -= s * rem * pf
        margin[a] += s * q * (pf - entry[i])
        size[i] = 0.0
        good = ei if ei > 0.0 else 0.0
        bad = -ei if ei < 0.0 else 0.0
        hold[H_N_ADL_CLOSE] += 1.0
        hold[H_NOT_ADL_CLOSE] += q * p
        if ei < 0.0:
            hold[H_N_BANKRUPT] += 1.0
        if s > 0.0:
            hold[H_NOT_LONG] += q * p
        acc[ACC_NLIQ] += 1.0
        acc[ACC_LIQ_VALUE] += q * p
        acc[ACC_REPAID] += good
        acc[ACC_BAD] += bad
        n_ev = _emit(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price, ev_exec,
                     ev_bonus, ev_bad, ev_fee, n_ev, t, pos_offset + i, proto_id,
                     int(mkt[m, M_ASSET]), q, good, p, pf, 0.0, bad, 0.0, acc)
    resid = margin[a]
    if (not at_prev) or resid < 0.0:
        hold[H_SOCIAL] -= resid
        margin[a] = 0.0
    return n_ev


@njit
def _resolve(pack, a, eq, acc, t, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
             ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """Insurance fund takeover at the bankruptcy price if the fund can take the account,
    else auto-deleveraging."""
    (params, side, size, entry, pos_acct, pos_mkt, margin, last_partial, acct_kind,
     acct_ptr, acct_pos, mkt, tiers, hold, adl_u) = pack
    ok = params[P_FUND_ON] > 0.0
    if ok:
        after = _fund_value(mkt, hold) + eq
        ok = after >= 0.0
        cap = params[P_FUND_CAP]
        if ok and cap < math.inf:
            for m in range(mkt.shape[0]):
                dpos = 0.0
                touched = False
                for k in range(acct_ptr[a], acct_ptr[a + 1]):
                    i = acct_pos[k]
                    if size[i] > 0.0 and pos_mkt[i] == m:
                        dpos += side[i] * size[i]
                        touched = True
                if touched and abs(mkt[m, M_FUND_POS] + dpos) * mkt[m, M_MARK] > cap * after:
                    ok = False
    if ok:
        return _takeover(pack, a, eq, _HOLD_FUND, acc, t, ev_step, ev_pos, ev_proto, ev_asset,
                         ev_seized, ev_repaid, ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev,
                         proto_id, pos_offset)
    return _adl(pack, a, eq, acc, t, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset)


# ===========================================================================================
# The unit step
# ===========================================================================================


@njit
def perp_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
              sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
              ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """One step of the perp venue (contract: ``docs/architecture.md`` "Protocol units").

    1. marks from the index ``prices[asset]`` and each market's book mid (module docstring);
    2. the fund and the vault unwind ``P_UNWIND_*`` of their positions into the books;
    3. in the order the venues describe (liquidation through the book, then the backstop, then
       the insurance fund / ADL), three phases over the accounts with ``E < MM`` at mark (at most
       ``liq[LQ_MAX]`` accounts if > 0, in index order):

       a. book orders (sliced, limited, fee) for every such account with ``E >= 0`` and, with the
          backstop on, ``E >= ⅔ MM``; the fund (then the write-off) for a negative margin with
          nothing left open; an account still open afterwards is queued for the backstop
          (``0 <= E < ⅔ MM``) or for the fund/ADL (``E < 0``, or a bankruptcy-limited order that did
          not fill while the account is still short of margin). Accounts with ``E < 0`` at the
          check go straight to the fund/ADL queue, those with ``E < ⅔ MM`` to the backstop queue;
       b. the backstop vault takes the accounts queued for it;
       c. the insurance fund takes, else ADL closes, the accounts queued for it.

    ``sold``, ``av_ptr``, ``av_idx`` and ``liq`` (but ``LQ_MAX``) are not used. Returns ``n_ev``.
    """
    (params, side, size, entry, pos_acct, pos_mkt, margin, last_partial, acct_kind,
     acct_ptr, acct_pos, mkt, tiers, hold, adl_u) = pack
    now = t * dt_seconds
    _update_marks(params, mkt, prices, vs, dt_seconds)
    perp_funding(mkt, M_FD, M_MARK, M_ASSET, M_VENUE, M_FUND_POS, M_BS_POS, M_BOOK_POS, M_BOOK_CASH, side, size,
                 pos_mkt, pos_acct, margin, hold, H_FUND_CASH, H_BS_CASH, prices, vs, vdk, vdq, dt_seconds)
    for m in range(mkt.shape[0]):
        _unwind(vs, vdk, vdq, mkt, hold, m, M_FUND_POS, H_FUND_CASH, params[P_UNWIND_FUND])
        _unwind(vs, vdk, vdq, mkt, hold, m, M_BS_POS, H_BS_CASH, params[P_UNWIND_BS])

    slice_mode = int(params[P_SLICE])
    limit_mode = int(params[P_LIMIT])
    bs_on = params[P_BS_ON] > 0.0
    bs_frac = params[P_BS_FRAC]
    fee_rate = params[P_FEE]
    to_fund = params[P_FEE_TO_FUND]
    max_act = int(liq[LQ_MAX]) if liq.shape[0] > LQ_MAX else 0
    n_act = 0
    na = margin.shape[0]
    # phase 1 (book orders) queues the accounts for phase 2 (backstop) and phase 3 (fund / ADL)
    q_bs = np.empty(na, np.int64)
    q_rs = np.empty(na, np.int64)
    n_bs = 0
    n_rs = 0
    for a in range(na):
        if max_act > 0 and n_act >= max_act:
            break
        eq, mm, npos, ntot = _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr,
                                         acct_pos, mkt, tiers)
        if npos == 0 or not (eq < mm):
            continue
        n_act += 1
        action = _ACT_NONE
        if eq < 0.0:
            action = _ACT_RESOLVE
        elif bs_on and eq < bs_frac * mm:
            action = _ACT_BACKSTOP
        else:
            # --- book liquidation --------------------------------------------------------
            in_cool = (now - last_partial[a]) < params[P_COOLDOWN]
            did_partial = False
            unfilled = False
            last_i = -1
            for k in range(acct_ptr[a], acct_ptr[a + 1]):
                i = acct_pos[k]
                q = size[i]
                if q <= 0.0:
                    continue
                last_i = i
                m = pos_mkt[i]
                p = mkt[m, M_MARK]
                s = side[i]
                v = int(mkt[m, M_VENUE])
                nt = int(mkt[m, M_NTIER])
                dq = q
                partial = False
                if slice_mode == SLICE_HL:
                    if q * p > params[P_SLICE_MIN] and not in_cool:
                        dq = params[P_SLICE_FRAC] * q
                        partial = True
                elif slice_mode == SLICE_TIER_DOWN:
                    tn = tier_index(tiers[m], nt, q * p)
                    if tn > 0:
                        dq = q - tiers[m, tn, T_LB] / p
                        partial = True
                e0, mm0, _, _ = _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr,
                                            acct_pos, mkt, tiers)
                p_lim = math.nan
                if limit_mode == LIMIT_BANKRUPTCY:
                    p_lim = p - s * e0 / q
                elif limit_mode == LIMIT_DYDX:
                    abr = params[P_DYDX_BA] * (1.0 - e0 / mm0)
                    abr = min(max(abr, 0.0), 1.0)
                    p_lim = p - s * abr * params[P_DYDX_SMMR] * maintenance_margin(tiers[m], nt, q * p) / q
                d, quote = _close_on_book(vs, vdk, vdq, v, s, dq, p_lim, mkt, m)
                if d < dq:
                    unfilled = True
                if d <= 0.0:
                    continue
                f = quote / d
                margin[a] += s * d * (f - entry[i])
                size[i] = q - d
                mkt[m, M_BOOK_POS] += s * d
                mkt[m, M_BOOK_CASH] -= s * quote
                if partial:
                    did_partial = True
                e1 = margin[a]
                for k2 in range(acct_ptr[a], acct_ptr[a + 1]):
                    i2 = acct_pos[k2]
                    if size[i2] > 0.0:
                        e1 += side[i2] * size[i2] * (mkt[pos_mkt[i2], M_MARK] - entry[i2])
                fee = fee_rate * quote
                if fee > e1:
                    fee = e1 if e1 > 0.0 else 0.0
                margin[a] -= fee
                hold[H_FUND_CASH] += fee * to_fund
                hold[H_TREASURY] += fee - fee * to_fund
                hold[H_FEES] += fee
                repaid = e0 - (e1 - fee)
                bonus = s * d * (p - f)
                hold[H_N_BOOK] += 1.0
                hold[H_NOT_BOOK] += d * p
                if s > 0.0:
                    hold[H_NOT_LONG] += d * p
                acc[ACC_NLIQ] += 1.0
                acc[ACC_LIQ_VALUE] += d * p
                acc[ACC_REPAID] += repaid
                acc[ACC_FEES] += fee
                acc[ACC_BONUS] += bonus
                n_ev = _emit(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
                             ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, t, pos_offset + i, proto_id,
                             int(mkt[m, M_ASSET]), d, repaid, p, f, bonus, 0.0, fee, acc)
            if did_partial:
                last_partial[a] = now
            eq2, mm2, npos2, _ = _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr,
                                             acct_pos, mkt, tiers)
            if npos2 > 0:
                if bs_on and 0.0 <= eq2 < bs_frac * mm2:
                    action = _ACT_BACKSTOP
                elif eq2 < 0.0 or (unfilled and eq2 < mm2):
                    action = _ACT_RESOLVE
            elif margin[a] < 0.0:
                # every position closed with a negative margin: the fund pays, the rest is
                # written off
                deficit = -margin[a]
                cover = 0.0
                if params[P_FUND_ON] > 0.0:
                    fv = _fund_value(mkt, hold)
                    cover = deficit if deficit < fv else (fv if fv > 0.0 else 0.0)
                hold[H_FUND_CASH] -= cover
                hold[H_FUND_DRAWN] += cover
                hold[H_SOCIAL] += deficit - cover
                hold[H_N_WRITEOFF] += 1.0
                margin[a] = 0.0
                acc[ACC_BAD] += deficit
                acc[ACC_FUND_DRAW] += cover
                m = pos_mkt[last_i]
                n_ev = _emit(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
                             ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, t, pos_offset + last_i,
                             proto_id, int(mkt[m, M_ASSET]), 0.0, 0.0, mkt[m, M_MARK],
                             mkt[m, M_MARK], 0.0, deficit, 0.0, acc)
        if action == _ACT_RESOLVE:
            q_rs[n_rs] = a
            n_rs += 1
        elif action == _ACT_BACKSTOP:
            q_bs[n_bs] = a
            n_bs += 1
    # phase 2: the backstop vault takes the accounts queued for it (their equity is what it
    # was when queued: marks do not move within a step and no other account trades theirs)
    for k in range(n_bs):
        a = q_bs[k]
        eq, mm, npos, ntot = _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr,
                                         acct_pos, mkt, tiers)
        if npos > 0:
            n_ev = _takeover(pack, a, eq, _HOLD_BS, acc, t, ev_step, ev_pos, ev_proto,
                             ev_asset, ev_seized, ev_repaid, ev_price, ev_exec, ev_bonus, ev_bad,
                             ev_fee, n_ev, proto_id, pos_offset)
    # phase 3: insurance fund, else ADL, for the accounts queued for it
    for k in range(n_rs):
        a = q_rs[k]
        eq, mm, npos, ntot = _acct_state(a, side, size, entry, pos_mkt, margin, acct_ptr,
                                         acct_pos, mkt, tiers)
        if npos > 0:
            n_ev = _resolve(pack, a, eq, acc, t, ev_step, ev_pos, ev_proto, ev_asset,
                            ev_seized, ev_repaid, ev_price, ev_exec, ev_bonus, ev_bad, ev_fee,
                            n_ev, proto_id, pos_offset)
    return n_ev
