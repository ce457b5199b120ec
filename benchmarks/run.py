"""Run every benchmark workload for minidl (Numba), minidl (plain NumPy) and PyTorch CPU.

    python benchmarks/run.py                 # all workloads, 1 and 2 threads -> RESULTS.md
    python benchmarks/run.py --quick         # fewer repeats, for a smoke run

Each contestant runs in its own long-lived worker process (benchmarks/workloads.py), with
BLAS, Numba and PyTorch thread pools all set to the thread count before anything imports:
one process per framework, so no two thread pools spin against each other in one process.
The workers are driven in rounds, interleaved (numba, numpy, torch, then torch, numpy,
numba, and so on, so that none is always first): in each round a worker restarts a
training workload from its initial weights and makes untimed calls for
workloads.WARM_SECONDS, which wake its thread pools and bring its arrays back into cache
as a training loop's previous steps would, then BLOCK timed calls back to back; the median
over all rounds is kept. With more than one thread each round first waits for
the other workers' idle threads to stop spinning (SETTLE_SECONDS). Peak memory, import
time and first-step time run one fresh process per measurement. The Markdown table is
printed and written to benchmarks/RESULTS.md (with the machine and versions).
"""
from __future__ import annotations

import argparse
import json
import statistics
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# OpenBLAS and OpenMP worker threads spin for a while after their work before they sleep;
# with several threads, a worker measured right after another would share the cores with
# those spinning threads, so each multi-threaded measurement waits this long first.
SETTLE_SECONDS = 0.25

# calls per contestant and round: the median of BLOCK back-to-back calls after untimed ones
BLOCK = 3

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")


