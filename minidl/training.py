"""The training loop behind `minidl train`: data, model, epochs, checkpoints, resume, report.

A run writes into its output folder:
    checkpoint.safetensors   model, optimizer, loader position, RNG state, history (atomic)
    metrics.json             per-epoch train loss, test loss, test accuracy, seconds
    curves.png               loss and accuracy curves (when matplotlib is installed)
    report.txt               per-class precision/recall/F1 and the confusion matrix

`--resume` continues from the checkpoint exactly: the same remaining batches in the same
order, the same optimizer moments, so the final weights equal an uninterrupted run's.

For the crash tests (tests/test_resume_crash.py), the environment variable
MINIDL_CRASH_AT=<point>:<n> makes the process SIGKILL itself, as a power cut would, at the
n-th time it reaches <point>: `step` (after an optimizer step), `checkpoint` (right after a
checkpoint is written) or `eval` (after the first batch of an evaluation).
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
_crash_counts: dict = {}


def _crash_point(point: str) -> None:
    """SIGKILL this process at the MINIDL_CRASH_AT point (module docstring); else nothing."""
    wanted = os.environ.get("MINIDL_CRASH_AT")
    if not wanted:
        return
    _crash_counts[point] = _crash_counts.get(point, 0) + 1
    if wanted == f"{point}:{_crash_counts[point]}":
        import signal
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


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


def evaluate(model, dataset, batch_size: int = 1000, dist=None) -> tuple:
    """(mean loss, predictions, targets) over a dataset, in eval mode without a graph.
    With `dist` (minidl.distributed, initialised), each rank evaluates every world-th
    sample from its rank on, and the ranks' sums and predictions are gathered, so that
    every rank returns the whole test set's figures."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, preds, targets = 0.0, [], []
    n = len(dataset)
    if dist is not None:
        from .data import Subset
        dataset = Subset(dataset, list(range(dist.get_rank(), n, dist.get_world_size())))
    with no_grad():
        for images, labels in DataLoader(dataset, batch_size=batch_size):
            logits = model(images)
            total += loss_fn(logits, labels).item()
            if not preds:
                _crash_point("eval")
            preds.append(logits.argmax(1).numpy())
            targets.append(labels.numpy())
    model.train()
    preds = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    targets = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    if dist is not None:
        every = [None] * dist.get_world_size()
        dist.all_gather_object(every, (total, preds, targets))
        total = sum(t for t, _, _ in every)
        preds = np.concatenate([p for _, p, _ in every])
        targets = np.concatenate([t for _, _, t in every])
    return total / n, preds, targets


