"""`torch.amp`: autocast and GradScaler, for programs written for mixed precision.

minidl computes in the dtype of the tensors it is given. `autocast(enabled=False)` is a
no-op, as in PyTorch; `autocast` enabled asks for lower-precision compute that minidl does
not do: it raises rather than return numbers that differ from PyTorch's without a word.
`GradScaler` is PyTorch's with scaling off (what PyTorch's is when CUDA is unavailable or
`enabled=False`): scale() returns the loss, step() calls optimizer.step().
"""
from __future__ import annotations


class autocast:
    """Context manager and decorator; see the module docstring."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        if self.enabled:
            raise NotImplementedError(
                f"autocast(device_type={self.device_type!r}, dtype={self.dtype}): minidl has "
                f"no mixed-precision autocast; run with enabled=False (full precision), or "
                f"cast the model and inputs yourself (model.half(), x.half())")
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


class GradScaler:
    """Loss scaling for float16 training, disabled (scale 1): see the module docstring."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        if enabled:
            import warnings
            warnings.warn("GradScaler is enabled, but minidl has no float16 autocast; "
                          "disabling it (scale 1.0), as PyTorch does without CUDA.",
                          UserWarning, stacklevel=2)
        self._enabled = False

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        return None

    def get_scale(self) -> float:
        return 1.0

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        return None
