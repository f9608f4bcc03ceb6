"""Compiling once across processes (``_jit.claim_compiles``) and the typing-only kernels
(``_jit.typing_only``) that the warm-up uses to compile the lean loop from both ends.

The claims test starts two processes on one fresh cache folder and lets them call the same
kernel at the same moment (both wait for a file the test writes once both have imported it);
the kernel's typing sleeps (an ``overload`` whose typing function waits), so the two overlap for
certain. One must compile it and the other load the first's result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from liqcascade.kernels import _jit

SRC = Path(_jit.__file__).resolve().parents[2]

SLOW = textwrap.dedent('''
    import time
    from numba.extending import overload
    from liqcascade.kernels._jit import njit

    def slow():
        pass

    @overload(slow)
    def _slow_impl():
        time.sleep(2.0)  # at compile time: typing this kernel takes two seconds
        return lambda: None

    @njit
    def kernel(x):
        slow()
        return x + 1.0
''')

RUN = textwrap.dedent('''
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    from numba.core import event
    compiled = []
    class L(event.Listener):
        def on_start(self, ev):
            pass
        def on_end(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__name__)
    event.register("numba:compile", L())
    import slow_kernel
    open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
    while not os.path.exists(os.path.join(sys.argv[1], "go")):  # both start the call together
        time.sleep(0.01)
    print(json.dumps({"result": slow_kernel.kernel(1.0), "compiled": compiled}))
''')


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled")
def test_two_processes_compile_a_kernel_once(tmp_path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "slow_kernel.py").write_text(SLOW)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(SRC)}
    mod = tmp_path / "mod"
    procs = [subprocess.Popen([sys.executable, "-c", RUN, str(mod)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for _ in range(30000):  # both imported (up to 5 minutes on a loaded machine)
        if len(list(mod.glob("ready-*"))) == 2 or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    (mod / "go").touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert [o["result"] for o in outs] == [2.0, 2.0]
    counts = sorted(o["compiled"].count("kernel") for o in outs)
    assert counts == [0, 1], f"kernel compiled {counts} times in the two processes"


def test_a_typing_only_kernel_compiles_its_callees_and_stops():
    @_jit.njit(cache=False)
    def callee(x):
        return x * 2.0

    def body(x):
        if x < 0.0:  # never: the call is typed (so compiled), not run
            callee(x)
        return x

    driver = _jit.typing_only(body)
    with pytest.raises(_jit.TypedOnly):
        driver(1.0)
    if _jit.DISABLED:
        return
    assert len(callee.signatures) == 1
    assert not driver.signatures  # typed, never compiled itself


def test_lanes_put_the_loop_helper_beside_a_cold_loop():
    from liqcascade.engine import warmup

    def plan(cold, n):
        return sorted(map(tuple, warmup.lanes(cold, n)))

    assert plan(["loop", "static"], 2) == [("loop",), ("loop_backwards", "static")]
    assert plan(["loop"], 2) == [("loop",), ("loop_backwards",)]
    assert [sorted(lane) for lane in warmup.lanes(["loop", "static"], 1)] == [["loop", "static"]]  # no helper
    assert plan(["static", "flow"], 2) == [("flow",), ("static",)]
    both = warmup.lanes(["loop", "many"], 2)  # one helper serves the two lean kernels
    assert sum(lane.count("loop_backwards") for lane in both) == 1
    assert all(h in warmup._HELPERS for h in warmup._BACKWARDS.values())
    assert all(g in warmup.GROUPS for g in warmup._BACKWARDS)


def test_a_claim_is_waited_for_at_most_its_limit(tmp_path):
    """``_wait_for_lock`` takes a free lock at once and gives up on a held one after its limit
    (a process stopped while it holds a claim must not block the others for ever)."""
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "claim"
    with open(path, "a") as holder, open(path, "a") as other:
        fcntl.flock(holder, fcntl.LOCK_EX)
        t0 = time.monotonic()
        assert _jit._wait_for_lock(fcntl, other, 0.2) is False
        assert time.monotonic() - t0 >= 0.2
        fcntl.flock(holder, fcntl.LOCK_UN)
        assert _jit._wait_for_lock(fcntl, other, 0.2) is True
