"""``liqcascade serve``: the browser dashboard (FastAPI + uvicorn, ``liqcascade[dashboard]``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Optional

import typer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> tuple[str, ...]:
    """Host names requests may carry: the loopback names, plus the one served on; any host when
    serving on every interface."""
    if host in ("0.0.0.0", "::"):
        return ("*",)
    return tuple(dict.fromkeys((*LOOPBACK, host)))


def register(app: typer.Typer) -> None:
    from ._common import guard
    from ..errors import InputError

    @app.command()
    @guard
    def serve(
        host: str = typer.Option("127.0.0.1", help="interface to listen on (0.0.0.0: every interface — no authentication!)"),
        port: int = typer.Option(8050, min=0, max=65535, help="TCP port"),
        store: Path = typer.Option(Path("liqcascade-runs"), "--store", help="run store folder (Monte Carlo runs, uploads)"),
        examples: Optional[Path] = typer.Option(None, "--examples",
                                                help="folder of example scenarios (default: the checkout's examples/)"),
        max_upload_mb: float = typer.Option(20.0, "--max-upload-mb", min=0.01, help="largest request body (MB)"),
        max_running: int = typer.Option(1, "--max-running", min=1, max=16, help="jobs running at once"),
        max_queued: int = typer.Option(8, "--max-queued", min=0, max=1000, help="jobs waiting at most"),
    ):
        """Browser dashboard: pick or upload a scenario, edit it, run curve / run / compare / Monte Carlo."""
        try:
            import uvicorn

            from ..dashboard.app import create_app
        except ImportError as exc:
            raise InputError(None, "serve", f"the dashboard needs the 'dashboard' extra ({exc.name} is missing): "
                             "pip install 'liqcascade[dashboard]'") from None
        if examples is not None and not examples.is_dir():
            raise InputError(str(examples), "--examples", "not a folder")
        if store.exists() and not store.is_dir():
            raise InputError(str(store), "--store", "exists and is not a directory")
        if not is_loopback(host):
            typer.echo(f"warning: --host {host} makes the dashboard reachable from other machines; it has no "
                       "authentication: anyone who can connect can run simulations and read the run store", err=True)
        application = create_app(store, examples, max_upload_bytes=int(max_upload_mb * 2**20),
                                 max_running=max_running, max_queued=max_queued, allowed_hosts=allowed_hosts(host))
        shown = f"[{host}]" if ":" in host else host
        typer.echo(f"liqcascade dashboard on http://{shown}:{port}  (store: {store.resolve()}; Ctrl-C to stop)")
        uvicorn.run(application, host=host, port=port, log_level="warning")
