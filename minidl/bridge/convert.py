"""Tensors, state dicts and whole models between minidl and PyTorch.

`to_torch(x)` / `from_torch(x)` take a tensor, a state dict (any mapping of tensors), or a
module. A module's twin is built layer by layer from `_LAYERS` (Sequential, ModuleList
and ModuleDict trees of the layers both libraries have) and then given the same weights;
a custom Module needs its twin's constructor (`to_torch(model, constructor=TorchNet)`),
whose parameter names and shapes must match.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import backend


def _torch():
    import torch   # the bridge is the one place in minidl that imports torch
    return torch


def _is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _is_torch_module(x) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module"
               for c in type(x).__mro__)


# ---- tensors ----
def tensor_to_torch(t, requires_grad: bool | None = None, grad: bool = False):
    """A torch tensor with a copy of t's values and dtype; `requires_grad` defaults to t's
    (for a leaf); `grad=True` copies `.grad` too."""
    torch = _torch()
    array = backend.to_numpy(t.array if hasattr(t, "array") else np.asarray(t))
    out = torch.from_numpy(np.array(array, copy=True))
    wants = getattr(t, "requires_grad", False) if requires_grad is None else requires_grad
    if wants and out.is_floating_point():
        out.requires_grad_(True)
    if grad and getattr(t, "grad", None) is not None:
        out.grad = tensor_to_torch(t.grad, requires_grad=False)
    return out


def tensor_from_torch(t, requires_grad: bool | None = None, grad: bool = False):
    """A minidl tensor with a copy of the torch tensor's values and dtype."""
    from ..tensor import Tensor
    array = t.detach().cpu().numpy().copy()
    wants = t.requires_grad if requires_grad is None else requires_grad
    out = Tensor(array, requires_grad=bool(wants) and array.dtype.kind == "f")
    if grad and t.grad is not None:
        out.grad = tensor_from_torch(t.grad, requires_grad=False)
    return out


def state_dict_to_torch(state: Mapping) -> "OrderedDict":
    """A minidl state dict as one that `torch.nn.Module.load_state_dict` takes."""
    return OrderedDict((k, tensor_to_torch(v, requires_grad=False)) for k, v in state.items())


def state_dict_from_torch(state: Mapping) -> "OrderedDict":
    return OrderedDict((k, tensor_from_torch(v, requires_grad=False)) for k, v in state.items())


# ---- modules ----
def _conv(cls_name):
    """Conv1d/2d and ConvTranspose1d/2d, from the attributes both libraries keep."""
    def build(m, nn):
        extra = {"output_padding": m.output_padding} if m.transposed else {}
        return getattr(nn, cls_name)(m.in_channels, m.out_channels, m.kernel_size,
                                     stride=m.stride, padding=m.padding, dilation=m.dilation,
                                     groups=m.groups, bias=m.bias is not None,
                                     padding_mode=m.padding_mode, **extra)
    return build


def _same_attributes(cls_name, *names):
    """A layer built from attributes of the same names as its arguments."""
    return lambda m, nn: getattr(nn, cls_name)(**{n: getattr(m, n) for n in names})


def _batchnorm(cls_name):
    def build(m, nn):
        return getattr(nn, cls_name)(m.num_features, eps=m.eps, momentum=m.momentum,
                                     affine=m.affine,
                                     track_running_stats=m.track_running_stats)
    return build


