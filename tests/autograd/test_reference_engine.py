"""The fast engine (engine.py) agrees with its one-screen twin (autograd/reference.py) on
random graphs: broadcasting, reductions, reuse (diamonds), multi-output ops, matmuls."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
from minidl.autograd import reference

F64 = minidl.float64
UNARY = [lambda a: a.tanh(), lambda a: (0.3 * a).exp(), lambda a: a.sigmoid(),
         lambda a: a * a, lambda a: a.relu() + 0.1 * a]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - 2.0 * b,
          lambda a, b: a / (1.0 + b * b)]


def _random_graph(data, rows, cols):
    """A random DAG over leaves of broadcastable shapes; returns (output, leaves)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    shapes = [(rows, cols), (cols,), (1, cols), (rows, 1)]
    leaves = [minidl.tensor(rng.standard_normal(shapes[data.draw(st.integers(0, 3))]),
                            dtype=F64, requires_grad=True) for _ in range(3)]
    pool = list(leaves)
    for _ in range(data.draw(st.integers(2, 10), label="ops")):
        kind = data.draw(st.sampled_from(["unary", "binary", "reduce", "split", "matmul"]))
        a = pool[data.draw(st.integers(0, len(pool) - 1))]     # reuse makes diamonds
        if kind == "unary":
            pool.append(data.draw(st.sampled_from(UNARY))(a))
        elif kind == "binary":
            b = pool[data.draw(st.integers(0, len(pool) - 1))]
            pool.append(data.draw(st.sampled_from(BINARY))(a, b))
        elif kind == "reduce":
            pool.append(a.sum(dim=-1, keepdim=True) * a)
        elif kind == "split" and a.shape[-1] >= 2:
            first, second = a.chunk(2, dim=-1)                  # a multi-output node
            pool.append(first.sum() * second.mean() + a)
        elif kind == "matmul" and a.dim() == 2:
            w = minidl.tensor(rng.standard_normal((a.shape[1], a.shape[1])), dtype=F64)
            pool.append(a @ (w * leaves[0].sum()))
    used = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=4))
    out = sum((pool[i] * (k + 1)).sum() for k, i in enumerate(used))
    return out, leaves


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.data(), st.integers(1, 4), st.integers(1, 4))
def test_fast_engine_matches_the_reference_on_random_graphs(data, rows, cols):
    out, leaves = _random_graph(data, rows, cols)
    if out.grad_fn is None:
        return
    expected = reference.gradients(out)
    out.backward()
    for leaf in leaves:
        if leaf in expected:
            np.testing.assert_allclose(leaf.grad.numpy(), expected[leaf], rtol=1e-12,
                                       atol=1e-12)
        else:                       # no path from the output: neither engine touches it
            assert leaf.grad is None


def test_reference_order_puts_each_node_before_what_it_feeds():
    x = minidl.randn(3, requires_grad=True)
    y = x.tanh()
    z = (y * y + y.exp()).sum()            # y feeds two nodes: a diamond
    order = reference.topological_order(z.grad_fn)
    place = {node: i for i, node in enumerate(order)}
    assert len(order) == len(place)        # each node once
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                assert place[node] < place[child], (node, child)


def test_reference_seed_and_errors():
    x = minidl.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    y = x * 3.0
    g = reference.gradients(y, grad_output=[1.0, 10.0])
    np.testing.assert_array_equal(g[x], [3.0, 30.0])
    with pytest.raises(RuntimeError, match="no graph"):
        reference.gradients(minidl.ones(2))
