"""The rules of `sim.rules` and the bookings of `sim.accounting`, compiled by Numba for the
fast engine's kernels.

Nothing here is a formula: each name is the function of `sim.rules` with the same name,
compiled into the kernels that call it (`jit.hill`, or `jit.rules.hill`); `jit.accounting`
holds the compiled functions of `sim.accounting` under their own names. The kernels'
compiled code is cached on disk (`sim/fast/__pycache__`, or Numba's user-wide cache where
the package is read-only) and stamped with a hash of every source it is built from (the
sim/fast modules but the driver, sim/rules.py, sim/accounting.py, and sim/ledger.py,
sim/params.py and sim/vocab.py, whose column and code tables become constants), so editing
any of them recompiles; Numba's own stamp would only notice a change to the file of the entry point.

What a first run compiles is kept small (`helper`): the rules, the bookings and the kernels'
helpers are linked into the few cached entry points (`kernels.run_days`, the set-up entries,
`events.apply_event`) and turned into machine code there, once, instead of once per function
above them (`_LinkedLibrary`), without the wrappers only a call from Python would need; a
constant argument (a ledger column, a code) does not compile a helper again for its value,
nor a narrower signed integer for its width (`_widened`), and the structs appear in
compiled symbols by a digest of their fields (`layout`). The helpers' optimised code is
kept on disk too (`_LinkedCache`), so that a first run compiles on both cores: a second
process compiles the day from its end while the first compiles from its start, each
claiming a helper before compiling it and loading what the other compiled (`Claims`,
`sim.fast.aside`). `python benchmarks/first_run.py` times a fresh install's first run, what
each entry point's compilation takes and how much of it LLVM does.

The entry points (`entry`) count references to the model's structs and arrays with plain
loads and stores rather than Numba's atomic instructions (`local_refcounts`), which is
exact while one thread at a time uses a model (`sim.protocol.Engine`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import re
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numba
from llvmlite import binding as ll
from numba import njit
from numba.core import caching, compiler, event
from numba.core import types as nb_types
from numba.core.codegen import JITCodeLibrary
from numba.core.compiler_lock import require_global_compiler_lock
from numba.core.registry import CPUDispatcher

from sim import accounting as accounting_py
from sim import rules as rules_py

_SIM = Path(rules_py.__file__).parent
_DRIVERS = ("engine.py", "__main__.py", "aside.py")
"""The sim/fast modules that hold no compiled code and no constant the kernels read (the
driver, the command): editing them keeps the compiled code."""
_SOURCES = [p for p in sorted(Path(__file__).parent.glob("*.py")) if p.name not in _DRIVERS] + [
    _SIM / name
    for name in (
        "rules.py",
        "accounting.py",
        "ledger.py",
        "params.py",
        "vocab.py",
        "streams.py",
        "events.py",
        "calendar.py",
        "hints.py",
        "sorting.py",
    )
]
"""What the compiled code is built from: the engine, the rules, the accounting, the
ledger's columns, the parameters', the vocabulary's and the event rows' codes, which the
kernels hold as constants, and the compiled functions they call (the streams' words, the
processor hints, the integer sort)."""
_SOURCE_SET = frozenset(p.resolve() for p in _SOURCES)
_STAMP = hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()


def source_stamp() -> str:
    """The hash of every source the compiled code is built from (`_SOURCES`): it changes
    exactly when the kernels recompile. `benchmarks/timings.py` records it with the sweeps'
    timings, which describe the engine they were measured on."""
    return _STAMP


class _Stamped:
    """A Numba cache locator for this package's files only, stamped with all the engine's
    sources instead of the one file's modification time."""

    def get_source_stamp(self):
        return _STAMP

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).parent != Path(__file__).parent:
            return None
        return super().from_function(py_func, py_file)


class _StampedInTree(_Stamped, caching.InTreeCacheLocator):
    """Next to the source (`sim/fast/__pycache__`)."""


class _StampedUserWide(_Stamped, caching.UserWideCacheLocator):
    """Numba's user-wide cache, where the package is read-only."""


caching.CacheImpl._locator_classes[:0] = [_StampedInTree, _StampedUserWide]


