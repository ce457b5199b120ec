"""Every public function takes PyTorch's keyword names (input=, other=, mat2=, tensors=,
size=...) and the NumPy aliases PyTorch accepts (axis=, keepdims=), on minidl as on torch:
each call below runs on both and gives the same values."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import minidl

torch = pytest.importorskip("torch")
import torch.nn.functional  # noqa: E402,F401


def _cases(torch):  # noqa: C901 (a table)
    x = torch.ones(2, 3); y = torch.ones(2, 3); m = torch.ones(3, 2); v = torch.ones(3)
    return {
    "add": lambda: torch.add(input=x, other=y, alpha=2),
    "sub": lambda: torch.sub(input=x, other=y),
    "mul": lambda: torch.mul(input=x, other=y),
    "div": lambda: torch.div(input=x, other=y, rounding_mode="floor"),
    "pow": lambda: torch.pow(input=x, exponent=2),
    "matmul": lambda: torch.matmul(input=x, other=m),
    "mm": lambda: torch.mm(input=x, mat2=m),
    "bmm": lambda: torch.bmm(input=x[None], mat2=m[None]),
    "mv": lambda: torch.mv(input=x, vec=v),
    "dot": lambda: torch.dot(input=v, tensor=v),
    "sum_axis": lambda: torch.sum(x, axis=0),
    "sum_kw": lambda: torch.sum(input=x, dim=1, keepdim=True),
    "sum_keepdims": lambda: torch.sum(x, 0, keepdims=True),
    "mean_axis": lambda: torch.mean(x, axis=1),
    "m_sum_axis": lambda: x.sum(axis=0),
    "m_mean_axis": lambda: x.mean(axis=0, keepdim=True),
    "max_dim": lambda: torch.max(input=x, dim=1, keepdim=True),
    "max_axis": lambda: x.max(axis=1),
    "argmax": lambda: torch.argmax(input=x, dim=1),
    "argmax_axis": lambda: x.argmax(axis=1),
    "cat": lambda: torch.cat(tensors=[x, y], dim=0),
    "cat_axis": lambda: torch.cat([x, y], axis=1),
    "stack": lambda: torch.stack(tensors=[x, y], dim=1),
    "exp": lambda: torch.exp(input=x),
    "relu": lambda: torch.relu(input=x),
    "softmax": lambda: torch.softmax(input=x, dim=1),
    "softmax_axis": lambda: torch.softmax(x, axis=1),
    "log_softmax": lambda: torch.log_softmax(input=x, dim=1),
    "clamp": lambda: torch.clamp(input=x, min=0, max=1),
    "where": lambda: torch.where(condition=x > 0, input=x, other=y),
    "eq": lambda: torch.eq(input=x, other=y),
    "gt": lambda: torch.gt(input=x, other=0.5),
    "reshape": lambda: torch.reshape(input=x, shape=(3, 2)),
    "flatten": lambda: torch.flatten(input=x, start_dim=0),
    "transpose": lambda: torch.transpose(input=x, dim0=0, dim1=1),
    "permute": lambda: torch.permute(input=x, dims=(1, 0)),
    "squeeze": lambda: torch.squeeze(input=x[None], dim=0),
    "unsqueeze": lambda: torch.unsqueeze(input=x, dim=0),
    "m_unsqueeze": lambda: x.unsqueeze(dim=0),
    "m_reshape": lambda: x.reshape(shape=(3, 2)),
    "m_transpose": lambda: x.transpose(dim0=0, dim1=1),
    "std_dim": lambda: torch.std(input=x, dim=1),
    "var_axis": lambda: x.var(axis=1),
    "norm": lambda: torch.norm(input=x, p=2, dim=1),
    "split": lambda: torch.split(tensor=x, split_size_or_sections=1, dim=0),
    "chunk": lambda: torch.chunk(input=x, chunks=2, dim=1),
    "gather": lambda: torch.gather(input=x, dim=1, index=torch.zeros(2, 1, dtype=torch.long)),
    "index_select": lambda: torch.index_select(input=x, dim=0, index=torch.tensor([0])),
    "masked_fill": lambda: x.masked_fill(mask=x > 0, value=2.0),
    "m_add": lambda: x.add(other=y, alpha=2),
    "m_mul": lambda: x.mul(other=y),
    "m_matmul": lambda: x.matmul(other=m),
    "m_eq": lambda: x.eq(other=y),
    "m_pow": lambda: x.pow(exponent=2),
    "m_clamp": lambda: x.clamp(min=0.5),
    "m_repeat": lambda: x.repeat(2, 1),
    "m_to": lambda: x.to(dtype=torch.float64),
    "m_topk": lambda: x.topk(k=1, dim=1),
    "topk": lambda: torch.topk(input=x, k=1, dim=1, largest=True),
    "sort": lambda: torch.sort(input=x, dim=1, descending=True),
    "cumsum": lambda: torch.cumsum(input=x, dim=1),
    "cumsum_axis": lambda: x.cumsum(axis=1),
    "prod": lambda: torch.prod(input=x, dim=1),
    "logsumexp": lambda: torch.logsumexp(input=x, dim=1),
    "maximum": lambda: torch.maximum(input=x, other=y),
    "abs": lambda: torch.abs(input=x),
    "sqrt": lambda: torch.sqrt(input=x),
    "tanh": lambda: torch.tanh(input=x),
    "sigmoid": lambda: torch.sigmoid(input=x),
    "einsum": lambda: torch.einsum("ij,jk->ik", x, m),
    "outer": lambda: torch.outer(input=v, vec2=v),
    "tril": lambda: torch.tril(input=x, diagonal=0),
    "flip": lambda: torch.flip(input=x, dims=(0,)),
    "roll": lambda: torch.roll(input=x, shifts=1, dims=0),
    "zeros_like": lambda: torch.zeros_like(input=x),
    "full": lambda: torch.full(size=(2,), fill_value=3.0),
    "zeros_size": lambda: torch.zeros(size=(2, 3)),
    "arange": lambda: torch.arange(start=0, end=4, step=2),
    "linspace": lambda: torch.linspace(start=0, end=1, steps=3),
    "randn_size": lambda: torch.randn(size=(2,)),
    "tensor": lambda: torch.tensor(data=[1.0]),
    "amax": lambda: torch.amax(input=x, dim=1),
    "amax_axis": lambda: torch.amax(x, axis=1),
    "any": lambda: torch.any(input=x > 0, dim=1),
    "all": lambda: x.all(dim=0),
    "numel": lambda: torch.numel(input=x),
    "t": lambda: torch.t(input=x),
    "clone": lambda: torch.clone(input=x),
    "F_linear": lambda: torch.nn.functional.linear(input=x, weight=torch.ones(4, 3), bias=None),
    "F_relu": lambda: torch.nn.functional.relu(input=x),
    "F_softmax": lambda: torch.nn.functional.softmax(input=x, dim=1),
    "F_ce": lambda: torch.nn.functional.cross_entropy(input=x, target=torch.tensor([0, 1])),
    "F_mse": lambda: torch.nn.functional.mse_loss(input=x, target=y),
    "F_dropout": lambda: torch.nn.functional.dropout(input=x, p=0.0),
    "F_conv2d": lambda: torch.nn.functional.conv2d(input=torch.ones(1, 1, 3, 3), weight=torch.ones(1, 1, 2, 2)),
    "F_max_pool2d": lambda: torch.nn.functional.max_pool2d(input=torch.ones(1, 1, 4, 4), kernel_size=2),
    "F_pad": lambda: torch.nn.functional.pad(input=x, pad=(1, 1)),
    "F_log_softmax": lambda: torch.nn.functional.log_softmax(input=x, dim=1),
    "F_nll": lambda: torch.nn.functional.nll_loss(input=x, target=torch.tensor([0, 1])),
    "F_bce": lambda: torch.nn.functional.binary_cross_entropy(input=torch.sigmoid(x), target=y),
    "F_layer_norm": lambda: torch.nn.functional.layer_norm(input=x, normalized_shape=(3,)),
    "F_embedding": lambda: torch.nn.functional.embedding(input=torch.tensor([0]), weight=x),
    "F_gelu": lambda: torch.nn.functional.gelu(input=x),
    "F_normalize": lambda: torch.nn.functional.normalize(input=x, dim=1),
    }


CASES = sorted(_cases(torch))


def _values(out):
    if isinstance(out, (tuple, list)):
        return [_values(o) for o in out]
    if hasattr(out, "detach"):
        return np.asarray(out.detach().numpy(), dtype=np.float64)
    return np.asarray(out, dtype=np.float64)


@pytest.mark.parametrize("name", CASES)
def test_a_call_with_pytorchs_keywords_gives_pytorchs_values(name):
    import minidl.nn.functional  # noqa: F401
    minidl.manual_seed(0)
    ours, theirs = _values(_cases(minidl)[name]()), _values(_cases(torch)[name]())
    _same(ours, theirs, shape_only=name.startswith("randn"))


def _same(ours, theirs, shape_only=False):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t, shape_only)
    elif shape_only:
        assert np.shape(ours) == np.shape(theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_signatures_show_pytorchs_names():
    assert list(inspect.signature(minidl.add).parameters)[:2] == ["input", "other"]
    assert list(inspect.signature(minidl.mm).parameters)[:2] == ["input", "mat2"]
    assert "dim" in inspect.signature(minidl.sum).parameters


def test_one_argument_given_twice_is_an_error():
    x = minidl.ones(2, 3)
    with pytest.raises(TypeError, match="sum\\(\\) got both 'axis' and 'dim'"):
        minidl.sum(x, axis=0, dim=0)
    with pytest.raises(TypeError, match="zeros\\(\\) got sizes both as arguments and as size="):
        minidl.zeros(2, size=(2,))


def test_div_rounding_modes_are_pytorchs():
    for a, b in [([7, -7, 6], [2, 2, -4]), ([7.5, -7.5, 1.0], [2.0, 2.0, -0.3])]:
        for mode in ("trunc", "floor", None):
            ours = minidl.div(minidl.tensor(a), minidl.tensor(b), rounding_mode=mode)
            theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
            assert str(ours.dtype) == str(theirs.dtype)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        minidl.div(minidl.ones(1), 2, rounding_mode="round")


def test_all_and_any_take_a_dim_as_pytorchs():
    a = np.array([[True, False], [True, True]])
    for dim in (None, 0, 1, -1):
        for keepdim in (False, True):
            kw = {} if dim is None else dict(dim=dim, keepdim=keepdim)
            for fn in ("all", "any"):
                ours = getattr(minidl, fn)(minidl.tensor(a), **kw)
                theirs = getattr(torch, fn)(torch.tensor(a), **kw)
                assert ours.shape == tuple(theirs.shape)
                assert np.array_equal(ours.numpy(), theirs.numpy())
