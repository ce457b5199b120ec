"""A small Transformer encoder that learns to reverse sequences, written as a PyTorch
program: it runs on minidl with the import changed (this file imports minidl) and on
PyTorch as it is with `import torch`. Token and position embeddings, a two-layer
nn.TransformerEncoder (batch first, pre-norm), a linear head read at every position; Adam.

    python examples/transformer_encoder.py --steps 300

The data is a fixed pattern, not random draws (minidl's generator is not PyTorch's), so both
frameworks see the same batches; tests/parity/test_example_training.py runs it on both from
the same weights and checks that the printed losses agree.
"""
import argparse

import minidl as torch
import minidl.nn as nn

VOCAB, LENGTH = 10, 8


class Reverser(nn.Module):
    def __init__(self, d_model=32, nhead=4, num_layers=2, dim_feedforward=64, dropout=0.1):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, d_model)
        self.positions = nn.Embedding(LENGTH, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.head = nn.Linear(d_model, VOCAB)

    def forward(self, x):
        positions = torch.arange(x.shape[1])
        return self.head(self.encoder(self.tokens(x) + self.positions(positions)))


def batch(step, size):
    """`size` sequences of LENGTH digits, a fixed function of the step, and their reversal."""
    rows = [[(7 * (step * size + i) + 3 * j + (i * j + step) % 5) % VOCAB
             for j in range(LENGTH)] for i in range(size)]
    x = torch.tensor(rows, dtype=torch.long)
    return x, x.flip(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--double", action="store_true", help="train in float64")
    args = parser.parse_args()

    model = Reverser(dropout=args.dropout)
    if args.double:
        model = model.double()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    for step in range(1, args.steps + 1):
        x, y = batch(step, args.batch_size)
        loss = criterion(model(x).reshape(-1, VOCAB), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0 or step == 1:
            print(f"step {step} loss {loss.item():.6f}")

    model.eval()
    with torch.no_grad():
        x, y = batch(10_000, 64)
        accuracy = (model(x).argmax(-1) == y).float().mean().item()
    print(f"reversal accuracy on new sequences: {accuracy:.3f}")


if __name__ == "__main__":
    main()
