"""`torch.nn.modules.module` under its PyTorch name: Module and the global hooks."""
from ..module import (Module, register_module_forward_hook,  # noqa: F401
                      register_module_forward_pre_hook)
