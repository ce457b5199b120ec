"""minidl's thread count, and the batch-splitting pool that the CPU convolution runs on.

NumPy's BLAS does not split a batch of small products across threads: for the per-sample
GEMMs of a convolution (32x144 by 144x784 for the SimpleCNN) OpenBLAS either runs them one
after another on one core or splits each small product and pays for the hand-off every
time. So the Numba convolution splits the batch itself: each of `get_num_threads()`
threads unfolds and multiplies its own share of the samples, calling BLAS with one thread
(`openblas_set_num_threads_local`, OpenBLAS >= 0.3.27), while the Numba loops release the
GIL (`nogil`). On this project's 2-core machine a 64x16x28x28 forward went from 9.0 ms to
5.8 ms (benchmarks/NOTES.md).

Despite its name, that "local" count is one variable for the whole process in the OpenBLAS
that NumPy's wheels ship (0.3.31 here: a worker thread setting it to 1 made the main
thread's 512^3 product take 2.6 ms instead of 1.2). So `run_chunks` holds it at 1 from
before the first share starts until the last one has finished (`on_one_blas_thread`,
whose callers in several threads share one hold), and the workers set it again for each
share while that hold lasts (for a BLAS where it is per thread).

Without a BLAS whose count can be set and read back this way (another BLAS, or an older
OpenBLAS) the batch is not split, so that two multi-threaded BLAS calls never fight over
the cores.

`set_num_threads(n)` is the one knob, as `torch.set_num_threads`: it sets this pool, the
Numba kernels' threads and the BLAS library's own threads.
"""
from __future__ import annotations

import functools
import os
import queue
import threading

import numpy as np

_BLAS_GLOBAL = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                "openblas_set_num_threads64_", "openblas_set_num_threads")


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:           # not Linux
        return os.cpu_count() or 1


@functools.cache
def _blas() -> tuple:
    """(openblas_set_num_threads_local, openblas_set_num_threads) from NumPy's own OpenBLAS
    (the library its wheels ship); either is None where not found. Looked up on first use,
    not at import. Both set one count for the whole process in the OpenBLAS 0.3.31 wheels
    (module docstring); the first returns the count it replaces."""
    import ctypes
    import glob
    base = os.path.dirname(np.__file__)
    patterns = [os.path.join(base + ".libs", "*openblas*"),        # Linux, Windows wheels
                os.path.join(base, ".dylibs", "*openblas*")]       # macOS wheels
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        local = getattr(lib, "openblas_set_num_threads_local", None)
        if local is not None:
            local.argtypes, local.restype = [ctypes.c_int], ctypes.c_int
        set_global = next((getattr(lib, n) for n in _BLAS_GLOBAL if hasattr(lib, n)), None)
        if set_global is not None:
            set_global.argtypes = [ctypes.c_int]
        return local, set_global
    return None, None


class _State:
    def __init__(self):
        self.threads = _default_threads()
        self.pool = None
        self.lock = threading.Lock()          # guards `pool` and `threads`
        self.busy = threading.Lock()          # held while the pool runs one batch of shares
        self.blas_lock = threading.Lock()     # guards the hold on BLAS's count (below)
        self.blas_holders = 0                 # callers inside on_one_blas_thread
        self.blas_previous = None             # the count the last of them gives back
        self.blas_serial = False              # use_deterministic_algorithms holds it at 1


_state = _State()


def get_num_threads() -> int:
    """The number of threads minidl's CPU kernels use (torch.get_num_threads)."""
    return _state.threads


def set_num_threads(n: int) -> None:
    """Use n threads in minidl's CPU kernels: the batch-splitting pool, Numba's parallel
    loops (up to NUMBA_NUM_THREADS) and NumPy's OpenBLAS (torch.set_num_threads)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    with _state.lock:
        _state.threads = n
        if _state.pool is not None:
            _state.pool.shutdown()
            _state.pool = None
    _set_blas_threads(n)
    from . import _numba_threads
    _numba_threads(n)


def _set_blas_threads(n: int) -> None:
    """Give NumPy's BLAS n threads, or 1 while use_deterministic_algorithms holds it."""
    n = 1 if _state.blas_serial else n
    blas_global = _blas()[1]
    with _state.blas_lock:
        if _state.blas_holders:              # the hold gives n back when it ends
            _state.blas_previous = n
        elif blas_global is not None:
            blas_global(n)


def hold_blas_serial(on: bool) -> None:
    """BLAS on one thread from now on (on=True), or back to get_num_threads() threads: the
    one place where minidl's CPU results depend on the thread count (minidl.determinism)."""
    _state.blas_serial = bool(on)
    _set_blas_threads(_state.threads)


def blas_count_settable() -> bool:
    """Whether minidl can set NumPy's BLAS thread count (OpenBLAS, as NumPy's wheels ship)."""
    return _blas()[1] is not None


# How long (in polls) an idle OpenMP thread of Numba's spins before it sleeps. libgomp's
# default, 300 000, kept one core busy for about a millisecond after every parallel kernel:
# 43% of the CPU samples of a two-thread SimpleCNN step were libgomp spinning, on the core
# the convolution's second share and OpenBLAS needed. 10 000 was fastest of 1 000-300 000
# (benchmarks/NOTES.md).
OPENMP_SPIN_COUNT = 10_000


