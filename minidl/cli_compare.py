"""`minidl compare`: run a model on minidl and on PyTorch from the same weights and say
where they part, layer by layer; made for a user's own CI.

    minidl compare --model simplecnn                      # the zoo: simplecnn, mlp, lenet5
    minidl compare --model mlp --dtype float64 --steps 50 --json
    minidl compare --module examples/planted_bug.py:make_model --input-shape 8,20

`--module` names a factory, `package.module:function` or `path/to/file.py:function`, that
takes an `nn` namespace (minidl.nn or torch.nn) and returns a model built from it, so one
piece of code builds both twins. Exit status: 0 when every layer agrees (and the loss
curves, with --steps), 1 when the runs diverge, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

# the zoo's models and the input shape (without the batch) each is built for
ZOO_INPUTS = {"simplecnn": (3, 28, 28), "mlp": (784,), "lenet5": (1, 28, 28)}


class UsageError(Exception):
    """Bad arguments: the command prints the message and exits 2."""


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare a model on minidl and PyTorch, layer by layer",
                       description=__doc__.split("\n\n")[0])
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", choices=sorted(ZOO_INPUTS), help="a model of minidl.models")
    which.add_argument("--module", metavar="PKG.MOD:FACTORY",
                       help="a factory(nn) -> model, as package.module:name or file.py:name")
    p.add_argument("--input-shape", help="comma-separated input shape, batch first "
                   "(default for the zoo: 8 and the model's own)")
    p.add_argument("--classes", type=int, help="cross-entropy targets in range(CLASSES) "
                   "(default: the output's second dim; no targets for other outputs)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--steps", type=int, default=0,
                   help="also train both for this many Adam steps and compare the losses")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, help="relative difference counted as "
                   "divergence (default 1e-4 in float32, 1e-10 in float64)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _factory(spec: str):
    """The function named by 'package.module:name' or 'path/to/file.py:name'."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise UsageError(f"--module expects package.module:factory or file.py:factory, "
                         f"got {spec!r}")
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where)
            if not path.is_file():
                raise UsageError(f"--module: no file {where}")
            loader_spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except ImportError as err:
        raise UsageError(f"--module: cannot import {where}: {err}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UsageError(f"--module: {where} has no function {name!r}")
    return fn


def _models(args):
    """(minidl model, torch model, input shape) for the arguments."""
    import torch
    import minidl.nn
    if args.module:
        factory = _factory(args.module)
        if not args.input_shape:
            raise UsageError("--module needs --input-shape (the batch first, e.g. 8,20)")
        ours, theirs = factory(minidl.nn), factory(torch.nn)
    else:
        from minidl import models
        from minidl.bridge.convert import _zoo
        name = args.model or "simplecnn"
        cls = {"simplecnn": "SimpleCNN", "mlp": "MLP", "lenet5": "LeNet5"}[name]
        ours, theirs = getattr(models, cls)(), getattr(_zoo(torch.nn), cls)()
        args.input_shape = args.input_shape or ",".join(
            str(s) for s in (8,) + ZOO_INPUTS[name])
    try:
        shape = tuple(int(s) for s in args.input_shape.split(","))
    except ValueError:
        raise UsageError(f"--input-shape expects integers separated by commas, got "
                         f"{args.input_shape!r}") from None
    return ours, theirs, shape


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("minidl compare: needs PyTorch as the reference: pip install 'minidl[torch]'",
              file=sys.stderr)
        return 2
    try:
        return _run(args)
    except UsageError as err:
        print(f"minidl compare: {err}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import minidl
    from minidl.bridge import ArchitectureMismatch, compare, compare_training
    minidl.manual_seed(args.seed)
    ours, theirs, shape = _models(args)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal(shape).astype(args.dtype)
    with minidl.no_grad():
        out = ours.to(getattr(minidl, args.dtype))(minidl.tensor(x))
    classes = args.classes or (out.shape[1] if out.ndim == 2 else None)
    target = rng.integers(0, classes, shape[0]) if classes else None
    try:
        report = compare(ours, theirs, x, target, dtype=args.dtype, tolerance=args.tolerance)
    except ArchitectureMismatch as err:
        raise UsageError(f"the two models differ: {err}") from None
    training = None
    if args.steps > 0:
        batches = [(rng.standard_normal(shape).astype(args.dtype),
                    rng.integers(0, classes, shape[0]) if classes else
                    np.zeros(out.shape, dtype=args.dtype)) for _ in range(4)]
        training = compare_training(ours, theirs, batches, steps=args.steps, lr=args.lr,
                                    dtype=args.dtype, tolerance=args.tolerance)
    ok = report.ok and (training is None or training.ok)
    if args.json:
        print(json.dumps({"ok": ok, "compare": report.to_dict(),
                          "training": training.to_dict() if training else None}, indent=2))
    else:
        print(report)
        if training is not None:
            print()
            print(training)
            print()
            print("OK: minidl and PyTorch agree" if ok else "DIVERGED: see the first "
                  "divergence above")
    return 0 if ok else 1
