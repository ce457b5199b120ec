"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against
PyTorch: outputs, attention weights and every input and parameter gradient (float64, from
the same weights), PyTorch's parameter names and init, gradcheck/gradgradcheck, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(shape, requires_grad=True):
    a = RNG.standard_normal(shape)
    return (minidl.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _close(a, b, what, tol=1e-10):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=tol, atol=tol, err_msg=what)


def _twins(ours, theirs):
    ours.to(minidl.float64)
    theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _grads_match(ours, theirs, inputs):
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        _close(p.grad, tp.grad, f"gradient of {name}")
    for i, (a, b) in enumerate(inputs):
        _close(a.grad, b.grad, f"gradient of input {i}")


# ---- scaled_dot_product_attention ----
@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "broadcast"])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(mask, scale):
    (q, tq), (k, tk), (v, tv) = _pair((2, 3, 4, 5)), _pair((2, 3, 6, 5)), _pair((2, 3, 6, 7))
    kw, tkw = {}, {}
    if mask in ("bool", "broadcast"):
        m = RNG.random((4, 6) if mask == "broadcast" else (2, 3, 4, 6)) > 0.3
        m[..., 0] = True                           # every query sees at least one key
        kw["attn_mask"], tkw["attn_mask"] = minidl.tensor(m), torch.tensor(m)
    elif mask == "float":
        m = RNG.standard_normal((2, 1, 4, 6))
        kw["attn_mask"], tkw["attn_mask"] = minidl.tensor(m), torch.tensor(m)
    elif mask == "causal":
        kw["is_causal"] = tkw["is_causal"] = True
    ours = F.scaled_dot_product_attention(q, k, v, scale=scale, **kw)
    theirs = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=scale, **tkw)
    _close(ours, theirs, "output")
    g = RNG.standard_normal(ours.shape)
    ours.backward(minidl.tensor(g))
    theirs.backward(torch.tensor(g))
    for name, a, b in (("query", q, tq), ("key", k, tk), ("value", v, tv)):
        _close(a.grad, b.grad, f"gradient of {name}")


def test_sdpa_grouped_query_attention_matches_torch():
    (q, tq), (k, tk), (v, tv) = _pair((1, 4, 3, 2)), _pair((1, 2, 5, 2)), _pair((1, 2, 5, 2))
    ours = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    theirs = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True)
    _close(ours, theirs, "output")
    ours.sum().backward()
    theirs.sum().backward()
    _close(k.grad, tk.grad, "gradient of key")


@given(L=st.integers(1, 3), S=st.integers(1, 3), E=st.integers(1, 3),
       causal=st.booleans(), seed=st.integers(0, 1000))
def test_sdpa_gradcheck_and_gradgradcheck(L, S, E, causal, seed):
    rng = np.random.default_rng(seed)
    S = max(S, L) if causal else S
    q, k, v = (minidl.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, L, E), (2, S, E), (2, S, E)))
    mask = None if causal else minidl.tensor(rng.standard_normal((L, S)))
    fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask,  # noqa: E731
                                                        is_causal=causal)
    assert gradcheck(fn, (q, k, v))
    assert gradgradcheck(fn, (q, k, v))


def test_sdpa_errors():
    q = minidl.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="do not fit"):
        F.scaled_dot_product_attention(q, minidl.randn(2, 3, 5), minidl.randn(2, 3, 5))
    with pytest.raises(RuntimeError, match="should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=minidl.ones(3, 3), is_causal=True)


# ---- MultiheadAttention ----
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "bool", "float", "padding", "both", "mask3d"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, masks, average):
    minidl.manual_seed(0)
    ours, theirs = _twins(nn.MultiheadAttention(8, 2, batch_first=batch_first),
                          torch.nn.MultiheadAttention(8, 2, batch_first=batch_first))
    L, S, N = 4, 5, 3
    shape = (lambda n: (N, n, 8)) if batch_first else (lambda n: (n, N, 8))
    (q, tq), (k, tk), (v, tv) = _pair(shape(L)), _pair(shape(S)), _pair(shape(S))
    kw, tkw = {}, {}
    if masks in ("bool", "both"):
        m = RNG.random((L, S)) > 0.6
        m[:, 0] = False
        kw["attn_mask"], tkw["attn_mask"] = minidl.tensor(m), torch.tensor(m)
    if masks == "float":
        m = RNG.standard_normal((L, S))
        kw["attn_mask"], tkw["attn_mask"] = minidl.tensor(m), torch.tensor(m)
    if masks == "mask3d":
        m = RNG.standard_normal((N * 2, L, S))
        kw["attn_mask"], tkw["attn_mask"] = minidl.tensor(m), torch.tensor(m)
    if masks in ("padding", "both"):
        m = np.zeros((N, S), dtype=bool)
        m[1, -2:] = True
        kw["key_padding_mask"], tkw["key_padding_mask"] = minidl.tensor(m), torch.tensor(m)
    out, w = ours(q, k, v, average_attn_weights=average, **kw)
    tout, tw = theirs(tq, tk, tv, average_attn_weights=average, **tkw)
    _close(out, tout, "output")
    _close(w, tw, "attention weights")
    g = RNG.standard_normal(out.shape)
    (out * minidl.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    _grads_match(ours, theirs, [(q, tq), (k, tk), (v, tv)])


def test_multihead_attention_kdim_vdim_unbatched_and_no_bias():
    minidl.manual_seed(1)
    ours, theirs = _twins(nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False),
                          torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False))
    assert ours.in_proj_weight is None and ours.in_proj_bias is None
    (q, tq), (k, tk), (v, tv) = _pair((3, 6)), _pair((2, 4)), _pair((2, 5))
    out, w = ours(q, k, v)
    tout, tw = theirs(tq, tk, tv)
    _close(out, tout, "output")
    _close(w, tw, "weights")
    out.sum().backward()
    tout.sum().backward()
    _grads_match(ours, theirs, [(q, tq), (k, tk), (v, tv)])
    assert ours(q, k, v, need_weights=False)[1] is None