class _HelperStamped(_Stamped):
    """A helper's cache locator (`_LinkedCache`): any of the engine's sources (the rules
    and the bookings are helpers too, in sim/), stamped like the entry points."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve() not in _SOURCE_SET:
            return None
        return super(_Stamped, cls).from_function(py_func, py_file)


class _HelperInTree(_HelperStamped, caching.InTreeCacheLocator):
    """Next to the source."""


class _HelperUserWide(_HelperStamped, caching.UserWideCacheLocator):
    """Numba's user-wide cache, where the package is read-only."""


class _LinkedLibrary(JITCodeLibrary):
    """The code of a helper: compiled only to be linked into the entry points that call it,
    and kept on disk for them (`_LinkedCache`).

    Numba turns every function it compiles into machine code, with all the code it calls
    linked in: a helper deep in the day was made into machine code once per function
    above it, and none of that code ever ran (an entry point links the helpers' optimised
    IR, not their machine code). A helper's library here makes no machine code; only the
    entry point does, once.

    Nor is a helper's code optimised once per helper above it. Numba optimises a library
    after linking in what it calls, so the optimiser went over a helper deep in the day
    again for every helper above it: some twenty helpers of the day each re-optimised
    nearly the whole consumer's path, 13 of the 48 CPU seconds of a first run compiled in
    one process. Here a helper's own code is optimised once, on its own, and what it calls
    is linked in after, as it is; the entry point does the inlining across helpers
    (`_EntryLibrary`). A call from Python goes to the helper's twin, an ordinary compiled
    copy (`_Helper`)."""

    def finalize(self) -> None:
        require_global_compiler_lock()
        self._raise_if_finalized()
        self._optimize_final_module()  # this helper's own code, its callees declared
        seen = set()
        for library in self._linking_libraries:
            if library not in seen:
                self._reload_init.update(library._reload_init)
                seen.add(library)
                self._final_module.link_in(library._get_module_for_linking(), preserve=True)
        self._finalized = True

    def get_pointer_to_function(self, name: str) -> int:
        return 0

    def serialize_using_object_code(self):
        """What the disk cache keeps of a helper (`_LinkedCache`): the optimised IR, its
        callees linked in, that an entry point links (there is no machine code)."""
        self._ensure_finalized()
        return (self.name, "linked", self._get_module_for_linking().as_bitcode())

    @classmethod
    def from_cache(cls, codegen, state) -> _LinkedLibrary:
        """The library `serialize_using_object_code` kept, ready to be linked in."""
        name, kind, data = state
        if kind != "linked":
            raise ValueError(f"not a helper's library: {kind!r}")
        library = cls(codegen, name)
        library._final_module = library._shared_module = ll.parse_bitcode(data)
        library._finalized = True
        return library

    @property
    def codegen(self):
        return _NoEnvironment(self._codegen)


class _LinkedCacheFile(caching.IndexDataCacheFile):
    """A helper's cache files, Numba's but for one check: each data file holds its key and
    the sources' stamp too, and a load whose file holds another key or stamp misses.
    Numba numbers a function's data files in the order its signatures are saved: two
    processes saving two signatures of one helper at once (`sim.fast.aside`) could each
    take number 1, and an index saved without its data file (a process ended between the
    two) could point at a file an earlier version of the sources left."""

    def save(self, key, data):
        super().save(key, ((self._source_stamp, key), data))

    def load(self, key):
        try:
            stored = super().load(key)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            return None
        if not (isinstance(stored, tuple) and len(stored) == 2):
            return None
        return stored[1] if stored[0] == (self._source_stamp, key) else None


class _LinkedCacheImpl(caching.CompileResultCacheImpl):
    """Numba's cache of compile results, for a helper: found by `_HelperInTree` or
    `_HelperUserWide`, rebuilt as a `_LinkedLibrary`."""

    _locator_classes: ClassVar[list[type]] = [_HelperInTree, _HelperUserWide]

    def rebuild(self, target_context, payload):
        """Numba's `CompileResult._rebuild`, but for the kind of library."""
        libdata, fndesc, env, signature, objectmode, lifted, typeann, reload_init, envs = payload
        for init in reload_init or ():
            init()
        library = _LinkedLibrary.from_cache(target_context.codegen(), libdata)
        return compiler.CompileResult(
            target_context=target_context,
            typing_context=target_context.typing_context,
            library=library,
            environment=env,
            entry_point=target_context.get_executable(library, fndesc, env),
            fndesc=fndesc,
            type_annotation=typeann,
            signature=signature,
            objectmode=objectmode,
            lifted=lifted,
            typing_error=None,
            call_helper=None,
            metadata=None,
            reload_init=reload_init,
            referenced_envs=envs,
        )


