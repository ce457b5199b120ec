"""A character-level LSTM language model, written as a PyTorch program: it runs on minidl
with the import changed (this file imports minidl) and on PyTorch as it is with
`import torch`. Truncated backpropagation through time over a short text, Adam, gradient
clipping, then greedy generation.

    python examples/char_lstm.py --steps 300

tests/parity/test_example_training.py runs it on both frameworks from the same weights
and checks that the printed losses agree.
"""
import argparse

import minidl as torch
import minidl.nn as nn

TEXT = ("a tensor is an array with a history. every operation on it is written down, "
        "and backward reads the story in reverse, one gradient at a time. a layer is a "
        "function with weights, a model is layers in order, and training is a loop: "
        "forward, loss, backward, step. ") * 4


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden_dim=64, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def batches(data, batch_size, seq_len):
    """Split the text into batch_size parallel streams and cut them into windows."""
    n = (len(data) - 1) // batch_size
    streams = data[: n * batch_size + 1]
    inputs = streams[:-1].view(batch_size, n)
    targets = streams[1:].view(batch_size, n)
    for start in range(0, n - seq_len + 1, seq_len):
        yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--double", action="store_true", help="train in float64")
    args = parser.parse_args()

    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    model = CharLSTM(len(chars))
    if args.double:
        model = model.double()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()

    step = 0
    while step < args.steps:
        state = None
        for x, y in batches(data, args.batch_size, args.seq_len):
            if state is not None:          # truncated BPTT: keep the state, not its graph
                state = tuple(s.detach() for s in state)
            logits, state = model(x, state)
            loss = criterion(logits.reshape(-1, len(chars)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            if step % 25 == 0 or step == 1:
                print(f"step {step} loss {loss.item():.6f}")
            if step >= args.steps:
                break

    model.eval()
    with torch.no_grad():
        prompt = "a tensor"
        x = torch.tensor([[stoi[c] for c in prompt]], dtype=torch.long)
        logits, state = model(x)
        out = prompt
        for _ in range(60):
            nxt = logits[0, -1].argmax().item()
            out += chars[nxt]
            logits, state = model(torch.tensor([[nxt]], dtype=torch.long), state)
    print("sample:", out)


if __name__ == "__main__":
    main()
