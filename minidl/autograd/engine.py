"""The backward engine: order the graph once, run each node's backward, deliver gradients.

`backward` accumulates into the `.grad` of leaves (Tensor.backward); `grad` returns the
gradients of chosen inputs without touching any `.grad` (minidl.autograd.grad). Both share
`_run`, which walks the graph iteratively, so a chain of 100 000 ops needs no recursion.
"""
from __future__ import annotations

import sys
import weakref

import numpy as np

from . import version
from .function import Function, _check_finite
from .grad_mode import STATE
from .. import tensor as _tensor


class AccumulateGrad(Function):
    """The node at a leaf tensor: adds the incoming gradient to `leaf.grad`."""

    def __init__(self, leaf):
        self.variable = leaf

    torch_name = "AccumulateGrad"


def _topological_order(roots):
    """Nodes reachable from `roots`, every consumer before the nodes it feeds."""
    order, seen = [], set()
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_edges))]
        while stack:
            node, children = stack[-1]
            for edge in children:
                if edge is not None and edge[0] not in seen:
                    child = edge[0]
                    seen.add(child)
                    stack.append((child, iter(child.next_edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _apply_hooks(hooks, grad):
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def _run(roots, root_grads, retain_graph, create_graph, targets=None):
    """_propagate, then the callbacks queued during it (queue_callback)."""
    _depth[0] += 1
    try:
        _propagate(roots, root_grads, retain_graph, create_graph, targets)
    except BaseException:
        if _depth[0] == 1:
            _callbacks.clear()        # a failed backward runs none of them
        raise
    finally:
        _depth[0] -= 1
    if _depth[0] == 0:
        _run_callbacks()


def _propagate(roots, root_grads, retain_graph, create_graph, targets=None):
    """Propagate `root_grads` from `roots` through the graph.

    targets: None to accumulate into leaves, else a dict {(node, output_nr): None} to be
    filled with the total gradient that reaches each key; nothing is accumulated then.
    """
    Tensor = _tensor.Tensor
    buffers = {}
    for t, g in zip(roots, root_grads):
        _add_to_buffer(buffers, t.grad_fn, t._output_nr, g)

    order = _topological_order([t.grad_fn for t in roots])
    needed = None
    if targets is not None:   # run only the nodes on a path to a target
        target_nodes = {node for node, _ in targets}
        needed = set()
        for node in reversed(order):
            for edge in node.next_edges:
                if edge is not None and (edge[0] in needed or edge[0] in target_nodes):
                    needed.add(node)
                    break

    prev_mode = STATE.enabled
    STATE.enabled = create_graph
    anomaly = STATE.anomaly
    special = anomaly or _backward_timer is not None     # decided once, not per node
    arrays = not create_graph     # nodes with an array twin of backward may use it
    try:
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            if type(node) is AccumulateGrad:
                leaf = node.variable
                g, grads[0] = grads[0], None        # only g holds it now (see _unshared)
                if leaf._hooks:
                    g = _apply_hooks(leaf._hooks, g)
                if targets is not None:
                    if (node, 0) in targets:
                        targets[(node, 0)] = g
                else:
                    _accumulate(leaf, g, create_graph)
                    post = getattr(leaf, "_post_hooks", None)
                    if post:            # register_post_accumulate_grad_hook
                        g = None
                        for hook in list(post):
                            hook(leaf)
                continue
            if node._hooks:
                for nr, hook in node._hooks:
                    if grads[nr] is not None:
                        new = hook(grads[nr])
                        if new is not None:
                            grads[nr] = new
            if targets is not None:
                for nr in range(len(grads)):
                    if (node, nr) in targets:
                        targets[(node, nr)] = grads[nr]
                if node not in needed:
                    continue
            if node._freed:
                raise _freed_error(node)
            if node._n_outputs != 1:
                grads = _complete(node, grads)
            if node._watched:
                node._check_watched()
            if special:
                grads_in = _special_backward(node, grads, anomaly)
            elif arrays and node.backward_arrays is not None:
                grads_in = node.backward_arrays(
                    node, *[None if g is None else g.array for g in grads])
            else:
                grads_in = node.backward(node, *grads)
            if type(grads_in) is not tuple:
                grads_in = (grads_in,)
            edges = node.next_edges
            if len(grads_in) != len(edges):
                raise RuntimeError(
                    f"function {node.name()}.backward returned an incorrect number of "
                    f"gradients (expected {len(edges)}, got {len(grads_in)})")
            for edge, g in zip(edges, grads_in):
                if edge is None or g is None:
                    continue
                child, nr, shape, dtype = edge
                if type(g) is not Tensor and not isinstance(g, Tensor):
                    g = Tensor._wrap(g, False, None, 0)
                data = g.array
                if data.shape != shape:
                    g = g._sum_to(shape, node)
                if data.dtype != dtype:
                    g = g.to(dtype)
                # _add_to_buffer(buffers, child, nr, g), inlined: it runs once per edge
                grads = buffers.get(child)
                if grads is None:
                    grads = buffers[child] = [None] * child._n_outputs
                if grads[nr] is None:
                    grads[nr] = g
                elif arrays:                # no graph to record: add the arrays themselves
                    grads[nr] = Tensor._wrap(grads[nr].array + g.array, False, None, 0)
                else:
                    grads[nr] = grads[nr] + g
            grads_in = g = data = None     # hold no gradient past its node (see _unshared)
            if not retain_graph:           # free what backward needed, once used
                node._freed = True
                if node._saved:
                    node._saved = node._saved_data = ()
                    node._outputs = None
    finally:
        STATE.enabled = prev_mode


# Callbacks queued during a backward run once it has finished (PyTorch's
# Variable._execution_engine.queue_callback): DistributedDataParallel waits for its
# gradient all-reduces there. Only the outermost run calls them (a backward inside a hook
# is part of it).
_callbacks: list = []
_depth = [0]


def queue_callback(callback) -> None:
    """Run `callback()` when the backward now running ends (raises outside a backward)."""
    if _depth[0] == 0:
        raise RuntimeError("queue_callback: only callable while a backward is running")
    _callbacks.append(callback)


def _run_callbacks() -> None:
    while _callbacks:
        _callbacks.pop(0)()


_backward_timer = None      # minidl.profiler's, while a profile runs


def set_backward_timer(timer) -> None:
    """Have every node's backward run through timer(node, grads, run) (the profiler), or
    not (None)."""
    global _backward_timer
    _backward_timer = timer


def _special_backward(node, grads, anomaly: bool):
    """A node's backward in anomaly mode or under the profiler."""
    run = _checked_backward if anomaly else _plain_backward
    if _backward_timer is not None:
        return _backward_timer(node, grads, run)
    return run(node, grads)


def _plain_backward(node, grads):
    return node.backward(node, *grads)


def _checked_backward(node, grads):
    """Anomaly mode: run one backward and name this node if its result is not finite."""
    Tensor = _tensor.Tensor
    STATE.anomaly = False      # the ops inside this backward are reported as this node
    try:
        grads_in = node.backward(node, *grads)
    finally:
        STATE.anomaly = True
    values = grads_in if type(grads_in) is tuple else (grads_in,)
    _check_finite([g.array if isinstance(g, Tensor) else g for g in values], node.name(),
                  "backward", node._site)
    return grads_in


def _freed_error(node):
    return RuntimeError(
        f"Trying to backward through the graph a second time (through {node.name()}): its "
        "saved values were freed by the first backward. Specify retain_graph=True on the "
        "first backward call if you need to backward through the graph a second time.")


def _add_to_buffer(buffers, node, nr, grad):
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * node._n_outputs
    grads[nr] = grad if grads[nr] is None else grads[nr] + grad


def _complete(node, grads):
    """Fill the gradients of unused outputs with zeros (or leave None if asked)."""
    if not node.materialize_grads or all(g is not None for g in grads):
        return grads
    Tensor = _tensor.Tensor
    ref = next(g for g in grads if g is not None).array
    from ..backend import get_array_module

    xp = get_array_module(ref)
    return [g if g is not None else Tensor._wrap(xp.zeros(shape, dtype), False, None, 0)
            for g, (shape, dtype) in zip(grads, node._out_meta)]


# References to a gradient that nothing else holds, when _unshared counts them: the Tensor
# from _run's local, _accumulate's and _unshared's arguments and getrefcount's own; the
# array from the Tensor, _unshared's local and getrefcount's own.
_TENSOR_REFS, _ARRAY_REFS = 4, 3


def _unshared(grad) -> bool:
    """True when nothing but the engine holds this gradient, Tensor or array (no view, no
    saved copy, no hook that kept it), so it can become `.grad` without a copy; PyTorch's
    AccumulateGrad steals such a gradient too. CPython reference counts tell."""
    data = grad.array
    return (type(data) is np.ndarray and data.base is None and data.flags.c_contiguous
            and data.flags.writeable and sys.getrefcount(grad) <= _TENSOR_REFS
            and sys.getrefcount(data) <= _ARRAY_REFS)


def _accumulate(leaf, grad, create_graph):
    """leaf.grad += grad, as PyTorch's AccumulateGrad does it: the first gradient becomes
    an array of the leaf's own (the gradient itself when nothing else holds it, else a
    copy; under create_graph a clone); a later one is added in place, or under create_graph
    into a new tensor that carries the graph.

    Adding in place means a `.grad` held from an earlier backward sees the sum, as in
    PyTorch, and that a graph which saved the old `.grad` (a gradient penalty) raises when
    it backwards, as PyTorch's does: the add bumps the array's version
    (autograd.version). A `.grad` whose array cannot be written (set by hand to a
    broadcast view) gets a new array instead."""
    if create_graph:
        leaf._grad = grad.clone() if leaf._grad is None else leaf._grad + grad
    elif leaf.grad is None:
        data = grad.array if _unshared(grad) else grad.array.copy()
        leaf._grad = _tensor.Tensor._wrap(data, False, None, 0)
    else:
        held = leaf.grad.array
        if getattr(held.flags, "writeable", True):
            held += grad.array
            version.bump(held)
        else:
            leaf._grad = _tensor.Tensor._wrap(held + grad.array, False, None, 0)


def reset_grad(param, set_to_none: bool) -> None:
    """What `zero_grad` does to one parameter, as in PyTorch: `.grad` to None, or cut from
    any graph and zeroed in place (so a graph that saved it raises if it backwards)."""
    grad = param.grad
    if grad is None:
        return
    if set_to_none:
        param.grad = None
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad.requires_grad_(False)
    grad.zero_()


def _root_grads(outputs, grad_outputs, op):
    Tensor = _tensor.Tensor
    result = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"{op}: grad can be implicitly created only for scalar "
                                   f"outputs, got an output of shape {tuple(out.shape)}; "
                                   "pass a gradient of that shape")
            from ..backend import get_array_module
            g = Tensor._wrap(get_array_module(out.array).ones_like(out.array), False, None, 0)
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=out.dtype)
        if g.shape != out.shape:
            raise RuntimeError(f"{op}: Mismatch in shape: grad_output has a shape of "
                               f"{tuple(g.shape)} and output has a shape of "
                               f"{tuple(out.shape)}")
        result.append(g)
    return result


def _check_outputs(outputs, op):
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(f"{op}: element 0 of tensors does not require grad and does "
                               "not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    Tensor = _tensor.Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    _check_outputs(tensors, "backward")
    if inputs is not None:     # only these get a .grad (leaves or not), as in PyTorch
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
        found = _gradients(tensors, inputs, grad_tensors, retain_graph, create_graph,
                           "backward")
        for t, g in zip(inputs, found):
            if g is not None:
                _accumulate(t, g, create_graph)
        return
    grads = _root_grads(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    for t, g in zip(tensors, grads):
        if t.grad_fn is None:     # backward on a leaf itself: its gradient is g
            _accumulate(t, g, create_graph)
    pairs = [(t, g) for t, g in zip(tensors, grads) if t.grad_fn is not None]
    if pairs:
        _run([t for t, _ in pairs], [g for _, g in pairs], retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, touching no `.grad` (torch.autograd.grad)."""
    Tensor = _tensor.Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    _check_outputs(outputs, "grad")
    result = _gradients(outputs, inputs, grad_outputs, retain_graph, create_graph, "grad")
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {tuple(inputs[i].shape)}) was not "
                               "used in the graph of the outputs; set allow_unused=True if "
                               "this is expected")
    return tuple(g if g is None or create_graph else g.detach() for g in result)


def _gradients(outputs, inputs, grad_outputs, retain_graph, create_graph, op):
    """d(outputs)/d(input) for each input (None where it is not reached), by one run over
    the nodes on a path from the outputs to an input."""
    Tensor = _tensor.Tensor
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: inputs must be Tensors, got {type(t).__name__} at {i}")
        if not t.requires_grad:
            raise RuntimeError(f"{op}: input {i} (shape {tuple(t.shape)}) does not require "
                               "grad; set requires_grad=True on it")
    grads = _root_grads(outputs, grad_outputs, op)
    if retain_graph is None:
        retain_graph = create_graph
    keys = [(t.grad_fn, t._output_nr) if t.grad_fn is not None else (t._accumulator(), 0)
            for t in inputs]
    targets = dict.fromkeys(keys)
    pairs = [(t, g) for t, g in zip(outputs, grads) if t.grad_fn is not None]
    _run([t for t, _ in pairs], [g for _, g in pairs], retain_graph, create_graph, targets)
    result = []
    for i, key in enumerate(keys):
        g = targets[key]
        # an input that is itself an output receives the root gradient directly
        for out, root_g in zip(outputs, grads):
            if out is inputs[i] and out.grad_fn is None:
                g = root_g if g is None else g + root_g
        result.append(g)
    return result


def make_weak_grad_setter(tensor):
    """A hook that stores the gradient of a non-leaf tensor in its `.grad` (retain_grad)."""
    ref = weakref.ref(tensor)

    def retain(grad):
        t = ref()
        if t is not None:
            t.grad = grad.detach() if t.grad is None else (t.grad + grad).detach()
    retain.retains = ref
    return retain
