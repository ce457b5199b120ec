"""The `minidl` command.

    minidl train                      # SimpleCNN on the embedded 8x8 digits, < 1 minute
    minidl train --dataset mnist --data-dir ../shared/data/mnist --epochs 5
    minidl train --resume --out runs/digits-simplecnn
    minidl demo                       # a tiny MLP built from raw tensors learns a function
    minidl compare --model mlp        # minidl against PyTorch, layer by layer (cli_compare)
    minidl doctor                     # versions, caches and a smoke test (doctor)
    minidl learn [NAME [FILE.py]]     # exercises that grade themselves (exercises.learn)
"""
from __future__ import annotations

import argparse
import sys


def demo(args: argparse.Namespace) -> int:
    """Fit y = sin(3x) with a 1-32-1 MLP made of raw tensors and plain SGD."""
    import minidl

    minidl.manual_seed(args.seed)
    x = minidl.linspace(-1, 1, 128).reshape(-1, 1)
    y = (x * 3).sin()
    w1 = (minidl.randn(1, 32) * 1.0).requires_grad_()
    b1 = minidl.zeros(32, requires_grad=True)
    w2 = (minidl.randn(32, 1) * (1 / 32 ** 0.5)).requires_grad_()
    b2 = minidl.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    for step in range(args.steps + 1):
        pred = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with minidl.no_grad():
            for p in params:
                p -= args.lr * p.grad
        if step % (args.steps // 10 or 1) == 0:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    return 0


# per-dataset defaults for the options a user leaves out
_DEFAULTS = {"digits": {"epochs": 10, "lr": 5e-3}, "mnist": {"epochs": 5, "lr": 1e-3},
             "fashion-mnist": {"epochs": 5, "lr": 1e-3}, "cifar10": {"epochs": 10, "lr": 1e-3}}


def train(args: argparse.Namespace) -> int:
    """Train a model on a dataset; see `minidl train --help`."""
    from .training import Config, Trainer

    defaults = _DEFAULTS[args.dataset]
    cfg = Config(model=args.model, dataset=args.dataset, data_dir=args.data_dir,
                 epochs=args.epochs or defaults["epochs"], batch_size=args.batch_size,
                 lr=args.lr or defaults["lr"], optimizer=args.optimizer, seed=args.seed,
                 out=args.out or f"runs/{args.dataset}-{args.model}",
                 checkpoint_every=args.checkpoint_every,
                 extra={"download": args.download, "distributed": args.distributed})
    if args.profile:
        trainer = Trainer(cfg, resume=args.resume)
        prof = trainer.profile(steps=args.profile)
        print(f"minidl train --profile: {args.profile} steps of {cfg.model} on {cfg.dataset}, "
              f"batch {cfg.batch_size} (after 2 warm-up steps)")
        print(prof.table())
        return 0
    trainer = Trainer(cfg, resume=args.resume)
    say = trainer.log if args.distributed else print      # rank 0 only, when distributed
    ranks = f" on {trainer.dist.get_world_size()} ranks" if trainer.dist else ""
    say(f"minidl train: {cfg.model} on {cfg.dataset}{ranks}, {cfg.epochs} epochs, batch "
        f"{cfg.batch_size}, {cfg.optimizer} lr={cfg.lr}, seed {cfg.seed} -> {cfg.out}")
    result = trainer.fit()
    say(f"final test accuracy: {result['accuracy']:.2%}; outputs in {cfg.out}")
    return 0


def _add_train_parser(sub) -> None:
    from .training import DATASETS, MODELS, OPTIMIZERS

    p = sub.add_parser("train", help="train a model on a dataset (default: digits, no "
                       "download needed)", description=train.__doc__)
    p.add_argument("--model", choices=MODELS, default="simplecnn")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    p.add_argument("--data-dir", help="folder with the dataset's original files (digits: "
                   "read from scikit-learn's package when omitted)")
    p.add_argument("--download", action="store_true",
                   help="fetch missing files from the original mirrors (needs network)")
    p.add_argument("--epochs", type=int, help="default: 10 for digits, 5 for (Fashion-)MNIST")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, help="default: 5e-3 for digits, 1e-3 otherwise")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output folder (default runs/<dataset>-<model>)")
    p.add_argument("--profile", type=int, nargs="?", const=10, default=0, metavar="STEPS",
                   help="time STEPS training steps (default 10) op by op, print the table "
                        "and stop")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out exactly where it stopped")
    p.add_argument("--distributed", action="store_true",
                   help="run as one rank of an MPI job, averaging gradients over the ranks "
                        "(mpiexec -n N minidl train --distributed; needs minidl[mpi]); "
                        "--batch-size is per rank")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="also checkpoint every N batches (default: at epoch ends)")
    p.set_defaults(func=train)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minidl", description="minidl command line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train_parser(sub)
    from . import cli_compare, doctor
    from .exercises import learn
    cli_compare.add_parser(sub)
    doctor.add_parser(sub)
    learn.add_parser(sub)
    p = sub.add_parser("demo", help="train a tiny MLP built from raw tensors")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
