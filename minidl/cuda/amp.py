"""`torch.cuda.amp` (the legacy path): the same autocast and GradScaler as minidl.amp."""
from ..amp import GradScaler, autocast  # noqa: F401
