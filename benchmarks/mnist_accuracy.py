"""Train the seed SimpleCNN (1 channel) on MNIST / Fashion-MNIST with minidl and PyTorch.

Same settings for both: inputs scaled to [0, 1], batch 64, Adam lr 1e-3, the given epochs
and seeds; minidl runs through `minidl train`'s Trainer, PyTorch through a plain loop over
the same arrays. Prints and writes a Markdown table of test accuracy after each epoch and
training seconds per epoch (evaluation excluded) to benchmarks/ACCURACY.md.

    python benchmarks/mnist_accuracy.py --data ../shared/data --epochs 5 --seeds 0
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def train_minidl(dataset: str, root: Path, epochs: int, seed: int) -> dict:
    from minidl.training import Config, Trainer

    cfg = Config(model="simplecnn", dataset=dataset, data_dir=str(root), epochs=epochs,
                 batch_size=64, lr=1e-3, seed=seed, out=f"/tmp/minidl-acc-{dataset}-{seed}")
    result = Trainer(cfg, log=lambda *a: None, progress=False).fit()
    return {"accuracy": [h["test_accuracy"] for h in result["history"]],
            "seconds": [h["seconds"] for h in result["history"]]}


def train_torch(dataset: str, root: Path, epochs: int, seed: int) -> dict:
    import torch
    from minidl.data import FashionMNIST, MNIST
    from minidl.models import define_models

    cls = MNIST if dataset == "mnist" else FashionMNIST
    train, test = cls(root, train=True), cls(root, train=False)
    x = torch.tensor(train.data[:, None] / np.float32(255))
    y = torch.tensor(train.targets)
    xt = torch.tensor(test.data[:, None] / np.float32(255))
    yt = torch.tensor(test.targets)
    torch.manual_seed(seed)
    model = define_models(torch.nn).SimpleCNN(1, 28, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    accs, secs = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for b in range(0, len(x), 64):
            idx = order[b:b + 64]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        secs.append(time.perf_counter() - start)
        with torch.no_grad():
            pred = torch.cat([model(xt[i:i + 1000]).argmax(1) for i in range(0, len(xt), 1000)])
        accs.append(float((pred == yt).float().mean()))
    return {"accuracy": accs, "seconds": secs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default=str(HERE / "ACCURACY.md"))
    args = parser.parse_args()
    lines = ["# SimpleCNN on MNIST and Fashion-MNIST: minidl beside PyTorch", "",
             f"Command: `python benchmarks/mnist_accuracy.py --epochs {args.epochs} --seeds "
             f"{' '.join(map(str, args.seeds))}`", "",
             "Batch 64, Adam lr 1e-3, inputs in [0, 1], default threads (2 cores). Seconds "
             "are training time per epoch, evaluation excluded.", "",
             "| dataset | framework | seed | test accuracy after each epoch | s / epoch |",
             "| --- | --- | --- | --- | --- |"]
    for dataset in args.datasets:
        folder = Path(args.data) / dataset
        for seed in args.seeds:
            for name, fn in (("minidl", train_minidl), ("PyTorch", train_torch)):
                res = fn(dataset, folder, args.epochs, seed)
                accs = ", ".join(f"{100 * a:.2f}" for a in res["accuracy"])
                line = (f"| {dataset} | {name} | {seed} | {accs} | "
                        f"{np.median(res['seconds']):.1f} |")
                print(line, flush=True)
                lines.append(line)
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
