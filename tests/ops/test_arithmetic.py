"""Arithmetic ops: + - * / neg ** %, clamp, maximum/minimum, where/masked_fill, and dtypes.

Each op: forward vs a NumPy formula, gradcheck and gradgradcheck in float64 over
Hypothesis shapes (broadcasting pairs for binary ops). PyTorch parity is in
tests/parity/test_ops_parity.py.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.testing import broadcastable_shapes, shapes, tensors
from minidl.testing.op_test import check_op


# ---- binary ops over broadcasting shape pairs ----
@given(broadcastable_shapes())
def test_add(pair):
    check_op(lambda a, b: a + b, pair, reference=np.add)


@given(broadcastable_shapes())
def test_add_alpha_and_radd(pair):
    check_op(lambda a, b: minidl.add(a, b, alpha=-2.5) + 1.5, pair,
             reference=lambda a, b: a - 2.5 * b + 1.5)
    check_op(lambda a: 3 + a, pair[:1], reference=lambda a: 3 + a)


@given(broadcastable_shapes())
def test_sub(pair):
    check_op(lambda a, b: a - b, pair, reference=np.subtract)
    check_op(lambda a, b: a.sub(b, alpha=2), pair, reference=lambda a, b: a - 2 * b)
    check_op(lambda a: 1 - a, pair[:1], reference=lambda a: 1 - a)


@given(broadcastable_shapes())
def test_mul(pair):
    check_op(lambda a, b: a * b, pair, reference=np.multiply)
    check_op(lambda a: 2.5 * a, pair[:1], reference=lambda a: 2.5 * a)


@given(broadcastable_shapes())
def test_div(pair):
    # the divisor stays away from 0, where 1/b has a pole
    check_op(lambda a, b: a / b, pair, reference=np.divide, min_abs=[0.0, 0.5])
    check_op(lambda b: 2 / b, pair[1:], reference=lambda b: 2 / b, min_abs=0.5)


@given(shapes())
def test_neg(shape):
    check_op(lambda x: -x, [shape], reference=np.negative)
    check_op(lambda x: x.neg(), [shape], reference=np.negative)


@given(shapes(), st.sampled_from([2, 3, 0.5, -1.5, 0]))
def test_pow_tensor_scalar(shape, exponent):
    check_op(lambda x: x ** exponent, [shape], reference=lambda x: x ** exponent,
             low=0.5, high=2.0)


@given(shapes(), st.sampled_from([2.0, 0.5, 3]))
def test_pow_scalar_tensor(shape, base):
    check_op(lambda x: base ** x, [shape], reference=lambda x: base ** x)


@given(broadcastable_shapes())
def test_pow_tensor_tensor(pair):
    check_op(lambda a, b: a ** b, pair, reference=np.power, low=[0.5, -2.0], high=[2.0, 2.0])
    check_op(lambda a, b: a.pow(b), pair, reference=np.power, low=[0.5, -2.0], high=[2.0, 2.0])


def test_pow_gradient_at_zero_base_is_zero_not_nan():
    # d(a^b)/da = b a^(b-1): 0 * 0^-1 must give 0 where b == 0, and d/db at a == 0 is 0
    a = minidl.tensor([0.0, 0.0, 2.0], dtype=minidl.float64, requires_grad=True)
    b = minidl.tensor([0.0, 2.0, 3.0], dtype=minidl.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        (a ** b).sum().backward()
    np.testing.assert_array_equal(a.grad.cpu().numpy(), [0.0, 0.0, 12.0])
    np.testing.assert_allclose(b.grad.cpu().numpy(), [0.0, 0.0, 8 * np.log(2)])
    x = minidl.tensor([0.0, 1.0], dtype=minidl.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 0.0])


@given(broadcastable_shapes())
def test_remainder(pair):
    # values chosen so that a / b stays away from integers (where floor jumps)
    def fn(a, b):
        return a % b
    a = np.random.default_rng(0).integers(-9, 9, pair[0]) + 0.3
    b = np.full(pair[1], 2.0)
    check_op(fn, [a, b], reference=np.remainder)


def test_remainder_follows_the_sign_of_the_divisor():
    x = minidl.tensor([5.0, -5.0, 5.0, -5.0])
    y = minidl.tensor([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal((x % y).cpu().numpy(), [2.0, 1.0, -1.0, -2.0])
    np.testing.assert_array_equal(minidl.remainder(minidl.tensor([5, -5]), 3).cpu().numpy(), [2, 1])


# ---- clamp, maximum, minimum, where, masked_fill ----
@given(shapes())
def test_clamp_min_only_max_only_and_both(shape):
    # inputs stay away from the bounds (+-0.5), where the gradient jumps
    check_op(lambda x: x.clamp(min=-0.5), [shape], min_abs=0.7,
             reference=lambda x: np.maximum(x, -0.5))
    check_op(lambda x: x.clamp(max=0.5), [shape], min_abs=0.7,
             reference=lambda x: np.minimum(x, 0.5))
    check_op(lambda x: minidl.clamp(x, -0.5, 0.5), [shape], min_abs=0.7,
             reference=lambda x: np.clip(x, -0.5, 0.5))
    check_op(lambda x: x.clip(-0.5, 0.5), [shape], min_abs=0.7,
             reference=lambda x: np.clip(x, -0.5, 0.5))


def test_clamp_gradient_is_one_inside_zero_outside():
    x = minidl.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0, 1, 1, 1, 0])


def test_clamp_with_tensor_bounds_gives_them_gradients():
    x = minidl.tensor([-2.0, 0.0, 2.0], dtype=minidl.float64, requires_grad=True)
    lo = minidl.tensor([-1.0, -1.0, -1.0], dtype=minidl.float64, requires_grad=True)
    hi = minidl.tensor(1.0, dtype=minidl.float64, requires_grad=True)
    y = minidl.clamp(x, lo, hi)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [-1.0, 0.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0, 1, 0])
    np.testing.assert_array_equal(lo.grad.cpu().numpy(), [1, 0, 0])
    assert hi.grad.item() == 1.0


@given(shapes())
def test_clamp_with_tensor_bounds(shape):
    # bounds in [-1, -0.5] and [0.5, 1]: x rarely lands within eps of them
    check_op(lambda x, lo, hi: minidl.clamp(x, lo, hi), [shape, shape[-1:], ()],
             low=[-2.0, -1.0, 0.5], high=[2.0, -0.5, 1.0],
             reference=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi))


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="clamp: at least one"):
        minidl.ones(3).clamp()


@given(broadcastable_shapes())
def test_maximum_minimum(pair):
    check_op(minidl.maximum, pair, reference=np.maximum)
    check_op(minidl.minimum, pair, reference=np.minimum)
    check_op(lambda a, b: a.maximum(b), pair, reference=np.maximum)
    check_op(lambda a, b: a.minimum(b), pair, reference=np.minimum)


def test_maximum_minimum_split_ties_evenly():
    a = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minidl.tensor([1.0, 3.0, 2.0], requires_grad=True)
    minidl.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.cpu().numpy(), [0.5, 0, 1])
    np.testing.assert_array_equal(b.grad.cpu().numpy(), [0.5, 1, 0])
    a.grad = b.grad = None
    minidl.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.cpu().numpy(), [0.5, 1, 0])
    np.testing.assert_array_equal(b.grad.cpu().numpy(), [0.5, 0, 1])


@given(broadcastable_shapes())
def test_where(pair):
    cond = np.random.default_rng(1).random(pair[0]) > 0.5
    check_op(minidl.where, [cond, pair[0], pair[1]], reference=np.where)
    check_op(lambda c, a: minidl.where(c, a, 0.5), [cond, pair[0]],
             reference=lambda c, a: np.where(c, a, 0.5))


@given(tensors(shape=shapes(max_dims=3)))
def test_masked_fill(x):
    mask = x.array > 0
    check_op(lambda x, m: x.masked_fill(m, -1.0), [x, mask],
             reference=lambda x, m: np.where(m, -1.0, x))
    value = minidl.tensor(2.0, dtype=minidl.float64, requires_grad=True)
    check_op(lambda x, m, v: minidl.masked_fill(x, m, v), [x, mask, value],
             reference=lambda x, m, v: np.where(m, v, x))


def test_masked_fill_keeps_the_dtype_of_the_tensor():
    x = minidl.tensor([1, 2, 3])
    y = x.masked_fill(minidl.tensor([True, False, True]), 2.5)
    assert y.dtype == minidl.int64
    np.testing.assert_array_equal(y.cpu().numpy(), [2, 2, 2])


def test_where_needs_a_bool_condition():
    with pytest.raises(RuntimeError, match="where: expected condition to be a boolean"):
        minidl.where(minidl.ones(3), minidl.ones(3), minidl.zeros(3))


def test_comparisons_and_logical_ops_give_bool_tensors_without_grad():
    a = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minidl.tensor([2.0, 2.0, 2.0])
    for result, expected in [(a < b, [1, 0, 0]), (a <= b, [1, 1, 0]), (a > b, [0, 0, 1]),
                             (a >= b, [0, 1, 1]), (a == b, [0, 1, 0]), (a != b, [1, 0, 1]),
                             ((a > 1) & (a < 3), [0, 1, 0]), ((a < 2) | (a > 2), [1, 0, 1]),
                             (~(a == b), [1, 0, 1])]:
        assert result.dtype == minidl.bool and not result.requires_grad
        np.testing.assert_array_equal(result.cpu().numpy(), np.array(expected, dtype=bool))


def test_floor_divide_has_no_gradient_and_floors():
    x = minidl.tensor([5.0, -5.0], requires_grad=True)
    y = x // 2
    np.testing.assert_array_equal(y.cpu().numpy(), [2.0, -3.0])
    assert not y.requires_grad
    assert (minidl.tensor([7, -7]) // 2).dtype == minidl.int64


# ---- dtypes: PyTorch's type promotion ----
def _t(values, dtype):
    return minidl.tensor(values, dtype=dtype)


@pytest.mark.parametrize("make, expected", [
    (lambda: minidl.tensor([1.5]) + 1, "float32"),                      # Python float: default
    (lambda: minidl.tensor([1]) + 1, "int64"),                          # Python int: int64
    (lambda: minidl.tensor([1, 2]) / minidl.tensor([3, 4]), "float32"),  # int / int -> float
    (lambda: minidl.tensor([1, 2]) / 2, "float32"),
    (lambda: 2 / minidl.tensor([1, 2]), "float32"),
    (lambda: minidl.tensor([1, 2]) + 2.5, "float32"),
    (lambda: 2.5 * minidl.tensor([1, 2]), "float32"),
    (lambda: minidl.tensor([1, 2]) ** 0.5, "float32"),
    (lambda: minidl.tensor([True]) + 1, "int64"),
    (lambda: minidl.tensor([True]) + 1.5, "float32"),
    (lambda: _t([1.0], "float32") + _t([1], "int64"), "float32"),        # float wins over int
    (lambda: _t([1.0], "float32") + _t([1.0], "float64"), "float64"),
    (lambda: _t([1.0], "float32") + _t(1.0, "float64"), "float32"),      # 0-d: lower rank
    (lambda: _t([1], "int32") + _t(1, "int64"), "int32"),
    (lambda: _t([1], "int32") + _t(1.0, "float64"), "float64"),          # ... unless a higher kind
    (lambda: _t(1.0, "float32") + _t(1.0, "float64"), "float64"),        # two 0-d tensors
    (lambda: _t([1.0], "float32") * np.float64(2.0), "float32"),        # NumPy scalars as numbers
    (lambda: _t([1], "int64") * np.float64(2.0), "float32"),
    (lambda: minidl.maximum(_t([1], "int64"), _t([1.0], "float32")), "float32"),
    (lambda: minidl.where(_t([True], "bool"), 1.0, _t([1], "int64")), "float32"),
    (lambda: minidl.where(_t([True], "bool"), 1.0, 0.0), "float32"),
    (lambda: minidl.where(_t([True], "bool"), 1, 0), "int64"),
    (lambda: _t([1, 2], "int64").clamp(min=0.5), "float32"),
    (lambda: _t([1, 2], "int64").clamp(min=0), "int64"),
    (lambda: minidl.tensor([7, 8]) % 3, "int64"),
])
def test_result_dtypes_follow_pytorch_promotion(make, expected):
    assert make().dtype == np.dtype(expected)


def test_result_type_matches_torch_result_type():
    from minidl.ops.arithmetic import result_type
    assert result_type(_t([1], "int32"), 2.5) == np.float32
    assert result_type(_t([1], "int8"), _t([1], "uint8")) == np.int16
    assert result_type(_t([1.0], "float16"), _t(1.0, "float64")) == np.float16
    assert result_type(True, _t([1], "bool")) == np.bool_


def test_promotion_casts_differentiably():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float32, requires_grad=True)
    y = minidl.tensor([3.0, 4.0], dtype=minidl.float64, requires_grad=True)
    z = x * y
    assert z.dtype == minidl.float64
    z.sum().backward()
    assert x.grad.dtype == minidl.float32 and y.grad.dtype == minidl.float64
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(y.grad.cpu().numpy(), [1.0, 2.0])


def test_zero_dim_arithmetic_gives_zero_dim_array_tensors():
    a, b = minidl.tensor(2.0), minidl.tensor(3.0)
    for result in (a + b, a - b, a * b, a / b, a ** b, -a, a % b, minidl.maximum(a, b),
                   a.clamp(0, 1), minidl.where(a > b, a, b)):
        assert result.shape == () and isinstance(result.array, np.ndarray), type(result.array)
