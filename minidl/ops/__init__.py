"""Differentiable operations, grouped by kind. Each op is an `XxxFn` Function class with
forward and backward side by side, plus the lowercase function that users call."""
from .dims import normalize_dim, normalize_dims, shape_args
from .broadcast import broadcast_to, sum_to
from .arithmetic import add, sub, mul, div, neg, pow, remainder, floor_divide
from .select import (eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_not, where,
                     masked_fill, clamp, maximum, minimum)
from .elementwise import (exp, log, log1p, sqrt, rsqrt, sin, cos, abs, sign, cast, to_device,
                          clone)
from .reduction import (sum, mean, var, std, max, min, amax, amin, argmax, argmin, logsumexp,
                        norm, prod)
from .activation import relu, leaky_relu, sigmoid, tanh, softmax, log_softmax
from .shape import (reshape, view, flatten, squeeze, unsqueeze, permute, transpose, t, expand,
                    repeat, getitem, index_put, cat, stack, split, chunk, pad)
from .linalg import matmul, linear
from .normalization import batch_norm, dropout, one_hot
from .conv import conv2d
from .pool import max_pool2d, avg_pool2d, adaptive_avg_pool2d
from .loss import (cross_entropy, nll_loss, mse_loss, l1_loss, binary_cross_entropy,
                   binary_cross_entropy_with_logits)
from .embedding import embedding
from .indexing import (gather, scatter, scatter_add, index_select, index_add, masked_select,
                       take_along_dim, nonzero, count_nonzero)
from .sorting import sort, argsort, topk, kthvalue, cumsum, cumprod
from .matrix import (mm, bmm, addmm, baddbmm, mv, dot, outer, tril, triu, diag, trace,
                     einsum)
from .unary import (tan, sinh, cosh, asin, acos, atan, atan2, expm1, erf, log2, log10, exp2,
                    reciprocal, floor, ceil, trunc, round, frac, isnan, isinf, isfinite)
from .conv1d import conv1d
from .conv_transpose import conv_transpose1d, conv_transpose2d
from .group_norm import group_norm, instance_norm, prelu, dropout1d, dropout2d
from .padding import pad    # F.pad's four modes; shape.pad is its constant case
