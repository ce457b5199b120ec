"""The paths PyTorch programs name classes by (torch.nn.modules.<file>.<Class>, torch.onnx)
exist, so pytorch/examples' word_language_model runs with its imports swapped: it saves a
whole model and loads it back with those classes in safe_globals."""
import pytest

import minidl
import minidl.nn as nn
import minidl.onnx
from minidl import serialization


def test_torch_nn_modules_paths_hold_the_same_classes():
    m = nn.modules
    assert m.dropout.Dropout is nn.Dropout and m.linear.Linear is nn.Linear
    assert m.linear.NonDynamicallyQuantizableLinear is type(nn.MultiheadAttention(4, 2).out_proj)
    assert m.normalization.LayerNorm is nn.LayerNorm and m.sparse.Embedding is nn.Embedding
    assert m.rnn.LSTM is nn.LSTM and m.transformer.TransformerEncoderLayer is \
        nn.TransformerEncoderLayer
    assert m.activation.MultiheadAttention is nn.MultiheadAttention and m.conv.Conv1d is nn.Conv1d
    from minidl.nn.modules.loss import CrossEntropyLoss
    assert CrossEntropyLoss is nn.CrossEntropyLoss


def test_a_whole_transformer_loads_with_its_classes_allowed(tmp_path):
    m = nn.modules
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    minidl.save(model, tmp_path / "t.pt")
    allowed = [m.dropout.Dropout, m.linear.Linear, m.linear.NonDynamicallyQuantizableLinear,
               m.normalization.LayerNorm, m.transformer.TransformerEncoder,
               m.transformer.TransformerEncoderLayer, m.activation.MultiheadAttention,
               m.container.ModuleList]
    with serialization.safe_globals(allowed):
        back = minidl.load(tmp_path / "t.pt")
    x = minidl.randn(3, 2, 8)
    model.eval(), back.eval()
    assert (model(x) - back(x)).abs().max().item() == 0


def test_onnx_export_says_what_to_do_instead():
    assert minidl.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="bridge.to_torch"):
        minidl.onnx.export(None, None, "m.onnx")
