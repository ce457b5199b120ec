# Classify variable-length integer sequences (is the sum of the tokens above a threshold?)
# with an embedding, a bidirectional GRU over packed sequences, Adam and gradient clipping.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

rng = np.random.default_rng(0)
lengths = rng.integers(3, 9, 64)
seqs = [torch.tensor(rng.integers(1, 10, n), dtype=torch.long) for n in lengths]
labels = torch.tensor([int(s.sum().item() > 5 * len(s)) for s in seqs])


class Classifier(nn.Module):
    def __init__(self, vocab=10, emb=8, hidden=12):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 2)

    def forward(self, padded, lengths):
        packed = pack_padded_sequence(self.embed(padded), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, h_n = self.gru(packed)
        return self.head(torch.cat([h_n[0], h_n[1]], dim=1))


model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
criterion = nn.CrossEntropyLoss()
padded = pad_sequence(seqs, batch_first=True)
for epoch in range(30):
    for start in range(0, 64, 16):
        batch = slice(start, start + 16)
        optimizer.zero_grad()
        logits = model(padded[batch], torch.tensor(lengths[batch]))
        loss = criterion(logits, labels[batch])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    scheduler.step()
    if epoch % 5 == 0:
        print(f"epoch {epoch} loss {loss.item():.6f} grad norm {norm.item():.6f} "
              f"lr {scheduler.get_last_lr()[0]:.6f}")
with torch.no_grad():
    pred = model(padded, torch.tensor(lengths)).argmax(1)
    print("accuracy", (pred == labels).float().mean().item())
