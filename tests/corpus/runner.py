"""Run a PyTorch program on PyTorch or, with its imports swapped, on minidl.

    python tests/corpus/runner.py torch   PROGRAM.py HANDOFF_DIR
    python tests/corpus/runner.py minidl  PROGRAM.py HANDOFF_DIR [PROGRAM ARGS...]

The program's own text is not changed except for its import lines (`swap_imports`). So
that both runs start from the same weights, a global forward pre-hook (PyTorch's
`torch.nn.modules.module.register_module_forward_pre_hook`, which minidl has too) sees
the first call of each model: on PyTorch it writes that model's state dict to
HANDOFF_DIR/model<k>.npz, on minidl it loads it from there (in place, so an optimizer
made before the first forward still holds the same parameters). The random draws a
program makes itself (`torch.randn(...)` and its kin: a random initial hidden state, a
noise input) are handed over too: on PyTorch each result is recorded, in order, into
HANDOFF_DIR/draws.npz; on minidl each call draws as usual (same shape, dtype, flags) and
then takes the recorded values, after checking the shape. Everything else (data,
printing) is the program's.
"""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np

_IMPORT_RULES = [   # (pattern, replacement), applied to import lines only
    (r"^(\s*)import torch as (\w+)\s*$", r"\1import minidl as \2"),
    (r"^(\s*)import torch\s*$", r"\1import minidl as torch"),
    (r"^(\s*)import torch\.([\w.]+) as (\w+)", r"\1import minidl.\2 as \3"),
    (r"^(\s*)import torch\.([\w.]+)\s*$", r"\1import minidl.\2"),
    (r"^(\s*)from torch import ", r"\1from minidl import "),
    (r"^(\s*)from torch\.([\w.]+) import ", r"\1from minidl.\2 import "),
]


def swap_imports(source: str) -> str:
    """The program with `torch` imports made `minidl` imports, and nothing else changed.
    A bare `import torch.nn` also needs the name `torch`, so it gets `import minidl as
    torch` beside it."""
    out = []
    for line in source.splitlines():
        new = line
        for pattern, repl in _IMPORT_RULES:
            new = re.sub(pattern, repl, new)
        if new != line and re.match(r"^\s*import minidl\.[\w.]+\s*$", new):
            indent = re.match(r"^(\s*)", new).group(1)
            new = f"{new}\n{indent}import minidl as torch"
        out.append(new)
    return "\n".join(out) + "\n"


def _install_weight_handoff(lib, save: bool, folder: Path) -> None:
    """Hand each root model's first-forward weights from the PyTorch run to minidl's."""
    from importlib import import_module
    hooks = import_module(f"{lib.__name__}.nn.modules.module")
    # the modules already handled, held (not just their ids): a freed model's id can be
    # reused by a new module, which would then be skipped or taken for a submodule
    seen, count = {}, [0]

    def pre_hook(module, args):
        if id(module) in seen:
            return None
        for m in module.modules():
            seen[id(m)] = m
        path = folder / f"model{count[0]}.npz"
        count[0] += 1
        if save:
            np.savez(path, **{k: v.detach().cpu().numpy()
                              for k, v in module.state_dict().items()})
        else:
            with np.load(path) as arrays:
                module.load_state_dict({k: lib.tensor(arrays[k]) for k in arrays.files})
        return None

    hooks.register_module_forward_pre_hook(pre_hook)


_DRAWS = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
          "normal")


def _install_draw_handoff(lib, save: bool, folder: Path) -> None:
    """Record (PyTorch) or replay (minidl) the program's own random draws, in call order."""
    import atexit
    path = folder / "draws.npz"
    if save:
        recorded = []
        atexit.register(lambda: np.savez(path, *recorded))
    else:
        draws = []
        if path.exists():
            with np.load(path) as saved:        # arr_0, arr_1, ... in call order
                draws = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        replay = iter(draws)
    for name in _DRAWS:
        draw = getattr(lib, name, None)
        if draw is None:
            continue

        def wrapped(*args, _draw=draw, _name=name, **kwargs):
            out = _draw(*args, **kwargs)
            if save:
                recorded.append(out.detach().cpu().numpy().copy())
                return out
            want = next(replay, None)
            if want is None or want.shape != tuple(out.shape):
                raise RuntimeError(f"runner: {_name}{args} has no recorded PyTorch draw of "
                                   f"shape {tuple(out.shape)} (next recorded: "
                                   f"{None if want is None else want.shape})")
            with lib.no_grad():
                out.copy_(lib.tensor(want))
            return out
        setattr(lib, name, wrapped)


def main(argv: list[str]) -> None:
    framework, program, handoff = argv[0], Path(argv[1]), Path(argv[2])
    handoff.mkdir(parents=True, exist_ok=True)
    source = program.read_text()
    if framework == "minidl":
        import minidl as lib
        source = swap_imports(source)
    else:
        import torch as lib
    _install_weight_handoff(lib, save=framework == "torch", folder=handoff)
    _install_draw_handoff(lib, save=framework == "torch", folder=handoff)
    sys.argv = [str(program), *argv[3:]]     # the program's own arguments
    code = compile(source, str(program), "exec")
    main_module = types.ModuleType("__main__")   # a real module, so pickle finds its classes
    main_module.__file__ = str(program)
    sys.modules["__main__"] = main_module
    sys.path.insert(0, str(program.parent))
    exec(code, main_module.__dict__)


if __name__ == "__main__":
    main(sys.argv[1:])
