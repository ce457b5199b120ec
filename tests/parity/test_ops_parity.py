"""PyTorch parity of the core ops: forward values, dtypes and input gradients on identical
float64 inputs (float32 too for the extreme-value cases).

Each case is written once as `f(lib, *xs)` and run with lib = minidl and lib = torch, since
minidl mirrors PyTorch's API; `check_op` compares outputs and the gradients that one random
output gradient gives every input. Finite-difference checks live in tests/ops/.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.testing import assert_close, broadcastable_shapes, shapes
from minidl.testing.op_test import check_op

torch = pytest.importorskip("torch")
F_TORCH = torch.nn.functional


def functional(lib):
    """torch.nn.functional, or minidl's ops module holding the same functions."""
    return F_TORCH if lib is torch else minidl.ops


def parity(f, inputs, **kwargs):
    """Compare f(minidl, *xs) with f(torch, *xs) (forward, dtypes, input gradients)."""
    return check_op(lambda *xs: f(minidl, *xs), inputs, torch_fn=lambda *xs: f(torch, *xs),
                    gradcheck=False, gradgradcheck=False, **kwargs)


# name: (f(lib, *xs), input shapes or arrays, extra check_op arguments)
CASES = {
    # arithmetic
    "add": (lambda lib, a, b: a + b, [(3, 1, 4), (2, 4)], {}),
    "add alpha": (lambda lib, a, b: lib.add(a, b, alpha=-1.5), [(2, 3), (3,)], {}),
    "radd": (lambda lib, a: 2.5 + a, [(2, 3)], {}),
    "sub": (lambda lib, a, b: a - b, [(4, 1), (1, 5)], {}),
    "rsub": (lambda lib, a: 1 - a, [(3,)], {}),
    "mul": (lambda lib, a, b: a * b, [(2, 1, 3), (4, 1)], {}),
    "div": (lambda lib, a, b: a / b, [(3, 4), (4,)], {"min_abs": 0.5}),
    "rdiv": (lambda lib, b: 2 / b, [(3, 4)], {"min_abs": 0.5}),
    "neg": (lambda lib, a: -a, [(2, 3)], {}),
    "pow scalar": (lambda lib, a: a ** 3, [(2, 3)], {}),
    "pow fractional": (lambda lib, a: a ** 0.5, [(2, 3)], {"low": 0.5}),
    "pow zero exponent": (lambda lib, a: a ** 0, [np.array([0.0, 1.5, -2.0])], {}),
    "rpow": (lambda lib, a: 2.0 ** a, [(2, 3)], {}),
    "pow tensors": (lambda lib, a, b: a ** b, [(3, 1), (1, 4)], {"low": [0.5, -2.0]}),
    "pow zero base": (lambda lib, a, b: a ** b,
                      [np.array([0.0, 0.0, 2.0, 1.5]), np.array([0.0, 2.0, 3.0, -1.0])], {}),
    "remainder": (lambda lib, a, b: a % b, [np.array([[5.3, -5.3], [2.1, -0.7]]),
                                            np.array([3.0, -2.0])], {}),
    "clamp min": (lambda lib, a: a.clamp(min=-0.5), [(3, 4)], {}),
    "clamp max": (lambda lib, a: a.clamp(max=0.5), [(3, 4)], {}),
    "clamp both": (lambda lib, a: lib.clamp(a, -0.5, 0.5), [(3, 4)], {}),
    "clamp tensors": (lambda lib, a, lo, hi: lib.clamp(a, lo, hi),
                      [(3, 4), (4,), np.array(0.8)], {}),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), [(3, 1, 4), (2, 4)], {}),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), [(3, 4), (3, 1)], {}),
    "maximum ties": (lambda lib, a, b: lib.maximum(a, b),
                     [np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])], {}),
    "where": (lambda lib, c, a, b: lib.where(c, a, b),
              [np.array([[True, False, True]]), (2, 1), (2, 3)], {}),
    "where scalar": (lambda lib, c, a: lib.where(c, a, 0.5),
                     [np.array([True, False, True]), (2, 3)], {}),
    "masked_fill": (lambda lib, a, m: a.masked_fill(m, -2.0),
                    [(2, 3), np.array([[True, False, True], [False, False, True]])], {}),
    "masked_fill tensor value": (lambda lib, a, m, v: a.masked_fill(m, v),
                                 [(2, 3), np.array([True, False, True]), np.array(1.5)], {}),
    # elementwise
    "exp": (lambda lib, a: a.exp(), [(2, 3)], {}),
    "log": (lambda lib, a: lib.log(a), [(2, 3)], {"low": 0.1}),
    "log1p": (lambda lib, a: lib.log1p(a), [(2, 3)], {"low": -0.9}),
    "sqrt": (lambda lib, a: lib.sqrt(a), [(2, 3)], {"low": 0.1}),
    "rsqrt": (lambda lib, a: lib.rsqrt(a), [(2, 3)], {"low": 0.1}),
    "sin": (lambda lib, a: lib.sin(a), [(2, 3)], {}),
    "cos": (lambda lib, a: a.cos(), [(2, 3)], {}),
    "abs": (lambda lib, a: lib.abs(a), [np.array([-1.5, 0.0, 2.0])], {}),
    "to float32": (lambda lib, a: a.to(lib.float32) * 2, [(2, 3)], {"rtol": 1e-6}),
    "double of float32": (lambda lib, a: a.float().double() ** 2, [(3,)], {}),
    "clone": (lambda lib, a: a.clone() * a, [(2, 3)], {}),
    # activations
    "relu": (lambda lib, a: lib.relu(a), [np.array([-1.0, 0.0, 2.0])], {}),
    "leaky_relu": (lambda lib, a: functional(lib).leaky_relu(a, 0.2), [(3, 4)], {}),
    "sigmoid": (lambda lib, a: lib.sigmoid(a), [(3, 4)], {}),
    "tanh": (lambda lib, a: lib.tanh(a), [(3, 4)], {}),
    "softmax": (lambda lib, a: lib.softmax(a, -1), [(2, 3, 4)], {}),
    "softmax dim 0": (lambda lib, a: a.softmax(0), [(2, 3, 4)], {}),
    "log_softmax": (lambda lib, a: lib.log_softmax(a, 1), [(2, 3, 4)], {}),
    # reductions
    "sum": (lambda lib, a: a.sum(), [(2, 3)], {}),
    "sum dims keepdim": (lambda lib, a: a.sum((0, -1), keepdim=True), [(2, 3, 4)], {}),
    "mean": (lambda lib, a: a.mean(-2), [(2, 3, 4)], {}),
    "var": (lambda lib, a: a.var(), [(3, 4)], {}),
    "var dims": (lambda lib, a: a.var((0, 2), keepdim=True), [(2, 3, 4)], {}),
    "var correction 0": (lambda lib, a: a.var(1, correction=0), [(3, 4)], {}),
    "var unbiased false": (lambda lib, a: a.var(-1, unbiased=False), [(3, 4)], {}),
    "std": (lambda lib, a: lib.std(a, -1, keepdim=True), [(3, 4)], {}),
    "std correction 0": (lambda lib, a: a.std(correction=0), [(3, 4)], {}),
    "max": (lambda lib, a: a.max(), [(3, 4)], {}),
    "max ties": (lambda lib, a: a.max(), [np.array([[1.0, 3.0], [3.0, 0.0]])], {}),
    "max dim": (lambda lib, a: a.max(-1), [(3, 4)], {}),
    "max dim keepdim": (lambda lib, a: lib.max(a, 0, keepdim=True), [(3, 4)], {}),
    "max elementwise": (lambda lib, a, b: lib.max(a, b), [(3, 4), (4,)], {}),
    "min": (lambda lib, a: lib.min(a), [(3, 4)], {}),
    "min dim": (lambda lib, a: a.min(dim=1), [(3, 4)], {}),
    "min elementwise": (lambda lib, a, b: a.min(b), [(3, 1), (4,)], {}),
    "amax": (lambda lib, a: a.amax((0, -1)), [(2, 3, 4)], {}),
    "amax ties": (lambda lib, a: lib.amax(a, 1), [np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])],
                  {}),
    "amin": (lambda lib, a: lib.amin(a, -1, keepdim=True), [(2, 3, 4)], {}),
    "argmax": (lambda lib, a: a.argmax(), [(3, 4)], {}),
    "argmax dim": (lambda lib, a: lib.argmax(a, -1, keepdim=True), [(3, 4)], {}),
    "argmin dim": (lambda lib, a: a.argmin(0), [(3, 4)], {}),
    "logsumexp": (lambda lib, a: lib.logsumexp(a, -1), [(3, 4)], {}),
    "logsumexp dims": (lambda lib, a: a.logsumexp((0, 2), keepdim=True), [(2, 3, 4)], {}),
    "norm": (lambda lib, a: a.norm(), [(3, 4)], {}),
    "norm zero": (lambda lib, a: a.norm(), [np.zeros(3)], {}),
    "norm p1 dim": (lambda lib, a: a.norm(1, -1), [(3, 4)], {"min_abs": 0.1}),
    "norm p3 dims": (lambda lib, a: lib.norm(a, 3, (0, 1), keepdim=True), [(3, 4)], {}),
    "norm inf": (lambda lib, a: a.norm(float("inf"), 0), [(3, 4)], {}),
    "norm fro": (lambda lib, a: a.norm("fro"), [(3, 4)], {}),
    "prod": (lambda lib, a: a.prod(), [(2, 3)], {}),
    "prod dim": (lambda lib, a: a.prod(-1, keepdim=True), [(2, 3)], {}),
    "prod zeros": (lambda lib, a: a.prod(1), [np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0]])],
                   {}),
    # shapes
    "reshape": (lambda lib, a: a.reshape(4, -1), [(2, 3, 2)], {}),
    "view": (lambda lib, a: a.view(-1), [(2, 3)], {}),
    "flatten": (lambda lib, a: lib.flatten(a, 1), [(2, 3, 4)], {}),
    "flatten mid": (lambda lib, a: a.flatten(-3, -2), [(2, 3, 4, 1)], {}),
    "squeeze": (lambda lib, a: a.squeeze(), [(1, 3, 1)], {}),
    "squeeze dim": (lambda lib, a: lib.squeeze(a, -1), [(1, 3, 1)], {}),
    "unsqueeze": (lambda lib, a: a.unsqueeze(-2), [(2, 3)], {}),
    "permute": (lambda lib, a: a.permute(2, 0, 1), [(2, 3, 4)], {}),
    "permute negative": (lambda lib, a: lib.permute(a, (-1, -3, -2)), [(2, 3, 4)], {}),
    "transpose": (lambda lib, a: a.transpose(-1, 0), [(2, 3, 4)], {}),
    "t": (lambda lib, a: a.t(), [(2, 3)], {}),
    "T": (lambda lib, a: a.T, [(2, 3)], {}),
    "mT": (lambda lib, a: a.mT, [(2, 3, 4)], {}),
    "expand": (lambda lib, a: a.expand(2, 3, 4), [(3, 1)], {}),
    "expand -1": (lambda lib, a: a.expand(5, -1, -1), [(3, 1)], {}),
    "repeat": (lambda lib, a: a.repeat(2, 1, 3), [(2, 3)], {}),
    "cat": (lambda lib, a, b: lib.cat([a, b], -1), [(2, 3), (2, 1)], {}),
    "stack": (lambda lib, a, b: lib.stack([a, b], 1), [(2, 3), (2, 3)], {}),
    "split": (lambda lib, a: a.split(2, -1), [(2, 5)], {}),
    "split sizes": (lambda lib, a: lib.split(a, [1, 3], 0), [(4, 2)], {}),
    "chunk": (lambda lib, a: a.chunk(3, 1), [(2, 5)], {}),
    "pad": (lambda lib, a: functional(lib).pad(a, (1, 2, 0, 1), value=-1.0), [(2, 3)], {}),
    # linear algebra
    "matmul 1d 1d": (lambda lib, a, b: a @ b, [(4,), (4,)], {}),
    "matmul 2d 1d": (lambda lib, a, b: lib.matmul(a, b), [(3, 4), (4,)], {}),
    "matmul 1d 2d": (lambda lib, a, b: a @ b, [(4,), (4, 2)], {}),
    "matmul 2d 2d": (lambda lib, a, b: a @ b, [(3, 4), (4, 2)], {}),
    "matmul batched": (lambda lib, a, b: a.matmul(b), [(2, 3, 4), (2, 4, 5)], {}),
    "matmul broadcast batched": (lambda lib, a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], {}),
    "matmul 1d batched": (lambda lib, a, b: a @ b, [(4,), (2, 4, 5)], {}),
    "linear": (lambda lib, x, w, b: functional(lib).linear(x, w, b), [(5, 3), (4, 3), (4,)],
               {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_pytorch(name):
    f, inputs, kwargs = CASES[name]
    with np.errstate(all="ignore"):
        parity(f, inputs, **kwargs)


# ---- indexing ----
INDEXES = {
    "int": lambda lib: (1,),
    "negative int": lambda lib: (-1, 2),
    "slices": lambda lib: (slice(1, None), slice(None, None, 2)),
    "None and Ellipsis": lambda lib: (None, Ellipsis, 0),
    "index array with repeats": lambda lib: (lib.tensor([0, 2, 0, 0]),),
    "paired index arrays": lambda lib: (lib.tensor([0, 0, 1]), lib.tensor([1, 1, 3])),
    "index array after slice": lambda lib: (slice(None), lib.tensor([[3, 3], [0, 1]])),
    "arrays split by a slice": lambda lib: (lib.tensor([1, 0]), slice(None), lib.tensor([0, 0])),
    "bool mask": lambda lib: (lib.tensor(np.arange(3 * 4 * 5).reshape(3, 4, 5) % 3 == 0),),
    "bool row mask": lambda lib: (lib.tensor([True, False, True]),),
    "0-d tensor index": lambda lib: (lib.tensor(2), lib.tensor(1)),
}


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_getitem_matches_pytorch(name):
    parity(lambda lib, x: x[INDEXES[name](lib)], [(3, 4, 5)])


def test_negative_step_matches_torch_flip():
    check_op(lambda x: x[:, ::-1] * x, [(3, 4)],
             torch_fn=lambda x: torch.flip(x, (1,)) * x, gradcheck=False, gradgradcheck=False)


SETITEMS = {
    "int": (lambda lib: (1,), (5,)),
    "slices": (lambda lib: (slice(1, None), slice(None, None, 2)), (1, 5)),
    "None and Ellipsis": (lambda lib: (None, Ellipsis, 0), (1,)),
    "index array": (lambda lib: (lib.tensor([0, 2]),), (4, 5)),
    "repeated index array": (lambda lib: (lib.tensor([0, 2, 0]),), (1, 1, 5)),
    "paired index arrays": (lambda lib: (lib.tensor([0, 1]), lib.tensor([1, 3])), (2, 5)),
    "bool mask": (lambda lib: (lib.tensor(np.arange(60).reshape(3, 4, 5) % 3 == 0),), ()),
}


@pytest.mark.parametrize("name", sorted(SETITEMS))
def test_setitem_on_a_non_leaf_matches_pytorch(name):
    index, value_shape = SETITEMS[name]

    def f(lib, x, v):
        y = x * 2
        y[index(lib)] = v       # differentiable for x (where not overwritten) and for v
        return y * x
    parity(f, [(3, 4, 5), value_shape])


# ---- Hypothesis: broadcasting and reductions ----
@given(broadcastable_shapes())
def test_broadcasting_binary_ops_match_pytorch(pair):
    parity(lambda lib, a, b: (a + b) * a - b / (b * b + 1) + lib.maximum(a, b) ** 2, pair)


def dims_for(ndim: int):
    one = st.integers(0, ndim - 1).flatmap(lambda d: st.sampled_from([d, d - ndim]))
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds]))
    return st.one_of(one, many)


