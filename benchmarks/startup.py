"""Import time and first-training-step time in a fresh process (cold or warm Numba cache).

    python benchmarks/startup.py minidl|torch    -> {"import": s, "first_step": s}
"""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    framework = sys.argv[1]
    start = time.perf_counter()
    if framework == "torch":
        import torch as lib
    else:
        import minidl as lib
    imported = time.perf_counter()
    from minidl.models import define_models
    from workloads import training_step

    lib.manual_seed(0)
    step = training_step(lib, define_models(lib.nn).SimpleCNN(3, 28), (64, 3, 28, 28), 10)
    begin = time.perf_counter()
    step()
    print(json.dumps({"import": imported - start, "first_step": time.perf_counter() - begin}))


if __name__ == "__main__":
    main()
