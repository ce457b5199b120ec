"""Exercises that grade themselves: write a piece of a deep learning framework in NumPy,
and minidl, which already has that piece, checks it.

    from minidl import exercises
    exercises.names()                        # the exercises
    print(exercises.describe("mul_backward"))   # what to write: shapes, maths, hints
    print(exercises.template("mul_backward"))   # a function to start from
    report = exercises.grade("mul_backward", mul_backward)
    report.passed                            # bool
    print(report)                            # which case, which element, expected/got, a hint

The expected answers come from minidl itself (its autograd, `nn.functional`, `optim.Adam`,
its engine's graph order) and, when PyTorch is installed, from PyTorch too; the report
says which oracles agreed. The same from a shell: `minidl learn [NAME [FILE.py]]`.
"""
from __future__ import annotations

from .backward import MatmulBackwardExercise, MulBackwardExercise
from .conv import Conv2dExercise, MaxPool2dBackwardExercise
from .graph import TopologicalOrderExercise
from .loss import SoftmaxCrossEntropyExercise
from .optim import AdamStepExercise
from .report import Failure, Report

# in the order of a course: gradients, layers, a loss, an optimizer, then the engine
_EXERCISES = {ex.name: ex for ex in (
    MulBackwardExercise(), MatmulBackwardExercise(), Conv2dExercise(),
    MaxPool2dBackwardExercise(), SoftmaxCrossEntropyExercise(), AdamStepExercise(),
    TopologicalOrderExercise())}

__all__ = ["names", "describe", "template", "grade", "summary", "function_name", "Report",
           "Failure"]


def _exercise(name: str):
    if name not in _EXERCISES:
        raise ValueError(f"exercises: unknown exercise {name!r}; the exercises are: "
                         f"{', '.join(_EXERCISES)}")
    return _EXERCISES[name]


def names() -> list[str]:
    """The exercises' names, in the order of a course."""
    return list(_EXERCISES)


def describe(name: str) -> str:
    """What to write: the function's signature, shapes and dtypes, the maths and hints."""
    return _exercise(name).describe()


def template(name: str) -> str:
    """Source of a starting function, with the exercise's name, signature and a docstring,
    whose body raises NotImplementedError."""
    return _exercise(name).template()


def summary(name: str) -> str:
    """The exercise in one line."""
    return _exercise(name).summary


def function_name(name: str) -> str:
    """The name of the function the exercise asks for (conv2d_im2col asks for conv2d)."""
    return _exercise(name).function


def grade(name: str, fn) -> Report:
    """Check `fn` on hand-picked and drawn cases against minidl (and PyTorch).

    Never raises for the student's mistakes: an exception in `fn` is reported with the
    line of the student's code it came from, and NotImplementedError as "not written yet".
    Raises ValueError for an unknown exercise name.
    """
    return _exercise(name).grade(fn)
