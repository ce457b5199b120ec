"""minidl.viz: the DOT text names what a learner should see, and both renderers draw."""
import re
import shutil

import pytest

import minidl
from minidl import viz


def _mlp_loss():
    minidl.manual_seed(0)
    model = minidl.nn.Sequential(minidl.nn.Linear(3, 4), minidl.nn.Tanh(),
                                 minidl.nn.Linear(4, 1))
    shift = minidl.randn(1, requires_grad=True)
    loss = ((model(minidl.randn(5, 3)) + shift) ** 2).sum()
    return model, shift, loss


def test_dot_text_has_ops_named_as_pytorch_names_them_and_edges_marked():
    model, shift, loss = _mlp_loss()
    dot = viz.to_dot(loss, params=dict(model.named_parameters()))
    assert dot.startswith("digraph minidl {") and dot.rstrip().endswith("}")
    for op in ("AddmmBackward0", "TanhBackward0", "AddBackward0", "PowBackward0",
               "SumBackward0"):
        assert f'label="{op}"' in dot, op
    assert "0.weight\\n(4, 3) float32" in dot
    assert "(4,) broadcast" in dot           # Linear's bias is broadcast over the batch
    assert "(5, 1) reduce" in dot            # the sum reduces the (5, 1) squares
    assert "|grad|" not in dot               # no backward yet
    loss.backward()
    after = viz.to_dot(loss, params=dict(model.named_parameters()))
    assert after.count("|grad|") == 5        # 4 parameters and `shift`
    edges = re.findall(r"^  (n\d+) -> (n\d+)", after, re.M)
    nodes = set(re.findall(r"^  (n\d+) \[label", after, re.M))
    assert len(nodes) == 12 and all(a in nodes and b in nodes for a, b in edges)
    assert len(edges) == 11                  # a tree here: one edge fewer than nodes


def test_a_node_used_twice_appears_once_with_two_edges():
    x = minidl.randn(3, requires_grad=True)
    y = x.exp()
    dot = viz.to_dot((y * y).sum())
    exp_id = re.search(r'(n\d+) \[label="ExpBackward0"', dot).group(1)
    assert len(re.findall(rf"^  {exp_id} \[label", dot, re.M)) == 1
    assert len(re.findall(rf"^  {exp_id} -> ", dot, re.M)) == 2


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="expected Tensors"):
        viz.to_dot([1.0])
    _, _, loss = _mlp_loss()
    with pytest.raises(ValueError, match="format must be 'svg' or 'png'"):
        viz.draw(loss, "graph.pdf")
    with pytest.raises(ValueError, match="engine must be"):
        viz.draw(loss, engine="tikz")


def test_matplotlib_drawing_needs_no_graphviz(tmp_path):
    pytest.importorskip("matplotlib")
    _, _, loss = _mlp_loss()
    path = tmp_path / "graph.png"
    drawing = viz.draw(loss, path, engine="matplotlib")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawing._repr_png_() == path.read_bytes() and drawing._repr_svg_() is None
    svg = viz.draw(loss, engine="matplotlib")      # Jupyter shows this inline
    assert "<svg" in svg._repr_svg_()
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_drawing(tmp_path):
    _, _, loss = _mlp_loss()
    drawing = viz.draw(loss, tmp_path / "graph.svg", engine="dot")
    assert "AddmmBackward0" in drawing._repr_svg_()


def test_engine_dot_without_graphviz_says_what_to_install(monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, _, loss = _mlp_loss()
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        viz.draw(loss, engine="dot")
