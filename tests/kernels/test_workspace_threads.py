"""The kernels' scratch-buffer workspace and the batch-splitting thread pool."""
import threading

import numpy as np
import pytest

import minidl
from minidl.kernels import threads
from minidl.kernels.workspace import Workspace


def test_workspace_reuses_a_buffer_only_once_nothing_views_it():
    ws = Workspace()
    a = ws.take((3, 4), np.float32)
    b = ws.take((3, 4), np.float32)
    assert not np.shares_memory(a, b)                 # a is still in use
    view = a[1:]
    del a
    c = ws.take((3, 4), np.float32)
    assert not np.shares_memory(c, view)              # a view keeps the buffer taken
    del view
    d = ws.take((4, 3), np.float32)                   # same bytes, other shape: reused
    assert d.shape == (4, 3) and d.dtype == np.float32 and d.flags.c_contiguous
    assert len(ws._buffers) == 3


def test_workspace_keeps_at_most_max_buffers_and_clear_forgets_them():
    ws = Workspace(max_buffers=2)
    held = [ws.take((n,), np.float64) for n in (1, 2, 3)]
    assert len(ws._buffers) == 2
    held[0][:] = 7.0                                  # dropped buffers stay valid for users
    ws.clear()
    assert ws._buffers == [] and held[0][0] == 7.0


def test_batch_chunks_cover_the_batch_once(monkeypatch):
    monkeypatch.setattr(threads._state, "threads", 3)
    assert threads.batch_chunks(0) == []              # an empty batch: nothing to run
    threads.run_chunks(lambda start, stop: 1 / 0, [])
    if not threads.can_split():
        assert threads.batch_chunks(10) == [(0, 10)]
        return
    assert threads.batch_chunks(10) == [(0, 3), (3, 6), (6, 10)]
    assert threads.batch_chunks(2) == [(0, 1), (1, 2)]
    monkeypatch.setattr(threads._state, "threads", 1)
    assert threads.batch_chunks(5) == [(0, 5)]


def _recorder():
    """(seen, record): record(start, stop) appends its chunk to seen, from any thread."""
    seen, lock = [], threading.Lock()

    def record(start, stop):
        with lock:
            seen.append((start, stop))
    return seen, record


def test_run_chunks_runs_every_chunk_and_reraises(monkeypatch):
    monkeypatch.setattr(threads._state, "threads", 3)
    seen, work = _recorder()
    chunks = [(0, 2), (2, 4), (4, 5)]
    threads.run_chunks(work, chunks)
    assert sorted(seen) == chunks

    def fail(start, stop):
        if start == 2:
            raise ValueError("share 2 failed")

    with pytest.raises(ValueError, match="share 2 failed"):
        threads.run_chunks(fail, chunks)


