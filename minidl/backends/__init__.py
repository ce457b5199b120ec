"""`torch.backends`: the flags programs set; minidl has no cuDNN or MPS of its own."""
from types import SimpleNamespace

from .. import backend as _backend

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False,
                        allow_tf32=True, is_available=lambda: False, version=lambda: None)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cpu = SimpleNamespace(get_cpu_capability=lambda: "DEFAULT")
cuda = SimpleNamespace(is_built=lambda: _backend.has_cupy(),
                       matmul=SimpleNamespace(allow_tf32=False))
