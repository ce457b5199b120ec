"""LSTM and attention, forward + backward, minidl against PyTorch in one process.

    python benchmarks/sequence_bench.py [--repeats 15] [--threads 1 2]

Workloads (float32, gradients for the input and every parameter, the same weights in both):
  lstm       nn.LSTM(32, 64), batch 16, 32 steps, batch_first; loss = output.sum()
  lstm_cell  50 steps of nn.LSTMCell(32, 64) on batch 8, a Python loop as a user writes it
  mha        nn.MultiheadAttention(64, 4), batch 16, sequence 32, self-attention
  encoder    nn.TransformerEncoderLayer(64, 4, 128, dropout 0), batch 16, sequence 32
Each repeat times minidl then PyTorch back to back (interleaved); medians in ms, and the
ratio minidl / PyTorch (below 1: minidl is faster).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _workloads(lib, nn):
    rng = np.random.default_rng(0)

    def tensor(shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    lib.manual_seed(0)
    lstm = nn.LSTM(32, 64, batch_first=True)
    cell = nn.LSTMCell(32, 64)
    mha = nn.MultiheadAttention(64, 4, batch_first=True)
    enc = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
    x_lstm, x_cell, x_att = tensor((16, 32, 32)), tensor((50, 8, 32)), tensor((16, 32, 64))

    def run_lstm():
        lstm(x_lstm)[0].sum().backward()

    def run_cell():
        h = c = None
        outs = []
        for t in range(50):
            h, c = cell(x_cell[t], None if h is None else (h, c))
            outs.append(h)
        lib.stack(outs).sum().backward()

    def run_mha():
        mha(x_att, x_att, x_att, need_weights=False)[0].sum().backward()

    def run_encoder():
        enc(x_att).sum().backward()

    models = {"lstm": lstm, "lstm_cell": cell, "mha": mha, "encoder": enc}
    return {"lstm": run_lstm, "lstm_cell": run_cell, "mha": run_mha,
            "encoder": run_encoder}, models


def main() -> None:
    import torch
    import minidl
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    ours, our_models = _workloads(minidl, minidl.nn)
    theirs, their_models = _workloads(torch, torch.nn)
    for name in our_models:                       # the same weights in both
        their_models[name].load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                            our_models[name].state_dict().items()})
    print("| workload | threads | minidl ms | PyTorch ms | minidl / PyTorch |")
    print("| --- | --- | --- | --- | --- |")
    for threads in args.threads:
        minidl.set_num_threads(threads)
        torch.set_num_threads(threads)
        for name in ours:
            for _ in range(3):                    # compile, warm the caches
                ours[name]()
                theirs[name]()
            a, b = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                ours[name]()
                a.append(time.perf_counter() - start)
                start = time.perf_counter()
                theirs[name]()
                b.append(time.perf_counter() - start)
            ma, mb = statistics.median(a) * 1e3, statistics.median(b) * 1e3
            print(f"| {name} | {threads} | {ma:.2f} | {mb:.2f} | {ma / mb:.2f}x |")


if __name__ == "__main__":
    main()
