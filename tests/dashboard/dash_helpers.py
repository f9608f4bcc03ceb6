"""Shared pieces of the dashboard tests: the app on a test client, a live server on 127.0.0.1
in a thread (stopped by the fixture), polling a job to its end."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MINIMAL = EXAMPLES / "minimal.toml"
H = {"X-Requested-With": "liqcascade"}
BASE = "http://127.0.0.1"


def client(store, raise_server_exceptions: bool = True, **kw):
    import warnings

    with warnings.catch_warnings():  # starlette's note that its test client will move off httpx
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    from liqcascade.dashboard.app import create_app

    return TestClient(create_app(store, EXAMPLES, **kw), base_url=BASE, raise_server_exceptions=raise_server_exceptions)


def wait_job(c, job_id: str, timeout_s: float = 600.0) -> dict:
    t0 = time.monotonic()
    while True:
        s = c.get(f"/api/jobs/{job_id}").json()
        if s["state"] in ("done", "failed", "cancelled"):
            return s
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"job {job_id} still {s['state']} after {timeout_s} s")
        time.sleep(0.1)


def pick(c, name: str = "minimal") -> dict:
    r = c.post("/api/scenarios/example", json={"name": name}, headers=H)
    assert r.status_code == 200, r.text
    return r.json()


@contextlib.contextmanager
def live_server(store, **kw):
    """uvicorn serving the dashboard on 127.0.0.1 (an ephemeral port) in a thread; yields the
    base URL and the app; stops the server on exit."""
    import uvicorn

    from liqcascade.dashboard.app import create_app

    app = create_app(store, EXAMPLES, **kw)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dashboard-test-server", daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not t.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dashboard test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        t.join(60)
        sock.close()
        assert not t.is_alive(), "the dashboard test server did not stop"


def chromium_path() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def browser_skip_reason() -> str | None:
    if chromium_path() is None:
        return "needs Debian's chromium (/usr/bin/chromium; apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the `playwright` Python package (its bundled browsers are not used)"
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return "needs the dashboard extra (fastapi, uvicorn)"
    return None


def need_dashboard():
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    pytest.importorskip("multipart")