def test_multihead_attention_init_and_errors_are_pytorchs():
    m = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))             # xavier_uniform on (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    x = minidl.randn(3, 2, 64)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="expecting key_padding_mask shape of"):
        m(x, x, x, key_padding_mask=minidl.zeros(3, 3, dtype=minidl.bool))


# ---- transformer layers ----
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_and_decoder_layers_match_torch(norm_first, activation, batch_first):
    minidl.manual_seed(2)
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    for ours, theirs in [(nn.TransformerEncoderLayer(8, 2, **kw),
                          torch.nn.TransformerEncoderLayer(8, 2, **kw)),
                         (nn.TransformerDecoderLayer(8, 2, **kw),
                          torch.nn.TransformerDecoderLayer(8, 2, **kw))]:
        ours, theirs = _twins(ours, theirs)
        (x, tx), (mem, tmem) = _pair((3, 4, 8)), _pair((3, 5, 8) if batch_first else (5, 4, 8))
        mask = nn.Transformer.generate_square_subsequent_mask(4 if batch_first else 3,
                                                              dtype=minidl.float64)
        tmask = torch.tensor(mask.numpy())
        if isinstance(ours, nn.TransformerEncoderLayer):
            out, tout = ours(x, src_mask=mask), theirs(tx, src_mask=tmask)
            inputs = [(x, tx)]
        else:
            out, tout = ours(x, mem, tgt_mask=mask), theirs(tx, tmem, tgt_mask=tmask)
            inputs = [(x, tx), (mem, tmem)]
        _close(out, tout, type(ours).__name__)
        out.sum().backward()
        tout.sum().backward()
        _grads_match(ours, theirs, inputs)


def test_nn_transformer_with_padding_masks_matches_torch():
    minidl.manual_seed(3)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=16, dropout=0.0, batch_first=True)
    ours, theirs = _twins(nn.Transformer(**kw), torch.nn.Transformer(**kw))
    (src, tsrc), (tgt, ttgt) = _pair((2, 5, 8)), _pair((2, 4, 8))
    pad = np.zeros((2, 5), dtype=bool)
    pad[0, -1] = True
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=minidl.float64)
    out = ours(src, tgt, tgt_mask=mask, src_key_padding_mask=minidl.tensor(pad),
               memory_key_padding_mask=minidl.tensor(pad))
    tout = theirs(tsrc, ttgt, tgt_mask=torch.tensor(mask.numpy()),
                  src_key_padding_mask=torch.tensor(pad),
                  memory_key_padding_mask=torch.tensor(pad))
    _close(out, tout, "output", 1e-9)
    out.sum().backward()
    tout.sum().backward()
    _grads_match(ours, theirs, [(src, tsrc), (tgt, ttgt)])


def test_generate_square_subsequent_mask_is_pytorchs():
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(2).dtype is minidl.float32


def test_reprs_are_pytorchs():
    for build in (lambda n: n.MultiheadAttention(8, 2),
                  lambda n: n.TransformerEncoderLayer(8, 2, 16),
                  lambda n: n.TransformerDecoderLayer(8, 2, 16, activation="gelu")):
        assert repr(build(nn)) == repr(build(torch.nn))
