"""The dashboard's web application (FastAPI): one static page and a JSON API.

Safety rules, each tested in ``tests/dashboard``:

- every request body is size-limited (``max_upload_bytes``) before it is read;
- uploads are parsed only as TOML (the scenario) and CSV (its position and price files); the
  scenario may name only the uploaded CSVs (or ``synth:`` books), so no file outside the upload
  folder is read;
- no path from a request reaches the file system: examples, scenarios, jobs and runs are
  looked up by name or id in tables the server built; uploads are written only under
  ``<store>/uploads/<random id>/`` with names checked against a strict pattern; static files
  are a fixed list;
- bad input is answered with ``{"error": "<one line>"}`` — the CLI's ``FILE: FIELD: REASON``
  where there is one — never a traceback (unexpected errors are logged on the server);
- state-changing requests need the header ``X-Requested-With: liqcascade`` (a page on another
  site cannot send it without the browser asking the server first), and requests must name a
  host the server listens as (no DNS rebinding).
"""

import asyncio
import json
import logging
import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..api.scenario import Scenario, file_refs
from .. import jsonout
from ..errors import InputError
from .jobs import JobManager, QueueFull

log = logging.getLogger("liqcascade.dashboard")

STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ID = re.compile(r"^[0-9a-f]{16}$")
RUN_ID = re.compile(r"^[0-9a-f]{4,64}$")
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "liqcascade"
MAX_FILES = 16
MAX_SESSIONS = 64  # scenarios kept for the page (each holds its compiled book)
MAX_SYNTH = 2_000_000  # positions of a synth: book from an upload
#: what one dashboard job may ask for; ``price_points`` bounds the memory of the price paths a
#: run or a comparison holds at once (paths × (steps + 1) × assets, recorded paths counted 8×
#: for their per-step records; a Monte Carlo chunk likewise)
LIMITS = {"paths": 1_000_000, "mc_paths": 10_000_000, "steps": 1_000_000, "shocks": 2_001,
          "price_points": 20_000_000}
JOB_KINDS = ("curve", "run", "compare", "mc")  # contagion will add its kind here and a view in views.py
DEFAULT_MECHANISMS = "none,circuit-breaker,throttle,dutch-auction,partial,insurance-fund"


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = " ".join(str(message).split())  # one line


@dataclass
class Session:
    id: str
    scenario: Scenario
    original: Scenario
    origin: str
    folder: Path | None = None  # the upload folder, if any


def plotly_js() -> bytes:
    """plotly.js from the installed ``plotly`` package (no CDN: the dashboard works offline)."""
    return (files("plotly") / "package_data" / "plotly.min.js").read_bytes()


def default_examples_dir() -> Path | None:
    """``examples/`` of the checkout this package runs from, if there is one."""
    p = Path(__file__).resolve().parents[3] / "examples"
    return p if p.is_dir() else None


