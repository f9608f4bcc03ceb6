"""A small job queue for the dashboard: at most ``max_running`` jobs run at once (threads; the
compiled loops release the GIL, so the server stays responsive), at most ``max_queued`` wait.

A job is cancelled cooperatively: its progress callback raises :class:`Cancelled` at the next
progress tick after :meth:`JobManager.cancel` (between chunks of shocks, between paths, between
Monte Carlo chunks). A queued job is cancelled at once.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("liqcascade.dashboard")

TERMINAL = ("done", "failed", "cancelled")


class Cancelled(KeyboardInterrupt):
    """Raised inside a job when the user cancels it. It derives from ``KeyboardInterrupt`` on
    purpose: code that cleans up after an interrupt (the Monte Carlo runner marks its stored
    run ``interrupted``, resumable) does the same for a cancel, and ``except Exception`` blocks
    in the engine do not swallow it."""


class QueueFull(Exception):
    pass


@dataclass
class Job:
    id: str
    kind: str
    scenario: str
    options: dict
    work: Callable[[Callable[[int, int], None]], Any] = field(repr=False)
    state: str = "queued"  # queued | running | done | failed | cancelled
    done: int = 0
    total: int = 0
    error: str | None = None
    result: Any = field(default=None, repr=False)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    version: int = 0  # bumped on every change (the event stream sends changes only)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def snapshot(self) -> dict:
        return {"id": self.id, "kind": self.kind, "scenario": self.scenario, "options": self.options,
                "state": self.state, "done": self.done, "total": self.total, "error": self.error,
                "created": self.created, "started": self.started, "finished": self.finished,
                "version": self.version, "has_result": self.result is not None}


class JobManager:
    def __init__(self, max_running: int = 1, max_queued: int = 8, keep: int = 50):
        if max_running < 1:
            raise ValueError("max_running must be >= 1")
        self.max_running = max_running
        self.max_queued = max_queued
        self.keep = keep  # finished jobs kept (with their results); older ones are dropped
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.redact: Callable[[str], str] = lambda text: text  # hides server folders in error messages

    # ---- submitting --------------------------------------------------------------------------
    def submit(self, kind: str, scenario: str, options: dict, work) -> Job:
        """Queue ``work(progress)``; its return value becomes the job's result."""
        with self._lock:
            if self._closed:
                raise QueueFull("the server is shutting down")
            waiting = sum(1 for j in self._jobs.values() if j.state == "queued")
            if waiting >= self.max_queued:
                raise QueueFull(f"{waiting} jobs are already waiting (at most {self.max_queued}); "
                                "wait for one to finish or cancel one")
            job = Job(secrets.token_hex(8), kind, scenario, dict(options), work)
            self._jobs[job.id] = job
            self._trim()
            if len(self._threads) < self.max_running:
                t = threading.Thread(target=self._worker, name=f"liqcascade-job-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
        self._queue.put(job)
        return job

    def _trim(self):
        done = [j for j in self._jobs.values() if j.state in TERMINAL]
        for j in sorted(done, key=lambda j: j.finished or 0)[: max(0, len(done) - self.keep)]:
            del self._jobs[j.id]

    # ---- reading ---------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def snapshot(self, job_id: str) -> dict | None:
        with self._lock:
            j = self._jobs.get(job_id)
            return None if j is None else j.snapshot()

    def list(self) -> list[dict]:
        with self._lock:
            return [j.snapshot() for j in sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)]

    # ---- cancelling ------------------------------------------------------------------------------
    def cancel(self, job_id: str) -> dict | None:
        with self._lock:
            j = self._jobs.get(job_id)
            if j is None:
                return None
            if j.state == "queued":
                j.state = "cancelled"
                j.finished = time.time()
                j.version += 1
            elif j.state == "running":
                j.cancel_event.set()
            return j.snapshot()

    def close(self, wait_s: float = 5.0) -> None:
        """Cancel everything and stop the worker threads (waits up to ``wait_s`` for each)."""
        with self._lock:
            self._closed = True
            for j in self._jobs.values():
                if j.state == "queued":
                    j.state, j.finished = "cancelled", time.time()
                    j.version += 1
                elif j.state == "running":
                    j.cancel_event.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(wait_s)

    # ---- running ---------------------------------------------------------------------------------
    def _worker(self):
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.state != "queued":  # cancelled while waiting
                    continue
                job.state, job.started = "running", time.time()
                job.version += 1

            def progress(done, total, job=job):
                with self._lock:
                    job.done, job.total = int(done), int(total or 0)
                    job.version += 1
                if job.cancel_event.is_set():
                    raise Cancelled()

            try:
                result = job.work(progress)
                state, error = ("cancelled", None) if job.cancel_event.is_set() else ("done", None)
            except Cancelled:
                result, state, error = None, "cancelled", None
            except Exception as exc:  # noqa: BLE001 - reported to the page as one line
                from ..errors import InputError

                result, state = None, "failed"
                if isinstance(exc, InputError):
                    error = exc.message()
                else:
                    log.exception("job %s (%s) failed", job.id, job.kind)
                    error = f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                error = self.redact(" ".join(error.split()))
            except BaseException:  # noqa: BLE001 - a stray interrupt ends this job, not the server
                result, state, error = None, "cancelled", None
            with self._lock:
                job.result = result if state == "done" else None
                job.state, job.error, job.finished = state, error, time.time()
                job.version += 1
