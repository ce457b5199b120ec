"""MultiheadAttention, with PyTorch's parameters (in_proj_weight, in_proj_bias, out_proj;
q/k/v_proj_weight when kdim or vdim differ), init, masks and returned weights."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..creation import empty
from ..tensor import constant
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear (PyTorch's class name for MultiheadAttention.out_proj)."""


def _as_bias(mask, name: str, dtype):
    """A bool mask (True: masked out) as an additive -inf bias; a float one as it is."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        xp = get_array_module(mask.array)
        return constant(xp.where(mask.array, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise AssertionError(f"MultiheadAttention: only bool and floating types of {name} are "
                             f"supported, got {mask.dtype}")
    return mask.to(dtype)


class MultiheadAttention(Module):
    """Attention with `num_heads` heads of embed_dim // num_heads features each.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None), with inputs
    (L, N, E), or (N, L, E) when batch_first, or unbatched (L, E). In attn_mask (L, S) or
    (N * num_heads, L, S) and key_padding_mask (N, S), True marks what may NOT be attended
    to (the opposite of scaled_dot_product_attention's bool masks, as in PyTorch); float
    masks are added to the scores.

    See Also
    --------
    torch.nn.MultiheadAttention
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not built in minidl")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        kw = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self, query, key, value):
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return (ops.linear(query, wq, bq), ops.linear(key, wk, bk), ops.linear(value, wv, bv))

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"MultiheadAttention: query should be unbatched 2D or batched "
                                 f"3D tensor but received {query.ndim}-D query tensor (key "
                                 f"{key.ndim}-D, value {value.ndim}-D)")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask` "
                               "to create this mask.")
        if not batched:                          # (L, E) -> (L, 1, E)
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:                   # (N, L, E) -> (L, N, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape
        S, H, hd = key.shape[0], self.num_heads, self.head_dim
        if key.shape[:2] != value.shape[:2] or key.shape[1] != N:
            raise AssertionError(f"MultiheadAttention: key {tuple(key.shape)} and value "
                                 f"{tuple(value.shape)} must match in (length, batch) and "
                                 f"have the query's batch {N} (query {tuple(query.shape)}, "
                                 f"after putting the length first)")
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, "
                                 f"but got {E}")
        q, k, v = self._projections(query, key, value)
        # (L, N, E) -> (N * H, L, hd): one batch entry per (sample, head)
        q, k, v = (t.reshape(t.shape[0], N * H, hd).transpose(0, 1) for t in (q, k, v))
        bias = _as_bias(attn_mask, "attn_mask", q.dtype)
        if bias is not None:
            expected = [(L, S), (N * H, L, S)]
            if tuple(bias.shape) not in expected:
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(bias.shape)}, but "
                                   f"should be {(L, S)} (or {(N * H, L, S)} for a 3D mask)")
            if bias.ndim == 2:
                bias = bias.unsqueeze(0)
        padding = _as_bias(key_padding_mask, "key_padding_mask", q.dtype)
        if padding is not None:
            if tuple(padding.shape) != (N, S):
                raise AssertionError(f"expecting key_padding_mask shape of {(N, S)}, but got "
                                     f"{tuple(padding.shape)}")
            padding = padding.reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(N * H, 1, S)
            bias = padding if bias is None else bias + padding
        scores = ops.matmul(q * math.sqrt(1.0 / hd), k.transpose(-2, -1))
        if bias is not None:
            scores = scores + bias
        weights = ops.softmax(scores, -1)
        dropped = ops.dropout(weights, self.dropout, self.training) if self.dropout > 0 \
            else weights
        out = ops.matmul(dropped, v).transpose(0, 1).reshape(L * N, E)
        out = self.out_proj(out).reshape(L, N, E)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, S)
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear("
                f"in_features={self.embed_dim}, out_features={self.embed_dim}, "
                f"bias={self.out_proj.bias is not None})\n)")

