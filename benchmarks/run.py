"""Run every benchmark workload for minidl (Numba), minidl (plain NumPy) and PyTorch CPU.

    python benchmarks/run.py                 # all workloads, 1 and 2 threads -> RESULTS.md
    python benchmarks/run.py --quick         # fewer repeats, for a smoke run

Each thread count runs in its own worker process (BLAS, Numba and PyTorch pools all set to
that count before anything imports); inside it the three contestants are timed
interleaved, step for step, and the median of the repeats is kept. Peak memory, import
time and first-step time run one fresh process per measurement. The Markdown table is
printed and written to benchmarks/RESULTS.md (with the machine and versions).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

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
             "ratios are minidl / PyTorch (below 1 means minidl is faster).", ""]
    lines += ["## Training steps and conv2d (ms per call)", "",
              "| workload | threads | minidl numba | minidl numpy | PyTorch | numba / torch | "
              "numpy / torch |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        for name in ("cnn_step", "mlp_step", "conv2d_fwd_bwd"):
            if name not in res:
                continue
            r = res[name]
            lines.append(f"| {name} | {threads} | {r['numba']:.2f} | {r['numpy']:.2f} | "
                         f"{r['torch']:.2f} | {_ratio(r['numba'], r['torch'])} | "
                         f"{_ratio(r['numpy'], r['torch'])} |")
    lines += ["", "## matmul (GFLOP/s, float32)", "",
              "| n | threads | minidl dispatch | Numba GEMM | NumPy BLAS | PyTorch | "
              "dispatch / BLAS | GEMM / BLAS |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        for n, r in sorted(res.get("matmul", {}).items(), key=lambda kv: int(kv[0])):
            lines.append(f"| {n} | {threads} | {r['minidl']:.1f} | {r['gemm']:.1f} | "
                         f"{r['blas']:.1f} | {r['torch']:.1f} | "
                         f"{r['minidl'] / r['blas']:.2f} | {r['gemm'] / r['blas']:.2f} |")
    lines += ["", "## Autograd overhead (µs per op, forward + backward, 1000-op chain)", "",
              "| threads | minidl | PyTorch | ratio |", "| --- | --- | --- | --- |"]
    for threads, res in sorted(results["timed"].items()):
        r = res.get("overhead")
        if r:
            lines.append(f"| {threads} | {r['minidl']:.2f} | {r['torch']:.2f} | "
                         f"{_ratio(r['minidl'], r['torch'])} |")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 repeats, no memory/startup")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    results = {"timed": {}}
    for threads in args.threads:
        print(f"timing workloads at {threads} thread(s)...", file=sys.stderr)
        results["timed"][threads] = _run_json(
            ["workloads.py", "--threads", str(threads), "--repeats", str(repeats)],
            _env(threads))
    if not args.quick:
        print("peak memory...", file=sys.stderr)
        results["memory"] = {fw: _run_json(["memory.py", fw], _env(1))["peak_mib"]
                             for fw in ("minidl", "torch")}
        print("start-up, cold and warm...", file=sys.stderr)
        cache = tempfile.mkdtemp(prefix="minidl-numba-cache-")
        results["startup"] = {
            "cold": _run_json(["startup.py", "minidl"], _env(1, NUMBA_CACHE_DIR=cache)),
            "warm": _run_json(["startup.py", "minidl"], _env(1, NUMBA_CACHE_DIR=cache)),
            "torch": _run_json(["startup.py", "torch"], _env(1)),
        }
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    text = render(results, machine_info(), command.strip())
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