class _LinkedCache(caching.FunctionCache):
    """A helper's disk cache (next to the entry points', stamped alike): an entry point
    compiling links in what another process compiled (`sim.fast.aside`), or an earlier
    compile for other argument types, instead of compiling it again. An entry point loaded
    from its own cache needs none of it."""

    _impl_class = _LinkedCacheImpl

    def __init__(self, py_func) -> None:
        super().__init__(py_func)
        f = self._cache_file
        base, stamp = self._impl.filename_base, f._source_stamp
        self._cache_file = _LinkedCacheFile(f._cache_path, base, stamp)


class _NoEnvironment:
    """The code generator as a helper's library shows it: no environment to set (the
    helper is never code on its own; an entry point sets its own)."""

    def __init__(self, codegen) -> None:
        self._codegen = codegen

    def set_env(self, env_name, env) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._codegen, name)


class _LinkedCompiler(compiler.Compiler):
    """Numba's pipeline, lowering into a `_LinkedLibrary`, without the wrappers through
    which Python (`cpython.` functions) or C (`cfunc.`) would call the function: nothing but
    compiled code calls a helper (Python calls its twin), and the wrappers, which unbox or
    box every argument, were a fair part of what a first run lowered and optimised."""

    def compile_extra(self, func):
        codegen = self.state.targetctx.codegen()
        self.state.library = _LinkedLibrary(codegen, func.__qualname__)
        self.state.flags.no_cpython_wrapper = True
        self.state.flags.no_cfunc_wrapper = True
        return super().compile_extra(func)


_LOCAL_REFCOUNTS = """
define internal void @siyu_incref(ptr %p) alwaysinline nounwind {
entry:
  %null = icmp eq ptr %p, null
  br i1 %null, label %done, label %count
count:
  %n = load i64, ptr %p, align 8
  %n1 = add i64 %n, 1
  store i64 %n1, ptr %p, align 8
  br label %done
done:
  ret void
}

define internal void @siyu_decref(ptr %p) alwaysinline {
entry:
  %null = icmp eq ptr %p, null
  br i1 %null, label %done, label %count
count:
  %n = load i64, ptr %p, align 8
  %n1 = sub i64 %n, 1
  store i64 %n1, ptr %p, align 8
  %last = icmp eq i64 %n1, 0
  br i1 %last, label %free, label %done
free:
  call void @NRT_MemInfo_call_dtor(ptr %p)
  br label %done
done:
  ret void
}
"""
"""Numba's `NRT_incref` and `NRT_decref` (numba/core/runtime/nrtdynmod.py) without the
atomic instruction: the same null test, count and destructor call, on the count's plain
load and store (`local_refcounts`)."""


def local_refcounts(module: ll.ModuleRef) -> ll.ModuleRef:
    """`module` with every call of Numba's reference counting (`NRT_incref`, `NRT_decref`)
    made to a copy that counts with a plain load and store instead of an atomic
    read-modify-write (`_LOCAL_REFCOUNTS`), local to the module and inlined by the
    optimisation that follows.

    Why: an entry point holds the model's structs and arrays for the whole call, and every
    compiled call and every struct field read inside counts a reference up and down again.
    The counts are right either way; the atomic instruction is what costs: it waits for the
    memory accesses in flight, so in the adoption path, where each consumer's fields are
    cache misses met by prefetching, the counts took 58 % of the Bass run's samples (1M
    consumers, `benchmarks/perf_fast.py --workload bass`) and the run took 0.91 s against
    0.47 s with plain counts. A plain count is exact while one thread at a
    time counts a given object: the model's structs and arrays are only ever reached by the
    thread stepping it (`sim.protocol.Engine`: one thread at a time per model; the threaded
    replicates each step their own model, arrays handed on are copies, and the arrays
    passed in are counted by a header made for the call), and Numba's own runtime, called
    with the interpreter lock held, still counts atomically."""
    text = str(module)
    text, calls = re.subn(r"call void @NRT_(incref|decref)\(", r"call void @siyu_\1(", text)
    if not calls:
        return module
    if not re.search(r"^(declare|define)[^\n]*@NRT_MemInfo_call_dtor\(", text, re.M):
        text += "\ndeclare void @NRT_MemInfo_call_dtor(ptr)\n"
    local = ll.parse_assembly(text + _LOCAL_REFCOUNTS)
    local.name = module.name
    local.verify()
    return local