# Leaf layers both libraries have, built from the attributes both keep under PyTorch's names.
_LAYERS = {
    "Linear": lambda m, nn: nn.Linear(m.in_features, m.out_features, bias=m.bias is not None),
    "Conv1d": _conv("Conv1d"), "Conv2d": _conv("Conv2d"),
    "ConvTranspose1d": _conv("ConvTranspose1d"), "ConvTranspose2d": _conv("ConvTranspose2d"),
    "BatchNorm1d": _batchnorm("BatchNorm1d"),
    "BatchNorm2d": _batchnorm("BatchNorm2d"),
    "ReLU": lambda m, nn: nn.ReLU(),
    "LeakyReLU": lambda m, nn: nn.LeakyReLU(m.negative_slope),
    "Sigmoid": lambda m, nn: nn.Sigmoid(),
    "Tanh": lambda m, nn: nn.Tanh(),
    "Softmax": lambda m, nn: nn.Softmax(dim=m.dim),
    "LogSoftmax": lambda m, nn: nn.LogSoftmax(dim=m.dim),
    "Identity": lambda m, nn: nn.Identity(),
    "Flatten": lambda m, nn: nn.Flatten(m.start_dim, m.end_dim),
    "Dropout": lambda m, nn: nn.Dropout(m.p),
    "MaxPool2d": lambda m, nn: nn.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation,
                                            ceil_mode=m.ceil_mode),
    "AvgPool2d": lambda m, nn: nn.AvgPool2d(m.kernel_size, m.stride, m.padding,
                                            ceil_mode=m.ceil_mode,
                                            count_include_pad=m.count_include_pad),
    "AdaptiveAvgPool2d": lambda m, nn: nn.AdaptiveAvgPool2d(m.output_size),
    "Embedding": lambda m, nn: nn.Embedding(m.num_embeddings, m.embedding_dim,
                                            padding_idx=m.padding_idx),
    "LayerNorm": lambda m, nn: nn.LayerNorm(m.normalized_shape, eps=m.eps,
                                            elementwise_affine=m.elementwise_affine,
                                            bias=getattr(m, "bias", None) is not None),
    "GELU": lambda m, nn: nn.GELU(approximate=m.approximate),
    "SiLU": lambda m, nn: nn.SiLU(),
}
_LAYERS.update({
    "GroupNorm": _same_attributes("GroupNorm", "num_groups", "num_channels", "eps", "affine"),
    "PReLU": lambda m, nn: nn.PReLU(m.num_parameters),
    "ELU": _same_attributes("ELU", "alpha"), "CELU": _same_attributes("CELU", "alpha"),
    "Softplus": _same_attributes("Softplus", "beta", "threshold"),
    "Hardtanh": _same_attributes("Hardtanh", "min_val", "max_val"),
    "Threshold": _same_attributes("Threshold", "threshold", "value"),
    "Unflatten": _same_attributes("Unflatten", "dim", "unflattened_size"),
    "Dropout1d": _same_attributes("Dropout1d", "p"),
    "Dropout2d": _same_attributes("Dropout2d", "p"),
    "GLU": _same_attributes("GLU", "dim"), "Softmin": _same_attributes("Softmin", "dim"),
})
for _name in ("InstanceNorm1d", "InstanceNorm2d"):
    _LAYERS[_name] = _same_attributes(_name, "num_features", "eps", "momentum", "affine",
                                      "track_running_stats")
for _name in ("ReLU6", "SELU", "Mish", "Hardswish", "Hardsigmoid", "LogSigmoid", "Softsign"):
    _LAYERS[_name] = _same_attributes(_name)
for _name in ("LSTM", "GRU", "RNN"):
    _LAYERS[_name] = (lambda name: lambda m, nn: getattr(nn, name)(
        m.input_size, m.hidden_size, num_layers=m.num_layers, bias=m.bias,
        batch_first=m.batch_first, dropout=m.dropout, bidirectional=m.bidirectional,
        **({"nonlinearity": m.nonlinearity} if name == "RNN" else {})))(_name)

for _name in ("RNNCell", "LSTMCell", "GRUCell"):
    _LAYERS[_name] = (lambda name: lambda m, nn: getattr(nn, name)(
        m.input_size, m.hidden_size, bias=m.bias,
        **({"nonlinearity": m.nonlinearity} if name == "RNNCell" else {})))(_name)
_LAYERS["Upsample"] = lambda m, nn: nn.Upsample(size=m.size, scale_factor=m.scale_factor,
                                                mode=m.mode, align_corners=m.align_corners)


# ---- attention and the Transformer: built from their sub-layers' attributes, as PyTorch's
# layers keep no d_model or nhead of their own
def _mha(m, nn):
    return nn.MultiheadAttention(m.embed_dim, m.num_heads, dropout=m.dropout,
                                 bias=m.in_proj_bias is not None,
                                 add_bias_kv=m.bias_k is not None,
                                 add_zero_attn=m.add_zero_attn, kdim=m.kdim, vdim=m.vdim,
                                 batch_first=m.batch_first)


def _activation_name(fn) -> str:
    """'relu' or 'gelu' for either library's function or module."""
    name = getattr(fn, "__name__", type(fn).__name__).lower()
    if name not in ("relu", "gelu"):
        raise TypeError(f"bridge: a Transformer layer with activation {fn!r} has no built-in "
                        f"twin (relu and gelu have); pass constructor=...")
    return name


def _layer_options(layer) -> dict:
    """The constructor arguments of a Transformer encoder or decoder layer."""
    return dict(d_model=layer.self_attn.embed_dim, nhead=layer.self_attn.num_heads,
                dim_feedforward=layer.linear1.out_features, dropout=layer.dropout.p,
                activation=_activation_name(layer.activation), layer_norm_eps=layer.norm1.eps,
                batch_first=layer.self_attn.batch_first, norm_first=layer.norm_first,
                bias=layer.linear1.bias is not None)


def _stack(cls_name):
    def build(m, nn):
        norm = _twin(m.norm, nn) if m.norm is not None else None
        extra = {"enable_nested_tensor": False} if cls_name == "TransformerEncoder" else {}
        return getattr(nn, cls_name)(_twin(m.layers[0], nn), len(m.layers), norm=norm, **extra)
    return build


def _transformer(m, nn):
    options = _layer_options(m.encoder.layers[0])
    return nn.Transformer(num_encoder_layers=len(m.encoder.layers),
                          num_decoder_layers=len(m.decoder.layers), **options)


