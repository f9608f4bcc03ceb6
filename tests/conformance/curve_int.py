"""Curve StableSwap integer math, restated in Python integers for conformance tests.

Each function reproduces the arithmetic of one contract function (``uint256``, floor division,
the same order of operations), so the tests get the contract's exact outputs:

* legacy pools — curvefi/curve-contract@574f440 ``contracts/pools/3pool/StableSwap3Pool.vy``:
  ``get_D`` L193-218, ``get_y`` L354-397, ``get_dy`` L400-411, ``exchange`` L429-478
  (``A`` without ``A_PRECISION``; the 3pool has ``N_COINS = 3`` but the functions are written for
  any ``n``, as the other legacy pools of the same template).
* NG pools — curvefi/stableswap-ng@2abe778 ``contracts/main/CurveStableSwapNG.vy``:
  ``_dynamic_fee`` L885-900, ``__exchange`` L903-939, ``get_y`` L1007-1074, ``get_D``
  L1077-1125, ``_get_p`` L1311-1336; ``contracts/main/CurveStableSwapNGViews.vy`` ``get_dy``
  L57-86 and ``_get_dx`` L347-376 (``amp`` carries ``A_PRECISION = 100``).

All amounts are integers in the pool's 1e18-precision ``xp`` unit; fees are in 1e10 units.
"""

from __future__ import annotations

FEE_DENOMINATOR = 10**10
PRECISION = 10**18
A_PRECISION = 100


# --- legacy (3pool template) -------------------------------------------------------------------


def legacy_get_D(xp: list[int], amp: int) -> int:
    n = len(xp)
    s = sum(xp)
    if s == 0:
        return 0
    d = s
    ann = amp * n
    for _ in range(255):
        d_p = d
        for x in xp:
            d_p = d_p * d // (x * n)
        d_prev = d
        d = (ann * s + d_p * n) * d // ((ann - 1) * d + (n + 1) * d_p)
        if abs(d - d_prev) <= 1:
            break
    return d


def legacy_get_y(i: int, j: int, x: int, xp: list[int], amp: int) -> int:
    n = len(xp)
    d = legacy_get_D(xp, amp)
    c = d
    s_ = 0
    ann = amp * n
    for k in range(n):
        if k == i:
            xk = x
        elif k != j:
            xk = xp[k]
        else:
            continue
        s_ += xk
        c = c * d // (xk * n)
    c = c * d // (ann * n)
    b = s_ + d // ann
    y = d
    for _ in range(255):
        y_prev = y
        y = (y * y + c) // (2 * y + b - d)
        if abs(y - y_prev) <= 1:
            break
    return y


def legacy_get_dy(i: int, j: int, dx: int, xp: list[int], amp: int, fee: int) -> int:
    """``get_dy`` with all rates equal to 1e18 (``dx`` already in the xp unit)."""
    x = xp[i] + dx
    y = legacy_get_y(i, j, x, xp, amp)
    dy = xp[j] - y - 1
    return dy - fee * dy // FEE_DENOMINATOR


def legacy_exchange(i: int, j: int, dx: int, bal: list[int], amp: int, fee: int, admin_fee: int):
    """``exchange`` (rates 1e18): returns ``(dy_out, dy_admin_fee, new_balances)``."""
    x = bal[i] + dx
    y = legacy_get_y(i, j, x, bal, amp)
    dy = bal[j] - y - 1
    dy_fee = dy * fee // FEE_DENOMINATOR
    out = dy - dy_fee
    admin = dy_fee * admin_fee // FEE_DENOMINATOR
    new = list(bal)
    new[i] = bal[i] + dx
    new[j] = bal[j] - out - admin
    return out, admin, new


# --- NG ---------------------------------------------------------------------------------------


