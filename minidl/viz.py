"""Pictures of the computation graph: `to_dot` (Graphviz DOT text) and `draw`.

    loss = model(x).sum(); loss.backward()
    print(minidl.viz.to_dot(loss, params=dict(model.named_parameters())))
    minidl.viz.draw(loss, "graph.svg")      # or draw(loss) in Jupyter: shown inline

The graph reads as the forward pass ran, inputs at the top and the result at the bottom.
Tensor nodes are boxes (leaves blue, the result green) with their shape, dtype, and the
norms of their value and, after backward, of their gradient; op nodes are ellipses named
as PyTorch names them (MulBackward0). An edge carries the shape of the tensor that flows
along it, and is marked where backward does more than pass a gradient through:
"broadcast" (the input was expanded, so its gradient is summed back to its shape) and
"reduce" (the op summed or averaged the input away).

`to_dot` needs nothing beyond minidl. `draw` renders through Graphviz's `dot` program
(the `graphviz` Python package is used when installed, else `dot` is run directly); where
`dot` is not installed it draws the same graph with matplotlib, in a simple layered layout.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .autograd.engine import AccumulateGrad

__all__ = ["to_dot", "draw", "Graph", "graph_of"]

_REDUCTIONS = ("Sum", "Mean", "Amax", "Amin", "Max", "Min", "Norm", "Var", "Std", "Prod",
               "Logsumexp", "LogSumExp")


@dataclass
class Graph:
    """The graph as plain data, which `to_dot` and the matplotlib drawing both read.
    nodes: id -> (kind, label) with kind "leaf", "op" or "root"; edges: (from, to, label,
    mark), mark being "", "broadcast" or "reduce"."""
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)


def _shape(shape) -> str:
    return str(tuple(int(s) for s in shape))


def _tensor_label(name: str, tensor) -> str:
    arr = tensor.array
    lines = [name] if name else []
    lines.append(f"{_shape(arr.shape)} {np.dtype(arr.dtype).name}")
    if arr.dtype.kind in "fc" and arr.size:
        lines.append(f"|value| {float(np.linalg.norm(np.asarray(arr, dtype=np.float64))):.4g}")
    grad = tensor._grad
    if grad is not None:
        g = grad.array if hasattr(grad, "array") else grad
        lines.append(f"|grad| {float(np.linalg.norm(np.asarray(g, dtype=np.float64))):.4g}")
    return "\n".join(lines)


def _edge_mark(op_name: str, in_shape: tuple, out_shape: tuple | None) -> str:
    """What backward does on this edge beyond passing the gradient on."""
    if out_shape is None or tuple(in_shape) == tuple(out_shape):
        return ""
    if any(op_name.startswith(r) for r in _REDUCTIONS) and \
            int(np.prod(in_shape)) > int(np.prod(out_shape)):
        return "reduce"
    try:
        if np.broadcast_shapes(tuple(in_shape), tuple(out_shape)) == tuple(out_shape):
            return "broadcast"
    except ValueError:
        pass
    return ""


def graph_of(*roots, params: dict | None = None) -> Graph:
    """The graph behind `roots` (Tensors): every op node reachable through
    `grad_fn.next_functions`, the leaves that require grad, and the roots themselves.
    `params` (name -> Tensor, e.g. dict(model.named_parameters())) names the leaves."""
    from .tensor import Tensor
    names = {id(t): n for n, t in (params or {}).items()}
    graph = Graph()
    out_shape = {}                  # (node, output_nr) -> shape, from the edges that use it
    order, seen = [], set()
    stack = []
    ids: dict = {}                  # short, stable names: n0, n1, ... in the order met

    def key(obj) -> str:
        return ids.setdefault(id(obj), f"n{len(ids)}")
    for k, root in enumerate(roots):
        if not isinstance(root, Tensor):
            raise TypeError(f"viz.graph_of: expected Tensors, got {type(root).__name__}")
        rid = key(root)
        graph.nodes[rid] = ("root", _tensor_label(names.get(id(root), "output" if len(roots) == 1
                                                            else f"output {k}"), root))
        node = root.grad_fn
        if node is None:
            continue
        out_shape[(node, root._output_nr)] = root.array.shape
        graph.edges.append((key(node), rid, _shape(root.array.shape), ""))
        if node not in seen:
            seen.add(node)
            stack.append(node)
    while stack:                    # every node once; edges point the way forward ran
        node = stack.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is None:
                continue
            child, nr, shape = edge[0], edge[1], edge[2]
            out_shape.setdefault((child, nr), shape)
            if child not in seen:
                seen.add(child)
                stack.append(child)
    for node in order:
        nid = key(node)
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            graph.nodes[nid] = ("leaf", _tensor_label(names.get(id(leaf), ""), leaf))
            continue
        graph.nodes[nid] = ("op", node.name())
        mine = out_shape.get((node, 0))
        for edge in node.next_edges:
            if edge is None:
                continue
            child, shape = edge[0], edge[2]
            mark = _edge_mark(node.name(), shape, mine)
            graph.edges.append((key(child), nid, _shape(shape), mark))
    return graph


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_DOT_STYLE = {
    "leaf": 'shape=box, style="rounded,filled", fillcolor="#cfe2f3"',
    "root": 'shape=box, style="rounded,filled", fillcolor="#d9ead3"',
    "op": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
}
_EDGE_STYLE = {"": "", "broadcast": ', color="#cc0000", fontcolor="#cc0000"',
               "reduce": ', color="#1155cc", fontcolor="#1155cc"'}


def to_dot(*roots, params: dict | None = None) -> str:
    """The computation graph behind `roots` as Graphviz DOT text (see the module's
    docstring for what it shows). Needs no dependency."""
    graph = graph_of(*roots, params=params)
    lines = ["digraph minidl {", '  graph [rankdir=TB, fontname="Helvetica"];',
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for nid, (kind, label) in graph.nodes.items():
        lines.append(f"  {nid} [label={_quote(label)}, {_DOT_STYLE[kind]}];")
    for src, dst, label, mark in graph.edges:
        text = f"{label} {mark}" if mark else label
        lines.append(f"  {src} -> {dst} [label={_quote(text)}{_EDGE_STYLE[mark]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


class Drawing:
    """A rendered graph: `data` (the bytes), `format` ("svg" or "png"); Jupyter shows it."""

    def __init__(self, data: bytes, format: str):
        self.data, self.format = data, format

    def _repr_svg_(self):
        return self.data.decode() if self.format == "svg" else None

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def save(self, path) -> Path:
        path = Path(path)
        partial = path.with_name(path.name + ".partial")   # no half-written file on a crash
        partial.write_bytes(self.data)
        partial.replace(path)
        return path


def _render_with_dot(dot_text: str, format: str) -> bytes:
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(dot_text).pipe(format=format)
    done = subprocess.run(["dot", f"-T{format}"], input=dot_text.encode(), capture_output=True,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"viz.draw: dot failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def _layers(graph: Graph) -> dict:
    """Each node's row, counted from the top: the result sits at the bottom and every node
    one row above its nearest-to-the-top consumer's (the longest path down to a result),
    so every edge points down and a leaf sits just above the op that uses it, as dot lays
    it out."""
    succs = {n: [] for n in graph.nodes}
    for src, dst, _, _ in graph.edges:
        succs[src].append(dst)
    down = {}                       # longest distance to a result

    for n in graph.nodes:           # iterative, no recursion limit to hit on deep graphs
        stack = [n]
        while stack:
            m = stack[-1]
            if m in down:
                stack.pop()
                continue
            todo = [s for s in succs[m] if s not in down]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            down[m] = 1 + max((down[s] for s in succs[m]), default=-1)
    top = max(down.values(), default=0)
    return {n: top - d for n, d in down.items()}


def _render_with_matplotlib(graph: Graph, format: str) -> bytes:
    import io

    from matplotlib.figure import Figure     # no pyplot: nothing global, no window
    row = _layers(graph)
    rows: dict = {}
    for n in graph.nodes:
        rows.setdefault(row[n], []).append(n)
    x = {}
    preds = {n: [s for s, d, _, _ in graph.edges if d == n] for n in graph.nodes}
    for r in sorted(rows):          # order each row by where its inputs sit (barycentre)
        members = sorted(rows[r], key=lambda n: np.mean([x[p] for p in preds[n]])
                         if preds[n] else 0.0)
        for i, n in enumerate(members):
            x[n] = i - (len(members) - 1) / 2
    width = max(len(m) for m in rows.values())
    fig = Figure(figsize=(max(4.0, 2.6 * width), max(3.0, 1.5 * len(rows))))
    ax = fig.add_subplot()
    ax.set_axis_off()
    pos = {n: (x[n] * 2.6, -row[n] * 1.5) for n in graph.nodes}
    colours = {"leaf": "#cfe2f3", "root": "#d9ead3", "op": "#eeeeee"}
    edge_colours = {"": "#555555", "broadcast": "#cc0000", "reduce": "#1155cc"}
    for src, dst, label, mark in graph.edges:
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        ax.annotate("", xy=(x1, y1 + 0.35), xytext=(x0, y0 - 0.35),
                    arrowprops=dict(arrowstyle="->", color=edge_colours[mark]))
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{label} {mark}".strip(), fontsize=7,
                color=edge_colours[mark], ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
    for n, (kind, label) in graph.nodes.items():
        ax.text(*pos[n], label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round4,pad=0.4" if kind == "op" else "square,pad=0.3",
                          fc=colours[kind], ec="#333333"))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.5)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=format, bbox_inches="tight")
    return buffer.getvalue()


def draw(*roots, path=None, params: dict | None = None, format: str | None = None,
         engine: str = "auto") -> Drawing:
    """Render the graph behind `roots`: to `path` if given (its suffix picks svg or png), and
    as a `Drawing` that Jupyter shows inline. `engine`: "dot" (Graphviz; an error if it is not
    installed), "matplotlib", or "auto" (dot where installed, else matplotlib)."""
    if len(roots) >= 2 and isinstance(roots[-1], (str, Path)) and path is None:
        *roots, path = roots                     # draw(loss, "graph.svg") reads naturally
    fmt = format or (Path(path).suffix.lstrip(".").lower() if path is not None else "svg")
    if fmt not in ("svg", "png"):
        raise ValueError(f"viz.draw: format must be 'svg' or 'png', got {fmt!r}")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"viz.draw: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    has_dot = shutil.which("dot") is not None
    if engine == "dot" and not has_dot:
        raise RuntimeError("viz.draw: engine='dot' needs Graphviz's `dot` program (Debian: "
                           "apt install graphviz); engine='matplotlib' needs nothing")
    if engine == "dot" or (engine == "auto" and has_dot):
        data = _render_with_dot(to_dot(*roots, params=params), fmt)
    else:
        data = _render_with_matplotlib(graph_of(*roots, params=params), fmt)
    drawing = Drawing(data, fmt)
    if path is not None:
        drawing.save(path)
    return drawing
