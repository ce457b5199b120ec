"""Variable-length sequences for the recurrent layers (torch.nn.utils.rnn).

A PackedSequence stores a batch of sequences of different lengths without padding: time
step by time step, the values of the sequences still running at that step (longest
first), so `data` has sum(lengths) rows and `batch_sizes[t]` says how many belong to step t.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """data (sum(lengths), *), batch_sizes (T,) int64 on the CPU, and the permutation that
    sorted the batch by length (sorted_indices) with its inverse (unsorted_indices)."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> "PackedSequence":
        return self._replace(data=self.data.to(*args, **kwargs))


def _filled(like: Tensor, shape: tuple, value) -> Tensor:
    """A constant tensor of `shape` full of `value`, in like's dtype and array module."""
    from ...backend import get_array_module
    from ...tensor import constant
    return constant(get_array_module(like.array).full(shape, value, dtype=like.array.dtype))


def _lengths(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths.array.astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences whose
    true lengths are `lengths`."""
    from ... import ops
    from ...creation import tensor
    lengths = _lengths(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
        order = np.arange(len(lengths))
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = tensor(order)
    if batch_first:
        input = input.transpose(0, 1)
    if len(lengths) != input.shape[1]:
        raise ValueError(f"pack_padded_sequence: expected {input.shape[1]} lengths (the batch "
                         f"size), got {len(lengths)}")
    if lengths.size and (lengths.min() <= 0 or lengths.max() > input.shape[0]):
        raise RuntimeError(f"pack_padded_sequence: lengths must be in [1, {input.shape[0]}], "
                           f"got {lengths.tolist()}")
    sorted_lengths = lengths[order]
    steps = int(sorted_lengths[0]) if lengths.size else 0
    batch_sizes = np.array([(sorted_lengths > t).sum() for t in range(steps)], np.int64)
    input = input[:, tensor(order)]
    data = ops.cat([input[t, :int(batch_sizes[t])] for t in range(steps)], 0)
    unsorted = None if sorted_indices is None else tensor(np.argsort(order, kind="stable"))
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, unsorted)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """The inverse of pack_padded_sequence: (padded batch, lengths) in the original order."""
    from ... import ops
    from ...creation import tensor
    data, batch_sizes = sequence.data, sequence.batch_sizes.array.astype(np.int64)
    steps, batch = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
    rows, start = [], 0
    for t in range(steps):
        n = int(batch_sizes[t])
        step = data[start:start + n]
        start += n
        if n < batch:
            fill = _filled(step, (batch - n,) + tuple(step.shape[1:]), padding_value)
            step = ops.cat([step, fill], 0)
        rows.append(step)
    for _ in range(steps, total_length or steps):
        rows.append(_filled(data, (batch,) + tuple(data.shape[1:]), padding_value))
    padded = ops.stack(rows, 0)
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths = lengths[sequence.unsorted_indices.array]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padding with
    `padding_value` on the right (or the left)."""
    from ... import ops
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = _filled(s, (missing,) + tuple(s.shape[1:]), padding_value)
            s = ops.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    out = ops.stack(padded, 0)
    return out if batch_first else out.transpose(0, 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) of different lengths."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths(lengths))]
