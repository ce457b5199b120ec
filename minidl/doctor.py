"""`minidl doctor`: what minidl runs on here, and a smoke test of it, one line per check.

    minidl doctor            # versions, threads, the Numba cache, a ~10 s smoke test
    minidl doctor --quick    # versions and caches only
    minidl doctor --warm     # also compile the Numba kernels now (the first run's 5-15 s)

Each check prints OK, FAIL or SKIP with what it found and, on FAIL, a hint. The exit
status is 1 when any check fails, so the command can gate a CI job.
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time

import numpy as np


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="versions, caches and a smoke test, OK/FAIL per line",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="skip the smoke test")
    p.add_argument("--warm", action="store_true",
                   help="compile the Numba kernels ahead of the first training run")
    p.set_defaults(func=run)


def _versions() -> list:
    import numba
    import llvmlite
    rows = [("OK", "python", f"{platform.python_version()} ({sys.executable})"),
            ("OK", "numpy", np.__version__),
            ("OK", "numba", f"{numba.__version__} (llvmlite {llvmlite.__version__})")]
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_text = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:                                  # older NumPy: no dict mode
        blas_text = "unknown"
    from .kernels import threads
    local, set_global = threads._blas()
    control = "thread count under minidl's control" if (local or set_global) else \
        "thread count not reachable (minidl cannot pin BLAS to one thread)"
    rows.append(("OK", "blas", f"{blas_text}; {control}"))
    rows.append(("OK", "threads", f"minidl {threads.get_num_threads()} of "
                                  f"{os.cpu_count()} CPUs (minidl.set_num_threads)"))
    from . import backend
    if backend.has_cupy():
        import cupy
        dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        rows.append(("OK", "cupy", f"{cupy.__version__}, device 0: {dev}"))
    else:
        rows.append(("SKIP", "cupy", backend.cuda_unavailable_reason()))
    try:
        import torch
        rows.append(("OK", "torch", f"{torch.__version__} (the reference for parity)"))
    except ImportError:
        rows.append(("SKIP", "torch", "not installed: parity tests and minidl compare skip "
                                      "(pip install 'minidl[torch]')"))
    return rows


def _numba_cache() -> list:
    from . import kernels
    folder = os.path.join(os.path.dirname(kernels.__file__), "__pycache__")
    modules = sorted(os.path.basename(p)[:-3] for p in
                     glob.glob(os.path.join(os.path.dirname(kernels.__file__), "*_numba.py")))
    if not kernels.numba_enabled():
        return [("SKIP", "numba cache", "Numba kernels are off (MINIDL_NUMBA=0?): the NumPy "
                                        "twins run")]
    writable = os.access(folder if os.path.isdir(folder) else os.path.dirname(folder), os.W_OK)
    cached = [m for m in modules if glob.glob(os.path.join(folder, f"{m}.*.nbi"))]
    rows = [("OK" if writable else "FAIL", "numba cache",
             f"{folder} is {'writable' if writable else 'not writable'}" +
             ("" if writable else ": every process compiles the kernels again (5-14 s); "
              "set NUMBA_CACHE_DIR to a writable folder"))]
    warm = len(cached) == len(modules)
    rows.append(("OK", "numba cache", f"{'warm' if warm else 'cold'}: {len(cached)} of "
                 f"{len(modules)} kernel modules compiled" + ("" if warm else
                 " (the first training step compiles the rest, once)")))
    return rows


def _check(name: str, fn) -> tuple:
    start = time.perf_counter()
    try:
        text = fn()
    except Exception as err:                           # a smoke test reports, not raises
        return ("FAIL", name, f"{type(err).__name__}: {err}")
    return ("OK", name, f"{text} ({time.perf_counter() - start:.1f} s)")


def _gradcheck() -> str:
    import minidl
    x = minidl.randn(3, 4, dtype=minidl.float64, requires_grad=True)
    w = minidl.randn(4, 2, dtype=minidl.float64, requires_grad=True)
    if not minidl.autograd.gradcheck(lambda a, b: (a @ b).tanh().sum(), (x, w)):
        raise AssertionError("gradcheck of tanh(x @ w) failed")
    return "tanh(x @ w): analytic gradients equal finite differences"


def _kernel_twin() -> str:
    from . import kernels
    from .kernels import reference
    x = np.random.default_rng(0).standard_normal((64, 257)).astype(np.float32)
    if not kernels.numba_enabled():
        return "Numba off: nothing to compare"
    fast = kernels.numba_kernels("activation_numba").relu_forward(x)
    if not np.array_equal(fast, reference.relu_forward(x)):
        raise AssertionError("the Numba relu differs from its NumPy twin")
    return "Numba relu equals its NumPy twin"


def _simplecnn_step() -> str:
    import torch
    from .bridge import compare
    from .bridge.convert import _zoo
    from .models import SimpleCNN
    x = np.random.default_rng(0).standard_normal((4, 3, 28, 28)).astype(np.float32)
    report = compare(SimpleCNN(), _zoo(torch.nn).SimpleCNN(), x, np.array([1, 2, 3, 4]))
    if not report.ok:
        raise AssertionError(f"minidl and PyTorch part: forward at {report.first_forward}, "
                             f"backward at {report.first_backward}")
    return "SimpleCNN forward and backward equal PyTorch's, layer by layer"


def _warm() -> str:
    """Run what the training jobs run, in float32 and float64, at batch sizes that take
    both the serial and the parallel kernels, so that Numba compiles (and caches) them."""
    import minidl
    from . import kernels
    from .kernels import compile_notice
    from .models import define_models
    if not kernels.numba_enabled():
        return "Numba kernels are off: nothing to compile"
    kernels.numba_kernels("activation_numba")       # installs the compile counter
    zoo = define_models(minidl.nn)
    before = compile_notice.stats["compiled"]
    for dtype in (minidl.float32, minidl.float64):
        for model, shape in ((zoo.SimpleCNN(1, 28), (1, 28, 28)),
                             (zoo.SimpleCNN(3, 32), (3, 32, 32)),
                             (zoo.LeNet5(1, 28), (1, 28, 28)), (zoo.MLP(784), (1, 28, 28))):
            model = model.to(dtype)
            opt = minidl.optim.Adam(model.parameters())
            for batch in (2, 64):
                x = minidl.randn(batch, *shape, dtype=dtype)
                loss = minidl.nn.functional.cross_entropy(model(x), minidl.zeros(batch,
                                                          dtype=minidl.int64))
                opt.zero_grad()
                loss.backward()
                opt.step()
        lstm = minidl.nn.LSTM(16, 32, batch_first=True).to(dtype)
        attention = minidl.nn.MultiheadAttention(32, 4, batch_first=True).to(dtype)
        h, _ = lstm(minidl.randn(8, 12, 16, dtype=dtype))
        out, _ = attention(h, h, h)
        out.sum().backward()
    n = compile_notice.stats["compiled"] - before
    return (f"{n} kernel signatures compiled and cached" if n else
            "every kernel these jobs use was already in the cache")


def run(args: argparse.Namespace) -> int:
    rows = _versions() + _numba_cache()
    if args.warm:
        rows.append(_check("warm", _warm))
    if not args.quick:
        rows.append(_check("gradcheck", _gradcheck))
        rows.append(_check("kernels", _kernel_twin))
        if any(r[1] == "torch" and r[0] == "OK" for r in rows):
            rows.append(_check("vs pytorch", _simplecnn_step))
    width = max(len(r[1]) for r in rows)
    for status, name, text in rows:
        print(f"{status:<4}  {name:<{width}}  {text}")
    failed = [r for r in rows if r[0] == "FAIL"]
    print(f"\n{len(failed)} check(s) failed" if failed else "\nall checks passed")
    return 1 if failed else 0