def quiet_openmp() -> None:
    """Shorten the spin of Numba's idle OpenMP threads (GOMP_SPINCOUNT), unless the user
    set GOMP_SPINCOUNT or OMP_WAIT_POLICY. libgomp reads it when it loads, so this runs
    before Numba starts its threads; it changes no other library that is already loaded."""
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = str(OPENMP_SPIN_COUNT)


def can_split() -> bool:
    """True when BLAS's count can be set and read back (openblas_set_num_threads_local),
    so batches may be split: the shares then call BLAS on one thread each."""
    return _blas()[0] is not None


def _single_threaded_blas() -> None:
    blas_local = _blas()[0]
    if blas_local is not None:
        blas_local(1)


def on_one_blas_thread(fn, *args):
    """fn(*args) with NumPy's BLAS held at one thread. The count is one for the whole
    process (module docstring), so callers in several threads share one hold: the first
    in sets the count to 1 and the last out gives it back. (Each giving back its own saved
    count, two overlapping callers left BLAS on one thread for good.)"""
    blas_local = _blas()[0]
    if blas_local is None:
        return fn(*args)
    with _state.blas_lock:
        if _state.blas_holders == 0:
            _state.blas_previous = blas_local(1)
        _state.blas_holders += 1
    try:
        return fn(*args)
    finally:
        with _state.blas_lock:
            _state.blas_holders -= 1
            if _state.blas_holders == 0:
                blas_local(_state.blas_previous)


def batch_chunks(n: int) -> list:
    """Split range(n) into one contiguous (start, stop) share per thread that will run
    (none for an empty batch)."""
    if n <= 0:
        return []
    parts = min(n, _state.threads) if can_split() else 1
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(parts)]


class _Pool:
    """Worker threads that each take (fn, chunk, outbox) from an inbox of their own and
    answer on the outbox of that run_chunks call. (With one outbox for every call, a call
    interrupted while it waited, by Ctrl-C in a notebook, left its share's answer queued,
    and the next call took that for its own and returned before its shares had run.)

    A queue in and a queue out is one thread round trip per share; the concurrent.futures
    pool this replaces made several (a work queue, a future, a condition). On this
    project's VM a thread round trip costs 10-90 us, and run_chunks of a function that does
    nothing took 91-95 us with that pool against 11-17 us with this one, interleaved in one
    process (benchmarks/NOTES.md)."""

    def __init__(self, workers: int):
        self.inboxes = [queue.SimpleQueue() for _ in range(workers)]
        for k, inbox in enumerate(self.inboxes):
            threading.Thread(target=self._work, args=(inbox,), daemon=True,
                             name=f"minidl-kernel-{k}").start()

    def _work(self, inbox) -> None:
        while True:
            task = inbox.get()
            if task is None:
                return
            fn, chunk, outbox = task
            try:
                # run_chunks holds the count at 1 where one serves every thread; this sets
                # it where each thread has its own. Only while that hold lasts: set after
                # the count was given back (once at start-up, as before, or by a late share
                # of a call interrupted by Ctrl-C), it left the main thread's BLAS on one
                # thread for good.
                with _state.blas_lock:
                    if _state.blas_holders:
                        _single_threaded_blas()
                fn(*chunk)
                outbox.put(None)
            except BaseException as exc:        # handed to run_chunks, which re-raises it
                outbox.put(exc)

    def shutdown(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)


def _hand_out(fn, chunks: list, outbox) -> None:
    """Put each chunk in a pool thread's inbox, the pool made or grown as needed. Under
    `_state.lock`, so that set_num_threads cannot shut the pool down in between: its
    sentinels would land before the tasks, the threads would exit without running them,
    and run_chunks would wait for their answers for ever."""
    with _state.lock:
        if _state.pool is None or len(_state.pool.inboxes) < len(chunks):
            if _state.pool is not None:
                _state.pool.shutdown()
            _state.pool = _Pool(len(chunks))
        for inbox, chunk in zip(_state.pool.inboxes, chunks):
            inbox.put((fn, chunk, outbox))


def run_chunks(fn, chunks: list) -> None:
    """Call fn(start, stop) for every chunk, on the pool's threads and this one, with BLAS
    single-threaded inside; returns when all are done and re-raises the first error.

    One batch of shares runs at a time: a call made while another runs (from a second
    user thread, or from inside a share) runs its chunks one after another itself."""
    if len(chunks) <= 1 or not _state.busy.acquire(blocking=False):
        for chunk in chunks:
            fn(*chunk)
        return
    try:
        def run_all() -> list:
            outbox = queue.SimpleQueue()
            _hand_out(fn, chunks[1:], outbox)
            try:
                fn(*chunks[0])               # this thread takes the first chunk itself
            finally:
                errors = [outbox.get() for _ in chunks[1:]]
            return errors

        # one BLAS thread from before the first share starts until the last one ends: the
        # count is shared by every thread in NumPy's OpenBLAS (see the module docstring)
        for error in on_one_blas_thread(run_all):
            if error is not None:
                raise error
    finally:
        _state.busy.release()