class _EntryLibrary(JITCodeLibrary):
    """The code of an entry point (`entry`): Numba's, but for its reference counts, which are
    made local (`local_refcounts`) after the optimisation that prunes redundant counts (it
    recognises Numba's functions by name) and before the last full one, which inlines the
    local copies.

    The helpers come each optimised on its own (`_LinkedLibrary`), so the inlining across
    them is done here: the cheap optimisation twice and the full one, each pruning the
    counts that inlining brought together, before the counts are made local. With the
    cheap one once, as Numba has it, the day ran about 3 % slower (bench_three_brands,
    300k x 365, scaled and national staff, medians of eight alternated runs); with these
    rounds it runs as fast as when every helper was optimised with its callees, and a
    first run compiled in one process spends 4.2 CPU seconds optimising the engine instead
    of 15.0 (the module passes of its helpers and entry points)."""

    def _optimize_final_module(self) -> None:
        codegen = self._codegen

        def cheap():
            return codegen._module_pass_manager(
                loop_vectorize=codegen._loopvect,
                slp_vectorize=False,
                opt=codegen._opt_level,
                cost="cheap",
            )

        rounds = (
            ("Module passes (cheap, refprune)", cheap()),
            ("Module passes (cheap, refprune, again)", cheap()),
            ("Module passes (full, refprune)", codegen._module_pass_manager()),
        )
        for name, (manager, builder) in rounds:
            with self._recorded_timings.record(name, builder):
                manager.run(self._final_module, builder)
        self._final_module = local_refcounts(self._final_module)
        full, full_builder = codegen._module_pass_manager()
        with self._recorded_timings.record("Module passes (full optimization)", full_builder):
            full.run(self._final_module, full_builder)


class _EntryCompiler(compiler.Compiler):
    """Numba's pipeline, lowering into an `_EntryLibrary` (cached like Numba's own)."""

    def compile_extra(self, func):
        self.state.library = _EntryLibrary(self.state.targetctx.codegen(), func.__qualname__)
        self.state.library.enable_object_caching()
        return super().compile_extra(func)


def _widened(t: nb_types.Type) -> nb_types.Type:
    """The type a helper is compiled for when called with an argument of type `t`: a
    constant's type instead of its value, and a signed integer narrower than 64 bits or an
    integer enumeration member as int64 (the caller converts it; Numba's arithmetic widens
    such integers to int64 anyway). Unsigned integers stay as they are (mixed with signed
    ones, Numba computes in floating point)."""
    t = nb_types.unliteral(t)
    if isinstance(t, nb_types.IntEnumMember):
        t = t.dtype
    if isinstance(t, nb_types.Integer) and t.signed and t.bitwidth < 64:
        return nb_types.int64
    return t


class _Helper(CPUDispatcher):
    """A function compiled into the kernels that call it (`_LinkedLibrary`); called from
    Python (the tests, the profiler), its twin runs: the same function compiled on its
    own."""

    def get_call_template(self, args, kws):
        """A call from a kernel compiles the helper for its arguments' types, not their
        values, and for a signed integer of any width as int64 (`_widened`): a constant
        argument (a ledger column, a code), an int32 index read from an array or an
        enumeration member would otherwise compile one more copy of the helper, and of
        everything it calls, to the same machine code once the entry point is optimised."""
        args = tuple(_widened(a) for a in args)
        kws = {k: _widened(v) for k, v in kws.items()}
        return super().get_call_template(args, kws)

    def compile(self, sig):
        """Numba's, but while two processes compile the engine (`sim.fast.aside`), a
        helper the other process claimed first is awaited and loaded from the disk cache
        rather than compiled twice (`Claims`)."""
        claims = _claims
        if claims is None or tuple(sig) in self.overloads:
            return super().compile(sig)
        with claims.claim(self, sig):
            return super().compile(sig)

    def __call__(self, *args, **kwargs):
        twin = self.__dict__.get("_twin")
        if twin is None:
            twin = self.__dict__["_twin"] = CPUDispatcher(
                self.py_func, targetoptions=dict(self.targetoptions)
            )
        return twin(*args, **kwargs)