def test_run_chunks_inside_a_share_or_from_two_threads_neither_deadlocks_nor_mixes(monkeypatch):
    monkeypatch.setattr(threads._state, "threads", 2)
    seen, leaf = _recorder()

    def outer(start, stop):                   # a share that splits again: runs serially
        threads.run_chunks(leaf, [(10 * start, 10 * start + 1), (10 * start + 1, 10 * stop)])

    threads.run_chunks(outer, [(0, 1), (1, 2)])
    assert sorted(seen) == [(0, 1), (1, 10), (10, 11), (11, 20)]

    failures = []

    def caller(k):
        try:
            for _ in range(50):
                got = []
                threads.run_chunks(lambda a, b: got.append((a, b)), [(k, k + 1), (k + 1, k + 2)])
                assert sorted(got) == [(k, k + 1), (k + 1, k + 2)]
        except BaseException as exc:          # noqa: BLE001 (reported below)
            failures.append(exc)

    callers = [threading.Thread(target=caller, args=(k,)) for k in (0, 100)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert failures == []


@pytest.mark.skipif(not threads.can_split(), reason="this BLAS cannot be limited per thread, "
                    "so the batch is never split")
def test_a_split_runs_blas_on_one_thread_until_its_last_share_ends(monkeypatch):
    """NumPy's OpenBLAS keeps one "thread-local" count for the whole process: a share may
    not give the count back while another still runs, nor set it after it was given back
    (the main thread's BLAS then ran on one thread for the rest of the process)."""
    import time
    monkeypatch.setattr(threads._state, "threads", 2)
    blas_local = threads._blas()[0]

    def count():                              # this thread's BLAS count, left as it was
        n = blas_local(1)
        blas_local(n)
        return n

    seen, first_done = {}, threading.Event()

    def share(start, stop):
        if start == 0:                        # run_chunks' own thread
            seen["first"] = count()
            first_done.set()
        else:                                 # a pool thread, still running after it
            first_done.wait(5)
            time.sleep(0.05)
            seen["other"] = count()

    if threads._state.pool is not None:      # start from a fresh pool
        threads._state.pool.shutdown()
        threads._state.pool = None
    previous = blas_local(3)
    try:
        for _ in range(3):                    # the fresh pool, then the same pool again
            seen.clear()
            first_done.clear()
            threads.run_chunks(share, [(0, 1), (1, 2)])
            time.sleep(0.05)                  # a pool thread setting it late would show here
            assert seen == {"first": 1, "other": 1}
            assert count() == 3
    finally:
        blas_local(previous)


@pytest.mark.skipif(not threads.can_split(), reason="this BLAS's count cannot be set")
def test_overlapping_holds_on_blas_give_the_count_back_once_and_keep_a_new_setting():
    """Two threads' holds overlapping as A in, B in, A out, B out: the count comes back
    (each giving back its own saved count left it at 1); set_num_threads during a hold
    takes effect when the hold ends, not before."""
    blas_local = threads._blas()[0]

    def count():
        n = blas_local(1)
        blas_local(n)
        return n

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        a_in.set()
        b_in.wait(5)                          # B is in: A leaves first

    def b():
        b_in.set()
        a_out.wait(5)
        seen["inside B after A left"] = count()

    previous, before = blas_local(3), minidl.get_num_threads()
    try:
        thread_a = threading.Thread(target=threads.on_one_blas_thread, args=(a,))
        thread_a.start()
        a_in.wait(5)
        thread_b = threading.Thread(target=threads.on_one_blas_thread, args=(b,))
        thread_b.start()
        thread_a.join()
        a_out.set()
        thread_b.join()
        assert seen == {"inside B after A left": 1}
        assert count() == 3

        def set_four():
            minidl.set_num_threads(4)
            seen["inside, after set_num_threads(4)"] = count()
        threads.on_one_blas_thread(set_four)
        assert seen["inside, after set_num_threads(4)"] == 1
        assert count() == 4
    finally:
        minidl.set_num_threads(before)
        blas_local(previous)


def test_mid_size_products_run_on_one_blas_thread_by_size_alone(monkeypatch):
    """Between BLAS_SERIAL_MIN and BLAS_THREADS_MIN multiply-adds a product runs with
    BLAS held at one thread whenever minidl runs on several, and the count is given back;
    the choice is by size and thread count alone, never the clock (one BLAS thread and two
    give different last bits, so a timing rule made resumed runs differ: issue 17)."""
    from minidl.ops import linalg
    calls = []

    def blas_local(n):                        # records the counts asked for; "was" 7
        calls.append(n)
        return 7
    monkeypatch.setattr(threads, "_blas", lambda: (blas_local, None))
    rng = np.random.default_rng(0)
    mid = rng.random((128, 784), dtype=np.float32), rng.random((784, 128), dtype=np.float32)
    assert linalg.BLAS_SERIAL_MIN < 128 * 784 * 128 < linalg.BLAS_THREADS_MIN
    monkeypatch.setattr(threads._state, "threads", 2)
    np.testing.assert_array_equal(linalg.dispatch_matmul(*mid), mid[0] @ mid[1])
    assert calls == [1, 7]
    threads.run_chunks(lambda start, stop: None, [(0, 1), (1, 2)])     # a batch split
    calls.clear()
    linalg.dispatch_matmul(*mid)              # the same after parallel work
    assert calls == [1, 7]
    calls.clear()
    small = rng.random((96, 96), dtype=np.float32)            # 96^3: BLAS stays serial
    big = rng.random((256, 256), dtype=np.float32)            # 2^24: BLAS's threads pay
    for a in (small, big):
        np.testing.assert_array_equal(linalg.dispatch_matmul(a, a), a @ a)
    assert calls == []
    monkeypatch.setattr(threads._state, "threads", 1)
    linalg.dispatch_matmul(*mid)
    assert calls == []
    assert not hasattr(threads, "parallel_work_recent")      # no clock left to consult


def test_a_call_interrupted_while_it_waits_leaves_nothing_for_the_next_one(monkeypatch):
    """Ctrl-C while run_chunks waits for the pool: the interrupted share's answer, when it
    comes, must not end the next call before that call's own shares have run."""
    import signal
    import time
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    monkeypatch.setattr(threads._state, "threads", 2)
    if threads.can_split():
        before = threads._blas()[0](1)
        threads._blas()[0](before)
    main_id = threading.main_thread().ident
    first_done, release = threading.Event(), threading.Event()

    def interrupted(start, stop):
        if start == 0:
            first_done.set()
        else:                                 # once the caller waits for this share,
            first_done.wait(5)
            time.sleep(0.05)
            signal.pthread_kill(main_id, signal.SIGINT)     # the share interrupts it
            release.wait(5)                   # and is still running after it

    with pytest.raises(KeyboardInterrupt):
        threads.run_chunks(interrupted, [(0, 1), (1, 2)])
    release.set()
    time.sleep(0.05)                          # its answer is in by now
    done = []

    def slow(start, stop):
        if start == 1:
            time.sleep(0.1)
            done.append(stop)

    threads.run_chunks(slow, [(0, 1), (1, 2)])
    assert done == [2]                        # returned only once its own share ran
    if threads.can_split():                   # and BLAS's count was given back each time
        assert threads._state.blas_holders == 0
        blas_local = threads._blas()[0]
        count = blas_local(1)
        blas_local(count)
        assert count == before


def test_a_split_hands_out_its_tasks_under_the_pool_lock(monkeypatch):
    """set_num_threads shuts the pool down under `_state.lock`. Landing between a split's
    choice of pool and its tasks, its sentinels went first, the pool threads exited without
    running them, and the split waited for ever (a helper's reproduction hung). So the
    pool is chosen and every task handed out under that one lock."""
    import queue
    locked_at_put = []

    class CheckedQueue(queue.SimpleQueue):
        def put(self, item, *args, **kwargs):
            if isinstance(item, tuple):       # a task, not a sentinel or an answer
                locked_at_put.append(threads._state.lock.locked())
            super().put(item, *args, **kwargs)

    monkeypatch.setattr(threads._state, "threads", 3)
    monkeypatch.setattr(threads.queue, "SimpleQueue", CheckedQueue)
    with threads._state.lock:                 # a fresh pool, with checked inboxes
        if threads._state.pool is not None:
            threads._state.pool.shutdown()
            threads._state.pool = None
    try:
        threads.run_chunks(lambda start, stop: None, [(0, 1), (1, 2), (2, 3)])
    finally:
        with threads._state.lock:             # later tests get a pool of plain queues
            threads._state.pool.shutdown()
            threads._state.pool = None
    assert locked_at_put == [True, True]


def test_set_num_threads_follows_torch():
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(1)
        assert minidl.get_num_threads() == 1
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            minidl.set_num_threads(0)
        with pytest.raises(ValueError, match="positive integer"):
            minidl.set_num_threads(2.5)
    finally:
        minidl.set_num_threads(before)
    assert minidl.get_num_threads() == before


@pytest.mark.skipif(not threads.can_split(), reason="this BLAS cannot be limited per thread, "
                    "so the batch is never split")
def test_conv2d_gives_the_same_numbers_with_one_and_several_threads():
    rng = np.random.default_rng(0)
    x = minidl.tensor(rng.standard_normal((5, 3, 9, 9)).astype(np.float32), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    results = []
    before = minidl.get_num_threads()
    try:
        for n in (1, 3):
            minidl.set_num_threads(n)
            assert len(threads.batch_chunks(5)) == n          # the batch of 5 is split in n
            x.grad = w.grad = None
            y = minidl.nn.functional.conv2d(x, w, padding=1)
            (y * y).sum().backward()
            results.append((y.detach().numpy().copy(), x.grad.numpy().copy(),
                            w.grad.numpy().copy()))
    finally:
        minidl.set_num_threads(before)
    for one, several in zip(*results):
        np.testing.assert_allclose(one, several, rtol=1e-5, atol=1e-5)


_FAULTS = """
import resource, sys
import numpy as np
import minidl
from minidl.kernels import malloc
if sys.argv[1] == "kernels":
    minidl.kernels.numba_kernels("activation_numba")     # the first kernel load tunes
print(malloc._state["tuned"])
np.ones(1 << 20)                  # an 8 MB array freed: glibc's thresholds become 8/16 MB
faults = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(1 << 18) for _ in range(16)]      # 32 MB of 2 MB arrays, all freed
    del arrays
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[1], faults[2])
"""


def _faults(mode, **env):
    import os
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True,
                         text=True, check=True, env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1]), int(out[2])


