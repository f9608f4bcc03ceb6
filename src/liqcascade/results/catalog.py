"""The run catalog: one DuckDB file (``runs.duckdb``) in a run store folder.

Layout of a store::

    <store>/runs.duckdb                                   the catalog (this module)
    <store>/chunks/<run>/<point>/<run>_<point>_c<k>.parquet   one immutable file per chunk

Tables (JSON held as VARCHAR; cast with ``::JSON`` in queries):

``runs``     one row per run: id, kind (sweep | mc | recommend), scenario name/file/hash, parameters,
             seed, paths, chunk size, points, chunks, code version, created/started/finished,
             wall and compute seconds, timings, attempts, status (running | complete | failed |
             interrupted), error, executor, workers.
``points``   one row per parameter point: id, index, parameters, status (ok | invalid), reason.
``chunks``   one row per stored chunk: point, index, path range, file, rows, seconds, worker.
``metrics``  one row per point of a finished run (see :mod:`liqcascade.montecarlo.metrics`).

Only the coordinating process writes the catalog, in short transactions (open, write, close),
so read-only commands can look in between. One process at a time computes a given run (a lock
per run, :mod:`.lock`); a run recorded as ``running`` whose process died reads as
``interrupted``. :meth:`Catalog.sql` runs read-only ``SELECT``
queries with the chunk files exposed as the view ``paths``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import InputError

CATALOG_FILE = "runs.duckdb"
DEFAULT_STORE = "liqcascade-runs"

RUN_COLUMNS = {
    "run_id": "VARCHAR PRIMARY KEY",
    "kind": "VARCHAR",
    "scenario_name": "VARCHAR",
    "scenario_file": "VARCHAR",
    "scenario_hash": "VARCHAR",
    "parameters": "VARCHAR",
    "seed": "BIGINT",
    "paths": "BIGINT",
    "chunk_paths": "BIGINT",
    "n_points": "INTEGER",
    "n_chunks": "BIGINT",
    "code_version": "VARCHAR",
    "created": "TIMESTAMP",
    "started": "TIMESTAMP",
    "finished": "TIMESTAMP",
    "wall_s": "DOUBLE",
    "compute_s": "DOUBLE",
    "timings": "VARCHAR",
    "attempts": "INTEGER",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "executor": "VARCHAR",
    "workers": "INTEGER",
}
POINT_COLUMNS = {
    "run_id": "VARCHAR",
    "point_id": "VARCHAR",
    "point_index": "INTEGER",
    "params": "VARCHAR",
    "status": "VARCHAR",
    "reason": "VARCHAR",
    "scenario_hash": "VARCHAR",
}
CHUNK_COLUMNS = {
    "run_id": "VARCHAR",
    "point_id": "VARCHAR",
    "chunk": "INTEGER",
    "path_start": "BIGINT",
    "path_stop": "BIGINT",
    "file": "VARCHAR",
    "rows": "BIGINT",
    "wall_s": "DOUBLE",
    "worker": "VARCHAR",
    "recorded": "TIMESTAMP",
}
METRIC_FLOAT_KEYS = (
    "var95", "lar95", "es95", "p_insolvency", "p_insolvency_lo", "p_insolvency_hi",
    "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi", "bad_debt_max",
    "liquidated_mean", "liquidated_ci_lo", "liquidated_ci_hi",
    "liquidations_mean", "repaid_mean", "fees_mean", "bonus_mean", "proceeds_mean", "gas_mean",
)
METRIC_COLUMNS = {"run_id": "VARCHAR", "point_id": "VARCHAR", "paths": "BIGINT",
                  **{k: "DOUBLE" for k in METRIC_FLOAT_KEYS}, "assets": "VARCHAR"}

_SCHEMA = [
    ("runs", RUN_COLUMNS, None),
    ("points", POINT_COLUMNS, "run_id, point_id"),
    ("chunks", CHUNK_COLUMNS, "run_id, point_id, chunk"),
    ("metrics", METRIC_COLUMNS, "run_id, point_id"),
]


def catalog_path(store) -> Path:
    return Path(store) / CATALOG_FILE


class Catalog:
    """A connection to ``<store>/runs.duckdb``; use as a context manager (closes on exit).

    ``read_only=True`` refuses a missing catalog with :class:`InputError`; a catalog locked by
    a writer is retried for ``wait_s`` seconds.
    """

    def __init__(self, store, read_only: bool = False, wait_s: float = 10.0):
        import duckdb

        self.store = Path(store)
        self.path = catalog_path(self.store)
        self.read_only = read_only
        if read_only:
            if not self.path.is_file():
                raise InputError(str(self.store), "--store", f"no run catalog here ({CATALOG_FILE} not found)")
        else:
            self.store.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        delay = 0.02
        while True:
            try:
                self.con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise InputError(str(self.path), None,
                                     f"cannot open the catalog (is another sweep writing it?): {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        if not read_only:
            self._ensure_schema()

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if getattr(self, "con", None) is not None:
            self.con.close()
            self.con = None

    # -- schema ------------------------------------------------------------------------------
    def _ensure_schema(self):
        for name, cols, pk in _SCHEMA:
            body = ", ".join(f"{c} {t}" for c, t in cols.items())
            if pk:
                body += f", PRIMARY KEY ({pk})"
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")

    # -- helpers -----------------------------------------------------------------------------
    def _rows(self, sql: str, params=()) -> list[dict]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def _upsert(self, table: str, cols: dict, rows: list[dict]):
        if not rows:
            return
        names = list(cols)
        sql = f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        self.con.executemany(sql, [[r.get(n) for n in names] for r in rows])

    # -- runs --------------------------------------------------------------------------------
    def _live(self, rows: list[dict]) -> list[dict]:
        """Rows with the status users see: a ``running`` run whose process is gone (no one holds
        its lock, :mod:`.lock`) is ``interrupted``."""
        from .lock import effective_status

        for r in rows:
            r["status"] = effective_status(self.store, r)
        return rows

    def get_run(self, run_id: str) -> dict | None:
        rows = self._live(self._rows("SELECT * FROM runs WHERE run_id = ?", [run_id]))
        return rows[0] if rows else None

    def find_run(self, prefix: str) -> dict:
        """The run whose id is ``prefix`` or starts with it (unique), else :class:`InputError`."""
        exact = self.get_run(prefix)
        if exact:
            return exact
        rows = self._live(self._rows("SELECT * FROM runs WHERE starts_with(run_id, ?) ORDER BY created", [prefix]))
        if not rows:
            raise InputError(None, "ID", f"no run {prefix!r} in {self.path}")
        if len(rows) > 1:
            raise InputError(None, "ID", f"{prefix!r} matches {len(rows)} runs: "
                             + ", ".join(r["run_id"] for r in rows[:10]))
        return rows[0]

    def put_run(self, row: dict):
        self._upsert("runs", RUN_COLUMNS, [row])

    def update_run(self, run_id: str, **fields):
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.con.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", [*fields.values(), run_id])

    def list_runs(self) -> list[dict]:
        return self._live(self._rows("SELECT * FROM runs ORDER BY created, run_id"))

    # -- points, chunks, metrics -------------------------------------------------------------
    def put_points(self, rows: list[dict]):
        self._upsert("points", POINT_COLUMNS, rows)

    def points(self, run_id: str) -> list[dict]:
        return self._rows("SELECT * FROM points WHERE run_id = ? ORDER BY point_index", [run_id])

    def add_chunks(self, rows: list[dict]):
        self._upsert("chunks", CHUNK_COLUMNS, rows)

    def delete_chunks(self, run_id: str, keys: list[tuple[str, int]]):
        for pid, k in keys:
            self.con.execute("DELETE FROM chunks WHERE run_id = ? AND point_id = ? AND chunk = ?", [run_id, pid, k])

    def chunks(self, run_id: str) -> list[dict]:
        return self._rows("SELECT * FROM chunks WHERE run_id = ? ORDER BY point_id, chunk", [run_id])

    def chunk_stats(self, run_id: str) -> dict:
        r = self._rows("SELECT count(*) AS n, coalesce(sum(rows), 0) AS rows, coalesce(sum(wall_s), 0) AS wall_s "
                       "FROM chunks WHERE run_id = ?", [run_id])[0]
        return {"chunks": int(r["n"]), "rows": int(r["rows"]), "compute_s": float(r["wall_s"])}

    def put_metrics(self, run_id: str, point_id: str, m: dict):
        row = {"run_id": run_id, "point_id": point_id, "paths": m.get("paths"),
               **{k: m.get(k) for k in METRIC_FLOAT_KEYS},
               "assets": json.dumps(m["assets"]) if m.get("assets") else None}
        self._upsert("metrics", METRIC_COLUMNS, [row])

    def metrics(self, run_id: str) -> dict[str, dict]:
        out = {}
        for r in self._rows("SELECT * FROM metrics WHERE run_id = ?", [run_id]):
            m = {k: r[k] for k in ("paths", *METRIC_FLOAT_KEYS)}
            if r.get("assets"):
                m["assets"] = json.loads(r["assets"])
            out[r["point_id"]] = m
        return out

    # -- read-only SQL -----------------------------------------------------------------------
    def sql(self, query: str, limit: int | None = None) -> tuple[list[str], list[tuple]]:
        """Run one read-only query (SELECT / WITH … SELECT / EXPLAIN / DESCRIBE / SHOW / SUMMARIZE).

        The chunk files are the view ``paths`` (one row per simulated path, with ``run_id``,
        ``point_id``, ``chunk``, ``path`` and the metric columns). Files outside the store's chunk
        folder cannot be read. Afterwards this connection has no file-system access: close it."""
        import duckdb

        try:
            stmts = duckdb.extract_statements(query)
        except duckdb.Error as exc:
            raise InputError(None, "QUERY", f"cannot parse: {exc}") from None
        if len(stmts) != 1:
            raise InputError(None, "QUERY", f"expected exactly one statement, got {len(stmts)}")
        allowed = {"SELECT", "EXPLAIN"}
        st = stmts[0].type.name
        if st not in allowed:
            raise InputError(None, "QUERY", f"only read-only queries (SELECT) are allowed, got {st}")
        self._paths_view()
        # the query may read the catalog and the chunk files, nothing else on disk (DuckDB table
        # functions such as read_csv could otherwise reach any file); irreversible for this
        # connection, so `sql` is the last thing a catalog opened for it does
        chunks = (self.store / "chunks").resolve().as_posix().rstrip("/") + "/"
        self.con.execute(f"SET allowed_directories = ['{_sql_str(chunks)}']")
        self.con.execute("SET enable_external_access = false")
        try:
            cur = self.con.execute(query)
            cols = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchmany(limit) if limit else cur.fetchall()
        except duckdb.Error as exc:
            raise InputError(None, "QUERY", str(exc).splitlines()[0]) from None
        return cols, rows

    def _paths_view(self):
        glob = (self.store.resolve() / "chunks" / "*" / "*" / "*.parquet").as_posix()
        has_files = any((self.store / "chunks").glob("*/*/*.parquet")) if (self.store / "chunks").is_dir() else False
        if has_files:
            src = f"SELECT * FROM read_parquet('{_sql_str(glob)}', union_by_name = true)"
        else:
            src = ("SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS point_id, NULL::BIGINT AS chunk, "
                   "NULL::BIGINT AS path, NULL::BIGINT AS liquidations, NULL::DOUBLE AS liquidated_value, "
                   "NULL::DOUBLE AS repaid, NULL::DOUBLE AS bad_debt, NULL::DOUBLE AS fees, NULL::DOUBLE AS bonus, "
                   "NULL::DOUBLE AS proceeds, NULL::DOUBLE AS gas WHERE false")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW paths AS {src}")


def _sql_str(s: str) -> str:
    return s.replace("'", "''")