class Claims:
    """Which of two processes compiling the engine at once (`sim.fast.aside`) compiles
    which helper: the first to claim a helper for a signature (a file made in `folder`,
    which only one process can make) compiles it into the disk cache and then marks it
    done; the other waits for the mark and loads it. The helpers call each other without
    cycles, so a process never waits for a helper whose compile waits for one it holds;
    and it stops waiting once the other process has ended (`other_alive`)."""

    def __init__(self, folder: Path, other_alive: Callable[[], bool]) -> None:
        self.folder = folder
        self.other_alive = other_alive

    def _path(self, dispatcher, sig) -> Path:
        f = dispatcher.py_func
        key = f"{f.__module__}.{f.__qualname__}:{tuple(sig)}".encode()
        return self.folder / hashlib.sha256(key).hexdigest()[:32]

    @contextlib.contextmanager
    def claim(self, dispatcher, sig):
        """Around compiling `dispatcher` for `sig`: claim it, or wait for the other
        process to have compiled it (the compile then loads it from the disk cache)."""
        path = self._path(dispatcher, sig)
        done = path.with_suffix(".done")
        try:
            os.close(os.open(path.with_suffix(".claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            while not done.exists() and self.other_alive():
                time.sleep(0.005)
            yield
            return
        try:
            yield
        finally:
            done.touch()


_claims: Claims | None = None
"""The claims, while this process compiles alongside another (`sim.fast.aside`)."""


def current_claims() -> Claims | None:
    """The claims this process compiles under (None: alone)."""
    return _claims


def share_compiles(claims: Claims | None) -> Claims | None:
    """Compile the helpers under `claims` from now on (None: alone); the claims before."""
    global _claims
    before, _claims = _claims, claims
    return before


_LINKING = (0, 68) <= tuple(int(x) for x in numba.__version__.split(".")[:2]) < (0, 69)
"""Whether this Numba is a release `_LinkedLibrary` and `_EntryLibrary` were written and
tested against: they subclass Numba's code library, whose inner workings are not a public
interface. With any other release the helpers compile as plain functions and the entry
points as Numba's own (the same results; a slower first run, atomic reference counts)."""


def _quicker_flags() -> None:
    """Numba's compile flags (`TargetConfig`) compared and hashed at a fraction of the cost.
    Typing looks up each call's implementation in a cache keyed by the flags in force, and
    each lookup hashes and compares flags through `values()`, a dict of every option read
    through its property: some 245,000 calls of 3.5 µs in a first run (0.26 µs here), most
    of a second of its CPU. Here `values()` is the class's defaults updated by the options
    set (the same dict), two flags of one class whose set options are equal compare equal
    without it, and the hash (of the sorted option names) is kept per class. Results, and
    every other behaviour of Numba, are unchanged."""
    from numba.core.targetconfig import TargetConfig

    defaults: dict[type, tuple[dict, int]] = {}

    def of_class(cls: type) -> tuple[dict, int]:
        """The class's default values, and the hash of its flags (that of its sorted
        option names: `values()` always holds every option)."""
        known = defaults.get(cls)
        if known is None:
            base = {k: o.default for k, o in cls.options.items()}
            known = defaults[cls] = (base, hash(tuple(sorted(base))))
        return known

    def values(self):
        out = dict(of_class(type(self))[0])
        out.update(self._values)
        return out

    def eq(self, other):
        if type(other) is type(self) and other._values == self._values:
            return True
        if isinstance(other, TargetConfig):
            return values(self) == values(other)
        return NotImplemented

    TargetConfig.values = values
    TargetConfig.__eq__ = eq
    TargetConfig.__hash__ = lambda self: of_class(type(self))[1]


class _NoCollectionWhileCompiling(event.Listener):
    """Python's cyclic garbage collector off while Numba compiles (from the outermost
    compile's start to its end), then back as it was. A first run's compile builds
    millions of objects (Numba's IR, types and caches), and each full collection walks all
    of them: 14 of them took 2.0 s of the run's process, and 12 took 1.4 s of the second
    compiling process. Compiles hold Numba's compiler lock, so they do not interleave;
    what they leave unreachable is collected once the collector is back on."""

    def __init__(self) -> None:
        self.depth = 0
        self.was_on = False

    def on_start(self, ev: event.Event) -> None:
        if self.depth == 0:
            self.was_on = gc.isenabled()
            gc.disable()
        self.depth += 1

    def on_end(self, ev: event.Event) -> None:
        self.depth -= 1
        if self.depth == 0 and self.was_on:
            gc.enable()


event.register("numba:compile", _NoCollectionWhileCompiling())

if _LINKING:
    _quicker_flags()


def links_helpers() -> bool:
    """Whether helpers compile as `_LinkedLibrary` code (and are cached on their own), on
    this Numba release (`_LINKING`)."""
    return _LINKING


def kept_on_disk(dispatcher) -> bool:
    """Whether a helper's code is kept in a disk cache (`_LinkedCache`: found a writable
    folder), where another process can link it from."""
    return isinstance(getattr(dispatcher, "_cache", None), _LinkedCache)


def helper(f):
    """Compile `f` for the kernels (nopython, no GIL) as a helper: linked into the entry
    points that call it and made into machine code there (`_LinkedLibrary`)."""
    if not _LINKING:
        return njit(nogil=True)(f)
    compiled = _Helper(
        f, targetoptions={"nopython": True, "nogil": True}, pipeline_class=_LinkedCompiler
    )
    with contextlib.suppress(RuntimeError):  # not from the engine's sources (a test's)
        compiled._cache = _LinkedCache(compiled.py_func)
    return compiled


def entry(f):
    """Compile `f` as an entry point of the kernels (nopython, no GIL, cached on disk): it
    links in the helpers it calls and counts references locally (`_EntryLibrary`)."""
    if not _LINKING:
        return njit(cache=True, nogil=True)(f)
    return njit(cache=True, nogil=True, pipeline_class=_EntryCompiler)(f)


_MODULES = (rules_py, accounting_py)
"""The modules of pure functions compiled for the kernels."""


def _compile(modules) -> dict[str, dict[str, object]]:
    """Every function each module defines, compiled (lazily: on its first call from a
    kernel, with the kernel's argument types).

    The functions see each other through their module's globals (and names imported from
    the other modules); the compiled copies see the compiled versions instead, in a
    namespace of their own per module (the modules themselves are untouched). A function
    that is Python only (`logit_probabilities`, `bass_cdf`) is never called from a kernel,
    so it is never compiled."""
    compiled: dict[int, object] = {}
    namespaces, out = [], {}
    for module in modules:
        namespace = dict(vars(module))
        functions = {
            name: f
            for name, f in vars(module).items()
            if isinstance(f, types.FunctionType) and f.__module__ == module.__name__
        }
        out[module.__name__] = {}
        for name, f in functions.items():
            copy = types.FunctionType(f.__code__, namespace, name, f.__defaults__, f.__closure__)
            copy.__module__, copy.__qualname__, copy.__doc__ = f.__module__, name, f.__doc__
            compiled[id(f)] = out[module.__name__][name] = helper(copy)
        namespaces.append(namespace)
    for namespace in namespaces:  # every name bound to a compiled function: the compiled one
        for name, value in namespace.items():
            if id(value) in compiled:
                namespace[name] = compiled[id(value)]
    return out


_COMPILED = _compile(_MODULES)
rules = types.ModuleType(f"{__name__}.rules", "sim.rules, compiled")
rules.__dict__.update(_COMPILED[rules_py.__name__])
accounting = types.ModuleType(f"{__name__}.accounting", "sim.accounting, compiled")
accounting.__dict__.update(_COMPILED[accounting_py.__name__])
globals().update(_COMPILED[rules_py.__name__])  # jit.<rule>: the kernels' short form
