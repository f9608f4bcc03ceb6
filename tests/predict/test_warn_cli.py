"""``liqcascade warn``: a snapshot, --json, --watch on a growing file, train, and bad input."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run


REPO = Path(__file__).resolve().parents[2]
EX = REPO / "examples"


def price_file(path: Path, n: int = 200, start: float = 2000.0, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    p = start * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    path.write_text("time,price\n" + "".join(f"{1_700_000_000 + 60 * i},{v:.4f}\n" for i, v in enumerate(p)))
    return path


def test_snapshot_json_on_the_examples():
    code, out, err = run("warn", EX / "multi_venue_book.toml", EX / "market.csv", "--json")
    assert code == 0, err
    s = json.loads(out)
    assert 0.0 <= s["probability"] <= 1.0 and isinstance(s["alarm"], bool)
    assert s["asset"] == "WETH" and s["bars"] == 720 and s["price"] == pytest.approx(1872.02)
    assert s["walls"] and all(w["to_price"] < w["from_price"] <= s["price"] for w in s["walls"])
    assert s["depth_source"] == "market file"
    assert {"utilization", "borrow_rate"} <= set(s["not_available"])
    assert len(s["top_features"]) == 5
    code2, out2, _ = run("warn", EX / "multi_venue_book.toml", EX / "market.csv", "--json")
    assert json.loads(out2) == s  # same input, same output
    code, out, _ = run("warn", EX / "multi_venue_book.toml", EX / "market.csv")
    assert code == 0 and "liquidation walls below" in out and "P(cascade within 30 min)" in out


def test_position_file_and_price_only_market(tmp_path):
    m = price_file(tmp_path / "m.csv")
    code, out, err = run("warn", EX / "minimal_positions.csv", m, "--lt", "0.86", "--json")
    assert code == 0, err
    s = json.loads(out)
    assert {"vpin", "amihud", "kyle_lambda", "depth_bid_1"} <= set(s["not_available"])
    assert s["depth_source"] is None and s["book_debt"] > 0


def test_watch_follows_a_growing_file(tmp_path):
    m = price_file(tmp_path / "m.csv", n=150)
    extra = price_file(tmp_path / "x.csv", n=160).read_text().splitlines()[151:]

    def writer():
        time.sleep(0.4)
        with open(m, "a") as fh:
            fh.write("\n".join(extra[:4]) + "\n")
            fh.write(extra[4].split(",")[0])  # a half-written line is not read yet
    th = threading.Thread(target=writer)
    th.start()
    code, out, err = run("warn", EX / "minimal_positions.csv", "--watch", m, "--lt", "0.86", "--json",
                         "--interval", "0.1", "--max-updates", "2")
    th.join()
    assert code == 0, err
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert [x["bars"] for x in lines] == [150, 154]


@pytest.mark.parametrize("case,args,needle", [
    ("no close", lambda d: [EX / "minimal_positions.csv", _write(d / "m.csv", "time,volume\n1,2\n"), "--lt", "0.86"],
     "missing column 'close'"),
    ("time back", lambda d: [EX / "minimal_positions.csv", _write(d / "m.csv", "time,close\n2,10\n1,11\n"), "--lt", "0.8"],
     "times must increase"),
    ("no lt", lambda d: [EX / "minimal_positions.csv", price_file(d / "m.csv")], "--lt"),
    ("both", lambda d: [EX / "minimal_positions.csv", price_file(d / "m.csv"), "--watch", d / "m.csv", "--lt", "0.8"],
     "not both"),
    ("pickle", lambda d: [EX / "minimal_positions.csv", price_file(d / "m.csv"), "--lt", "0.8", "--model",
                          _write(d / "m.pkl", "x")], "pickle"),
    ("bad lt", lambda d: [EX / "minimal_positions.csv", price_file(d / "m.csv"), "--lt", "1.5"], "--lt"),
])
def test_bad_input_one_line(tmp_path, case, args, needle):
    code, out, err = run("warn", *args(tmp_path))
    assert code == 2, (case, out, err)
    msg = (err or out).strip()
    assert msg.startswith("error: ") and needle in msg and len(msg.splitlines()) == 1, msg


def _write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def test_train_on_a_family_file(tmp_path):
    fam = tmp_path / "fam.toml"
    fam.write_text("""seed = 3
[[families]]
name = "pool"
venue = "cpmm"
book_shape = "clustered"
scenarios = 2
paths = 1
steps = 600
positions = [40, 60]
prices = ["crash"]
debt_to_depth = [30.0, 60.0]
crash_shock = [0.3, 0.4]
crash_over_s = [600.0, 1200.0]
""")
    out = tmp_path / "m.json"
    code, o, err = run("warn", "train", fam, "--out", out)
    assert code == 0, err
    d = json.loads(out.read_text())
    assert d["kind"] == "logistic" and d["meta"]["family_file"] == str(fam) and d["meta"]["samples"] > 0
    code, o, err = run("warn", EX / "multi_venue_book.toml", EX / "market.csv", "--model", out, "--json")
    assert code == 0, err and json.loads(o)["model"]["source"] == str(out)
    code, o, err = run("warn", "train", fam, "--out", tmp_path / "m.skops")
    assert code == 2 and "logistic model is saved as .json" in (err or o)


def test_shipped_model_and_docs_tables_come_from_warn_evaluate(tmp_path):
    from liqcascade.predict.models import load_model
    from liqcascade.predict.report import BEGIN, END
    from liqcascade.predict.simulate import SIM_FEATURES
    from liqcascade.predict.warn import default_model_path

    m = load_model(default_model_path())
    assert m.features == SIM_FEATURES and m.meta["command"] == "liqcascade warn evaluate"
    assert 0 < m.meta["alarm_threshold"] < 1 and m.meta["samples"] > 10_000
    doc = (REPO / "docs" / "predict.md").read_text()
    block = doc[doc.index(BEGIN) + len(BEGIN): doc.index(END)].strip()
    assert block.startswith("Produced by `liqcascade warn evaluate`")
    assert "| volatility only |" in block and "Split `book shape`" in block and "**Crash days**" in block
    bad = _write(tmp_path / "d.md", "no markers here\n")
    code, out, err = run("warn", "evaluate", "--out", tmp_path / "o", "--docs", bad)
    assert code == 2 and "markers" in (err or out) and not (tmp_path / "o").exists()