_LAYERS.update({
    "MultiheadAttention": _mha,
    "TransformerEncoderLayer": lambda m, nn: nn.TransformerEncoderLayer(**_layer_options(m)),
    "TransformerDecoderLayer": lambda m, nn: nn.TransformerDecoderLayer(**_layer_options(m)),
    "TransformerEncoder": _stack("TransformerEncoder"),
    "TransformerDecoder": _stack("TransformerDecoder"),
    "Transformer": _transformer,
})


def _twin(module, nn, constructor=None):
    """An untrained module of the other library with module's architecture."""
    if constructor is not None:
        return constructor()
    name = type(module).__name__
    if type(module).__module__ == "minidl.models" and hasattr(module, "config"):
        return getattr(_zoo(nn), name)(**module.config)
    if name == "Sequential":
        return nn.Sequential(OrderedDict((k, _twin(m, nn)) for k, m in
                                         module.named_children()))
    if name == "ModuleList":
        return nn.ModuleList([_twin(m, nn) for m in module])
    if name == "ModuleDict":
        return nn.ModuleDict({k: _twin(m, nn) for k, m in module.items()})
    build = _LAYERS.get(name)
    if build is None or type(module).__module__.split(".")[0] not in ("minidl", "torch"):
        raise TypeError(
            f"bridge: no built-in twin for {type(module).__module__}.{name}; pass "
            f"constructor=... that builds the other library's version (its parameter names "
            f"and shapes must match)")
    return build(module, nn)


_ZOOS = {}


def _zoo(nn):
    """minidl.models' classes written against `nn` (built once per library)."""
    from .. import models
    if nn.__name__.startswith("minidl"):
        return models
    if nn.__name__ not in _ZOOS:
        _ZOOS[nn.__name__] = models.define_models(nn)
    return _ZOOS[nn.__name__]


def _load_checked(target, state: Mapping, target_lib: str) -> None:
    """load_state_dict, after checking names and shapes, with an error that lists both."""
    mine = {k: tuple(v.shape) for k, v in target.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    if mine != theirs:
        raise ArchitectureMismatch.between(theirs, mine, "source", target_lib)
    target.load_state_dict(state)


def to_torch(x, *, constructor=None, requires_grad: bool | None = None, grad: bool = False):
    """A minidl tensor, state dict or module as PyTorch's (values copied)."""
    from ..nn import Module
    from ..tensor import Tensor
    if isinstance(x, Tensor) or isinstance(x, np.ndarray):
        return tensor_to_torch(x, requires_grad, grad)
    if isinstance(x, Mapping):
        return state_dict_to_torch(x)
    if isinstance(x, Module):
        twin = _twin(x, _torch().nn, constructor)
        twin = twin.to(_torch_dtype(x))
        _load_checked(twin, state_dict_to_torch(x.state_dict()), "torch")
        return twin.train(x.training)
    raise TypeError(f"to_torch: expected a Tensor, an array, a state dict or a Module, got "
                    f"{type(x).__name__}")


def from_torch(x, *, constructor=None, requires_grad: bool | None = None, grad: bool = False):
    """A torch tensor, state dict or module as minidl's (values copied)."""
    from .. import nn
    if _is_torch_tensor(x):
        return tensor_from_torch(x, requires_grad, grad)
    if isinstance(x, Mapping):
        return state_dict_from_torch(x)
    if _is_torch_module(x):
        twin = _twin(x, nn, constructor)
        first = next(iter(x.state_dict().values()), None)
        if first is not None and first.is_floating_point():
            twin = twin.to(np.dtype(str(first.dtype).replace("torch.", "")))
        _load_checked(twin, state_dict_from_torch(x.state_dict()), "minidl")
        return twin.train(x.training)
    raise TypeError(f"from_torch: expected a torch Tensor, a state dict or a Module, got "
                    f"{type(x).__name__}")


def copy_weights(source, target) -> None:
    """Copy every parameter and buffer from one model to the other (either direction),
    checking that names and shapes match."""
    from ..nn import Module
    if isinstance(source, Module):
        _load_checked(target, state_dict_to_torch(source.state_dict()), "torch")
    else:
        _load_checked(target, state_dict_from_torch(source.state_dict()), "minidl")


def _torch_dtype(module):
    torch = _torch()
    for p in module.parameters():
        return getattr(torch, np.dtype(p.array.dtype).name)
    return torch.get_default_dtype()


class ArchitectureMismatch(ValueError):
    """Two models whose parameters and buffers differ in names or shapes."""

    @classmethod
    def between(cls, a: dict, b: dict, a_name: str, b_name: str) -> "ArchitectureMismatch":
        lines = [f"the two models' parameters differ ({a_name} vs {b_name}):"]
        for k in sorted(set(a) | set(b)):
            sa, sb = a.get(k), b.get(k)
            if sa != sb:
                fa = "missing" if sa is None else list(sa)
                fb = "missing" if sb is None else list(sb)
                lines.append(f"  {k}: {a_name} {fa}, {b_name} {fb}")
        return cls("\n".join(lines))
