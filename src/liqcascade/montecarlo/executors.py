"""Where chunks run: in the coordinating process, a local process pool, or a Dask cluster.

Every executor is a context manager with ``imap_unordered(fn, tasks)``, yielding results as
chunks finish (at most ``window`` tasks in flight, so a huge sweep does not queue everything at
once and an interrupt cancels little). Dask is imported only by :class:`DaskExecutor`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _scheduler_host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``tcp://HOST:PORT`` (or bare ``HOST:PORT``) address; None for other
    schemes (``tls://``, ``ucx://`` ...), which only Dask itself can check."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return None
    rest = rest.split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return None
    return host, int(port)


def check_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Raise :class:`InputError` (``--scheduler``) unless something accepts TCP connections at
    ``address`` -- a cheap check made *before* the run store or catalog is created, so an
    unreachable scheduler leaves nothing behind. Non-TCP schemes are not checked here."""
    import socket

    from ..errors import InputError

    hp = _scheduler_host_port(address)
    if hp is None:
        return
    try:
        with socket.create_connection(hp, timeout=timeout_s):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise InputError(None, "--scheduler", f"cannot connect to {address}: {why}") from None


class InProcessExecutor:
    """Run chunks one after another in this process (numba may still use several threads)."""

    name = "in-process"
    workers = 0
    numba_threads = 0

    def preflight(self) -> None:
        """Checks that must pass before anything is written (nothing to check here)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        for t in tasks:
            yield fn(t)


#: how often a pool worker checks that its coordinator is still alive (seconds)
PARENT_POLL_S = 0.5


def _init_worker(cache_dir: str | None, parent_pid: int | None = None) -> None:
    """Point the worker at the coordinator's numba cache before any kernel is imported, and
    make it exit when the coordinator dies (:func:`exit_with_parent`)."""
    if cache_dir:
        os.environ.setdefault("NUMBA_CACHE_DIR", cache_dir)
    if parent_pid is not None:
        exit_with_parent(parent_pid)


def exit_with_parent(parent_pid: int, poll_s: float = PARENT_POLL_S) -> None:
    """A worker whose coordinator is killed (``kill -9`` gives it no chance to stop its pool)
    must not keep running chunks and writing them to the store: a daemon thread checks every
    ``poll_s`` seconds that the process's parent is still ``parent_pid`` and ends the worker at
    once (``os._exit``) when it is not (the orphan was re-parented). With the workers gone, the
    multiprocessing resource tracker sees its pipe close and exits too."""
    import threading
    import time

    if os.getppid() != parent_pid:
        os._exit(1)

    def watch():
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="liqcascade-parent-watch", daemon=True).start()


class ProcessPoolExecutor:
    """A local pool of ``workers`` processes started with ``spawn`` (or ``forkserver``) — never
    ``fork``: numba's threading layer does not survive a fork reliably."""

    def __init__(self, workers: int, start_method: str = "spawn", numba_threads: int = 1,
                 cache_dir: str | None = None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if start_method not in ("spawn", "forkserver"):
            raise ValueError("start_method must be 'spawn' or 'forkserver'")
        self.workers = workers
        self.start_method = start_method
        self.numba_threads = numba_threads
        self.cache_dir = cache_dir
        self.name = f"process-pool ({start_method})"
        self._pool = None

    def preflight(self) -> None:
        """Checks that must pass before anything is written (nothing to check here)."""

    def __enter__(self):
        import concurrent.futures as cf
        import multiprocessing as mp

        ctx = mp.get_context(self.start_method)
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                            initializer=_init_worker, initargs=(self.cache_dir, os.getpid()))
        return self

    def __exit__(self, typ, exc, tb):
        if self._pool is not None:
            self._pool.shutdown(wait=exc is None, cancel_futures=True)
            self._pool = None
        return False

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        import concurrent.futures as cf

        it = iter(tasks)
        window = 2 * self.workers + 2
        pending = set()
        for t in it:
            pending.add(self._pool.submit(fn, t))
            if len(pending) >= window:
                break
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in done:
                yield f.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, nxt))


class DaskExecutor:
    """Dask distributed: ``local=True`` starts a ``LocalCluster`` of ``workers`` processes with
    one thread each; otherwise connects to the scheduler at ``address`` (``tcp://HOST:PORT``).

    Workers must see the store folder and the scenario's files at the same paths (a shared
    file system) and have liqcascade installed."""

    def __init__(self, workers: int | None = None, address: str | None = None, numba_threads: int = 1):
        if address is None and not workers:
            raise ValueError("a local Dask cluster needs workers >= 1")
        self.workers = workers or 0
        self.address = address
        self.numba_threads = numba_threads
        self.name = f"dask ({address})" if address else "dask (LocalCluster)"
        self._cluster = None
        self._client = None

    def preflight(self) -> None:
        """Before anything is written: Dask must be importable and, for ``address``, the scheduler
        must accept connections (:func:`check_scheduler`)."""
        from ..errors import InputError

        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise InputError(None, "--dask/--scheduler",
                             "Dask is not installed (pip install 'liqcascade[mc]' or dask distributed)") from None
        if self.address is not None:
            check_scheduler(self.address)

    def __enter__(self):
        import logging

        from ..errors import InputError

        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError(None, "--dask/--scheduler",
                             "Dask is not installed (pip install 'liqcascade[mc]' or dask distributed)") from None
        if self.address is None:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise InputError(None, "--scheduler", f"cannot connect to {self.address}: {exc}") from None
            self.workers = len(self._client.scheduler_info().get("workers", {}))
        return self

    def __exit__(self, typ, exc, tb):
        try:
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._client = self._cluster = None
        return False

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        from dask.distributed import as_completed

        it = iter(tasks)
        window = 2 * max(self.workers, 1) + 2

        def submit(t):
            key = f"liqcascade-chunk-{t.run_id}-{t.point_id}-{t.index}"
            return self._client.submit(fn, t, pure=False, key=key)

        first = []
        for t in it:
            first.append(submit(t))
            if len(first) >= window:
                break
        ac = as_completed(first)
        for f in ac:
            res = f.result()
            f.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(submit(nxt))
            yield res


def make_executor(workers: int | None = None, dask: str | None = None, scheduler: str | None = None,
                  start_method: str = "spawn"):
    """``workers=0`` → in-process; ``dask="local"`` → LocalCluster of ``workers``;
    ``scheduler=ADDR`` → existing Dask cluster; otherwise a process pool (default size: the
    number of usable CPUs)."""
    from ..errors import InputError

    if dask is not None and scheduler is not None:
        raise InputError(None, "--dask/--scheduler", "give one of --dask local or --scheduler ADDR")
    if dask is not None:
        if dask != "local":
            raise InputError(None, "--dask", f"only 'local' is supported (got {dask!r}); use --scheduler ADDR for a cluster")
        return DaskExecutor(workers=workers or default_workers())
    if scheduler is not None:
        if "://" not in scheduler and ":" not in scheduler:
            raise InputError(None, "--scheduler", f"expected tcp://HOST:PORT, got {scheduler!r}")
        return DaskExecutor(address=scheduler)
    if workers is None:
        workers = default_workers()
    if workers < 0:
        raise InputError(None, "--workers", "must be >= 0 (0 = run in this process)")
    if workers == 0:
        return InProcessExecutor()
    return ProcessPoolExecutor(workers, start_method=start_method)
