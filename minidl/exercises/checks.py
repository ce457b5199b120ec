"""The pieces of grading one case: the case, calling the student's code, comparing a value.

`call_student` runs the student's function on copies of the arguments and turns an
exception into a `Raised` that names the last line of the student's own code it passed
through; `compare_output` says what is wrong with one returned value: its type, shape or
dtype, else its first wrong element.
"""
from __future__ import annotations

import os
import sysconfig
import traceback
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    """One set of arguments for the student's function, and what the hints need to know."""

    title: str                # "b broadcast over rows", "drawn by Hypothesis", ...
    args: tuple               # the arguments, in the function's order
    label: str = ""           # the arguments, readable: "a (3, 4), b (1, 4)"
    info: dict = field(default_factory=dict)

    def where(self) -> str:
        return f'"{self.title}": {self.label}' if self.label else f'"{self.title}"'


def describe_args(names, args) -> str:
    """'grad_out (3, 4), a (3, 4), stride=2': arrays by shape, the rest by value."""
    parts = []
    for name, a in zip(names, args):
        if isinstance(a, np.ndarray):
            parts.append(f"{name} {tuple(a.shape)}")
        elif a is None:
            parts.append(f"{name}=None")
        else:
            parts.append(f"{name}={a!r}")
    return ", ".join(parts)


def kind_of(value) -> str:
    """What a returned value is, in words, for 'grad_a is <...>, expected an array'."""
    if value is None:
        return "None (does the function end without `return`?)"
    module = type(value).__module__.split(".")[0]
    if module in ("minidl", "torch") and hasattr(value, "shape"):
        return (f"a {module} tensor of shape {tuple(value.shape)} (return a NumPy array: "
                f"t.numpy())")
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


# ---- calling the student's code ----
_MINIDL_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_LIBRARY_DIRS = tuple(sorted({os.path.realpath(path) for key, path in sysconfig.get_paths().items()
                              if key in ("stdlib", "platstdlib", "purelib", "platlib")}))


def _is_library(filename: str) -> bool:
    if filename.startswith("<frozen"):
        return True
    path = os.path.realpath(filename)
    return any(path.startswith(folder + os.sep) for folder in (_MINIDL_DIR,) + _LIBRARY_DIRS)


@dataclass
class Raised:
    """An exception from the student's code, with the last frame of it in their code."""

    error: Exception
    frame: traceback.FrameSummary | None

    @property
    def not_written(self) -> bool:
        return isinstance(self.error, NotImplementedError)

    @property
    def key(self) -> tuple:
        frame = self.frame
        return (type(self.error).__name__,) + ((frame.filename, frame.lineno) if frame else ())

    def text(self) -> str:
        error = f"{type(self.error).__name__}: {self.error}" if str(self.error) else \
            type(self.error).__name__
        if self.frame is None:
            return f"raised {error}"
        line = f"\n    {self.frame.line}" if self.frame.line else ""
        return (f"raised {error}\n  at {self.frame.filename}, line {self.frame.lineno}, in "
                f"{self.frame.name}{line}")


def raised(error: Exception) -> Raised:
    """Wrap an exception: its traceback's last frame outside minidl, NumPy and the stdlib."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not _is_library(f.filename)]
    return Raised(error, own[-1] if own else (frames[-1] if frames else None))


def call_student(fn, args):
    """fn(*args) on copies of the array arguments: (result, None) or (None, Raised).

    Copies, so that a function that changes its inputs in place cannot change the
    reference's; NumPy's overflow warnings are silenced (the report says what came out).
    """
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    try:
        with np.errstate(all="ignore"):
            return fn(*args), None
    except Exception as error:      # the student's mistake: reported, never raised
        return None, raised(error)


# ---- comparing one returned value ----
@dataclass
class Mismatch:
    """What is wrong with one output: kind 'type', 'shape', 'dtype', 'value' or 'order'."""

    kind: str
    message: str
    output: int = 0
    index: tuple | None = None
    relative: float = float("inf")     # the largest error relative to the expected values


def as_array(value):
    """A returned number as a 0-d array (Python floats are float64); anything else as is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return np.asarray(float(value))
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def compare_output(what: str, got, expected, rtol: float, atol: float,
                   shape_note: str = "") -> Mismatch | None:
    """The first thing wrong with `got`: its type, shape, dtype, else its first wrong element."""
    expected = np.asarray(expected)
    got = as_array(got)
    if not isinstance(got, np.ndarray):
        return Mismatch("type", f"{what} is {kind_of(got)}, expected a NumPy array of shape "
                                f"{expected.shape}")
    if got.shape != expected.shape:
        note = f" ({shape_note})" if shape_note else ""
        return Mismatch("shape", f"{what} has shape {got.shape}, expected {expected.shape}{note}")
    if got.dtype != expected.dtype:
        return Mismatch("dtype", f"{what} has dtype {got.dtype}, expected {expected.dtype}")
    with np.errstate(all="ignore"):
        diff = np.abs(got - expected)
        bad = ~(diff <= atol + rtol * np.abs(expected))       # NaN counts as wrong
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    worst = np.nanmax(np.where(np.isnan(diff), np.inf, diff))
    at = f" at index {index}" if index else ""
    count = f" ({int(bad.sum())} of {bad.size} elements differ)" if bad.size > 1 else ""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), atol)
    return Mismatch("value", f"{what} is wrong{at}: expected {float(expected[index]):.12g}, got "
                             f"{float(got[index]):.12g}; max abs difference {worst:.3g}{count}",
                    index=index, relative=float(worst) / scale)


def close(got, candidate, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Does a returned value equal a candidate (a known wrong answer)? For hints only."""
    got, candidate = as_array(got), np.asarray(candidate)
    if not isinstance(got, np.ndarray) or got.shape != candidate.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, candidate, rtol=rtol, atol=atol))