def test_malloc_is_tuned_when_the_first_kernel_loads_and_keeps_freed_steps():
    pytest.importorskip("numba")
    from minidl.kernels import malloc
    if not malloc._mallopt():
        pytest.skip("not glibc: malloc is left alone")
    # untuned, glibc trims the heap after every "step" and the next one faults 8 000 pages
    # back in; tuned, the freed memory is reused (a handful of faults at most)
    tuned, *again = _faults("kernels")
    assert tuned == "True" and max(again) < 500
    untouched, *again = _faults("none")
    assert untouched == "None" and min(again) > 4000
    off, *again = _faults("kernels", MINIDL_TUNE_MALLOC="0")
    assert off == "False" and min(again) > 4000


_SPIN = """
import os
import minidl
minidl.kernels.numba_kernels("activation_numba")
print(os.environ.get("GOMP_SPINCOUNT"))
"""


@pytest.mark.parametrize("env,expected", [({}, str(threads.OPENMP_SPIN_COUNT)),
                                          ({"GOMP_SPINCOUNT": "7"}, "7"),
                                          ({"OMP_WAIT_POLICY": "passive"}, "None")])
def test_openmp_spin_is_shortened_unless_the_user_chose(env, expected):
    import os
    import subprocess
    import sys
    pytest.importorskip("numba")
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", _SPIN], capture_output=True, text=True,
                         check=True, env={**base, **env}).stdout.split()
    assert out == [expected]