def ng_get_D(xp: list[int], amp: int) -> int:
    n = len(xp)
    s = sum(xp)
    if s == 0:
        return 0
    d = s
    ann = amp * n
    for _ in range(255):
        d_p = d
        for x in xp:
            d_p = d_p * d // x
        d_p //= n**n
        d_prev = d
        d = (ann * s // A_PRECISION + d_p * n) * d // ((ann - A_PRECISION) * d // A_PRECISION + (n + 1) * d_p)
        if abs(d - d_prev) <= 1:
            return d
    raise ArithmeticError("get_D did not converge")


def ng_get_y(i: int, j: int, x: int, xp: list[int], amp: int, d: int) -> int:
    n = len(xp)
    s_ = 0
    c = d
    ann = amp * n
    for k in range(n):
        if k == i:
            xk = x
        elif k != j:
            xk = xp[k]
        else:
            continue
        s_ += xk
        c = c * d // (xk * n)
    c = c * d * A_PRECISION // (ann * n)
    b = s_ + d * A_PRECISION // ann
    y = d
    for _ in range(255):
        y_prev = y
        y = (y * y + c) // (2 * y + b - d)
        if abs(y - y_prev) <= 1:
            return y
    raise ArithmeticError("get_y did not converge")


def ng_dynamic_fee(xpi: int, xpj: int, fee: int, offpeg: int) -> int:
    if offpeg <= FEE_DENOMINATOR:
        return fee
    xps2 = (xpi + xpj) ** 2
    return (offpeg * fee) // ((offpeg - FEE_DENOMINATOR) * 4 * xpi * xpj // xps2 + FEE_DENOMINATOR)


def ng_get_dy(i, j, dx, xp, rates, amp, fee, offpeg):
    """Views ``get_dy``: ``(dy_out, dy_fee_xp)`` for ``dx`` coin units (``rates`` in 1e18)."""
    d = ng_get_D(xp, amp)
    x = xp[i] + dx * rates[i] // PRECISION
    y = ng_get_y(i, j, x, xp, amp, d)
    dy = xp[j] - y - 1
    f = ng_dynamic_fee((xp[i] + x) // 2, (xp[j] + y) // 2, fee, offpeg) * dy // FEE_DENOMINATOR
    return (dy - f) * PRECISION // rates[j], f


def ng_exchange(i, j, dx, bal, rates, amp, fee, offpeg, admin_fee=5 * 10**9):
    """``_exchange``/``__exchange``: returns ``(dy_out, admin_out, new_balances)`` in coin units
    (the pool's balances net of admin balances, as ``_balances()`` reports them)."""
    xp = [b * r // PRECISION for b, r in zip(bal, rates)]
    d = ng_get_D(xp, amp)
    x = xp[i] + dx * rates[i] // PRECISION
    y = ng_get_y(i, j, x, xp, amp, d)
    dy = xp[j] - y - 1
    dy_fee = dy * ng_dynamic_fee((xp[i] + x) // 2, (xp[j] + y) // 2, fee, offpeg) // FEE_DENOMINATOR
    out = (dy - dy_fee) * PRECISION // rates[j]
    admin = (dy_fee * admin_fee // FEE_DENOMINATOR) * PRECISION // rates[j]
    new = list(bal)
    new[i] = bal[i] + dx
    new[j] = bal[j] - out - admin
    return out, admin, new


def ng_get_dx(i, j, dy, xp, rates, amp, fee, offpeg):
    """Views ``_get_dx`` (dynamic fee at the current balances)."""
    d = ng_get_D(xp, amp)
    dy_with_fee = dy * rates[j] // PRECISION + 1
    f = ng_dynamic_fee(xp[i], xp[j], fee, offpeg)
    y = xp[j] - dy_with_fee * FEE_DENOMINATOR // (FEE_DENOMINATOR - f)
    x = ng_get_y(j, i, y, xp, amp, d)
    return (x - xp[i]) * PRECISION // rates[i]


def ng_get_p(xp: list[int], amp: int, d: int) -> list[int]:
    """``_get_p``: prices of coins 1..n−1 in coin 0, 1e18 precision."""
    n = len(xp)
    ann = amp * n
    dr = d // n**n
    for x in xp:
        dr = dr * d // x
    xp0_a = ann * xp[0] // A_PRECISION
    return [10**18 * (xp0_a + dr * xp[0] // xp[k]) // (xp0_a + dr) for k in range(1, n)]
