"""One switch for the compiled path, and the numba cache folder keyed on the kernel sources.

Every kernel is decorated with :func:`njit`. Setting ``LIQCASCADE_DISABLE_JIT=1`` in the
environment turns the decorator into the identity, so the same source runs as plain Python
(useful for debugging and coverage). The plain-Python *twins* (``twin.py`` in a unit folder,
``*_py.py`` here) are separate, deliberately naive implementations used by the parity tests.

Cache keying
------------
numba's on-disk cache is invalidated only when a function's *own* file changes, not when a
kernel it calls (and inlines) from another file does, nor when a registry changes which kind a
code dispatches to. The cache therefore lives in ``<base>/<hash>``, ``hash`` covering every
kernel-layer file (:func:`kernel_layer_files`), so any edit there starts from a clean cache.
``<base>`` is ``$NUMBA_CACHE_DIR`` when set (the keying applies there too), else
``$XDG_CACHE_HOME/liqcascade/numba`` (``~/.cache/liqcascade/numba``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DISABLED = os.environ.get("LIQCASCADE_DISABLE_JIT", "") not in ("", "0")

#: the ``liqcascade`` package folder
PACKAGE = Path(__file__).resolve().parents[1]

#: file names that make a module part of the kernel layer wherever it lives
KERNEL_LAYER_NAMES = ("kernel.py", "dispatch.py", "twin.py", "hooks.py", "hooks_twin.py")


def kernel_layer_files(root: Path = PACKAGE) -> list[Path]:
    """Every kernel-layer source file under the package folder ``root``, sorted.

    That is ``kernels/*.py``, every ``kernel.py``, ``dispatch.py``, ``twin.py``, ``hooks.py`` and
    ``hooks_twin.py`` (a unit's kernel, a family's compiled dispatch, the twins, the mechanisms'
    and agents' shared hooks), and the ``__init__.py`` of every family
    with a ``dispatch.py`` (its registry decides which kind a code selects).
    """
    root = Path(root)
    files = set((root / "kernels").glob("*.py"))
    for name in KERNEL_LAYER_NAMES:
        files.update(p for p in root.rglob(name) if "__pycache__" not in p.parts)
    files.update(p.parent / "__init__.py" for p in root.rglob("dispatch.py") if (p.parent / "__init__.py").exists())
    return sorted(files)


def kernel_source_hash(root: Path = PACKAGE) -> str:
    """Hash of the kernel layer's sources (paths relative to ``root`` and contents)."""
    root = Path(root)
    h = hashlib.sha1()
    for f in kernel_layer_files(root):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cache_base() -> Path:
    """The folder the keyed cache folders live in (``$NUMBA_CACHE_DIR`` or the user cache)."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liqcascade" / "numba"


def serialize_cache_saves() -> bool:
    """Make numba's cache writes safe when several processes compile into one cache folder.

    numba keeps one index file per function (signature → data file) and names a new entry's
    data file with the first free number in the index *as that process read it*. Two processes
    saving different signatures of one function at once (the warm-up's worker processes, pytest
    workers, two commands started together) can both pick number 1: the index then sends one
    signature to the other's machine code, which is loaded on every later run — a kernel
    specialised for a literal argument, or the core-venue-kinds variant, running where the
    general one should (wrong results, no error). Measured with four processes saving 40
    signatures each into one index: 8–34 of 160 entries lost and 3–15 pointing at another
    signature's data.

    This wraps ``IndexDataCacheFile.save`` (read the index, pick a name, write the index, write
    the data) in an exclusive ``fcntl`` lock on ``<cache folder>/.save.lock``, so the sequence is
    atomic across processes. Loads stay unlocked: the index and the data files are each replaced
    atomically, and under the lock a data file only ever holds the signature the index names.
    Returns False where ``fcntl`` is missing (not POSIX), leaving numba as it is.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    from numba.core import caching

    save = caching.IndexDataCacheFile.save
    if getattr(save, "_serialized", False):
        return True

    def locked_save(self, key, data):
        os.makedirs(self._cache_path, exist_ok=True)
        with open(os.path.join(self._cache_path, ".save.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return save(self, key, data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    locked_save._serialized = True
    caching.IndexDataCacheFile.save = locked_save
    return True


#: how long a process waits for another's claim before compiling the kernel itself (a process
#: stopped or hung while it holds one must not block the others for ever)
CLAIM_WAIT_S = 600.0


def _wait_for_lock(fcntl, f, seconds: float) -> bool:
    """Take an exclusive ``flock`` on ``f``, waiting up to ``seconds``; False if it was not taken
    (timed out, or the file system does not lock)."""
    import time

    end = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= end:
                return False
            time.sleep(0.002)  # (a waiting compile is on the critical path: poll often, it costs nothing)
        except OSError:
            return False


def claim_compiles() -> bool:
    """Compile each (kernel, signature) once across processes that share a cache folder.

    numba compiles a signature a process lacks unless the on-disk cache already holds it. Two
    processes that need the same kernel at the same moment (the warm-up's workers, one walking
    the time loop's call tree from the top and one from the bottom; pytest's workers on a cold
    cache) would each compile it. This wraps ``Dispatcher.compile``: a signature the process
    does not hold yet is compiled (or loaded) under an exclusive ``fcntl`` lock on a file named
    after the kernel's cache index and the signature (``<cache folder>/.claims/``). A process
    that finds the lock taken waits for it and then loads the other's result from the cache.

    No deadlock: a process holds the locks of the kernels on its current compile stack (a chain
    of callers) and waits only on a callee of the innermost one; the call graph has no cycle,
    so no two processes can each wait on a lock the other holds. Within a process the claim is
    taken under numba's compiler lock (one thread compiles at a time; a recursive compile of a
    claimed signature goes through). A process that waits :data:`CLAIM_WAIT_S` for a claim (its
    holder stopped or hung) compiles the kernel itself; a claim file that cannot be made or
    locked means compiling unclaimed, as numba would. A kernel without a disk cache
    (``cache=False``: the ``by_kind`` dispatch closures) is compiled as before. Returns False
    where ``fcntl`` is missing (not POSIX).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    from numba.core import caching, sigutils
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.dispatcher import Dispatcher

    compile_ = Dispatcher.compile
    if getattr(compile_, "_claimed", False):
        return True
    held: set[str] = set()  # the claims this process holds (a recursive compile re-enters freely)

    def claim_file(self, args):
        """The claim's lock file, or None (no disk cache, or numba's cache looks different)."""
        cache = getattr(self, "_cache", None)
        if cache is None or isinstance(cache, caching.NullCache):
            return None
        try:
            folder = os.path.join(cache._cache_path, ".claims")
            key = f"{cache._impl.filename_base}|{args}"
        except AttributeError:  # pragma: no cover - another numba's cache internals
            return None
        return os.path.join(folder, hashlib.sha1(key.encode()).hexdigest()[:20])

    def claimed_compile(self, sig):
        args, _ = sigutils.normalize_signature(sig)
        path = None if tuple(args) in self.overloads else claim_file(self, args)
        if path is None:
            return compile_(self, sig)
        # numba's compiler lock first: one thread of a process compiles at a time, so a thread
        # never holds a claim while waiting for a thread of its own process that holds another
        with global_compiler_lock:
            if path in held:
                return compile_(self, sig)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                lock = open(path, "a")  # noqa: SIM115 - closed below
            except OSError:  # a folder this process cannot write: compile unclaimed
                return compile_(self, sig)
            with lock:
                got = _wait_for_lock(fcntl, lock, CLAIM_WAIT_S)
                held.add(path)
                try:
                    return compile_(self, sig)  # (loads the other's result when it saved one)
                finally:
                    held.discard(path)
                    if got:
                        fcntl.flock(lock, fcntl.LOCK_UN)

    claimed_compile._claimed = True
    Dispatcher.compile = claimed_compile
    return True


#: the base folder in use; give it to worker processes as ``NUMBA_CACHE_DIR`` to share the cache
CACHE_BASE: str | None = None
#: the cache folder in use (``CACHE_BASE/<hash>``); None when the JIT is disabled
CACHE_DIR: str | None = None

if DISABLED:  # pragma: no cover - exercised only with the env switch

    def njit(*args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    def prange(*args):
        return range(*args)

    def literal_unroll(container):
        return container

else:
    import warnings

    import numba
    from numba.core.errors import NumbaExperimentalFeatureWarning

    # The families' compiled dispatch runs ``literal_unroll`` over a tuple of kernels (one per
    # registered kind); numba types that tuple with its first-class-function machinery and warns
    # that the feature is experimental. The branches compile to direct, inlinable calls.
    warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                            category=NumbaExperimentalFeatureWarning)

    CACHE_BASE = str(cache_base())
    CACHE_DIR = str(Path(CACHE_BASE) / kernel_source_hash())
    numba.config.CACHE_DIR = CACHE_DIR
    serialize_cache_saves()
    claim_compiles()

    def njit(*args, **kwargs):
        opts = {"cache": True, "nogil": True}
        opts.update(kwargs)
        if len(args) == 1 and callable(args[0]):
            return numba.njit(**opts)(args[0])
        return numba.njit(*args, **opts)

    prange = numba.prange
    literal_unroll = numba.literal_unroll


#: decorator for kernels called only from other kernels (the time loop's stages and helpers): no
#: Python-callable wrapper is compiled for them. The wrapper would unbox every array of every
#: layout argument and costs most of such a function's compile time.
internal = njit(no_cpython_wrapper=True, no_cfunc_wrapper=True)


def variant(fn, name, **bind):
    """A copy of the plain function ``fn`` under the name ``name`` (``__name__`` and
    ``__qualname__``; same code, defaults and docstring; its globals with the names in ``bind``
    bound to those values), to be compiled into a dispatcher of its own.

    The time loop compiles one body into several kernels, one per variant (lean, full, with
    units; recorded path or many paths), each with one signature. numba's on-disk cache keeps one
    index per function, named after its module and qualified name, and keys the entries in it by
    signature and bytecode only, not by the dispatcher's options: two dispatchers of one function
    with the same signature (a Python-callable kernel and an :data:`internal` one, say) would
    overwrite each other's entries, and several signatures in one index can lose an entry when
    worker processes compile them at once. A copy per dispatcher gives each its own index.
    """
    return _copy_function(fn, {**fn.__globals__, **bind} if bind else fn.__globals__, name)


def _fn_name(f) -> str:
    f = getattr(f, "py_func", f)
    return f"{f.__module__}.{f.__qualname__}"


def by_kind_name(fns, fallback) -> str:
    """The qualified name :func:`by_kind` gives its closure: the fallback's and the functions'
    module-qualified names, so two closures with the same name dispatch to the same code."""
    return f"by_kind[{_fn_name(fallback)}|{','.join(_fn_name(f) for f in fns)}]"


def by_kind(fns, fallback):
    """A kernel ``call(kind, *args)`` that runs ``fns[kind](*args)``: one compiled branch per
    function of the tuple ``fns`` (``literal_unroll``; a family's kinds in registry order, so a
    kind's code is its position), ``fallback(*args)`` for a code outside it.

    The families' dispatch (venues, flash-loan sources) builds its ``venue_*``-style functions on
    it instead of writing the same unrolled loop once per interface function. The result is an
    :data:`internal` kernel (called from other kernels; numba types each tuple of functions as a
    distinct closure, so every ``by_kind`` result has its own single signature).

    Not cached on disk by itself: numba keys a closure's cache entry on its captured functions
    pickled with a per-process id, so the entry could never be found again; the kernels that
    call it are cached with its code in their machine code.

    Named after what it dispatches to (``by_kind[<fallback>|<fn>,<fn>,…]``): numba's symbol for a
    compiled function is its module, qualified name, argument types and a per-process counter, and
    the closures of several ``by_kind`` calls share the module, the qualified name and often the
    argument types. Two of them compiled in different processes (the warm-up's workers, pytest's
    workers) could then carry one symbol with two bodies; a process loading both callers from the
    cache links one body for both — the core-kinds venue dispatch running where the all-kinds one
    should, say. A name per function tuple keeps the symbols apart.
    """

    def call(kind, *args):
        out = fallback(*args)
        i = 0
        for f in literal_unroll(fns):
            if i == kind:
                out = f(*args)
            i += 1
        return out

    call.__qualname__ = call.__name__ = by_kind_name(fns, fallback)
    if DISABLED:
        return call
    return njit(call, cache=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)


class Rebound:
    """Copies of the kernels reachable from ``roots`` that reach a value of ``bind``, compiled as
    a family of their own: each copy is named ``<name><suffix>``, and in its globals every name
    bound to an original of ``bind`` (a pair ``(original, replacement)``, matched by identity)
    resolves to the replacement and every name bound to a copied kernel to its copy.
    ``variant(fn, name, **more)`` gives a copy of the plain function ``fn`` (a loop body) whose
    globals resolve the same way.

    That is how one source compiles twice with a different function at the bottom of its call
    tree and nothing else changed: the lean time loop binds each venue dispatch
    (``venues.dispatch._spot_k`` and the like, every registered venue kind) to the one over the
    core kinds alone (``_spot_c``), and every kernel between the loop and those dispatches
    (the stages, the sales ledger, routing and arbitrage) gets a ``_core`` copy calling the
    copies below it. A kernel that reaches no bound value is shared, not copied.

    The call graph is read from the functions' global names (``co_names`` of their code and of
    the code nested in it): a kernel reached any other way (through a module attribute, an
    ``overload``, a closure) keeps calling the original, which compiles every kind again but
    gives the same results (a test checks what the lean loop reaches). With the JIT disabled
    nothing is copied (plain Python compiles nothing).
    """

    def __init__(self, roots, bind, suffix: str):
        self.bind = {id(orig): new for orig, new in bind}
        self.suffix = suffix
        self.copies: dict[int, object] = {}  # id(original dispatcher) -> copy
        if DISABLED:
            return
        from numba.core.dispatcher import Dispatcher

        nodes: dict[int, object] = {}  # id -> dispatcher
        edges: dict[object, set[int]] = {}
        direct: set[object] = set()

        def refs(fn):
            """The values of the global names the code of ``fn`` reads (nested code too)."""
            seen = []
            stack = [fn.__code__]
            while stack:
                code = stack.pop()
                seen.extend(code.co_names)
                stack.extend(c for c in code.co_consts if hasattr(c, "co_names"))
            g = fn.__globals__
            return [g[n] for n in dict.fromkeys(seen) if n in g]

        def visit(fn, key):
            out = set()
            for v in refs(fn):
                if id(v) in self.bind:
                    direct.add(key)
                elif isinstance(v, Dispatcher):
                    out.add(id(v))
                    if id(v) not in nodes:
                        nodes[id(v)] = v
                        edges[id(v)] = set()  # (a cycle stops here)
                        edges[id(v)] = visit(v.py_func, id(v))
            return out

        for r in roots:
            key = ("root", id(r))
            edges[key] = visit(getattr(r, "py_func", r), key)
        # a kernel is copied when it reads a bound value or calls a kernel that is copied
        affected = set(direct)
        changed = True
        while changed:
            changed = False
            for k, outs in edges.items():
                if k not in affected and outs & affected:
                    affected.add(k)
                    changed = True
        globs: dict[int, dict] = {}  # id(module globals) -> the copies' globals (one per module)
        for k in affected:
            if isinstance(k, tuple):  # a root
                continue
            d = nodes[k]
            fn = d.py_func
            g = globs.get(id(fn.__globals__))
            if g is None:
                g = globs[id(fn.__globals__)] = {**fn.__globals__}
            opts = {o: v for o, v in d.targetoptions.items() if o not in ("nopython", "boundscheck")}
            opts["cache"] = type(d._cache).__name__ != "NullCache"  # cached as the original is
            self.copies[k] = njit(_copy_function(fn, g, fn.__name__ + suffix), **opts)
        for g in globs.values():
            self._resolve(g)

    def _resolve(self, g: dict) -> None:
        """Point the names of ``g`` at the copies and the replacements, in place."""
        for n, v in list(g.items()):
            new = self.copies.get(id(v), self.bind.get(id(v)))
            if new is not None:
                g[n] = new

    def kernel(self, d):
        """The copy of the kernel ``d`` (``d`` itself when it reaches no bound name)."""
        return self.copies.get(id(d), d)

    def variant(self, fn, name: str, **more):
        """A copy of the plain function ``fn`` named ``name`` whose globals resolve to the copies
        (then to ``more``)."""
        if DISABLED:
            return variant(fn, name, **more)
        g = {**fn.__globals__}
        self._resolve(g)
        g.update(more)
        return _copy_function(fn, g, name)


def _copy_function(fn, glob: dict, name: str):
    import types

    g = types.FunctionType(fn.__code__, glob, name, fn.__defaults__, fn.__closure__)
    g.__qualname__ = name
    g.__doc__ = fn.__doc__
    g.__module__ = fn.__module__
    g.__kwdefaults__ = fn.__kwdefaults__
    return g


class TypedOnly(Exception):
    """Raised by a kernel compiled with :func:`typing_only` once numba has typed it."""


def typing_only(fn):
    """A dispatcher for the plain function ``fn`` whose compile stops after type inference: typing
    compiles every kernel it calls (each cached as usual), then :class:`TypedOnly` is raised and
    ``fn`` itself is neither lowered nor optimised nor emitted. For a body that exists only to
    make numba compile its callees (the warm-up's :func:`~liqcascade.kernels.dynamic.run_path_backwards`).
    With the JIT disabled, a function that raises :class:`TypedOnly` at once (plain Python has
    nothing to compile)."""
    if DISABLED:
        def stop(*args, **kwargs):
            raise TypedOnly(fn.__name__)

        return stop
    from numba.core.compiler import CompilerBase, DefaultPassBuilder
    from numba.core.compiler_machinery import FunctionPass, register_pass
    from numba.core.typed_passes import NopythonTypeInference

    global _STOP
    if _STOP is None:
        @register_pass(mutates_CFG=False, analysis_only=True)
        class StopAfterTyping(FunctionPass):
            _name = "liqcascade_stop_after_typing"

            def __init__(self):
                FunctionPass.__init__(self)

            def run_pass(self, state):
                raise TypedOnly(state.func_id.func_qualname)

        class TypingOnlyCompiler(CompilerBase):
            def define_pipelines(self):
                pm = DefaultPassBuilder.define_untyped_pipeline(self.state)
                pm.add_pass(NopythonTypeInference, "nopython frontend")
                pm.add_pass(StopAfterTyping, "stop after typing")
                pm.finalize()
                return [pm]

        _STOP = TypingOnlyCompiler
    return njit(fn, cache=False, pipeline_class=_STOP)


_STOP = None
