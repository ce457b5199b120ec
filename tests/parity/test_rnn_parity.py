"""Recurrent layers, Embedding and packed sequences against PyTorch: outputs, final states,
input and every parameter gradient, from the same state dict; plus gradchecks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from minidl.autograd import gradcheck, gradgradcheck  # noqa: E402
from minidl.nn.utils.rnn import (pack_padded_sequence, pad_packed_sequence,  # noqa: E402
                                 pad_sequence)

RNG = np.random.default_rng(0)


def _pair(cls, *args, **kwargs):
    ours = getattr(nn, cls)(*args, **kwargs).double()
    theirs = getattr(torch.nn, cls)(*args, **kwargs).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _flat(out):
    if isinstance(out, tuple):
        return [t for o in out for t in _flat(o)]
    return [out.data if hasattr(out, "batch_sizes") else out]


def _check(ours, theirs, args_ours, args_theirs, tol=1e-12):
    outs_m, outs_t = _flat(ours(*args_ours)), _flat(theirs(*args_theirs))
    assert len(outs_m) == len(outs_t)
    for a, b in zip(outs_m, outs_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    weights = [RNG.standard_normal(tuple(b.shape)) for b in outs_t]
    sum((a * minidl.tensor(w)).sum() for a, w in zip(outs_m, weights)).backward()
    sum((b * torch.tensor(w)).sum() for b, w in zip(outs_t, weights)).backward()
    for (name, p), (name_t, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=tol,
                                   err_msg=name)
    for a, b in zip(args_ours, args_theirs):
        if isinstance(a, minidl.Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=tol)


def _inputs(shape):
    x = RNG.standard_normal(shape)
    return minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True},
                                     {"batch_first": True, "num_layers": 3},
                                     {"bias": False, "bidirectional": True}])
def test_sequence_layers_match(cls, options):
    ours, theirs = _pair(cls, 3, 5, **options)
    xm, xt = _inputs((4, 2, 3))
    _check(ours, theirs, (xm,), (xt,))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_given_initial_state_and_unbatched_input(cls):
    ours, theirs = _pair(cls, 3, 4, num_layers=2)
    hm, ht = _inputs((2, 2, 4))
    xm, xt = _inputs((5, 2, 3))
    if cls == "LSTM":
        cm, ct = _inputs((2, 2, 4))
        _check(ours, theirs, (xm, (hm, cm)), (xt, (ht, ct)))
    else:
        _check(ours, theirs, (xm, hm), (xt, ht))
    ours2, theirs2 = _pair(cls, 3, 4)
    xm, xt = _inputs((5, 3))                        # unbatched (L, H_in)
    _check(ours2, theirs2, (xm,), (xt,))


def test_rnn_relu_matches():
    ours, theirs = _pair("RNN", 3, 4, nonlinearity="relu", num_layers=2)
    xm, xt = _inputs((4, 2, 3))
    _check(ours, theirs, (xm,), (xt,))


@pytest.mark.parametrize("cls,args", [("LSTMCell", (3, 5)), ("GRUCell", (3, 5)),
                                      ("RNNCell", (3, 5)), ("RNNCell", (3, 5, True, "relu"))])
def test_cells_match(cls, args):
    ours, theirs = _pair(cls, *args)
    xm, xt = _inputs((4, 3))
    _check(ours, theirs, (xm,), (xt,))
    xm, xt = _inputs((3,))                          # unbatched
    _check(ours, theirs, (xm,), (xt,))


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_packed_sequences_match(cls):
    ours, theirs = _pair(cls, 3, 4, bidirectional=True, batch_first=True, num_layers=2)
    lengths = [2, 5, 3, 5]
    xm, xt = _inputs((4, 5, 3))
    pm = pack_padded_sequence(xm, lengths, batch_first=True, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=True,
                                                 enforce_sorted=False)
    out_m, out_t = ours(pm), theirs(pt)
    hm, ht = (out_m[1][0], out_t[1][0]) if cls == "LSTM" else (out_m[1], out_t[1])
    np.testing.assert_allclose(hm.detach().numpy(), ht.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    padded_m, len_m = pad_packed_sequence(out_m[0], batch_first=True)
    padded_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t[0], batch_first=True)
    np.testing.assert_allclose(padded_m.detach().numpy(), padded_t.detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    assert len_m.tolist() == len_t.tolist()
    (padded_m.sum() + (hm * hm).sum()).backward()
    (padded_t.sum() + (ht * ht).sum()).backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=n)


def test_pad_and_pack_round_trip_like_pytorch():
    seqs = [RNG.standard_normal((n, 2)) for n in (2, 4, 3)]
    for first in (False, True):
        ours = pad_sequence([minidl.tensor(s) for s in seqs], batch_first=first,
                            padding_value=-1.0)
        theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                                 batch_first=first, padding_value=-1.0)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    pm = pack_padded_sequence(minidl.tensor(theirs.numpy()), [2, 4, 3], batch_first=True,
                              enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(theirs, [2, 4, 3], batch_first=True,
                                                 enforce_sorted=False)
    np.testing.assert_array_equal(pm.data.numpy(), pt.data.numpy())
    assert pm.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pm.sorted_indices.tolist() == pt.sorted_indices.tolist()
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(minidl.zeros(3, 2), [1, 2])


def test_embedding_matches_with_padding_and_repeats():
    ours = nn.Embedding(6, 3, padding_idx=1).double()
    theirs = torch.nn.Embedding(6, 3, padding_idx=1).double()
    assert np.all(ours.weight.detach().numpy()[1] == 0)
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.detach().numpy())})
    idx = np.array([[0, 1, 2], [2, 2, 5]])
    a, b = ours(minidl.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    w = RNG.standard_normal((2, 3, 3))
    (a * minidl.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-12)
    assert np.all(ours.weight.grad.numpy()[1] == 0)
    frozen = nn.Embedding.from_pretrained(minidl.tensor(RNG.standard_normal((4, 2))))
    assert not frozen.weight.requires_grad
    with pytest.raises(RuntimeError, match="Long, Int"):
        ours(minidl.tensor([0.5]))
    with pytest.raises(IndexError, match="out of range"):
        ours(minidl.tensor([6]))


def test_default_initialisation_bounds():
    lstm = nn.LSTM(3, 16, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 16, num_layers=2, bidirectional=True)
    assert [n for n, _ in lstm.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for (n, p), (_, q) in zip(lstm.named_parameters(), theirs.named_parameters()):
        assert p.shape == tuple(q.shape) and p.dtype == minidl.float32
        assert np.abs(p.detach().numpy()).max() <= 0.25 and np.abs(p.detach().numpy()).max() > 0.2
    emb = nn.Embedding(1000, 8).weight.detach().numpy()
    assert abs(emb.mean()) < 0.05 and abs(emb.std() - 1) < 0.05


def test_wrong_input_size_is_reported_as_pytorch_does():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 4, got 3"):
        nn.LSTM(4, 2)(minidl.zeros(5, 1, 3))
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.GRUCell(4, 2)(minidl.zeros(1, 3))


@settings(max_examples=4, deadline=None)
@given(st.sampled_from(["LSTM", "GRU", "RNN"]), st.integers(1, 3), st.integers(1, 2),
       st.booleans())
def test_gradcheck_through_a_sequence(cls, steps, batch, bidirectional):
    layer = getattr(nn, cls)(2, 3, bidirectional=bidirectional).double()
    x = minidl.tensor(RNG.standard_normal((steps, batch, 2)), requires_grad=True)
    params = list(layer.parameters())
    assert gradcheck(lambda x: layer(x)[0], (x,))
    assert gradgradcheck(lambda x: layer(x)[0], (x,))
    out = layer(x)[0].sum()
    grads = minidl.autograd.grad(out, params)
    assert all(g is not None and g.shape == p.shape for g, p in zip(grads, params))