class Dashboard:
    """Server state: scenario sessions, the job queue, the run store."""

    def __init__(self, store, examples_dir=None, *, max_upload_bytes: int = 20 * 2**20, max_running: int = 1,
                 max_queued: int = 8, allowed_hosts=("127.0.0.1", "localhost", "::1", "testserver")):
        self.store = Path(store).resolve()
        self.examples_dir = None if examples_dir is None else Path(examples_dir).resolve()
        self.max_upload_bytes = int(max_upload_bytes)
        self.jobs = JobManager(max_running=max_running, max_queued=max_queued)
        self.sessions: dict[str, Session] = {}
        self.allowed_hosts = tuple(allowed_hosts)
        self._lock = threading.Lock()
        self.jobs.redact = self.redact

    def redact(self, text: str) -> str:
        """A message without the server's folders: upload and example files by their own names."""
        text = re.sub(re.escape((self.store / "uploads").as_posix()) + r"/[0-9a-f]{16}/", "", text)
        if self.examples_dir is not None:
            text = text.replace(self.examples_dir.as_posix() + "/", "")
        return text

    # ---- examples ------------------------------------------------------------------------------
    def examples(self) -> dict[str, Path]:
        """name → file: every ``*.toml`` of the examples folder and the embedded flagship."""
        out: dict[str, Path] = {}
        if self.examples_dir is not None and self.examples_dir.is_dir():
            for p in sorted(self.examples_dir.glob("*.toml")):
                if p.is_file() and SAFE_NAME.match(p.stem):
                    out[p.stem] = p
        flagship = Path(str(files("liqcascade") / "presets" / "flagship.toml"))
        out.setdefault("flagship", flagship)
        return out

    # ---- sessions ------------------------------------------------------------------------------
    def session(self, sid: str) -> Session:
        if not ID.match(sid or ""):
            raise ApiError(404, f"no scenario {sid!r}")
        with self._lock:
            s = self.sessions.get(sid)
        if s is None:
            raise ApiError(404, f"no scenario {sid!r} (the server may have restarted: pick or upload it again)")
        return s

    def add_session(self, scenario: Scenario, origin: str, folder: Path | None = None, sid: str | None = None) -> Session:
        """Keep a scenario for the page; beyond ``MAX_SESSIONS`` the oldest one is dropped (with
        its upload folder), so a long-lived server does not grow without bound."""
        sid = sid or secrets.token_hex(8)
        ses = Session(sid, scenario, scenario, origin, folder)
        with self._lock:
            self.sessions[sid] = ses
            while len(self.sessions) > MAX_SESSIONS:
                old = self.sessions.pop(next(iter(self.sessions)))
                self._drop_folder(old)
        return ses

    def _drop_folder(self, ses: Session) -> None:
        if ses.folder is not None and ses.folder.parent == self.store / "uploads":
            shutil.rmtree(ses.folder, ignore_errors=True)

    def close(self):
        self.jobs.close()
        with self._lock:
            for ses in self.sessions.values():
                self._drop_folder(ses)
            self.sessions.clear()


# ---- request checks ----------------------------------------------------------------------------


def _int_option(opts: dict, key: str, lo: int, hi: int, default=None):
    v = opts.get(key, default)
    if v is None or v == "":
        return default
    if isinstance(v, str) and v.strip().lstrip("+").isdigit():
        v = int(v.strip())
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ApiError(400, f"{key}: must be an integer from {lo:,} to {hi:,}, got {v!r}")
    return v


def check_uploaded_refs(data: dict, source: str, names: set[str]) -> None:
    """Every file the uploaded scenario names must be one of the uploaded CSVs (bare name)."""
    for where, name in file_refs(data):
        if name == "-":
            continue
        if name.startswith("synth:"):
            parts = name.split(":")
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) > MAX_SYNTH:
                raise ApiError(400, f"{source}: {where}: {name!r}: at most {MAX_SYNTH:,} synthetic positions in the dashboard")
            continue
        if name not in names:
            have = ", ".join(sorted(names)) or "none"
            raise ApiError(400, f"{source}: {where}: {name!r} is not one of the uploaded files (uploaded: {have}); "
                                "upload the scenario with its .csv files, named without folders")


def check_limits(s: Scenario, kind: str, paths: int | None, chunk_paths: int | None = None) -> None:
    m = s.model
    sim = m.simulation
    if sim.steps > LIMITS["steps"]:
        raise ApiError(400, f"simulation.steps: at most {LIMITS['steps']:,} in the dashboard (use the CLI for more)")
    n = paths if paths is not None else sim.paths
    lim = LIMITS["mc_paths" if kind == "mc" else "paths"]
    if n > lim:
        raise ApiError(400, f"paths: at most {lim:,} in the dashboard (use the CLI for more)")
    held = min(chunk_paths, n) if kind == "mc" and chunk_paths else n
    rec = 0 if kind == "mc" else min(sim.record_paths, n)
    points = (held + 8 * rec) * (sim.steps + 1) * len(m.assets)
    if points > LIMITS["price_points"]:
        what = f"chunks of {held:,} paths" if kind == "mc" else f"{n:,} path(s)"
        raise ApiError(400, f"paths: {what} × {sim.steps + 1:,} steps × {len(m.assets)} asset(s) is "
                            f"{points:,} price points in memory, over the dashboard's {LIMITS['price_points']:,} "
                            + ("(use smaller chunks)" if kind == "mc" else "(use Monte Carlo for many paths)"))