@given(st.data())
def test_reductions_over_dims_match_pytorch(data):
    shape = data.draw(shapes(min_side=2))
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    parity(lambda lib, x: (x.sum(dim, keepdim), x.mean(dim, keepdim),
                           x.var(dim, keepdim=keepdim), x.std(dim, correction=0, keepdim=keepdim),
                           x.amax(dim, keepdim), x.amin(dim, keepdim),
                           lib.logsumexp(x, dim, keepdim), x.norm(2, dim, keepdim)), [shape])


@given(st.data())
def test_single_dim_reductions_match_pytorch(data):
    shape = data.draw(shapes())
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    parity(lambda lib, x: (*x.max(dim, keepdim), *x.min(dim, keepdim),
                           x.argmax(dim, keepdim), x.softmax(dim), x.log_softmax(dim),
                           x.prod(dim, keepdim)), [shape], low=0.5, high=1.5)


# ---- extreme values ----
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid", "logsumexp", "tanh"])
def test_extreme_values_match_pytorch_without_nan_or_inf(name, dtype):
    values = np.array([[1000.0, -1000.0, 0.0, 3.0], [-1000.0, -1000.0, 1000.0, 1000.0]],
                      dtype=dtype)
    fns = {"softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(1),
           "sigmoid": lambda x: x.sigmoid(), "logsumexp": lambda x: x.logsumexp(-1),
           "tanh": lambda x: x.tanh()}
    # float32 at 1000 resolves 6e-5: torch's logsumexp gradient exp(x - lse) carries that
    tol = {} if dtype == "float64" else {"rtol": 1e-4 if name == "logsumexp" else 1e-6,
                                          "atol": 1e-6}
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        check_op(fns[name], [minidl.tensor(values, requires_grad=True)], torch_fn=fns[name],
                 gradcheck=False, gradgradcheck=False, **tol)
        x = minidl.tensor(values, requires_grad=True)
        y = fns[name](x)
        (y * minidl.tensor(np.arange(y.numel()).reshape(y.shape), dtype=dtype)).sum().backward()
    assert np.isfinite(y.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


# ---- semantics: dtypes and 0-d results ----
PROMOTIONS = {
    "int + float": lambda lib: lib.tensor([1, 2]) + 2.5,
    "int + int": lambda lib: lib.tensor([1, 2]) + 2,
    "int / int": lambda lib: lib.tensor([1, 2]) / lib.tensor([3, 4]),
    "int / number": lambda lib: 2 / lib.tensor([1, 2]),
    "int ** float": lambda lib: lib.tensor([1, 2]) ** 0.5,
    "bool + int": lambda lib: lib.tensor([True]) + 1,
    "bool + float": lambda lib: lib.tensor([True]) * 1.5,
    "float32 + int64": lambda lib: lib.ones(2) + lib.tensor([1, 2]),
    "float32 + float64": lambda lib: lib.ones(2) + lib.ones(2, dtype=lib.float64),
    "float32 + 0-d float64": lambda lib: lib.ones(2) + lib.tensor(1.0, dtype=lib.float64),
    "int32 + 0-d int64": lambda lib: lib.ones(2, dtype=lib.int32) + lib.tensor(3),
    "int32 + 0-d float64": lambda lib: lib.ones(2, dtype=lib.int32) + lib.tensor(
        1.0, dtype=lib.float64),
    "0-d + 0-d": lambda lib: lib.tensor(1.0) + lib.tensor(2.0, dtype=lib.float64),
    "int8 + uint8": lambda lib: lib.ones(2, dtype=lib.int8) + lib.ones(2, dtype=lib.uint8),
    "float16 * number": lambda lib: lib.ones(2, dtype=lib.float16) * 3.0,
    "float * numpy float64": lambda lib: lib.ones(2) * np.float64(2.0),
    "int where float": lambda lib: lib.where(lib.tensor([True, False]), 1.0, lib.tensor([1, 2])),
    "where numbers": lambda lib: lib.where(lib.tensor([True, False]), 1.0, 0.0),
    "int clamp float": lambda lib: lib.tensor([1, 2]).clamp(min=0.5),
    "int masked_fill float": lambda lib: lib.tensor([1, 2]).masked_fill(
        lib.tensor([True, False]), 2.5),
    "cat float32 int64": lambda lib: lib.cat([lib.ones(2), lib.tensor([1, 2])]),
    "sum of bool": lambda lib: lib.tensor([True, True]).sum(),
    "sum of int32": lambda lib: lib.ones(2, dtype=lib.int32).sum(),
    "exp of int": lambda lib: lib.tensor([1, 2]).exp(),
    "sigmoid of int": lambda lib: lib.tensor([1, 2]).sigmoid(),
    "abs of int": lambda lib: lib.tensor([-1, 2]).abs(),
    "remainder int": lambda lib: lib.tensor([-5, 5]) % 3,
    "floor_divide float": lambda lib: lib.tensor([-5.0, 5.0]) // 2,
    "arange int": lambda lib: lib.arange(4),
    "arange float": lambda lib: lib.arange(0, 1, 0.25),
    "full int": lambda lib: lib.full((2,), 3),
    "full float": lambda lib: lib.full((2,), 3.0),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "eye": lambda lib: lib.eye(2),
    "tensor python float": lambda lib: lib.tensor([1.0, 2.0]),
    "tensor numpy float64": lambda lib: lib.tensor(np.array([1.0, 2.0])),
    "argmax": lambda lib: lib.tensor([1.0, 3.0]).argmax(),
}


@pytest.mark.parametrize("name", sorted(PROMOTIONS))
def test_result_dtype_and_values_match_pytorch(name):
    ours, theirs = PROMOTIONS[name](minidl), PROMOTIONS[name](torch)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert ours.shape == tuple(theirs.shape)
    assert_close(ours, theirs)


@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2, 3).sum(), lambda lib: lib.ones(2, 3).mean(),
    lambda lib: lib.tensor(2.0) + lib.tensor(3.0), lambda lib: lib.tensor(2.0) * 3,
    lambda lib: lib.ones(3) @ lib.ones(3), lambda lib: lib.ones(2, 3)[1, 2],
    lambda lib: lib.tensor([1.0, 2.0]).max(), lambda lib: lib.tensor([1.0, 2.0]).argmax(),
    lambda lib: lib.tensor([1.0, 2.0]).norm(), lambda lib: lib.tensor(4.0).sqrt(),
], ids=["sum", "mean", "0-d add", "0-d mul", "dot", "getitem", "max", "argmax", "norm", "sqrt"])
def test_zero_dim_results_are_zero_dim_arrays_like_pytorchs(make):
    ours, theirs = make(minidl), make(torch)
    assert ours.shape == tuple(theirs.shape) == ()
    assert isinstance(ours.array, np.ndarray) and ours.array.ndim == 0
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_sums_and_a_conv_bias_gradient_match_torch(dtype):
    # above ops.reduction.SUM_KERNEL_MIN: these sums run the Numba kernel when it is on
    rng = np.random.default_rng(3)
    x_np = rng.random((8, 32, 28, 28)).astype(dtype)
    g_np = rng.standard_normal((8, 32, 28, 28)).astype(dtype)
    w_np = rng.standard_normal((32, 16, 3, 3)).astype(dtype)
    u_np = rng.standard_normal((8, 16, 28, 28)).astype(dtype)
    results = {}
    for lib in (minidl, torch):
        x = lib.tensor(x_np)
        b = lib.zeros(32, dtype=getattr(lib, dtype), requires_grad=True)
        y = functional(lib).conv2d(lib.tensor(u_np), lib.tensor(w_np), b, padding=1)
        y.backward(lib.tensor(g_np))
        results[lib] = [x.sum(), x.sum((0, 2, 3)), x.mean((0, 2, 3), keepdim=True), b.grad]
    # the bias gradient sums 6 272 values of about 1 in float32: PyTorch's (oneDNN's) is
    # 2.5e-4 off the exact sum here, minidl's (accumulated in float64) 6e-6
    tol = dict(rtol=2e-6, atol=1e-3) if dtype == "float32" else dict(rtol=1e-12, atol=1e-9)
    for ours, theirs in zip(results[minidl], results[torch]):
        assert_close(ours, theirs, **tol)
    if minidl.kernels.numba_enabled():                  # NumPy's own sum is 2.1e-5 off
        exact = g_np.astype(np.float64).sum((0, 2, 3))
        assert_close(results[minidl][-1], exact.astype(dtype), rtol=0,
                     atol=1e-5 if dtype == "float32" else 1e-9)
