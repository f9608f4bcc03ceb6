"""The dashboard's HTTP API: scenarios, uploads, form edits, jobs, the run store and the safety
rules (size limits, path traversal, one-line errors, cross-site and host checks)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from dash_helpers import EXAMPLES, H, MINIMAL, client, need_dashboard, pick, wait_job

need_dashboard()

import liqcascade as lc  # noqa: E402
from liqcascade.api.toml import dumps  # noqa: E402

LT = "protocols.aave.params.WETH.liquidation_threshold"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def c(store):
    with client(store) as cl:
        yield cl


def _files_under(p: Path) -> set[str]:
    return {str(x.relative_to(p)) for x in p.rglob("*")}


# ---- the page --------------------------------------------------------------------------------


def test_page_and_offline_plotly(c):
    r = c.get("/")
    assert r.status_code == 200 and "<title>liqcascade dashboard</title>" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "http" not in r.text.replace("http-equiv", "")  # nothing from another origin
    import plotly

    js = c.get("/static/plotly.min.js")
    assert js.status_code == 200
    assert js.content == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert c.get("/static/app.js").status_code == 200 and c.get("/static/app.css").status_code == 200


def test_examples_and_form(c):
    names = [e["name"] for e in c.get("/api/examples").json()["examples"]]
    assert "minimal" in names and "flagship" in names
    v = pick(c)
    assert v["name"] == "minimal" and v["positions"] == 40 and v["has_curve"]
    fields = {f["path"]: f for f in v["fields"]}
    assert fields[LT]["value"] == 0.86 and fields[LT]["type"] == "number"
    assert fields["liquidators.mode"]["choices"] == ["mechanical", "rational"]
    assert not any("positions" in p or p.endswith(".file") for p in fields)
    toml = c.get(f"/api/scenarios/{v['id']}/toml").text
    assert tomllib.loads(toml) == tomllib.loads(MINIMAL.read_text())


def test_form_edits_use_the_scenario_models_and_messages(c, tmp_path):
    v = pick(c)
    ok = c.post(f"/api/scenarios/{v['id']}/edit", json={"edits": {LT: "0.84", "liquidators.mode": "rational"}},
                headers=H)
    assert ok.status_code == 200, ok.text
    f = {x["path"]: x["value"] for x in ok.json()["fields"]}
    assert f[LT] == 0.84 and f["liquidators.mode"] == "rational"
    bad = c.post(f"/api/scenarios/{v['id']}/edit", json={"edits": {LT: "1.2"}}, headers=H)
    assert bad.status_code == 400
    # the same value in the file, through the scenario loader the CLI uses
    d = tomllib.loads(MINIMAL.read_text())
    d["protocols"][0]["params"]["WETH"]["liquidation_threshold"] = 1.2
    (tmp_path / "minimal.toml").write_text(dumps(d))
    with pytest.raises(lc.InputError) as ei:
        lc.load(tmp_path / "minimal.toml")
    assert bad.json() == {"error": str(ei.value).replace(str(tmp_path / "minimal.toml"), "minimal.toml")}
    word = c.post(f"/api/scenarios/{v['id']}/edit", json={"edits": {"simulation.steps": "many"}}, headers=H)
    assert word.json()["error"] == ("minimal.toml: simulation.steps: Input should be a valid integer, unable to "
                                    "parse string as an integer")
    # only form fields: never a file name
    for path in ("protocols.aave.positions", "price.file", "name"):
        r = c.post(f"/api/scenarios/{v['id']}/edit", json={"edits": {path: "/etc/passwd"}}, headers=H)
        assert r.status_code == 400 and r.json()["error"] == f"{path}: not an editable field of this scenario"
    reset = c.post(f"/api/scenarios/{v['id']}/reset", headers=H).json()
    assert {x["path"]: x["value"] for x in reset["fields"]}[LT] == 0.86


# ---- uploads ----------------------------------------------------------------------------------


def _upload(c, toml_name, toml_bytes, files=(), headers=H):
    parts = [("scenario", (toml_name, toml_bytes, "application/toml"))]
    parts += [("files", (n, b, "text/csv")) for n, b in files]
    return c.post("/api/scenarios/upload", files=parts, headers=headers)


def test_upload_a_scenario_with_its_positions(c, store):
    r = _upload(c, "mine.toml", MINIMAL.read_bytes(), [("minimal_positions.csv", (EXAMPLES / "minimal_positions.csv").read_bytes())])
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["positions"] == 40 and v["origin"] == "upload mine.toml"
    folder = store / "uploads" / v["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["mine.toml", "minimal_positions.csv"]
    j = c.post("/api/jobs", json={"kind": "curve", "scenario": v["id"], "options": {"shocks": "0.1,0.2"}}, headers=H).json()
    assert wait_job(c, j["id"])["state"] == "done"


@pytest.mark.parametrize("name,content,files,message", [
    ("bad.toml", b"name = ", (), "bad.toml: malformed TOML: "),
    ("bad.toml", b"", (), "bad.toml: empty file"),
    ("bad.toml", b"\xff\xfe", (), "bad.toml: not UTF-8 text"),
    ("s.toml", b"[[assets]]\nname='A'\nprice=1\n", (), "s.toml: protocols: required field is missing"),
    ("evil.py", b"import os", (), "evil.py: the scenario must be a .toml file"),
    ("s.toml", MINIMAL.read_bytes(), (), "s.toml: protocols[0].positions: 'minimal_positions.csv' is not one of the uploaded files"),
    ("s.toml", MINIMAL.read_bytes(), [("minimal_positions.parquet", b"PAR1")], "minimal_positions.parquet: only .csv files"),
    ("s.toml", MINIMAL.read_bytes(), [("minimal_positions.csv", b"id,collateral\n1,2\n")],
     "minimal_positions.csv: line 1: wrong columns: expected id,collateral,debt"),
    ("s.toml", MINIMAL.read_bytes().replace(b'"minimal_positions.csv"', b'"synth:50000000:1"'), (),
     "at most 2,000,000 synthetic positions"),
])
def test_bad_uploads_get_one_line(c, store, name, content, files, message):
    before = _files_under(store)
    r = _upload(c, name, content, files)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert message in err and "\n" not in err and "Traceback" not in err
    assert _files_under(store) == before  # nothing half-written


@pytest.mark.parametrize("ref", ["../examples/minimal_positions.csv", "/etc/passwd", "sub/minimal_positions.csv",
                                 "..\\minimal_positions.csv"])
def test_upload_cannot_name_files_outside_the_upload(c, store, ref):
    text = MINIMAL.read_text().replace('"minimal_positions.csv"', json.dumps(ref))
    before = _files_under(store)
    r = _upload(c, "s.toml", text.encode(), [("minimal_positions.csv", (EXAMPLES / "minimal_positions.csv").read_bytes())])
    assert r.status_code == 400
    assert "is not one of the uploaded files" in r.json()["error"]
    assert _files_under(store) == before


def test_uploaded_file_names_lose_their_folders(c, store, tmp_path):
    """A file name with folders is reduced to its last part and written only into the upload folder."""
    text = MINIMAL.read_text().replace('"minimal_positions.csv"', '"p.csv"')
    r = _upload(c, "s.toml", text.encode(), [("../../../p.csv", (EXAMPLES / "minimal_positions.csv").read_bytes())])
    assert r.status_code == 200, r.text
    assert (store / "uploads" / r.json()["id"] / "p.csv").is_file()
    assert not (store.parent / "p.csv").exists() and not (store / "p.csv").exists()
    bad = _upload(c, "s.toml", text.encode(), [("..", b"x")])
    assert bad.status_code == 400


def test_upload_size_limit(tmp_path):
    with client(tmp_path / "store", max_upload_bytes=10_000) as cl:
        r = _upload(cl, "big.toml", b"# " + b"x" * 20_000)
        assert r.status_code == 413
        assert r.json()["error"].startswith("request of ") and "over the limit of 10,000 bytes" in r.json()["error"]
        assert not (tmp_path / "store" / "uploads").exists()


def test_cross_site_and_host_checks(c):
    assert _upload(c, "s.toml", MINIMAL.read_bytes(), headers={}).status_code == 403
    r = c.post("/api/scenarios/example", json={"name": "minimal"})
    assert r.status_code == 403 and "X-Requested-With" in r.json()["error"]
    r = c.get("/api/info", headers={"host": "evil.example:8050"})
    assert r.status_code == 400 and "host" in r.json()["error"]


# ---- path traversal ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/static/..%2F..%2F..%2Fpyproject.toml", "/static/..%2Fapp.py", "/static/index.html%00.js",
    "/api/scenarios/..%2F..%2Fetc%2Fpasswd", "/api/scenarios/..%2F..%2Fetc%2Fpasswd/toml",
    "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/runs/..%2F..%2Fetc%2Fpasswd", "/api/runs/%2Fetc%2Fpasswd",
    "/static/%2Fetc%2Fpasswd",
])
def test_path_traversal_is_refused(c, url):
    r = c.get(url)
    assert r.status_code in (400, 404), (url, r.status_code)
    assert "root:" not in r.text and "[project]" not in r.text and "import" not in r.text
    assert set(r.json()) == {"error"}


@pytest.mark.parametrize("name", ["../examples/minimal", "/work/main/examples/minimal", "minimal.toml",
                                  "..%2Fminimal", "../../pyproject"])
def test_example_names_are_looked_up_not_joined(c, name):
    r = c.post("/api/scenarios/example", json={"name": name}, headers=H)
    assert r.status_code == 404 and r.json()["error"].startswith("no example ")


# ---- jobs --------------------------------------------------------------------------------------


def test_curve_job_holds_the_curve(c):
    v = pick(c)
    j = c.post("/api/jobs", json={"kind": "curve", "scenario": v["id"], "options": {"shocks": "0:0.3:0.05"}}, headers=H)
    assert j.status_code == 200, j.text
    s = wait_job(c, j.json()["id"])
    assert s["state"] == "done" and s["done"] == s["total"] == 7
    res = c.get(f"/api/jobs/{s['id']}/result").json()
    assert [p["id"] for p in res["panels"]] == ["fig-curve", "tbl-curve", "fig-heatmap"]
    expected = lc.curve(lc.load(MINIMAL), shocks="0:0.3:0.05")
    assert res["data"]["final_price"] == expected.table()["final_price"].tolist()
    assert res["data"]["critical_shock"] == expected.critical_shock
    assert res["meta"]["scenario_hash"] == expected.meta["scenario_hash"]


@pytest.mark.parametrize("kind,opts,panels", [
    ("run", {"paths": 2, "seed": 3}, ["fig-prices", "tbl-run", "fig-liquidations", "tbl-protocols", "fig-heatmap"]),
    ("compare", {"paths": 2, "mechanisms": "none,circuit-breaker"}, ["tbl-compare", "tbl-compare-diff", "fig-compare"]),
])
def test_run_and_compare_jobs(c, kind, opts, panels):
    v = pick(c)
    j = c.post("/api/jobs", json={"kind": kind, "scenario": v["id"], "options": opts}, headers=H).json()
    s = wait_job(c, j["id"])
    assert s["state"] == "done", s
    res = c.get(f"/api/jobs/{j['id']}/result").json()
    assert [p["id"] for p in res["panels"]] == panels
    if kind == "run":
        expected = lc.run(lc.load(MINIMAL), paths=2, seed=3)
        assert res["data"]["totals"]["bad_debt"] == expected.totals()["bad_debt"]
        assert res["meta"]["seed"] == 3
    else:
        table = res["panels"][0]
        assert table["columns"][0] == "configuration" and [r[0] for r in table["rows"]] == ["none", "circuit-breaker"]
        assert "±" in table["rows"][1][1]  # mean ± CI half-width


def test_bad_job_options(c):
    v = pick(c)
    cases = [
        ({"kind": "curve", "scenario": v["id"], "options": {"shocks": "0:2:0.1"}}, "shocks: shocks must be fractions in [0, 1)"),
        ({"kind": "run", "scenario": v["id"], "options": {"paths": 0}}, "paths: must be an integer from 1 to 1,000,000"),
        ({"kind": "run", "scenario": v["id"], "options": {"paths": "x"}}, "paths: must be an integer"),
        ({"kind": "run", "scenario": v["id"], "options": {"paths": 100_000}},
         "paths: 100,000 path(s) × 121 steps × 2 asset(s) is 24,201,936 price points in memory, over the "
         "dashboard's 20,000,000 (use Monte Carlo for many paths)"),
        ({"kind": "mc", "scenario": v["id"], "options": {"paths": 200_000, "chunk_paths": 100_000}},
         "paths: chunks of 100,000 paths × 121 steps × 2 asset(s) is 24,200,000 price points in memory"),
        ({"kind": "compare", "scenario": v["id"], "options": {"mechanisms": "none,nope"}}, "nope"),
        ({"kind": "nuke", "scenario": v["id"]}, "kind: must be one of curve, run, compare, mc"),
        ({"kind": "run", "scenario": "0123456789abcdef"}, "no scenario '0123456789abcdef'"),
    ]
    for body, msg in cases:
        r = c.post("/api/jobs", json=body, headers=H)
        assert r.status_code in (400, 404), (body, r.text)
        assert msg in r.json()["error"], (body, r.json())
    r = c.post("/api/jobs", content=b"{not json", headers={**H, "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"].startswith("request body is not JSON")


def test_cancel_a_long_run_and_the_queue_bound(tmp_path):
    with client(tmp_path / "store", max_running=1, max_queued=1) as cl:
        v = pick(cl)
        import time

        long = cl.post("/api/jobs", json={"kind": "run", "scenario": v["id"], "options": {"paths": 80_000}},
                       headers=H).json()
        t0 = time.monotonic()
        while cl.get(f"/api/jobs/{long['id']}").json()["done"] == 0:  # running, past its first path
            assert time.monotonic() - t0 < 300
            time.sleep(0.05)
        queued = cl.post("/api/jobs", json={"kind": "curve", "scenario": v["id"]}, headers=H).json()
        assert queued["state"] == "queued"
        full = cl.post("/api/jobs", json={"kind": "curve", "scenario": v["id"]}, headers=H)
        assert full.status_code == 429 and "at most 1" in full.json()["error"]
        assert cl.post(f"/api/jobs/{long['id']}/cancel", headers=H).status_code == 200
        s = wait_job(cl, long["id"], 120)
        assert s["state"] == "cancelled" and s["done"] < 80_000
        r = cl.get(f"/api/jobs/{long['id']}/result")
        assert r.status_code == 409 and r.json()["error"] == f"job {long['id']} is cancelled"
        assert wait_job(cl, queued["id"])["state"] == "done"  # the queue moves on


def test_event_stream_reports_until_the_end(c):
    v = pick(c)
    j = c.post("/api/jobs", json={"kind": "curve", "scenario": v["id"], "options": {"shocks": "0:0.2:0.01"}},
               headers=H).json()
    states = []
    with c.stream("GET", f"/api/jobs/{j['id']}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                states.append(json.loads(line[6:]))
    assert states[-1]["state"] == "done" and states[-1]["done"] == 21
    assert [s["version"] for s in states] == sorted(set(s["version"] for s in states))


def test_internal_errors_are_one_line(c, monkeypatch, tmp_path):
    from liqcascade.dashboard import views

    def boom(res):
        raise RuntimeError("figure broke\nsecond line")

    monkeypatch.setattr(views, "curve_view", boom)
    v = pick(c)
    j = c.post("/api/jobs", json={"kind": "curve", "scenario": v["id"], "options": {"shocks": "0.1"}}, headers=H).json()
    s = wait_job(c, j["id"])
    assert s["state"] == "failed" and s["error"] == "internal error: RuntimeError: figure broke"
    from liqcascade.dashboard.app import Dashboard

    monkeypatch.setattr(Dashboard, "examples", lambda self: 1 / 0)
    with client(tmp_path / "store", raise_server_exceptions=False) as cl:  # as a real server answers
        r = cl.get("/api/examples")
    assert r.status_code == 500 and r.json() == {"error": "internal error: ZeroDivisionError: division by zero"}


# ---- the run store ---------------------------------------------------------------------------------


def test_mc_job_lands_in_the_run_store(c, store):
    v = pick(c)
    j = c.post("/api/jobs", json={"kind": "mc", "scenario": v["id"], "options": {"paths": 300, "seed": 1}},
               headers=H).json()
    s = wait_job(c, j["id"])
    assert s["state"] == "done", s
    res = c.get(f"/api/jobs/{j['id']}/result").json()
    run_id = res["data"]["run_id"]
    runs = {r["run_id"]: r for r in c.get("/api/runs").json()["runs"]}
    assert runs[run_id]["status"] == "complete" and runs[run_id]["paths"] == 300
    d = c.get(f"/api/runs/{run_id}").json()
    assert d["run"]["run_id"] == run_id and d["points"][0]["metrics"]["paths"] == 300
    q = c.post("/api/sql", json={"query": f"SELECT count(*) AS n FROM paths WHERE run_id = '{run_id}'"}, headers=H)
    assert q.json()["rows"] == [[300]]
    for bad, msg in (("DELETE FROM runs", "only read-only queries"),
                     ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
                     ("SELECT 1; SELECT 2", "exactly one statement")):
        r = c.post("/api/sql", json={"query": bad}, headers=H)
        assert r.status_code == 400 and msg in r.json()["error"], r.json()
    assert c.get("/api/runs/ffffffffffff").status_code == 400


def test_runs_without_a_catalog(tmp_path):
    with client(tmp_path / "empty") as cl:
        assert cl.get("/api/runs").json()["runs"] == []
        r = cl.post("/api/sql", json={"query": "SELECT 1"}, headers=H)
        assert r.status_code == 404 and "no run catalog" in r.json()["error"]
