"""scaled_dot_product_attention: softmax(Q K^T * scale + mask) V, over any batch dims.

Composed of Tensor ops (matmul, a masked fill or an add, softmax, dropout), so its
gradient and second derivatives come from theirs, and gradgradcheck holds.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import constant
from ..backend import get_array_module
from .activation import softmax
from .linalg import matmul
from .normalization import dropout
from .select import masked_fill
from .shape import transpose


def _attn_bias(mask, is_causal: bool, L: int, S: int, like):
    """The additive bias (a Tensor, or None): -inf where a bool mask says False or the
    causal mask hides a later key, a float mask as it is."""
    xp = get_array_module(like.array)
    if is_causal:
        if mask is not None:
            raise RuntimeError("scaled_dot_product_attention: _scaled_dot_product_attention: "
                               "Explicit attn_mask should not be set when is_causal=True")
        mask = constant(xp.tril(xp.ones((L, S), dtype=bool)))
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        zeros = constant(xp.zeros(mask.shape, dtype=like.array.dtype))
        return masked_fill(zeros, ~mask, float("-inf"))
    if mask.dtype != like.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: Expected attn_mask dtype to be bool "
                           f"or float or to match query dtype, got {mask.dtype} for a query "
                           f"of dtype {like.dtype}")
    return mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False):
    """Attention of `query` (..., L, E) over `key` (..., S, E) and `value` (..., S, Ev).

    attn_mask broadcasts to (..., L, S): a bool mask says which keys each query may attend
    to (True: it may), a float mask is added to the scores. is_causal hides later keys.
    scale defaults to 1 / sqrt(E). enable_gqa lets the key and value have fewer heads (dim
    -3) than the query, each shared by a group of query heads. dropout_p drops attention
    weights (always, as torch's function does: pass 0.0 in evaluation).

    See Also
    --------
    torch.nn.functional.scaled_dot_product_attention
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must have at least 2 "
                               f"dims (..., length, features), got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)} and value {tuple(value.shape)} do not fit: "
                           f"expected query (..., L, E), key (..., S, E), value (..., S, Ev)")
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        if groups * key.shape[-3] != query.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the query's "
                               f"{query.shape[-3]} heads must be a multiple of the key's "
                               f"{key.shape[-3]}")
        key = key.repeat_interleave(groups, -3)
        value = value.repeat_interleave(groups, -3)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, transpose(key, -2, -1)) * scale
    bias = _attn_bias(attn_mask, is_causal, L, S, query)
    if bias is not None:
        scores = scores + bias
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return matmul(weights, value)
