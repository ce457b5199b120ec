"""The topological_order exercise: order a graph's nodes as the backward engine must.

The expected nodes and edges are minidl's graph itself (and minidl's engine orders it too,
a check of the oracle); PyTorch, when installed, builds the same expression, and its graph
must have the same node names.
"""
from __future__ import annotations

from collections import Counter

import minidl
from ..autograd import engine
from .checks import Case, Mismatch, kind_of
from .grading import Exercise

# op name -> (how it reads, how many inputs, what it does)
_OPS = {"mul": ("{} * {}", 2, lambda u, v: u * v),
        "add": ("{} + {}", 2, lambda u, v: u + v),
        "scale": ("{} * 3", 1, lambda u: u * 3),
        "exp": ("{}.exp()", 1, lambda u: u.exp()),
        "tanh": ("{}.tanh()", 1, lambda u: u.tanh())}
_OP_NAMES = tuple(_OPS)


def _run(program, leaves, make_leaf):
    """Evaluate a program [(name, op, input names)]; its last value's sum is the root.

    leaves: [(name, requires_grad)]; make_leaf(requires_grad) -> a leaf tensor (minidl's
    or torch's). Returns (root, {name: tensor}).
    """
    values = {name: make_leaf(needs) for name, needs in leaves}
    for name, op, inputs in program:
        values[name] = _OPS[op][2](*(values[i] for i in inputs))
    last = values[program[-1][0]]
    if last.grad_fn is None:             # only constants so far: bring in a leaf that needs one
        last = last + values[leaves[0][0]]
    return last.sum(), values


def _reachable(root):
    """Every node reachable from root.grad_fn, and the edges (node, node it sends to)."""
    nodes, edges, todo = [root.grad_fn], [], [root.grad_fn]
    seen = {id(root.grad_fn)}
    while todo:
        node = todo.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            edges.append((node, child))
            if id(child) not in seen:
                seen.add(id(child))
                nodes.append(child)
                todo.append(child)
    return nodes, edges


