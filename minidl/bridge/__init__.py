"""PyTorch interop and parity reports: the only part of minidl that imports torch.

torch is imported inside the functions, on first use, so `import minidl.bridge` (and
`import minidl`) never needs it.

    from minidl.bridge import to_torch, from_torch, compare
    torch_model = to_torch(model)                   # the twin, with the same weights
    report = compare(model, torch_model, x, target)
    print(report)                                   # per layer: forward and gradient gaps
    assert report.ok
"""
from .convert import from_torch, to_torch, copy_weights
from .convert import ArchitectureMismatch
from .compare import compare, CompareReport
from .training import compare_training, TrainingReport
from .ops import check_op

__all__ = ["to_torch", "from_torch", "copy_weights", "compare", "CompareReport",
           "ArchitectureMismatch", "compare_training", "TrainingReport", "check_op"]