class Trainer:
    """One run: `Trainer(cfg).fit()`; `Trainer(cfg, resume=True)` continues a checkpoint."""

    def __init__(self, cfg: Config, resume: bool = False, log=print,
                 progress: bool | None = None):
        self.cfg, self.log, self.progress = cfg, log, progress
        self.dist, self.rank = None, 0
        if cfg.extra.get("distributed"):     # one rank of an MPI job (minidl.distributed)
            from . import distributed
            if not distributed.is_initialized():
                distributed.init_process_group()
            self.dist, self.rank = distributed, distributed.get_rank()
            if self.rank:                    # rank 0 logs and writes; the others compute
                self.log, self.progress = (lambda *args, **kwargs: None), False
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        creation.manual_seed(cfg.seed)
        self.train_set, self.test_set = load_data(cfg)
        classes = getattr(self.train_set, "classes", None) or list(range(10))
        self.num_classes = len(classes)
        sample = self.train_set[0][0]
        self.net = build_model(cfg, tuple(sample.shape), self.num_classes)
        self.model = self.net                # what forward runs: net, or net wrapped in DDP
        self.optimizer = OPTIMIZERS[cfg.optimizer](self.net.parameters(), lr=cfg.lr)
        self.criterion = nn.CrossEntropyLoss()
        if self.dist is None:
            self.loader = DataLoader(self.train_set, batch_size=cfg.batch_size, shuffle=True)
        else:                                # each rank its share, batch_size per rank
            self.model = self.dist.DistributedDataParallel(self.net)
            self.sampler = self.dist.DistributedSampler(self.train_set, seed=cfg.seed)
            self.loader = DataLoader(self.train_set, batch_size=cfg.batch_size,
                                     sampler=self.sampler)
        self.epoch, self.step_in_epoch, self.history = 0, 0, []
        if resume:
            self._restore()

    # ---- checkpoints ----
    def _checkpoint(self) -> None:
        state = {"config": asdict(self.cfg), "model": self.net.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "epoch": self.epoch,
                 "loader": self.loader.state_dict(), "rng": creation.get_rng_state(),
                 "history": self.history}
        if self.dist is not None:            # every rank's running loss of this epoch
            record = self.history[-1] if self.history else {}
            every = [None] * self.dist.get_world_size()
            self.dist.all_gather_object(every, [record.get("loss_sum", 0.0),
                                                record.get("samples", 0)])
            state["rank_losses"] = every
        if self.rank == 0:
            save(state, self.out / CHECKPOINT)
        if self.dist is not None:
            self.dist.barrier()              # the file is whole before any rank goes on
        _crash_point("checkpoint")

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
            self.net.load_state_dict(state["model"])
        except RuntimeError as err:
            raise SystemExit(f"minidl train --resume: the checkpoint does not fit this "
                             f"model:\n{err}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        loader = state["loader"]
        if self.dist is not None:
            # the checkpoint holds rank 0's order; each rank draws its own share again
            # (the sampler's order is a function of seed and epoch) and skips as many batches
            self.sampler.set_epoch(self.epoch)
            loader = dict(loader, indices=self.sampler.epoch_indices(), generator_state=None)
            mine = state["rank_losses"][self.rank]
            if self.history and "train_loss" not in self.history[-1]:
                self.history[-1].update(loss_sum=float(mine[0]), samples=int(mine[1]))
        self.loader.load_state_dict(loader)
        creation.set_rng_state(state["rng"])
        self.log(f"resumed from {path}: epoch {self.epoch + 1}, batch "
                 f"{int(state['loader']['batches_yielded']) + 1}")

    # ---- the loop ----
    def fit(self) -> dict:
        cfg = self.cfg
        while self.epoch < cfg.epochs:
            self._train_epoch()
            test_loss, pred, target = evaluate(self.net, self.test_set, dist=self.dist)
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
        if self.dist is not None:
            self.sampler.set_epoch(self.epoch)
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
            _crash_point("step")
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
        loss_sum, samples = record["loss_sum"], record["samples"]
        if self.dist is not None:          # the whole epoch's mean, over every rank
            every = [None] * self.dist.get_world_size()
            self.dist.all_gather_object(every, (loss_sum, samples))
            loss_sum, samples = sum(e[0] for e in every), sum(e[1] for e in every)
        record["train_loss"] = loss_sum / max(samples, 1)
        record["seconds"] = time.perf_counter() - start      # of this process's part

    def profile(self, steps: int = 10, warmup: int = 2):
        """Time `steps` training steps op by op (after `warmup` untimed ones, which compile
        the kernels) and return the minidl.profiler.profile; nothing is saved."""
        from .profiler import profile
        batches = iter(DataLoader(self.train_set, batch_size=self.cfg.batch_size,
                                  shuffle=True))
        with_batches = [next(batches) for _ in range(warmup + steps)]
        for i, (images, labels) in enumerate(with_batches):
            if i == warmup:
                prof = profile().__enter__()
            loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        prof.__exit__(None, None, None)
        return prof

    def _write_metrics(self) -> None:
        if self.rank:
            return
        keys = ("epoch", "train_loss", "test_loss", "test_accuracy", "seconds")
        rows = [{k: r[k] for k in keys if k in r} for r in self.history]
        tmp = self.out / "metrics.json.tmp"
        tmp.write_text(json.dumps({"config": asdict(self.cfg), "epochs": rows}, indent=2))
        os.replace(tmp, self.out / "metrics.json")
        _plot(rows, self.out / "curves.png")

    def _final_report(self) -> dict:
        _, pred, target = evaluate(self.net, self.test_set, dist=self.dist)
        if self.rank:
            return {"accuracy": metrics.accuracy(pred, target), "history": self.history}
        report = metrics.classification_report(preds=pred, target=target,
                                               num_classes=self.num_classes)
        matrix = metrics.confusion_matrix(preds=pred, target=target,
                                          num_classes=self.num_classes)
        text = (f"{report}\nconfusion matrix (rows: true class, columns: predicted)\n"
                f"{np.array2string(matrix, max_line_width=120)}\n")
        (self.out / "report.txt").write_text(text)
        self.log(text)
        return {"accuracy": metrics.accuracy(pred, target), "history": self.history}


def _plot(rows: list, path: Path) -> None:
    """Loss and accuracy curves as a PNG; skipped quietly without matplotlib."""
    try:      # a Figure of its own, no pyplot: the caller's backend and figures stay as they are
        from matplotlib.figure import Figure
    except ImportError:
        return
    epochs = [r["epoch"] for r in rows]
    fig = Figure(figsize=(9, 3.5))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    ax_loss.plot(epochs, [r["test_loss"] for r in rows], "s-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in rows], "s-", color="C2")
    ax_acc.set(xlabel="epoch", ylabel="%", title="test accuracy")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)
