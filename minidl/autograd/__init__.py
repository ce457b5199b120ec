"""Reverse-mode automatic differentiation: Function, the backward engine, grad mode."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                        set_detect_anomaly, is_anomaly_enabled)
from .function import Function, ArrayFunction
from .engine import backward, grad
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import functional
from ..legacy import Variable  # noqa: E402  (the legacy alias)
