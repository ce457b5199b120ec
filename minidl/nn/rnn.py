"""Recurrent layers: RNN, LSTM, GRU and their one-step cells (torch.nn), with PyTorch's
parameter names, gate order, initialisation and shapes, so state dicts move both ways.

Each step is written with Tensor ops (two products, a few gates), so autograd gives the
gradients, and second derivatives, with no backward of its own. The input's product with
W_ih is taken for every time step at once before the loop, which leaves one product per
step.

    LSTM: i, f, g, o = chunks of x W_ih^T + b_ih + h W_hh^T + b_hh
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h' = sigmoid(o) * tanh(c')
    GRU:  r, z = sigmoid(chunks of x W_ih^T + b_ih + h W_hh^T + b_hh)
          n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),  h' = (1 - z) * n + z * h
    RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)   (or relu)
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..ops.rnn_cell import lstm_cell, unbind0
from ..tensor import Tensor, constant
from . import functional as F
from . import init
from .module import Module
from .parameter import _empty_parameter
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _lstm_step(gx, h, c, w_hh, b_hh):
    """One LSTM step from the input's precomputed share gx = x W_ih^T + b_ih."""
    # one fused node for the cell update (ops/rnn_cell.py; its readable twin is the
    # composite lstm_cell_reference: c = sig(f) c + sig(i) tanh(g), h = sig(o) tanh(c))
    return lstm_cell(gx + F.linear(h, w_hh, b_hh), c)