class TopologicalOrderExercise(Exercise):
    name = "topological_order"
    function = "topological_order"
    arguments = ("root",)
    outputs = ("order",)
    summary = "the order in which the backward engine visits the graph's nodes"
    reference_name = "the graph's nodes and edges, and its engine's own order"
    lesson = """
loss.backward() must call a node's backward only once every node that sends it gradients
has done so: all of a value's uses must report before its own gradient is complete. Write
the function that puts the graph's nodes in such an order.

Receives  root   a minidl Tensor that requires grad (a loss); root.grad_fn is its node
Returns   a list of nodes: root.grad_fn and every node reachable from it through
          node.next_functions, each exactly once, each before every node it sends
          gradients to (a topological order; any such order passes)

Graph     node.next_functions is a tuple of (next_node, output_nr) pairs, one per input
          of the op: the nodes this node sends gradients to. next_node is None for an input
          that needs no gradient, and an AccumulateGrad node for a leaf tensor (those are
          nodes too). x * x has two edges to the same node.

Hints     - A node reached along two paths (a diamond: a = x * 2; (a.exp() + a * 3).sum())
            must come after both of its consumers: listing nodes in the order a depth-first
            search first meets them (pre-order) gets this wrong.
          - Reverse post-order of a DFS works: append a node once all of its next_functions
            are done, then reverse the list. Keep a visited set, and skip None.
"""
    docstring = """
    The nodes of root's graph, each before the nodes it sends gradients to.

    Parameters
    ----------
    root : minidl.Tensor with a grad_fn

    Returns
    -------
    list of nodes: root.grad_fn first, every node reachable through
    node.next_functions (skipping None) exactly once"""

    def _case(self, title: str, leaves, program) -> Case:
        root, values = _run(program, leaves, lambda needs: minidl.tensor(
            [0.1, 0.2, 0.3], dtype=minidl.float64, requires_grad=bool(needs)))
        names = {id(root.grad_fn): "the root, a sum"}
        for name, op, inputs in program:
            if values[name].grad_fn is not None:
                names[id(values[name].grad_fn)] = f"{name} = {_OPS[op][0].format(*inputs)}"
        leaf_names = {id(values[name]): name for name, _ in leaves}
        for node in _reachable(root)[0]:
            if id(getattr(node, "variable", None)) in leaf_names:      # an AccumulateGrad
                names[id(node)] = f"leaf {leaf_names[id(node.variable)]}"
        steps = [f"{name} = {_OPS[op][0].format(*inputs)}" for name, op, inputs in program]
        last = program[-1][0]
        steps.append(f"root = {last}.sum()" if values[last].grad_fn is not None else
                     f"root = ({last} + {leaves[0][0]}).sum()")
        consts = [name for name, needs in leaves if not needs]
        label = "; ".join(steps) + (f"; {', '.join(consts)} needs no gradient" if consts else "")
        return Case(title, (root,), label, {"leaves": leaves, "program": program,
                                            "names": names})

    def draw(self, pick) -> dict:
        leaves = [("x", 1)] + [(f"w{i}", pick(0, 1)) for i in range(pick(0, 2))]
        program, names = [], [name for name, _ in leaves]
        for i in range(pick(1, 6)):
            op = _OP_NAMES[pick(0, len(_OP_NAMES) - 1)]
            inputs = tuple(names[pick(0, len(names) - 1)] for _ in range(_OPS[op][1]))
            program.append((f"h{i}", op, inputs))
            names.append(f"h{i}")
        return {"leaves": leaves, "program": program}

    def build(self, params: dict) -> Case:
        return self._case("drawn", params["leaves"], params["program"])

    def edge_cases(self) -> list:
        x, w, c = ("x", 1), ("w", 1), ("c", 0)
        return [self._case("one op", [x], [("a", "scale", ("x",))]),
                self._case("a chain", [x], [("a", "scale", ("x",)), ("b", "exp", ("a",)),
                                            ("c", "tanh", ("b",))]),
                self._case("a diamond: one node feeds two", [x],
                           [("a", "scale", ("x",)), ("b", "exp", ("a",)),
                            ("c", "scale", ("a",)), ("d", "add", ("b", "c"))]),
                self._case("a node with two edges to one node", [x], [("a", "mul", ("x", "x"))]),
                self._case("an input that needs no gradient: (None, 0) in next_functions",
                           [x, c], [("a", "mul", ("x", "c")), ("b", "add", ("a", "x"))]),
                self._case("two diamonds sharing a node", [x, w],
                           [("h", "mul", ("x", "w")), ("a", "tanh", ("h",)),
                            ("b", "exp", ("h",)), ("d", "mul", ("a", "b")),
                            ("e", "add", ("d", "h")), ("f", "mul", ("e", "w"))])]

    def size(self, case: Case) -> int:
        return len(case.info["program"])

    def reference(self, case: Case):
        """The graph's nodes and edges; minidl's engine must order them validly itself."""
        (root,) = case.args
        nodes, edges = _reachable(root)
        order = engine._topological_order([root.grad_fn])
        problem = self._problem(case, order, nodes, edges)
        if problem is not None:
            raise RuntimeError(f"minidl's engine orders this graph wrongly: {problem.message}")
        return nodes, edges

    def torch_reference(self, case: Case, torch):
        root, _ = _run(case.info["program"], case.info["leaves"], lambda needs: torch.tensor(
            [0.1, 0.2, 0.3], dtype=torch.float64, requires_grad=bool(needs)))
        return _reachable(root)

    def oracles_differ(self, ours, theirs) -> str | None:
        names = Counter(n.name() for n in ours[0])
        torch_names = Counter(type(n).__name__ for n in theirs[0])
        if names != torch_names or len(ours[1]) != len(theirs[1]):
            return (f"PyTorch's graph has nodes {sorted(torch_names.elements())} and "
                    f"{len(theirs[1])} edges; minidl's {sorted(names.elements())} and "
                    f"{len(ours[1])}")
        return None

    def check(self, case: Case, got, expected) -> Mismatch | None:
        return self._problem(case, got, *expected)

    def _node(self, case: Case, node) -> str:
        where = case.info["names"].get(id(node))
        return f"{node.name()} ({where})" if where else node.name()

    def _problem(self, case: Case, got, nodes, edges) -> Mismatch | None:
        if not isinstance(got, (list, tuple)):
            return Mismatch("type", f"topological_order returned {kind_of(got)}, expected a "
                                    "list of nodes")
        ids = {id(n) for n in nodes}
        position = {}
        for i, node in enumerate(got):
            if node is None:
                return Mismatch("type", f"element {i} is None, not a node", index=(i,))
            if isinstance(node, tuple):
                return Mismatch("type", f"element {i} is a tuple {node!r}, not a node",
                                index=(i,))
            if isinstance(node, minidl.Tensor):
                return Mismatch("type", f"element {i} is a Tensor, not a node", index=(i,))
            if id(node) not in ids:
                return Mismatch("type", f"element {i} ({node!r}) is not a node of this graph",
                                index=(i,))
            if id(node) in position:
                return Mismatch("order", f"a node appears twice: {self._node(case, node)} at "
                                         f"positions {position[id(node)]} and {i}", index=(i,))
            position[id(node)] = i
        missing = [n for n in nodes if id(n) not in position]
        if missing:
            listed = ", ".join(self._node(case, n) for n in missing[:4])
            return Mismatch("order", f"{len(missing)} of the graph's {len(nodes)} nodes are "
                                     f"missing: {listed}")
        for node, child in edges:
            if position[id(child)] < position[id(node)]:
                return Mismatch("order", f"a node comes after a node it feeds: "
                                         f"{self._node(case, node)} is at position "
                                         f"{position[id(node)]} but sends gradients to "
                                         f"{self._node(case, child)} at position "
                                         f"{position[id(child)]}",
                                index=(position[id(child)],))
        return None

    def hint(self, case: Case, mismatch, got) -> str | None:
        text = mismatch.message
        if "is None" in text:
            return ("skip the (None, 0) entries of next_functions: an input that needs no "
                    "gradient has no node")
        if "is a tuple" in text:
            return ("next_functions holds (node, output_nr) pairs: list the node, the pair's "
                    "first item")
        if "is a Tensor" in text:
            return "return nodes (root.grad_fn and what next_functions holds), not tensors"
        if "appears twice" in text:
            return ("keep a visited set: a node reached along two paths (or through two edges, "
                    "as in x * x) is listed once")
        if "are missing" in text:
            return ("follow next_functions all the way down, to the leaves' AccumulateGrad "
                    "nodes, and list root.grad_fn too")
        if "comes after" in text:
            return ("a pre-order DFS lists a shared node as soon as it first reaches it, before "
                    "its other consumers: append each node after all its next_functions are "
                    "done, then reverse the list (reverse post-order)")
        return None

    def exception_hint(self, case: Case, error) -> str | None:
        if isinstance(error.error, AttributeError) and "NoneType" in str(error.error):
            return ("next_functions holds (None, 0) for an input that needs no gradient: skip "
                    "those entries")
        if isinstance(error.error, RecursionError):
            return "the graph has a shared node: a DFS without a visited set can revisit it"
        return None
