"""The SimpleCNN program of issue 3, run unchanged under minidl and under PyTorch.

PROGRAM is the issue's text. Executed with `torch` bound to minidl (as `import minidl as
torch; import minidl.nn as nn` would) its loss falls; its class, executed under both
libraries with the same weights (moved through state_dict) and the same batch, gives the
same logits, loss and parameter gradients, and 20 Adam steps follow the same path.
"""
import contextlib
import io
import pathlib
import runpy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402

PROGRAM = '''
class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)
    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = x.view(-1, 32 * 7 * 7)
        x = self.relu3(self.fc1(x))
        x = self.fc2(x)
        return x
model = SimpleCNN()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(10):
    outputs = model(inputs); loss = criterion(outputs, labels)
    optimizer.zero_grad(); loss.backward(); optimizer.step()
    print(f'Epoch [{epoch+1}/{10}], Loss: {loss.item():.4f}')
'''
CLASS_SOURCE = PROGRAM.split("model = SimpleCNN()")[0]


def _batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3, 28, 28)), rng.integers(0, 10, n)


def _run_program(lib, inputs, labels):
    """exec the issue's program with `torch` bound to lib; return its printed losses."""
    namespace = {"torch": lib, "nn": lib.nn, "inputs": inputs, "labels": labels}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(PROGRAM, namespace)
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Epoch [{e}/10]" for e in range(1, 11)]
    return [float(line.rsplit(" ", 1)[1]) for line in lines]


def test_program_runs_unchanged_and_its_loss_falls():
    minidl.manual_seed(0)
    x, y = _batch(4)
    losses = _run_program(minidl, minidl.tensor(x, dtype=minidl.float32), minidl.tensor(y))
    assert losses[-1] < 0.8 * losses[0]
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_example_script_runs():
    script = pathlib.Path(__file__).parents[2] / "examples" / "simple_cnn.py"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")
    losses = [float(line.rsplit(" ", 1)[1]) for line in out.getvalue().splitlines()]
    assert len(losses) == 10 and losses[-1] < losses[0]


def _models(dtype):
    """SimpleCNN from the issue's source under each library, minidl's loaded from torch's."""
    classes = {}
    for lib in (minidl, torch):
        namespace = {"torch": lib, "nn": lib.nn}
        exec(CLASS_SOURCE, namespace)
        classes[lib] = namespace["SimpleCNN"]
    torch.manual_seed(0)
    theirs = classes[torch]().to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = classes[minidl]().to(dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


TOL = {np.float32: dict(rtol=1e-4, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-13)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_loss_and_gradients_match_torch(dtype):
    ours, theirs = _models(dtype)
    x, y = _batch(4)
    x = x.astype(dtype)
    results = []
    for model, lib in ((ours, minidl), (theirs, torch)):
        outputs = model(lib.tensor(x))
        loss = lib.nn.CrossEntropyLoss()(outputs, lib.tensor(y))
        loss.backward()
        grads = {n: p.grad.numpy() for n, p in model.named_parameters()}
        results.append((outputs.detach().numpy(), loss.item(), grads))
    (logits, loss, grads), (t_logits, t_loss, t_grads) = results
    np.testing.assert_allclose(logits, t_logits, **TOL[dtype])
    assert loss == pytest.approx(t_loss, rel=TOL[dtype]["rtol"])
    assert list(grads) == list(t_grads)
    for name in grads:
        scale = np.abs(t_grads[name]).max()     # relative to the gradient's own scale
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=TOL[dtype]["rtol"],
                                   atol=TOL[dtype]["rtol"] * 1e-2 * scale, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_twenty_adam_steps_follow_torch(dtype):
    """Loss curves and final weights within 1e-4 (float32) or 1e-9 (float64).

    In float32 one exception is allowed for: a weight whose first gradient is below the
    gradient's rounding noise (|g| < 1e-6 max|g|; e.g. -1.2e-9 in float64, computed as
    -1.5e-9 here and -1.1e-9 by torch). Adam divides g by sqrt(v) + eps, so such noise
    becomes a step of O(lr) whose size depends on the noise; those weights must stay
    within one lr per step of torch's instead.

    A float32 trajectory can also fork outright when a pre-activation within rounding of a
    ReLU or max-pool kink falls on the other side of it (with batch 4 and seed 1 that
    happens at step 10); this batch
    has no such event, and float64 checks the same path to 1e-9.
    """
    ours, theirs = _models(dtype)
    x, y = _batch(8, seed=1)
    x = x.astype(dtype)
    curves, first_grads = [], {}
    lr, steps = 0.001, 20
    for model, lib in ((ours, minidl), (theirs, torch)):
        criterion = lib.nn.CrossEntropyLoss()
        optimizer = lib.optim.Adam(model.parameters(), lr=lr)
        inputs, labels = lib.tensor(x), lib.tensor(y)
        curve = []
        for step in range(steps):
            loss = criterion(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            if step == 0 and lib is torch:
                first_grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
            optimizer.step()
            curve.append(loss.item())
        curves.append(curve)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(curves[0], curves[1], rtol=tol)
    assert curves[0][-1] < curves[0][0]
    n_noise = 0
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        w, tw = p.detach().numpy(), tp.detach().numpy()
        close = np.abs(w - tw) <= tol * (1 + np.abs(tw))
        g = np.abs(first_grads[name])
        noise = g < 1e-6 * g.max() if dtype == np.float32 else np.zeros_like(close)
        assert np.all(close | noise), f"{name}: {np.abs(w - tw)[~close].max()}"
        assert np.all(np.abs(w - tw)[noise] <= steps * lr), name
        n_noise += int((noise & ~close).sum())
    assert n_noise <= 10                      # the exception stays an exception