def _gru_step(gx, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    xr, xz, xn = gx.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h


def _rnn_step(gx, h, w_hh, b_hh, relu: bool):
    pre = gx + F.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = _empty_parameter(num_chunks * hidden_size, input_size, device=device,
                                          dtype=dtype)
        self.weight_hh = _empty_parameter(num_chunks * hidden_size, hidden_size,
                                          device=device, dtype=dtype)
        if bias:
            self.bias_ih = _empty_parameter(num_chunks * hidden_size, device=device, dtype=dtype)
            self.bias_hh = _empty_parameter(num_chunks * hidden_size, device=device, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-k, k), k = 1/sqrt(hidden_size), as in PyTorch."""
        k = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _check(self, input: Tensor, hx, name: str):
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        return x, batched

    def _zeros(self, x: Tensor) -> Tensor:
        return _zeros(x, (x.shape[0], self.hidden_size))

    def _gx(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)


def _zeros(like: Tensor, shape: tuple) -> Tensor:
    """The default initial state: zeros in like's dtype, on its device."""
    return constant(get_array_module(like.array).zeros(shape, dtype=like.array.dtype))


def _state(hx, batched: bool, x: Tensor, zeros) -> Tensor:
    if hx is None:
        return zeros(x)
    return hx if batched else hx.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes: input (N, H_in) or (H_in), hx (N, H_out) -> h' (N, H_out)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._check(input, hx, "RNNCell")
        h = _rnn_step(self._gx(x), _state(hx, batched, x, self._zeros), self.weight_hh,
                      self.bias_hh, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step. Shapes: input (N, H_in), (h, c) each (N, H) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        x, batched = self._check(input, hx, "LSTMCell")
        if hx is None:
            h = c = self._zeros(x)
        else:
            h, c = (hx if batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0)))
        h, c = _lstm_step(self._gx(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step. Shapes: input (N, H_in), hx (N, H) -> h' (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._check(input, hx, "GRUCell")
        h = _gru_step(self._gx(x), _state(hx, batched, x, self._zeros), self.weight_hh,
                      self.bias_hh)
        return h if batched else h.squeeze(0)


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer shared by RNN, LSTM, GRU.

    Parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (with the suffix
    _reverse for the backward direction), every one from U(-k, k), k = 1/sqrt(hidden_size).

    Shapes
    ------
    input (L, N, H_in) (batch_first: (N, L, H_in)), unbatched (L, H_in), or a
    PackedSequence; h_0 (D * num_layers, N, H_out) -> output (L, N, D * H_out), h_n.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"hidden_size and num_layers must be positive, got "
                             f"{hidden_size} and {num_layers}")
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not implemented in minidl")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * directions
            for suffix in ["", "_reverse"][:directions]:
                name = f"_l{layer}{suffix}"
                setattr(self, "weight_ih" + name, _empty_parameter(gates, width, device=device,
                                                                   dtype=dtype))
                setattr(self, "weight_hh" + name, _empty_parameter(gates, hidden_size,
                                                                   device=device, dtype=dtype))
                if bias:
                    setattr(self, "bias_ih" + name, _empty_parameter(gates, device=device,
                                                                     dtype=dtype))
                    setattr(self, "bias_hh" + name, _empty_parameter(gates, device=device,
                                                                     dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def flatten_parameters(self) -> None:
        """A no-op (cuDNN's weight layout has no counterpart here)."""

    def _weights(self, layer: int, reverse: bool):
        name = f"_l{layer}{'_reverse' if reverse else ''}"
        get = lambda kind: getattr(self, kind + name, None)   # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _run_direction(self, x, h, c, layer, reverse, mask):
        """One layer in one direction over all time steps; x (L, N, H_in). Where `mask` (L,
        N, 1) is 0 (past a sequence's end), the state is carried through unchanged."""
        w_ih, w_hh, b_ih, b_hh = self._weights(layer, reverse)
        # every step's input product at once, split into steps by one node
        gx = unbind0(F.linear(x, w_ih, b_ih))
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outputs = [None] * x.shape[0]
        for t in steps:
            if self.mode == "LSTM":
                h_new, c_new = _lstm_step(gx[t], h, c, w_hh, b_hh)
            elif self.mode == "GRU":
                h_new, c_new = _gru_step(gx[t], h, w_hh, b_hh), None
            else:
                h_new, c_new = _rnn_step(gx[t], h, w_hh, b_hh, self.mode == "RNN_RELU"), None
            if mask is not None:
                m = mask[t]
                h_new = h_new * m + h * (1 - m)
                if c_new is not None:
                    c_new = c_new * m + c * (1 - m)
                outputs[t] = h_new * m
            else:
                outputs[t] = h_new
            h, c = h_new, c_new
        return ops.stack(outputs, 0), h, c

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            padded, lengths = pad_packed_sequence(input)
            x, batched = padded, True     # in the batch's original order, as hx and h_n
        else:
            x = input
            if x.ndim not in (2, 3):
                raise ValueError(f"{self._get_name()}: Expected input to be 2D or 3D, got "
                                 f"{x.ndim}D tensor instead")
            batched = x.ndim == 3
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        directions = 2 if self.bidirectional else 1
        n = x.shape[1]
        state_shape = (self.num_layers * directions, n, self.hidden_size)
        h0, c0 = self._initial_state(hx, batched, x, state_shape)
        mask = None
        if packed:
            lengths_np = lengths.array
            m = (np.arange(x.shape[0])[:, None] < lengths_np[None, :])
            mask = constant(m[:, :, None].astype(x.array.dtype))
        layer_input, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, h, c = self._run_direction(layer_input, h0[k], None if c0 is None
                                                else c0[k], layer, d == 1, mask)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outs[0] if directions == 1 else ops.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = ops.stack(h_n, 0)
        c_n = ops.stack(c_n, 0) if self.mode == "LSTM" else None
        if packed:
            order = input.sorted_indices    # pack the output in the input's own order
            if order is not None:
                output, lengths = output[:, order], lengths[order]
            output = PackedSequence(pack_padded_sequence(output, lengths).data,
                                    input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _initial_state(self, hx, batched: bool, x: Tensor, shape: tuple):
        lstm = self.mode == "LSTM"
        if hx is None:
            zeros = _zeros(x, shape)
            return zeros, (zeros if lstm else None)
        states = list(hx) if lstm else [hx]
        if lstm and len(states) != 2:
            raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
        for s in states:
            expected = shape if batched else (shape[0], shape[2])
            if tuple(s.shape) != expected:
                raise RuntimeError(f"Expected hidden size {tuple(expected)}, got "
                                   f"{tuple(s.shape)}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        return states[0], (states[1] if lstm else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (torch.nn.RNN)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory over a sequence (torch.nn.LSTM); returns
    (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit over a sequence (torch.nn.GRU); returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)
