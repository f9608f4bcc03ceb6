"""Who is running a run: one lock file per run in the store, held while the run's chunks are
computed.

``<store>/locks/<run_id>.lock`` is locked with ``flock`` (exclusive, non-blocking) by the
process that runs the run, and holds that process's host, pid and start time. The kernel drops
the lock when the process ends, however it ends (``kill -9`` included), so:

* a second process asked to run the same run into the same store finds the lock held and
  refuses (one line naming the holder) instead of computing the same chunks again;
* a run the catalog says is ``running`` whose lock nobody holds is dead (its process was
  killed): :func:`effective_status` reports it as ``interrupted``; running the same command
  again resumes it.

Locks are advisory and local: processes on other machines sharing the store over a network
file system may not see them (the chunk files, written atomically and reconciled on resume,
stay correct; only work may be repeated).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ..errors import InputError

LOCK_DIR = "locks"


def lock_path(store, run_id: str) -> Path:
    return Path(store) / LOCK_DIR / f"{run_id}.lock"


class RunLock:
    """The exclusive lock of ``run_id`` in ``store``: ``acquire()`` or :class:`InputError`."""

    def __init__(self, store, run_id: str):
        self.path = lock_path(store, run_id)
        self.run_id = run_id
        self._fh = None

    def acquire(self) -> "RunLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = _parse(fh.read())
            fh.close()
            who = (f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
                   if holder else "another process")
            raise InputError(None, "--store", f"run {self.run_id} is being computed by {who}; wait for it to "
                             "finish (or stop it) and run the command again to resume") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def _parse(text: str) -> dict:
    try:
        d = json.loads(text)
        return d if isinstance(d, dict) else {}
    except ValueError:
        return {}


def is_held(store, run_id: str) -> bool:
    """True when a live process holds ``run_id``'s lock in ``store``."""
    import fcntl

    p = lock_path(store, run_id)
    if not p.is_file():
        return False
    try:
        with open(p, "r") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def effective_status(store, row: dict) -> str:
    """A run's status as shown to users: ``running`` only while its process holds the lock;
    a ``running`` row without a live holder is ``interrupted`` (the process died)."""
    st = row.get("status")
    if st == "running" and not is_held(store, row["run_id"]):
        return "interrupted"
    return st
