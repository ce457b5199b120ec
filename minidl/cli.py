"""The `minidl` command: `minidl demo`, `minidl train`, ...

    python -m minidl demo      # a tiny MLP built from tensors alone learns a function
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minidl", description="minidl command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train a tiny MLP built from raw tensors")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
