"""The training loop behind `minidl train`: data, model, epochs, checkpoints, resume, report.

A run writes into its output folder:
    checkpoint.safetensors   model, optimizer, loader position, RNG state, history (atomic)
    metrics.json             per-epoch train loss, test loss, test accuracy, seconds
    curves.png               loss and accuracy curves (when matplotlib is installed)
    report.txt               per-class precision/recall/F1 and the confusion matrix

`--resume` continues from the checkpoint exactly: the same remaining batches in the same
order, the same optimizer moments, so the final weights equal an uninterrupted run's.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import creation, metrics, nn, optim
from .autograd.grad_mode import no_grad
from .data import CIFAR10, MNIST, DataLoader, Digits, FashionMNIST
from .models import define_models
from .serialization import load, save

DATASETS = {"digits": Digits, "mnist": MNIST, "fashion-mnist": FashionMNIST,
            "cifar10": CIFAR10}
MODELS = ("simplecnn", "mlp", "lenet5")
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}
CHECKPOINT = "checkpoint.safetensors"


@dataclass
class Config:
    """Everything that defines a run; stored in the checkpoint and checked on resume."""

    model: str = "simplecnn"
    dataset: str = "digits"
    data_dir: str | None = None
    epochs: int = 15
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    seed: int = 0
    out: str = "runs/digits-simplecnn"
    checkpoint_every: int = 0          # also checkpoint every N steps (0: epoch ends only)
    extra: dict = field(default_factory=dict)


def load_data(cfg: Config):
    """Train and test datasets of cfg.dataset, read from cfg.data_dir."""
    cls = DATASETS[cfg.dataset]
    if cls is Digits:
        root = cfg.data_dir
        return Digits(root, train=True), Digits(root, train=False)
    if cfg.data_dir is None:
        raise SystemExit(f"minidl train: --data-dir is required for --dataset {cfg.dataset} "
                         f"(a folder with the original files; add --download to fetch them)")
    download = bool(cfg.extra.get("download"))
    return (cls(cfg.data_dir, train=True, download=download),
            cls(cfg.data_dir, train=False, download=download))


def build_model(cfg: Config, sample_shape: tuple, num_classes: int):
    """The model for images of shape (C, H, W), its first Linear sized from the input."""
    zoo = define_models(nn)
    channels, height = sample_shape[0], sample_shape[1]
    if cfg.model == "simplecnn":
        return zoo.SimpleCNN(channels, height, num_classes)
    if cfg.model == "lenet5":
        return zoo.LeNet5(channels, height, num_classes)
    return zoo.MLP(int(np.prod(sample_shape)), 128, num_classes)


def _progress(total: int, desc: str, enabled: bool | None):
    """A tqdm bar (enabled=None: when stdout is a terminal and tqdm is installed), else None."""
    if enabled is None:
        enabled = sys.stdout.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=True, file=sys.stdout,
                dynamic_ncols=True, mininterval=0.5)


def evaluate(model, dataset, batch_size: int = 1000) -> tuple:
    """(mean loss, predictions, targets) over a dataset, in eval mode without a graph."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, preds, targets = 0.0, [], []
    with no_grad():
        for images, labels in DataLoader(dataset, batch_size=batch_size):
            logits = model(images)
            total += loss_fn(logits, labels).item()
            preds.append(logits.argmax(1).numpy())
            targets.append(labels.numpy())
    model.train()
    return total / len(dataset), np.concatenate(preds), np.concatenate(targets)


