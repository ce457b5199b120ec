"""LayerNorm, the activations past ReLU (GELU, SiLU, ELU, Softplus, ...), Unflatten and
the losses and distances built in ops/loss2.py, as Modules (torch.nn's names and
defaults). Each holds its settings (and LayerNorm its parameters) and calls functional."""
from __future__ import annotations

from . import functional as F
from . import init
from .module import Module
from .parameter import _empty_parameter


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims, then scale and shift
    (torch.nn.LayerNorm); weight starts at ones and bias at zeros."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
            normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = init.ones_(_empty_parameter(*shape, device=device, dtype=dtype))
            if bias:
                self.bias = init.zeros_(_empty_parameter(*shape, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


def _activation(name: str, fn, params: tuple = (), doc: str = "", show_inplace: bool = True,
                show_params: bool = True):
    """A Module class that calls `fn(input, **its settings)`. Its repr is PyTorch's: the
    settings (none if show_params is False, as CosineSimilarity's), and inplace=True when
    set, unless show_inplace is False (as Hardsigmoid's and Hardswish's)."""
    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(zip(params, [d for _, d in params_defaults]))
        values.update(zip(params, args))
        values.update({k: v for k, v in kwargs.items() if k in params})
        for k, v in values.items():
            setattr(self, k, v)

    def forward(self, input):
        return fn(input, **{k: getattr(self, k) for k in params})

    def extra_repr(self) -> str:
        # PyTorch's reprs name inplace only when it is set
        shown = [k for k in params if k != "inplace"] if show_params else []
        return ", ".join([f"{k}={getattr(self, k)!r}" if isinstance(getattr(self, k), str)
                          else f"{k}={getattr(self, k)}" for k in shown] +
                         (["inplace=True"] if show_inplace and getattr(self, "inplace", False)
                          else []))

    params_defaults = [(k, d) for k, d in params]
    params = tuple(k for k, _ in params_defaults)
    return type(name, (Module,), {"__init__": __init__, "forward": forward,
                                  "extra_repr": extra_repr,
                                  "__doc__": doc or f"torch.nn.{name}: see F.{fn.__name__}."})


GELU = _activation("GELU", F.gelu, (("approximate", "none"),))
SiLU = _activation("SiLU", F.silu, (("inplace", False),))
ELU = _activation("ELU", F.elu, (("alpha", 1.0), ("inplace", False)))
CELU = _activation("CELU", F.celu, (("alpha", 1.0), ("inplace", False)))
SELU = _activation("SELU", F.selu, (("inplace", False),))
Softplus = _activation("Softplus", F.softplus, (("beta", 1.0), ("threshold", 20.0)))
Mish = _activation("Mish", F.mish, (("inplace", False),))
Hardtanh = _activation("Hardtanh", F.hardtanh, (("min_val", -1.0), ("max_val", 1.0),
                                                ("inplace", False)))
ReLU6 = _activation("ReLU6", F.relu6, (("inplace", False),))
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid, (("inplace", False),),
                          show_inplace=False)
Hardswish = _activation("Hardswish", F.hardswish, (("inplace", False),), show_inplace=False)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid)
Softsign = _activation("Softsign", F.softsign)
GLU = _activation("GLU", F.glu, (("dim", -1),))
CosineSimilarity = _activation("CosineSimilarity", F.cosine_similarity,
                               (("dim", 1), ("eps", 1e-8)), show_params=False)
PairwiseDistance = _activation("PairwiseDistance", F.pairwise_distance,
                               (("p", 2.0), ("eps", 1e-6), ("keepdim", False)),
                               show_params=False)


class Unflatten(Module):
    """Unflatten dim into `unflattened_size` (torch.nn.Unflatten)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class _PairLoss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", **options):
        super().__init__()
        self.reduction = reduction
        for k, v in options.items():
            setattr(self, k, v)


class SmoothL1Loss(_PairLoss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction, beta=beta)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_PairLoss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction, delta=delta)

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_PairLoss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction, log_target=log_target)

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
