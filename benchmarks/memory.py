"""Peak RSS of a 100-step SimpleCNN training run (batch 64, 3x28x28, Adam), one framework.

    python benchmarks/memory.py minidl|torch     -> {"peak_mib": ...}
"""
from __future__ import annotations

import json
import resource
import sys

from workloads import training_step


def main() -> None:
    framework = sys.argv[1]
    if framework == "torch":
        import torch as lib
        lib.set_num_threads(1)
    else:
        import minidl as lib
    from minidl.models import define_models

    lib.manual_seed(0)
    model = define_models(lib.nn).SimpleCNN(3, 28)
    step = training_step(lib, model, (64, 3, 28, 28), 10)
    for _ in range(100):
        step()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main()
