"""The backward engine on one screen: the readable twin of `engine.py`.

Reverse-mode autodiff in three steps, as micrograd teaches it:

1. Order the graph. Every node must run after all the nodes that send it a gradient,
   so visit the graph depth-first from the output and list each node after its inputs
   (post-order); reversed, that list has every consumer before what it consumes.
2. Seed the output's gradient with ones (d out / d out = 1).
3. Walk the order. Each node gets the sum of the gradients its consumers sent it, calls
   its op's `backward` (the chain rule for that one op) and sends one gradient per input
   down its edges. A gradient that reaches a leaf is that leaf's answer.

`tests/autograd/test_reference_engine.py` holds the fast engine (`engine.py`: iterative,
in-place accumulation, hooks, freeing, anomaly checks) to this one on random graphs;
notebook 1 teaches from it. It handles what every graph needs and nothing more: no hooks,
no `retain_graph` bookkeeping, no `create_graph`.
"""
from __future__ import annotations

import numpy as np

from .engine import AccumulateGrad
from .grad_mode import no_grad


def topological_order(root_node) -> list:
    """Every node reachable from `root_node`, each before the nodes it sends gradients to.
    Recursive, as micrograd's is: fine for graphs up to Python's recursion limit."""
    order, visited = [], set()

    def visit(node):
        if node in visited:            # a node used twice is listed once (a diamond)
            return
        visited.add(node)
        for child, _ in node.next_functions:
            if child is not None:
                visit(child)
        order.append(node)             # after everything it depends on: post-order

    visit(root_node)
    return order[::-1]                 # the output first, the leaves last


def gradients(output, grad_output=None) -> dict:
    """d output / d leaf for every leaf that requires grad: {leaf Tensor: numpy array}.
    `grad_output` seeds the output (ones, as `backward()` on a scalar, by default)."""
    from ..tensor import Tensor
    if output.grad_fn is None:
        raise RuntimeError("reference.gradients: the output has no graph (no input "
                           "requires grad)")
    seed = np.ones_like(output.detach().numpy()) if grad_output is None else \
        np.asarray(grad_output)
    pending = {(output.grad_fn, output._output_nr): Tensor(seed)}   # (node, output) -> grad
    result = {}
    with no_grad():                    # backward's own arithmetic builds no graph
        for node in topological_order(output.grad_fn):
            outs = [pending.pop((node, k), None) for k in range(node._n_outputs)]
            if all(g is None for g in outs):
                continue               # no gradient reaches it (an unused output's branch)
            if isinstance(node, AccumulateGrad):
                result[node.variable] = outs[0].detach().numpy()
                continue
            for k, g in enumerate(outs):   # an output nothing used contributes zero
                if g is None:
                    shape, dtype = node._out_meta[k]
                    outs[k] = Tensor(np.zeros(shape, dtype))
            grads_in = node.backward(node, *outs)     # the chain rule for this one op
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            for edge, g in zip(node.next_edges, grads_in):
                if edge is None or g is None:
                    continue
                child, nr, shape, dtype = edge
                g = g if isinstance(g, Tensor) else Tensor(g)
                if g.shape != shape:   # the input was broadcast: sum back to its shape
                    g = _sum_to(g, shape)
                if g.dtype != dtype:   # a float32 input of a float64 op gets float32
                    g = g.to(dtype)
                key = (child, nr)
                pending[key] = g if key not in pending else pending[key] + g
    return result


def _sum_to(g, shape):
    """Sum a gradient over the dimensions broadcasting added or stretched from 1."""
    lead = g.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    return g.sum(dim=dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)
