"""``liqcascade serve``: loopback by default, a warning for every other interface, and a real
server process that answers and stops (listening on 127.0.0.1 only)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from dash_helpers import need_dashboard

need_dashboard()
pytest.importorskip("uvicorn")

from liqcascade.cli import app  # noqa: E402
from liqcascade.commands.serve import allowed_hosts, is_loopback  # noqa: E402


@pytest.fixture
def fake_uvicorn(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: calls.append((application, kw)))
    return calls


def _invoke(*args):
    r = CliRunner().invoke(app, ["serve", *args])
    try:
        return r.exit_code, r.stdout, r.stderr
    except ValueError:  # older Click without separate stderr
        return r.exit_code, r.output, ""


def test_default_is_loopback_without_warning(fake_uvicorn, tmp_path):
    code, out, err = _invoke("--store", str(tmp_path / "s"))
    assert code == 0, out + err
    (application, kw), = fake_uvicorn
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8050
    assert "warning" not in err and "http://127.0.0.1:8050" in out
    assert application.state.dashboard.allowed_hosts == ("127.0.0.1", "localhost", "::1")


def test_all_interfaces_print_a_warning(fake_uvicorn, tmp_path):
    code, out, err = _invoke("--host", "0.0.0.0", "--port", "9999", "--store", str(tmp_path / "s"))
    assert code == 0
    assert err.startswith("warning: --host 0.0.0.0 makes the dashboard reachable from other machines")
    (application, kw), = fake_uvicorn
    assert kw["host"] == "0.0.0.0" and kw["port"] == 9999
    assert application.state.dashboard.allowed_hosts == ("*",)


def test_bad_options_are_one_line(fake_uvicorn, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    code, out, err = _invoke("--store", str(f))
    assert code == 2 and err.strip() == f"error: {f}: --store: exists and is not a directory"
    code, out, err = _invoke("--examples", str(tmp_path / "none"))
    assert code == 2 and err.strip().endswith("--examples: not a folder")
    assert fake_uvicorn == []


def test_host_helpers():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.0.0.2") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert allowed_hosts("192.168.1.4") == ("127.0.0.1", "localhost", "::1", "192.168.1.4")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_server_process(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "liqcascade.cli", "serve", "--port", str(port),
                             "--store", str(tmp_path / "store")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/api/info", timeout=2) as r:
                    info = json.loads(r.read())
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {proc.communicate(timeout=5)}")
                time.sleep(0.2)
        assert info["store"] == str((tmp_path / "store").resolve())
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            assert b"liqcascade dashboard" in r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode is not None
    assert f"liqcascade dashboard on http://127.0.0.1:{port}" in out
    assert "Traceback" not in err
