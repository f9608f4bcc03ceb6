"""Data loaders: the reference files read as documented, and bad input names file, place and reason."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from data_helpers import need

from liqcascade.data import aave as AV
from liqcascade.data import bars as B
from liqcascade.data import binance as BN
from liqcascade.data import compound as CP
from liqcascade.data import formats as FM
from liqcascade.data import gas as G
from liqcascade.data import prices as PR
from liqcascade.data import quotes as Q
from liqcascade.data import uniswap as U
from liqcascade.errors import InputError

# ------------------------------------------------------------------------------------------------
# the reference files (../shared/data)
# ------------------------------------------------------------------------------------------------


def test_ohlcv_crash_days():
    d = need("stablesims", "eth")
    b = B.load_ohlcv_json(d / "03-12-2020.json")
    assert len(b) == 144 and b.dt_seconds == 600
    assert b.open[0] == pytest.approx(195.21) and b.low.min() == pytest.approx(101.01)  # README: 195.2 -> 101.0
    assert b.time_s[0] == 1583971200.0  # 2020-03-12T00:00Z
    b = B.load_ohlcv_json(d / "09-05-2020.json")  # starts with three copies of the 00:20 bar
    assert len(b) == 142 and b.duplicates_dropped == 2
    assert np.all(np.diff(b.time_s) == 600)


def test_gas_percentiles():
    d = need("stablesims", "gas")
    g = G.load_gas_json(d / "03-12-2020.json")
    assert g.percentiles == (30.0, 60.0, 90.0, 100.0) and len(g) == 144
    assert g.gwei(90)[0] == pytest.approx(30.0)
    g1 = G.load_gas_json(d / "gas_black_thursday_1min.json")
    assert len(g1) == 1440
    empty = g1.tx_count == 0  # minutes without transactions have null percentiles
    assert empty.sum() == 7 and np.isnan(g1.values_wei[empty]).all()
    assert not np.isnan(g1.values_wei[~empty]).any()


def test_uniswap_reserves():
    f = need("stablesims", "eth_dai_liquidity", "05-19-2021.json")
    r = U.load_uniswap_reserves(f)
    assert (r.asset, r.quote, len(r)) == ("WETH", "DAI", 144)
    assert r.spot[0] == pytest.approx(67923883.66277882 / 23221.34635038082)
    assert np.isnan(r.time_s).all()
    r2 = U.load_uniswap_reserves(f, start_s=0.0)
    assert r2.time_s[1] == 600.0
    d = r.depth([0.01, 0.05], side="bid")
    assert d.shape == (144, 2) and np.all(d[:, 1] > d[:, 0])


def test_binance_klines_and_book_depth():
    d = need("binance_2025-10-10")
    k = BN.load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-10.zip")
    assert len(k) == 1440 and k.dt_seconds == 60 and (k.volume == 0).all()  # index klines
    assert k.time_s[0] == 1760054400.0
    k5 = BN.load_binance_klines(d / "BTCUSDT-5m-2025-10-10.zip")
    assert len(k5) == 288
    bd = BN.load_book_depth(d / "BTCUSDT-bookDepth-2025-10-10.csv")
    assert bd.levels == (-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    # 2,880 timestamps in the file, one split by a stray leading space: 2,879 snapshots
    assert len(bd) == 2879 and not np.isnan(bd.notional).any()
    frac, ask = bd.side("ask")
    assert list(frac) == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert np.all(np.diff(ask, axis=1) >= 0)
    # README: ask depth within +1 % fell from ~$341M (20:00) to ~$67M (21:20)
    t20 = 1760054400 + 20 * 3600
    t2120 = t20 + 80 * 60
    assert ask[np.searchsorted(bd.time_s, t20), 0] == pytest.approx(341e6, rel=0.01)
    assert ask[np.searchsorted(bd.time_s, t2120), 0] == pytest.approx(67e6, rel=0.01)
    mid = bd.mid_estimate()
    assert np.nanmedian(np.abs(mid / np.interp(bd.time_s, k.time_s, k.close) - 1)) < 0.01


def test_compound_snapshot():
    d = need("compound_v2_borrowers_2023")
    s = CP.load_compound_v2(d / "compound_v2_accounts_with_borrows.csv", d / "compound_v2_account_ctoken_positions.csv")
    assert (s.n_accounts, s.n_positions) == (8851, 21771)
    assert np.all(np.diff(s.pos_account) >= 0)  # grouped by account
    iv = CP.implied_values(s)
    j = s.symbols.index("cETH")
    assert iv.weighted_eth_per_ctoken[j] == pytest.approx(0.0165691, rel=1e-5)
    assert iv.weighted_rel_spread[j] < 1e-8  # the same number for every single-collateral account
    assert iv.eth_usd == pytest.approx(1841.6, abs=0.5)
    # collateral totals are reproduced exactly from the per-cToken values for most accounts
    w = np.nan_to_num(iv.weighted_eth_per_ctoken)[s.pos_symbol] * s.ctoken_balance
    tc = np.bincount(s.pos_account, weights=w, minlength=s.n_accounts)
    m = s.total_collateral_eth > 0
    rel = np.abs(tc[m] / s.total_collateral_eth[m] - 1)
    assert (rel < 1e-6).mean() > 0.94


def test_aave_details():
    d = need("aave_v2_borrowers_2021", "aave_user_details_v2")
    hs = AV.load_aave_details_dir(d)
    assert len(hs) == 10
    h = next(x for x in hs if x.user.startswith("0x5e932E"))
    assert h.assets == ("USDC", "UST") and h.decimals == (6, 6)
    assert h.collateral[0, 0] == pytest.approx(140000.001941)
    assert h.total_collateral_eth[0] * h.eth_usd[0] == pytest.approx(140508.96952448832, rel=1e-12)
    h = next(x for x in hs if x.user.startswith("0x2e9b17"))
    assert dict(zip(h.assets, h.decimals)) == {"USDT": 6, "WETH": 18, "LINK": 18, "USDC": 6, "GUSD": 2}


def test_quotes_and_prices():
    f = need("riskdao_jan2021", "data_unified_0_ethusdt.csv")
    q = Q.load_quotes_csv(f)
    assert len(q) == 43173 and np.all(q.bid <= q.ask)
    assert q.time_s[0] == pytest.approx(1609460068.9123072)  # µs in the file
    assert q.liq_long.sum() > q.liq_short.sum() > 0
    d = need("hourly_prices_2021_2024")
    cg = PR.load_price_csv(d / "coingecko" / "WETH_usd.csv")
    assert cg.symbol == "WETH" and cg.time_s[0] == pytest.approx(1609460789.131)  # ms in the file
    orc = PR.load_price_csv(d / "compound_v3_oracle" / "WBTC_usd.csv")
    assert orc.missing_dropped == 16641 and orc.time_s[0] == 1719584591.0  # seconds in the file
    assert cg.at([cg.time_s[0] - 1])[0] != cg.at([cg.time_s[0] - 1])[0]  # NaN outside


def test_every_reference_file_is_recognised():
    d = need()
    skip = {"README.md", "LICENSE.upstream", "prices_hourly_from_prices_pkl.json", "EBA_2018.csv",
            "metadata_range_1m_20230301_20230321.csv"}
    n = 0
    for f in sorted(d.rglob("*")):
        if f.is_file() and f.name not in skip:
            FM.sniff(f)
            n += 1
    assert n >= 45


# ------------------------------------------------------------------------------------------------
# bad input: tiny files in tmp_path
# ------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, content) -> Path:
    p = tmp_path / name
    if isinstance(content, (list, dict)):
        p.write_text(json.dumps(content))
    else:
        p.write_text(content)
    return p


def _err(fn, path, *parts, **kw):
    with pytest.raises(InputError) as ei:
        fn(path, **kw)
    msg = ei.value.message()
    assert ei.value.file is not None and str(path).split("/")[-1] in ei.value.file, msg
    for p in parts:
        assert p in msg, f"{p!r} not in {msg!r}"
    return msg


BAR = {"time_period_start": "2020-03-12T00:00:00.0000000Z", "price_open": 10, "price_high": 11,
       "price_low": 9, "price_close": 10.5, "volume_traded": 1}


def _bar(i, **kw):
    b = dict(BAR, time_period_start=f"2020-03-12T00:{10 * i:02d}:00Z")
    b.update(kw)
    return b


@pytest.mark.parametrize("content, parts", [
    ("[{", ("line 1", "invalid JSON")),
    ({"a": 1}, ("expected a JSON array",)),
    ([], ("no bars",)),
    ([1], ("record 0", "expected an object")),
    ([{"price_open": 1}], ("record 0", "missing field", "time_period_start")),
    ([_bar(0), _bar(1, price_close="x")], ("record 1", "price_close", "not a number")),
    ([_bar(0), _bar(1, price_open=-1)], ("record 1", "price_open", ">= 0")),
    ([_bar(0), _bar(1, price_low=0)], ("record 1", "price_low", "> 0")),
    ([_bar(0), _bar(1, price_high=9.5)], ("record 1", "inconsistent bar")),
    ([_bar(0), _bar(1, time_period_start="yesterday")], ("record 1", "not a time")),
    ([_bar(1), _bar(0)], ("record 1", "increasing")),
    ([_bar(0), _bar(0, price_close=10.2)], ("record 1", "repeated")),
    ([_bar(0), _bar(1, price_close=float("nan"))], ("record 1", "NaN")),
])
def test_ohlcv_bad(tmp_path, content, parts):
    p = _write(tmp_path, "bars.json", content)
    _err(B.load_ohlcv_json, p, *parts)


def test_ohlcv_exact_repeat_dropped(tmp_path):
    p = _write(tmp_path, "bars.json", [_bar(0), _bar(0), _bar(1)])
    b = B.load_ohlcv_json(p)
    assert len(b) == 2 and b.duplicates_dropped == 1


def test_common_file_errors(tmp_path):
    _err(B.load_ohlcv_json, tmp_path / "missing.json", "file not found")
    _err(B.load_ohlcv_json, _write(tmp_path, "empty.json", ""), "file is empty")
    (tmp_path / "dir.json").mkdir()
    _err(B.load_ohlcv_json, tmp_path / "dir.json", "is a directory")
    p = tmp_path / "latin.csv"
    p.write_bytes(b"timestamp,USD_price\n1,\xe9\n")
    _err(PR.load_price_csv, p, "not UTF-8")


GAS_REC = {"timestamp": "2020-03-12T00:00:00.000Z", "doc_count": 3, "avgGasDay": 5e9, "30.0 Perc": 1e9,
           "90.0 Perc": 2e9}


@pytest.mark.parametrize("content, parts", [
    ({"schema": {}}, ("'data' array",)),
    ({"data": []}, ("no records",)),
    ([{"timestamp": "2020-03-12T00:00:00Z", "x": 1}], ("no percentile fields",)),
    ([{"30.0 Perc": 1}], ("missing field 'timestamp'",)),
    ([GAS_REC, dict(GAS_REC, timestamp="2020-03-12T00:10:00Z", **{"90.0 Perc": "high"})],
     ("record[1]", "90.0 Perc", "not a number")),
    ([dict(GAS_REC, **{"90.0 Perc": 5e8})], ("record[0]", "must not decrease")),
    ([GAS_REC, {"timestamp": "2020-03-12T00:10:00Z", "30.0 Perc": 1e9}], ("record[1]", "missing field '90.0 Perc'")),
    ([GAS_REC, GAS_REC], ("record[1]", "increasing")),
])
def test_gas_bad(tmp_path, content, parts):
    _err(G.load_gas_json, _write(tmp_path, "gas.json", content), *parts)


def test_gas_null_is_nan(tmp_path):
    rec = dict(GAS_REC, timestamp="2020-03-12T00:10:00Z", doc_count=0, avgGasDay=None,
               **{"30.0 Perc": None, "90.0 Perc": None})
    g = G.load_gas_json(_write(tmp_path, "gas.json", {"schema": {}, "data": [GAS_REC, rec]}))
    assert np.isnan(g.values_wei[1]).all() and np.isnan(g.mean_wei[1]) and g.tx_count[1] == 0


@pytest.mark.parametrize("content, kw, parts", [
    ({"DAI": 1}, {}, ("expected a JSON array",)),
    ([{"DAI": 1, "WETH": 2, "USDC": 3}], {}, ("record 0", "exactly two",)),
    ([{"DAI": 10, "WETH": 2}, {"DAI": 10, "WBTC": 2}], {}, ("record 1", "differ")),
    ([{"DAI": 10, "WETH": 0}], {}, ("record 0", "WETH", "> 0")),
    ([{"DAI": 10, "WETH": "a"}], {}, ("record 0", "WETH", "not a number")),
    ([{"ABC": 10, "WETH": 2}], {}, ("cannot tell the quote",)),
    ([{"DAI": 10, "WETH": 2}], {"asset": "WBTC"}, ("asset token 'WBTC' not in the file",)),
    ([{"DAI": 10, "WETH": 2, "timestamp": 5}, {"DAI": 10, "WETH": 2}], {}, ("record 1", "timestamp")),
])
def test_reserves_bad(tmp_path, content, kw, parts):
    _err(U.load_uniswap_reserves, _write(tmp_path, "res.json", content), *parts, **kw)


def test_reserves_explicit_tokens(tmp_path):
    r = U.load_uniswap_reserves(_write(tmp_path, "res.json", [{"ABC": 10, "XYZ": 2}]), asset="XYZ", quote="ABC")
    assert r.spot[0] == 5.0


KL_HEAD = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"
KL_ROW = "{t},100,101,99,100.5,0,{t2},0,60,0,0,0\n"


def _kl(*times):
    return "".join(KL_ROW.format(t=t, t2=t + 59999) for t in times)


def _zip(tmp_path, name, members):
    p = tmp_path / name
    with zipfile.ZipFile(p, "w") as z:
        for n, text in members.items():
            z.writestr(n, text)
    return p


def test_klines_bad(tmp_path):
    p = _write(tmp_path, "k.zip", "not a zip")
    _err(BN.load_binance_klines, p, "not a readable zip")
    p = _zip(tmp_path, "two.zip", {"a.csv": KL_HEAD, "b.csv": KL_HEAD})
    _err(BN.load_binance_klines, p, "expected one .csv inside the zip, found 2")
    p = _zip(tmp_path, "bad.zip", {"x.csv": KL_HEAD + _kl(0) + "60000,100,101,99,abc,0,1,0,0,0,0,0\n"})
    msg = _err(BN.load_binance_klines, p, "x.csv", "line 3", "close", "not a number")
    assert "bad.zip:x.csv" in msg
    p = _write(tmp_path, "cols.csv", "open_time,open,close\n0,1,1\n")
    _err(BN.load_binance_klines, p, "line 1", "missing column(s) high,low,volume")
    p = _write(tmp_path, "back.csv", KL_HEAD + _kl(60000, 0))
    _err(BN.load_binance_klines, p, "line 3", "open_time", "increase")
    p = _write(tmp_path, "hl.csv", KL_HEAD + "0,100,99,101,100,0,1,0,0,0,0,0\n")
    _err(BN.load_binance_klines, p, "line 2", "inconsistent bar")
    p = _write(tmp_path, "short.csv", KL_HEAD + "0,100,101\n")
    _err(BN.load_binance_klines, p, "line 2", "expected 12 fields")


def test_klines_headerless_and_units(tmp_path):
    p = _write(tmp_path, "old.csv", _kl(1500000000000, 1500000060000))  # pre-2022 files: no header
    k = BN.load_binance_klines(p)
    assert list(k.time_s) == [1500000000.0, 1500000060.0]
    p = _write(tmp_path, "us.csv", _kl(1735689600000000, 1735689660000000))  # 2025 spot files: µs
    assert BN.load_binance_klines(p).time_s[0] == 1735689600.0
    p = _write(tmp_path, "oldbad.csv", _kl(0) + "60000,100,101,99,zz,0,1,0,0,0,0,0\n")
    _err(BN.load_binance_klines, p, "line 2", "close")  # line numbers refer to the file as it is


DEPTH_HEAD = "timestamp,percentage,depth,notional,weighted_avg_price\n"


def _snap(t, bands=((-2, 20, 2000), (-1, 10, 1000), (1, 10, 1000), (2, 20, 2000))):
    return "".join(f"{t},{p},{d},{q},100\n" for p, d, q in bands)


def test_book_depth_bad(tmp_path):
    ok = DEPTH_HEAD + _snap("2025-10-10 00:00:07") + _snap(" 2025-10-10 00:00:37 ")
    bd = BN.load_book_depth(_write(tmp_path, "ok.csv", ok))
    assert len(bd) == 2 and bd.side("bid")[1][0, 0] == 1000
    split = DEPTH_HEAD + _snap("2025-10-10 00:00:07", ((1, 1, 10),)) + _snap(" 2025-10-10 00:00:07", ((2, 2, 20),))
    assert len(BN.load_book_depth(_write(tmp_path, "split.csv", split))) == 1
    cases = [
        ("timestamp,percentage,depth\n1,1,1\n", ("line 1", "missing column(s) notional")),
        (DEPTH_HEAD + "2025-10-10 00:00:07,0,1,1,1\n", ("line 2", "percentage", "non-zero")),
        (DEPTH_HEAD + "2025-10-10 00:00:07,1,-1,1,1\n", ("line 2", "depth", ">= 0")),
        (DEPTH_HEAD + "2025-10-10 00:00:07,1,1,1,1\n2025-10-10 00:00:07,1,1,1,1\n", ("line 3", "band 1 repeated")),
        (DEPTH_HEAD + _snap("2025-10-10 00:00:07", ((1, 10, 1000), (2, 20, 900))), ("line 3", "notional", "falls")),
        (DEPTH_HEAD + _snap("2025-10-10 00:00:37") + _snap("2025-10-10 00:00:07"), ("line 6", "go back")),
        (DEPTH_HEAD + "tomorrow,1,1,1,1\n", ("line 2", "timestamp", "not a time")),
        (DEPTH_HEAD, ("line 2", "no data rows")),
    ]
    for i, (text, parts) in enumerate(cases):
        _err(BN.load_book_depth, _write(tmp_path, f"bad{i}.csv", text), *parts)


ACC = "account,totalBorrowValueInEth,totalCollateralValueInEth\n"
POS = "account,symbol,cTokenBalance,storedBorrowBalance\n"


def test_compound_bad(tmp_path):
    a = _write(tmp_path, "acc.csv", ACC + "0xa,1,2\n0xb,1,1.5\n")
    p = _write(tmp_path, "pos.csv", POS + "0xa,cETH,100,0\n0xa,cUSDC,0,1800\n0xb,cETH,90,0\n0xb,cUSDC,0,1800\n")
    s = CP.load_compound_v2(a, p)
    assert s.n_accounts == 2 and s.symbols == ("cETH", "cUSDC") and s.underlyings == ("ETH", "USDC")
    iv = CP.implied_values(s)
    assert iv.price_eth[1] == pytest.approx(1 / 1800) and iv.eth_usd == pytest.approx(1800)
    assert iv.weighted_eth_per_ctoken[0] == pytest.approx((0.02 + 1.5 / 90) / 2)  # median of 2/100 and 1.5/90
    _err(CP.load_compound_v2, _write(tmp_path, "a1.csv", "account,totalBorrowValueInEth\n0xa,1\n"),
         "line 1", "missing column(s) totalCollateralValueInEth")
    _err(CP.load_compound_v2, _write(tmp_path, "a2.csv", ACC + "0xa,1,2\n0xa,1,2\n"), "line 3", "repeated")
    _err(CP.load_compound_v2, _write(tmp_path, "a3.csv", ACC + "0xa,-1,2\n"), "line 2", "totalBorrowValueInEth", ">= 0")
    _err(CP.load_compound_v2, _write(tmp_path, "a4.csv", ACC + ",1,2\n"), "line 2", "empty account")
    with pytest.raises(InputError) as ei:
        CP.load_compound_v2(a, _write(tmp_path, "p1.csv", POS + "0xa,cETH,1,0\n0xc,cETH,1,0\n"))
    assert "p1.csv" in ei.value.file and "line 3" in ei.value.where and "not in the accounts file" in ei.value.reason
    with pytest.raises(InputError, match="line 2, column 'cTokenBalance'"):
        CP.load_compound_v2(positions=_write(tmp_path, "p2.csv", POS + "0xa,cETH,x,0\n"))
    with pytest.raises(InputError, match="empty symbol"):
        CP.load_compound_v2(positions=_write(tmp_path, "p3.csv", POS + "0xa, ,1,0\n"))


AAVE_HEAD = ("block,timestamp,user,totalCollateral,totalDebt,healthFactor,tokenAddress,WETH_collateral,USDC_debt,"
             "WETH_USD_price,USDC_USD_price,WETH_collateral (in USD),USDC_debt (in USD),totalCollateral (in USD),"
             "totalDebt (in USD)\n")
AAVE_ROW = "{b},1600000000,0xu,1e18,5e17,{hf},0x0,1e18,1000000000.0,2000,1,2000,1000,2000,1000\n"


def test_aave_bad(tmp_path):
    p = _write(tmp_path, "u_details_v2.csv", AAVE_HEAD + AAVE_ROW.format(b=1, hf=1.65))
    h = AV.load_aave_details(p)
    assert h.decimals == (18, 6) and h.collateral[0, 0] == 1.0 and h.debt[0, 1] == 1000.0
    assert AV.oracle_health_factor(h, {"WETH": 0.825})[0] == pytest.approx(1.65)
    _err(AV.load_aave_details, _write(tmp_path, "a.csv", "block,timestamp\n1,2\n"), "line 1", "missing column(s)")
    _err(AV.load_aave_details, _write(tmp_path, "b.csv", AAVE_HEAD + AAVE_ROW.format(b=2, hf=1) + AAVE_ROW.format(b=1, hf=1)),
         "line 3", "block", "increase")
    _err(AV.load_aave_details, _write(tmp_path, "c.csv", AAVE_HEAD + AAVE_ROW.format(b=1.5, hf=1)), "line 2", "integer")
    _err(AV.load_aave_details, _write(tmp_path, "d.csv", AAVE_HEAD + AAVE_ROW.format(b=1, hf="x")),
         "line 2", "healthFactor", "not a number")
    two = AAVE_HEAD + AAVE_ROW.format(b=1, hf=1) + AAVE_ROW.format(b=2, hf=1).replace("0xu", "0xv")
    _err(AV.load_aave_details, _write(tmp_path, "e.csv", two), "one user per file")
    odd = AAVE_HEAD + "1,1,0xu,1e18,5e17,1,0x0,1e18,1234567,2000,1,2000,1000,2000,1000\n"
    _err(AV.load_aave_details, _write(tmp_path, "f.csv", odd), "decimals of USDC")
    empty = tmp_path / "emptydir"
    empty.mkdir()
    with pytest.raises(InputError, match="no \\*_details_v2.csv"):
        AV.load_aave_details_dir(empty)
    with pytest.raises(InputError, match="not a folder"):
        AV.load_aave_details_dir(tmp_path / "nothing")


def test_aave_health_factor_formula():
    # Σ c·p·LT / Σ d·p; collateral with LT 0 does not count; no debt -> inf
    hf = AV.aave_health_factor([[1.0, 100.0, 0.0]], [[0.0, 0.0, 500.0]], [2000.0, 1.0, 1.0], [0.8, 0.0, 0.0])
    assert hf[0] == pytest.approx(1.0 * 2000 * 0.8 / 500)
    assert AV.aave_health_factor([1.0], [0.0], [1.0], [0.8]) == math.inf


QHEAD = "timestamp_x,ask_price,bid_price,binance-futures_ethusdt_liquidation_long,binance-futures_ethusdt_liquidation_short\n"


def test_quotes_bad(tmp_path):
    q = Q.load_quotes_csv(_write(tmp_path, "q.csv", QHEAD + "1609460068912307.2,731,730,5,0\n1609460128000000,732,731,0,1\n"))
    assert q.time_s[1] == 1609460128.0 and q.spread[0] == pytest.approx(1 / 730.5)
    _err(Q.load_quotes_csv, _write(tmp_path, "a.csv", "timestamp,ask\n1,2\n"), "line 1", "not a quotes file")
    _err(Q.load_quotes_csv, _write(tmp_path, "b.csv", QHEAD + "1,730,731,0,0\n"), "line 2", "bid", "above ask")
    _err(Q.load_quotes_csv, _write(tmp_path, "c.csv", QHEAD + "2,731,730,0,0\n1,731,730,0,0\n"), "line 3", "increase")
    _err(Q.load_quotes_csv, _write(tmp_path, "d.csv", QHEAD + "1,731,730,-1,0\n"), "line 2", "liquidation_long", ">= 0")
    _err(Q.load_quotes_csv, _write(tmp_path, "e.csv", QHEAD + "1,0,0,0,0\n"), "line 2", "ask_price", "> 0")


def test_prices_bad(tmp_path):
    p = PR.load_price_csv(_write(tmp_path, "WETH_usd.csv", "symbol,timestamp,USD_price\nWETH,1660368917,\nWETH,1660372939,2015.2\n"))
    assert len(p) == 1 and p.missing_dropped == 1 and p.symbol == "WETH"
    p = PR.load_price_csv(_write(tmp_path, "X_usd.csv", "timestamp,price\n2023-01-01T00:00:00Z,2\n2023-01-01 01:00:00,3\n"))
    assert p.symbol == "X" and p.time_s[1] - p.time_s[0] == 3600
    _err(PR.load_price_csv, _write(tmp_path, "a.csv", "symbol,timestamp,amount\nA,1,2\n"), "line 1", "no price column")
    _err(PR.load_price_csv, _write(tmp_path, "b.csv", "symbol,timestamp,USD_price\nA,1,2\nB,2,2\n"), "line 3", "mixes symbols")
    _err(PR.load_price_csv, _write(tmp_path, "c.csv", "timestamp,USD_price\n1,-2\n"), "line 2", "USD_price", "> 0")
    _err(PR.load_price_csv, _write(tmp_path, "d.csv", "timestamp,USD_price\n2,1\n2,1\n"), "line 3", "increase")
    _err(PR.load_price_csv, _write(tmp_path, "e.csv", "timestamp,USD_price\n1,\n"), "no rows with a price")
    _err(PR.load_price_csv, _write(tmp_path, "f.csv", "timestamp,USD_price\n1,inf\n"), "line 2", "finite")
    _err(PR.load_price_csv, _write(tmp_path, "g.csv", "timestamp,USD_price\n1,2,3\n"), "line 2", "expected 2 fields")
    _err(PR.load_price_csv, _write(tmp_path, "h.csv", "\n\n"), "file is empty")


def test_sniff(tmp_path):
    assert FM.sniff(_write(tmp_path, "a.json", [_bar(0)])) == "ohlcv_json"
    assert FM.sniff(_write(tmp_path, "b.json", {"schema": {}, "data": [GAS_REC]})) == "gas_json"
    assert FM.sniff(_write(tmp_path, "c.json", [{"DAI": 1, "WETH": 2}])) == "reserves_json"
    assert FM.sniff(_write(tmp_path, "d.csv", DEPTH_HEAD + _snap("2025-10-10 00:00:07"))) == "book_depth"
    assert FM.sniff(_write(tmp_path, "e.csv", KL_HEAD + _kl(0))) == "binance_klines"
    assert FM.sniff(_write(tmp_path, "f.csv", ACC + "0xa,1,2\n")) == "compound_accounts"
    assert FM.sniff(_write(tmp_path, "g.csv", POS + "0xa,cETH,1,0\n")) == "compound_positions"
    assert FM.sniff(_write(tmp_path, "h.csv", AAVE_HEAD)) == "aave_details"
    assert FM.sniff(_write(tmp_path, "i.csv", QHEAD)) == "quotes"
    assert FM.sniff(_write(tmp_path, "j.csv", "symbol,timestamp,USD_price\n")) == "prices"
    assert FM.sniff(_write(tmp_path, "k.csv", "id,collateral,debt\n1,2,3\n")) == "positions"
    _err(FM.sniff, _write(tmp_path, "x.csv", "foo,bar\n1,2\n"), "line 1", "unknown CSV layout")
    _err(FM.sniff, _write(tmp_path, "y.json", {"foo": 1}), "unknown JSON layout")
    d = FM.describe(_write(tmp_path, "z.json", [_bar(0), _bar(1)]))
    assert d["format"] == "ohlcv_json" and d["rows"] == 2


def test_cli_data_inspect(tmp_path):
    from data_helpers import cli_app, invoke

    app = cli_app()
    good = _write(tmp_path, "bars.json", [_bar(0), _bar(1)])
    code, o, e = invoke(app, "data", "inspect", good, "--json")
    assert code == 0, e
    d = json.loads(o)
    assert d["format"] == "ohlcv_json" and d["rows"] == 2
    bad = _write(tmp_path, "bad.json", [_bar(0), _bar(1, price_close="x")])
    code, o, e = invoke(app, "data", "inspect", bad)
    assert code == 2 and "record 1, field 'price_close': not a number" in (e or o)
    code, o, e = invoke(app, "data", "formats")
    assert code == 0 and "book_depth" in o