# ---- the application --------------------------------------------------------------------------


def create_app(store="liqcascade-runs", examples_dir=None, *, max_upload_bytes: int = 20 * 2**20,
               max_running: int = 1, max_queued: int = 8, allowed_hosts=None):
    """The FastAPI application. ``examples_dir``: the folder whose ``*.toml`` the page offers
    (default: the checkout's ``examples/``, if any; the embedded flagship is always there)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    dash = Dashboard(store, examples_dir if examples_dir is not None else default_examples_dir(),
                     max_upload_bytes=max_upload_bytes, max_running=max_running, max_queued=max_queued,
                     allowed_hosts=allowed_hosts or ("127.0.0.1", "localhost", "::1", "testserver"))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        yield
        dash.close()

    app = FastAPI(title="liqcascade dashboard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.dashboard = dash
    static = files("liqcascade") / "dashboard" / "static"

    # ---- errors: one line, never a traceback -------------------------------------------------
    def err(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": dash.redact(" ".join(str(message).split()))}, status_code=status)

    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        return err(exc.status, exc.message)

    @app.exception_handler(InputError)
    async def _input_error(request, exc: InputError):
        return err(400, exc.message())

    @app.exception_handler(RequestValidationError)
    async def _validation(request, exc: RequestValidationError):
        e = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        return err(400, f"{where}: {e.get('msg', 'invalid request')}" if where else e.get("msg", "invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        return err(exc.status_code, exc.detail if isinstance(exc.detail, str) else "request refused")

    @app.exception_handler(Exception)
    async def _internal(request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        first = str(exc).splitlines()[0] if str(exc) else ""
        return err(500, f"internal error: {type(exc).__name__}: {first}")

    # ---- size, host and cross-site checks (before any body is read) -----------------------------
    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = (request.headers.get("host") or "").strip()
        hostname = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0] \
            if host.count(":") == 1 else host
        if "*" not in dash.allowed_hosts and hostname not in dash.allowed_hosts:
            return err(400, f"host {host!r} is not one this server answers to")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if request.headers.get(CSRF_HEADER, "").lower() != CSRF_VALUE:
                return err(403, f"missing header X-Requested-With: {CSRF_VALUE} (requests from the dashboard page send it)")
            length = request.headers.get("content-length")
            if length is None:
                if request.headers.get("transfer-encoding"):
                    return err(411, "a request body needs a Content-Length")
            else:
                try:
                    n = int(length)
                except ValueError:
                    return err(400, "bad Content-Length")
                if n > dash.max_upload_bytes:
                    return err(413, f"request of {n:,} bytes is over the limit of {dash.max_upload_bytes:,} bytes "
                                    "(liqcascade serve --max-upload-mb)")
        resp = await call_next(request)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    async def body_json(request: Request) -> dict:
        try:
            data = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"request body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "request body must be a JSON object")
        return data

    # ---- the page ------------------------------------------------------------------------------
    csp = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

    @app.get("/", response_class=HTMLResponse)
    async def index():
        html = (static / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/static/{name}")
    async def static_file(name: str):
        if name == "plotly.min.js":
            return Response(plotly_js(), media_type="text/javascript; charset=utf-8",
                            headers={"Cache-Control": "max-age=3600"})
        if name not in STATIC:
            raise ApiError(404, f"no static file {name!r}")
        return Response((static / name).read_bytes(), media_type=STATIC[name])

    @app.get("/api/info")
    async def info():
        from .. import __version__
        from ..provenance import SCHEMA_VERSION

        return {"version": __version__, "schema_version": SCHEMA_VERSION, "store": str(dash.store),
                "max_upload_bytes": dash.max_upload_bytes, "max_running": dash.jobs.max_running,
                "max_queued": dash.jobs.max_queued, "kinds": list(JOB_KINDS), "limits": LIMITS,
                "default_mechanisms": DEFAULT_MECHANISMS}

    # ---- scenarios -----------------------------------------------------------------------------
    @app.get("/api/examples")
    async def examples():
        out = []
        for name, path in dash.examples().items():
            desc = ""
            try:
                import tomllib

                desc = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
            except (OSError, ValueError):
                pass
            out.append({"name": name, "description": desc})
        return {"examples": out}

    def _view(ses: Session) -> dict:
        from .views import scenario_view

        return scenario_view(ses.id, ses.scenario, ses.origin)

    @app.post("/api/scenarios/example")
    async def pick_example(request: Request):
        data = await body_json(request)
        name = data.get("name")
        exs = dash.examples()
        if not isinstance(name, str) or name not in exs:
            raise ApiError(404, f"no example {name!r} (have: {', '.join(exs)})")

        def load():
            path = exs[name]
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ApiError(400, f"{path.name}: cannot read: {exc}") from None
            # named by its file name: messages do not show the server's folders
            s = Scenario.from_toml(text, base_dir=path.parent, source=path.name)
            s.compile()  # its position files, now, so errors show when it is picked
            return s

        s = await asyncio.to_thread(load)
        ses = dash.add_session(s, f"example {name}")
        return await asyncio.to_thread(_view, ses)

    @app.post("/api/scenarios/upload")
    async def upload(request: Request):
        form = await request.form(max_files=MAX_FILES + 1, max_fields=8)
        try:
            scen = form.get("scenario")
            if scen is None or isinstance(scen, str):
                raise ApiError(400, "scenario: upload one scenario .toml file")
            sname = Path(scen.filename or "scenario.toml").name
            if not sname.lower().endswith(".toml") or not SAFE_NAME.match(sname):
                raise ApiError(400, f"{sname}: the scenario must be a .toml file (letters, digits, '.', '_', '-')")
            try:
                text = (await scen.read()).decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, f"{sname}: not UTF-8 text") from None
            csvs: dict[str, bytes] = {}
            for f in form.getlist("files"):
                if isinstance(f, str) or not f.filename:
                    continue
                fname = Path(f.filename.replace("\\", "/")).name
                if not fname.lower().endswith(".csv") or not SAFE_NAME.match(fname):
                    raise ApiError(400, f"{fname or f.filename}: only .csv files can go with a scenario "
                                        "(letters, digits, '.', '_', '-')")
                if fname in csvs:
                    raise ApiError(400, f"{fname}: uploaded twice")
                csvs[fname] = await f.read()
            if len(csvs) > MAX_FILES:
                raise ApiError(400, f"at most {MAX_FILES} .csv files with a scenario")
        finally:
            await form.close()

        sid = secrets.token_hex(8)
        folder = dash.store / "uploads" / sid

        def build():
            s = Scenario.from_toml(text, base_dir=folder, source=sname)  # TOML and pydantic checks
            check_uploaded_refs(s.to_dict(), sname, set(csvs))
            for fname, content in csvs.items():
                try:
                    content.decode("utf-8")
                except UnicodeDecodeError:
                    raise ApiError(400, f"{fname}: not UTF-8 text (a CSV file is expected)") from None
            folder.mkdir(parents=True, exist_ok=False)
            try:
                for fname, content in csvs.items():
                    (folder / fname).write_bytes(content)
                (folder / sname).write_text(text, encoding="utf-8")
                s.compile()  # reads the CSVs as position / price files
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return s

        s = await asyncio.to_thread(build)
        ses = dash.add_session(s, f"upload {sname}", folder, sid)
        return await asyncio.to_thread(_view, ses)

    @app.get("/api/scenarios/{sid}")
    async def get_scenario(sid: str):
        return await asyncio.to_thread(_view, dash.session(sid))

    @app.get("/api/scenarios/{sid}/toml")
    async def get_toml(sid: str):
        ses = dash.session(sid)
        return Response(ses.scenario.to_toml(), media_type="text/plain; charset=utf-8")

    @app.post("/api/scenarios/{sid}/edit")
    async def edit(sid: str, request: Request):
        from .views import coerce, form_fields

        ses = dash.session(sid)
        data = await body_json(request)
        edits = data.get("edits")
        if not isinstance(edits, dict) or not edits:
            raise ApiError(400, "edits: give {path: value} for the fields to change")
        fields = {f["path"]: f for f in form_fields(ses.scenario)}
        out = {}
        for path, value in edits.items():
            if path not in fields:
                raise ApiError(400, f"{path}: not an editable field of this scenario")
            out[path] = coerce(fields[path], value)

        def apply():
            s = ses.scenario.set(out)  # the scenario's pydantic models, the CLI's messages
            s.compile()
            return s

        ses.scenario = await asyncio.to_thread(apply)
        return await asyncio.to_thread(_view, ses)

    @app.post("/api/scenarios/{sid}/reset")
    async def reset(sid: str):
        ses = dash.session(sid)
        ses.scenario = ses.original
        return await asyncio.to_thread(_view, ses)

    # ---- jobs ----------------------------------------------------------------------------------
    @app.post("/api/jobs")
    async def submit(request: Request):
        from ..api import studies
        from . import views

        data = await body_json(request)
        kind = data.get("kind")
        if kind not in JOB_KINDS:
            raise ApiError(400, f"kind: must be one of {', '.join(JOB_KINDS)}, got {kind!r}")
        ses = dash.session(str(data.get("scenario", "")))
        opts = data.get("options") or {}
        if not isinstance(opts, dict):
            raise ApiError(400, "options: must be an object")
        s = ses.scenario
        seed = _int_option(opts, "seed", 0, 2**63 - 1)
        clean_opts: dict = {}
        if kind == "curve":
            shocks = opts.get("shocks") or "0:0.5:0.01"
            if not isinstance(shocks, str):
                raise ApiError(400, "shocks: give start:stop:step or a,b,c")
            grid = studies.parse_shocks(shocks)
            if len(grid) > LIMITS["shocks"]:
                raise ApiError(400, f"shocks: at most {LIMITS['shocks']:,} in the dashboard")
            mode = opts.get("mode") or "mechanical"
            if mode not in ("mechanical", "rational"):
                raise ApiError(400, f"mode: must be mechanical or rational, got {mode!r}")
            if not s.model.protocols or all(p.kind != "aave_v3" for p in s.model.protocols):
                raise ApiError(400, f"{s.source or s.name}: protocols: the static cascade curve covers Aave-rule "
                                    "protocols only; use run")
            clean_opts = {"shocks": shocks, "mode": mode}

            def work(progress):
                return views.curve_view(studies.curve(s, grid, mode=mode, progress=progress))
        elif kind == "run":
            paths = _int_option(opts, "paths", 1, LIMITS["paths"])
            check_limits(s, kind, paths)
            clean_opts = {"paths": paths, "seed": seed}

            def work(progress):
                return views.run_view(studies.run(s, paths=paths, seed=seed, progress=progress))
        elif kind == "compare":
            paths = _int_option(opts, "paths", 1, LIMITS["paths"])
            check_limits(s, kind, paths)
            mech = opts.get("mechanisms") or DEFAULT_MECHANISMS
            if not isinstance(mech, str):
                raise ApiError(400, "mechanisms: a comma list such as none,circuit-breaker")
            from ..engine.compare import parse_names

            parse_names(mech)  # bad names fail now, with the CLI's message
            clean_opts = {"paths": paths, "seed": seed, "mechanisms": mech}

            def work(progress):
                return views.compare_view(studies.compare(s, mech, paths=paths, seed=seed, progress=progress))
        else:  # mc
            paths = _int_option(opts, "paths", 1, LIMITS["mc_paths"])
            chunk = _int_option(opts, "chunk_paths", 1, 100_000, 256)
            check_limits(s, kind, paths, chunk)
            clean_opts = {"paths": paths, "seed": seed, "chunk_paths": chunk}

            def work(progress):
                res = studies.mc(s, paths=paths, seed=seed, store=dash.store, workers=0, chunk_paths=chunk,
                                 progress=progress)
                return views.mc_view(res)
        try:
            job = dash.jobs.submit(kind, s.name, clean_opts, work)
        except QueueFull as exc:
            raise ApiError(429, str(exc)) from None
        return job.snapshot()

    @app.get("/api/jobs")
    async def jobs():
        return {"jobs": dash.jobs.list()}

    def _job(jid: str):
        if not ID.match(jid or ""):
            raise ApiError(404, f"no job {jid!r}")
        snap = dash.jobs.snapshot(jid)
        if snap is None:
            raise ApiError(404, f"no job {jid!r}")
        return snap

    @app.get("/api/jobs/{jid}")
    async def job(jid: str):
        return _job(jid)

    @app.post("/api/jobs/{jid}/cancel")
    async def cancel(jid: str):
        _job(jid)
        return dash.jobs.cancel(jid)

    @app.get("/api/jobs/{jid}/result")
    async def result(jid: str):
        snap = _job(jid)
        if snap["state"] != "done":
            raise ApiError(409, f"job {jid} is {snap['state']}" + (f": {snap['error']}" if snap["error"] else ""))
        j = dash.jobs.get(jid)
        return {"job": snap, **j.result}

    @app.get("/api/jobs/{jid}/events")
    async def events(jid: str, request: Request):
        """Server-sent events: the job's state on every change until it ends."""
        _job(jid)

        async def stream():
            last = -1
            idle = 0.0
            while True:
                snap = dash.jobs.snapshot(jid)
                if snap is None:
                    yield f"event: gone\ndata: {jsonout.dumps({'id': jid})}\n\n"
                    return
                if snap["version"] != last:
                    last = snap["version"]
                    idle = 0.0
                    yield f"data: {jsonout.dumps(snap)}\n\n"  # strict JSON: no NaN or Infinity
                    if snap["state"] in ("done", "failed", "cancelled"):
                        return
                elif idle >= 15.0:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)
                idle += 0.2

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # ---- the run store -------------------------------------------------------------------------
    def _catalog():
        from ..results.catalog import CATALOG_FILE, Catalog

        if not (dash.store / CATALOG_FILE).is_file():
            return None
        return Catalog(dash.store, read_only=True)

    @app.get("/api/runs")
    async def runs():
        def work():
            cat = _catalog()
            if cat is None:
                return {"store": str(dash.store), "runs": []}
            with cat:
                rows = cat.list_runs()
                stats = {r["run_id"]: cat.chunk_stats(r["run_id"]) for r in rows}
            from ..provenance import clean

            out = []
            for r in rows:
                r = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                r["chunks_stored"] = stats[r["run_id"]]["chunks"]
                out.append(clean(r))
            return {"store": str(dash.store), "runs": out}

        return await asyncio.to_thread(work)

    @app.get("/api/runs/{run_id}")
    async def run_detail(run_id: str):
        if not RUN_ID.match(run_id or ""):
            raise ApiError(404, f"no run {run_id!r}")

        def work():
            from ..montecarlo.plot import distribution_figure
            from ..montecarlo.runner import run_report_from_catalog
            from ..provenance import clean
            from .views import figure_panel

            if _catalog() is None:
                raise ApiError(404, f"no run catalog in {dash.store}")
            rep = run_report_from_catalog(dash.store, run_id)
            run = rep["run"]
            panels = [figure_panel("fig-run-dist", "Distributions over paths",
                                   distribution_figure(dash.store, run["run_id"], rep["points"],
                                                       title=f"{run['scenario_name']} — run {run['run_id']}",
                                                       scenario=run["scenario_name"]))]
            return {"run": clean(run), "points": clean(rep["points"]), "chunks": rep["chunks"], "panels": panels}

        return await asyncio.to_thread(work)

    @app.post("/api/sql")
    async def sql(request: Request):
        data = await body_json(request)
        query = data.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "query: one read-only SELECT")
        limit = _int_option(data, "limit", 1, 10_000, 1000)

        def work():
            from ..provenance import clean

            cat = _catalog()
            if cat is None:
                raise ApiError(404, f"no run catalog in {dash.store} yet (run a Monte Carlo study first)")
            with cat:
                cols, rows = cat.sql(query, limit=limit)
            return {"columns": cols, "rows": clean([[v.isoformat() if hasattr(v, "isoformat") else v for v in r]
                                                    for r in rows]), "limit": limit}

        return await asyncio.to_thread(work)

    return app