def _env(threads: int, **extra) -> dict:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run_json(args: list, env: dict, timeout: int = 1800) -> dict:
    out = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                         timeout=timeout, cwd=HERE.parent)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark worker failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Worker:
    """A workloads.py process for one contestant, asked for one measurement at a time."""

    def __init__(self, framework: str, env: dict):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "workloads.py"), framework],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=HERE.parent)
        self.names = set(self._read()["ready"])

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited with {self.proc.wait()}")
        return json.loads(line)

    def measure(self, name: str) -> float:
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return self._read()["value"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def time_interleaved(threads: int, repeats: int, only=None) -> dict:
    """{workload: {contestant: median}} at this thread count, contestants interleaved
    (the workloads named in `only`, or all)."""
    contestants = {"numba": ("minidl", {}), "numpy": ("minidl", {"MINIDL_NUMBA": 0}),
                   "torch": ("torch", {})}
    workers = {name: Worker(fw, _env(threads, **extra))
               for name, (fw, extra) in contestants.items()}
    try:
        names = sorted(set.union(*(w.names for w in workers.values())))
        names = [n for n in names if not only or n in only]
        result = {}
        for name in names:
            active = {c: w for c, w in workers.items() if name in w.names}
            if name.startswith(("gemm_", "blas_", "dispatch_")):   # same in both minidl workers
                active.pop("numpy", None)
            for w in active.values():                      # warm-up (and JIT compilation)
                w.measure(name)
                w.measure(name)
            times = {c: [] for c in active}
            order = list(active.items())
            for k in range(repeats):
                # alternate the order (ABC, CBA, ...): in-process A/B runs showed whichever
                # went first in every round reading ~5% slow (benchmarks/NOTES.md)
                for c, w in (order if k % 2 == 0 else order[::-1]):
                    if threads > 1:
                        # let the other workers' idle threads stop spinning
                        time.sleep(SETTLE_SECONDS)
                    # a training loop runs its steps back to back, with its thread pools
                    # awake and its arrays in cache: untimed calls, then BLOCK timed
                    times[c].append(w.measure(f"{name} {BLOCK}"))
            result[name] = {c: statistics.median(v) for c, v in times.items()}
        return result
    finally:
        for w in workers.values():
            w.close()


def machine_info() -> dict:
    import numpy
    import numba
    info = {"python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info


def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def render(results: dict, info: dict, command: str) -> str:
    lines = ["# minidl benchmark results", "",
             f"Command: `{command}`", "",
             f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
             f"NumPy {info['numpy']}, Numba {info['numba']}, PyTorch {info['torch']}.",
             f"Date: {time.strftime('%Y-%m-%d')}. Times are medians of interleaved repeats; "
             "ratios are minidl / PyTorch (below 1 means minidl is faster).",
             "The measurements behind the kernel choices, and a profile of the training "
             "step, are in NOTES.md.", ""]
    lines += ["## Training steps and conv2d (ms per call)", "",
              "| workload | threads | minidl numba | minidl numpy | PyTorch | numba / torch | "
              "numpy / torch |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        for name in ("cnn_step", "mlp_step", "mlp_step_steady", "conv2d_fwd_bwd"):
            r = res[name]
            lines.append(f"| {name} | {threads} | {r['numba']:.2f} | {r['numpy']:.2f} | "
                         f"{r['torch']:.2f} | {_ratio(r['numba'], r['torch'])} | "
                         f"{_ratio(r['numpy'], r['torch'])} |")
    lines += ["", "## matmul (GFLOP/s, float32)", "",
              "The dispatch is `minidl.ops.linalg.dispatch_matmul` on arrays (the kernel choice); "
              "the Tensor column adds the autograd op around it (`a @ b` on Tensors). "
              "dispatch / BLAS is timed in interleaved pairs inside one process "
              "(`dispatch_vs_blas_n`); the other ratios divide columns timed in different "
              "rounds.", "",
              "| n | threads | dispatch | Tensor `@` | Numba GEMM | NumPy BLAS | PyTorch | "
              "dispatch / BLAS | Tensor / BLAS | GEMM / BLAS |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        for n in (64, 256, 1024):
            def rate(key, who):
                return 2 * n ** 3 / (res[f"{key}_{n}"][who] * 1e-3) / 1e9
            disp, mine = rate("dispatch", "numba"), rate("matmul", "numba")
            gemm, blas = rate("gemm", "numba"), rate("blas", "numba")
            paired = 1 / res[f"dispatch_vs_blas_{n}"]["numba"]     # a rate ratio
            lines.append(f"| {n} | {threads} | {disp:.1f} | {mine:.1f} | {gemm:.1f} | "
                         f"{blas:.1f} | {rate('matmul', 'torch'):.1f} | {paired:.2f} | "
                         f"{mine / blas:.2f} | {gemm / blas:.2f} |")
    lines += ["", "## Autograd overhead (µs per op, forward + backward, 1000-op chain)", "",
              "| threads | minidl | PyTorch | ratio |", "| --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        r = res["overhead"]
        lines.append(f"| {threads} | {r['numba']:.2f} | {r['torch']:.2f} | "
                     f"{_ratio(r['numba'], r['torch'])} |")
    mem = results.get("memory")
    if mem:
        lines += ["", "## Peak memory of a 100-step SimpleCNN run (RSS, MiB, own process)", "",
                  "| minidl | PyTorch | ratio |", "| --- | --- | --- |",
                  f"| {mem['minidl']:.0f} | {mem['torch']:.0f} | "
                  f"{_ratio(mem['minidl'], mem['torch'])} |"]
    st = results.get("startup")
    if st:
        lines += ["", "## Start-up (seconds, fresh process)", "",
                  "| measure | cold cache | warm cache |", "| --- | --- | --- |",
                  f"| import minidl | {st['cold']['import']:.3f} | {st['warm']['import']:.3f} |",
                  f"| first SimpleCNN training step | {st['cold']['first_step']:.2f} | "
                  f"{st['warm']['first_step']:.2f} |",
                  f"| PyTorch: import + first step | {st['torch']['import']:.2f} + "
                  f"{st['torch']['first_step']:.3f} | |"]
    return "\n".join(lines) + "\n"


# RESULTS.md from this line on holds the figures of the other scripts (sequence_bench.py,
# profiler_overhead.py, ddp_bench.py), each with its command; run.py leaves it in place.
KEEP_MARKER = "<!-- figures from the other benchmark scripts -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 repeats, no memory/startup")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD",
                        help="time just these workloads (e.g. cnn_step) and print their "
                             "medians; RESULTS.md is left as it is")
    args = parser.parse_args()
    if args.only:
        for threads in args.threads:
            for name, r in time_interleaved(threads, args.repeats, args.only).items():
                print(f"{name} threads={threads} " + " ".join(
                    f"{c}={v:.3f}" for c, v in r.items()) +
                    f" numba/torch={_ratio(r['numba'], r.get('torch'))}")
        return
    repeats = 3 if args.quick else args.repeats
    results = {"timed": {}}
    for threads in args.threads:
        print(f"timing workloads at {threads} thread(s)...", file=sys.stderr)
        results["timed"][threads] = time_interleaved(threads, repeats)
    if not args.quick:
        print("peak memory...", file=sys.stderr)
        results["memory"] = {fw: _run_json([str(HERE / "memory.py"), fw], _env(1))["peak_mib"]
                             for fw in ("minidl", "torch")}
        print("start-up, cold and warm...", file=sys.stderr)
        cache = tempfile.mkdtemp(prefix="minidl-numba-cache-")
        startup, cached = str(HERE / "startup.py"), _env(1, NUMBA_CACHE_DIR=cache)
        results["startup"] = {
            "cold": _run_json([startup, "minidl"], cached),       # compiles into the cache
            "warm": _run_json([startup, "minidl"], cached),       # loads from it
            "torch": _run_json([startup, "torch"], _env(1)),
        }
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    text = render(results, machine_info(), command.strip())
    print(text)
    out = Path(args.out)
    kept = ""            # the sections other scripts' figures fill stay as they were
    if out.is_file() and KEEP_MARKER in out.read_text():
        kept = out.read_text()[out.read_text().index(KEEP_MARKER):]
    out.write_text(text + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    main()