class Trainer:
    """One run: `Trainer(cfg).fit()`; `Trainer(cfg, resume=True)` continues a checkpoint."""

    def __init__(self, cfg: Config, resume: bool = False, log=print,
                 progress: bool | None = None):
        self.cfg, self.log, self.progress = cfg, log, progress
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        creation.manual_seed(cfg.seed)
        self.train_set, self.test_set = load_data(cfg)
        classes = getattr(self.train_set, "classes", None) or list(range(10))
        self.num_classes = len(classes)
        sample = self.train_set[0][0]
        self.model = build_model(cfg, tuple(sample.shape), self.num_classes)
        self.optimizer = OPTIMIZERS[cfg.optimizer](self.model.parameters(), lr=cfg.lr)
        self.criterion = nn.CrossEntropyLoss()
        self.loader = DataLoader(self.train_set, batch_size=cfg.batch_size, shuffle=True)
        self.epoch, self.step_in_epoch, self.history = 0, 0, []
        if resume:
            self._restore()

    # ---- checkpoints ----
    def _checkpoint(self) -> None:
        state = {"config": asdict(self.cfg), "model": self.model.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "epoch": self.epoch,
                 "loader": self.loader.state_dict(), "rng": creation.get_rng_state(),
                 "history": self.history}
        save(state, self.out / CHECKPOINT)

    def _restore(self) -> None:
        path = self.out / CHECKPOINT
        if not path.is_file():
            raise SystemExit(f"minidl train --resume: no checkpoint at {path}")
        state = load(path)
        saved = state["config"]
        mismatch = [f"{k}: checkpoint {saved.get(k)!r} vs now {v!r}"
                    for k, v in asdict(self.cfg).items()
                    if k in ("model", "dataset", "batch_size", "optimizer")
                    and saved.get(k) != v]
        if mismatch:
            raise SystemExit("minidl train --resume: the checkpoint is from another run "
                             "(" + "; ".join(mismatch) + ")")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as err:
            raise SystemExit(f"minidl train --resume: the checkpoint does not fit this "
                             f"model:\n{err}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.loader.load_state_dict(state["loader"])
        creation.set_rng_state(state["rng"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        self.log(f"resumed from {path}: epoch {self.epoch + 1}, batch "
                 f"{int(state['loader']['batches_yielded']) + 1}")

    # ---- the loop ----
    def fit(self) -> dict:
        cfg = self.cfg
        while self.epoch < cfg.epochs:
            self._train_epoch()
            test_loss, pred, target = evaluate(self.model, self.test_set)
            acc = metrics.accuracy(pred, target)
            self.history[-1].update(test_loss=test_loss, test_accuracy=acc)
            self.log(f"epoch {self.epoch + 1}/{cfg.epochs}: train loss "
                     f"{self.history[-1]['train_loss']:.4f}, test loss {test_loss:.4f}, "
                     f"test accuracy {acc:.2%} ({self.history[-1]['seconds']:.1f} s)")
            self.epoch += 1
            self._checkpoint()
            self._write_metrics()
        return self._final_report()

    def _train_epoch(self) -> None:
        start = time.perf_counter()
        batches = iter(self.loader)        # draws this epoch's order (or resumes it)
        done = self.loader.state_dict()["batches_yielded"]
        if done == 0:
            self.history.append({"epoch": self.epoch + 1, "loss_sum": 0.0, "samples": 0})
        record = self.history[-1]
        bar = _progress(len(self.loader), f"epoch {self.epoch + 1}/{self.cfg.epochs}",
                        self.progress)
        if bar is not None:
            bar.update(done)
        for images, labels in batches:
            loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            record["loss_sum"] += loss.item() * len(labels)
            record["samples"] += len(labels)
            done += 1
            if bar is not None:
                rate = record["samples"] / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f"{loss.item():.4f}", img_s=f"{rate:.0f}")
                bar.update(1)
            if self.cfg.checkpoint_every and done % self.cfg.checkpoint_every == 0:
                self._checkpoint()
        if bar is not None:
            bar.close()
        record["train_loss"] = record["loss_sum"] / max(record["samples"], 1)
        record["seconds"] = time.perf_counter() - start      # of this process's part

    def _write_metrics(self) -> None:
        keys = ("epoch", "train_loss", "test_loss", "test_accuracy", "seconds")
        rows = [{k: r[k] for k in keys if k in r} for r in self.history]
        tmp = self.out / "metrics.json.tmp"
        tmp.write_text(json.dumps({"config": asdict(self.cfg), "epochs": rows}, indent=2))
        os.replace(tmp, self.out / "metrics.json")
        _plot(rows, self.out / "curves.png")

    def _final_report(self) -> dict:
        _, pred, target = evaluate(self.model, self.test_set)
        report = metrics.classification_report(target, pred, self.num_classes)
        matrix = metrics.confusion_matrix(target, pred, self.num_classes)
        text = (f"{report}\nconfusion matrix (rows: true class, columns: predicted)\n"
                f"{np.array2string(matrix, max_line_width=120)}\n")
        (self.out / "report.txt").write_text(text)
        self.log(text)
        return {"accuracy": metrics.accuracy(pred, target), "history": self.history}


def _plot(rows: list, path: Path) -> None:
    """Loss and accuracy curves as a PNG; skipped quietly without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    ax_loss.plot(epochs, [r["test_loss"] for r in rows], "s-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in rows], "s-", color="C2")
    ax_acc.set(xlabel="epoch", ylabel="%", title="test accuracy")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
