# Save and load a general checkpoint (model, optimizer, epoch, loss), then keep training.
# Adapted from pytorch/tutorials, recipes_source/recipes/saving_and_loading_a_general_checkpoint.py (BSD-3-Clause, see README.md).
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((64, 5)).astype(np.float32))
y = torch.from_numpy((rng.standard_normal((64, 1)) > 0).astype(np.float32))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def run(model, optimizer, epochs):
    criterion = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return loss


net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
loss = run(net, optimizer, 10)
print("before saving", loss.item())
path = os.path.join(tempfile.mkdtemp(), "model.pt")
torch.save({'epoch': 10, 'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(), 'loss': loss}, path)

model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
checkpoint = torch.load(path, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
print("epoch", checkpoint['epoch'], "loss", checkpoint['loss'].item())
model.train()
print("after resuming", run(model, optimizer, 10).item())
torch.save(model, path)
whole = torch.load(path, weights_only=False)
print(type(whole).__name__, whole(x[:2]).detach().numpy().round(4).tolist())
