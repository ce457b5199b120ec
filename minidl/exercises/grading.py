"""What every exercise shares: the Exercise base class and the grading loop.

An exercise (one class per lesson, in the files beside this one) says what its cases are,
how minidl answers them (and PyTorch, when it is installed) and what a wrong answer's
likely cause is. `Exercise.grade` runs the student's function on the hand-picked cases,
then on drawn ones: by Hypothesis when it is installed (shrunk to a small case when one
fails), else a fixed seeded list, smallest first. Nothing the student's code does makes
`grade` raise: an exception is reported with the line of the student's code it came from.
"""
from __future__ import annotations

import inspect
import textwrap

import numpy as np

from .checks import Case, Mismatch, Raised, call_student, compare_output, kind_of
from .report import Failure, Report

# Hypothesis's example budget, and the length of the seeded list used without it
MAX_EXAMPLES = 30
SEEDED_CASES = 20


def _hypothesis():
    """The hypothesis module, or None when it is not installed (tests patch this)."""
    try:
        import hypothesis
    except ImportError:
        return None
    return hypothesis


def _torch():
    """torch, imported when grading starts (never at `import minidl`), or None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _quietly(hint, *args) -> str | None:
    """A hint, or None where working one out fails: a hint is a guess and must not turn
    the student's odd return value into an exception of grade's."""
    try:
        with np.errstate(all="ignore"):
            return hint(*args)
    except Exception:
        return None


class Exercise:
    """One lesson: the function to write, its cases, its oracles and its hints.

    A subclass sets the class attributes and writes `draw` (random case parameters from
    `pick(lo, hi)`, one definition for Hypothesis and the seeded list), `build` (a Case from
    them), `edge_cases`, `reference` (minidl's answer), `torch_reference`, and `hint`.
    """

    name = ""
    function = ""             # the student's function's name
    arguments: tuple = ()
    outputs: tuple = ()       # the returned values' names; one name: a single value
    check_order: tuple = ()   # the order outputs are checked in (default: as returned)
    summary = ""              # one line, for the list of exercises
    lesson = ""               # describe()'s text
    docstring = ""            # the template's docstring
    reference_name = "minidl"
    rtol, atol = 1e-9, 1e-12       # float64 answers agree to ~1e-13; float32 rounding fails

    # ---- what each exercise provides ----
    def draw(self, pick) -> dict:
        raise NotImplementedError

    def build(self, params: dict) -> Case:
        raise NotImplementedError

    def edge_cases(self) -> list:
        raise NotImplementedError

    def reference(self, case: Case):
        raise NotImplementedError

    def torch_reference(self, case: Case, torch):
        raise NotImplementedError

    def hint(self, case: Case, mismatch: Mismatch, got) -> str | None:
        """The likely mistake behind `mismatch`, when it has a recognisable signature."""
        return None

    def exception_hint(self, case: Case, error: Raised) -> str | None:
        return None

    def shape_note(self, case: Case, k: int) -> str:
        """Where output k's expected shape comes from ("b's shape"), for the message."""
        return ""

    def after_check(self, fn, case: Case, got, failure, report: Report):
        """More checks of a case (gradcheck); returns the case's failure, or None."""
        return failure

    def size(self, case: Case) -> int:
        """How big a case is: the seeded list runs the smallest first."""
        return sum(a.size for a in case.args if isinstance(a, np.ndarray))

    # ---- the texts ----
    def signature(self) -> str:
        return f"{self.function}({', '.join(self.arguments)})"

    def describe(self) -> str:
        return f"{self.name}: write {self.signature()}\n\n{self.lesson.strip()}\n"

    def template(self) -> str:
        first, *rest = textwrap.dedent(self.docstring).strip().splitlines()
        doc = "\n".join([first] + [f"    {line}" if line else "" for line in rest])
        return (f"import numpy as np\n\n\ndef {self.signature()}:\n"
                f'    """{doc}\n    """\n'
                f'    raise NotImplementedError("{self.function} is not written yet")\n')

    # ---- checking one case ----
    def check(self, case: Case, got, expected) -> Mismatch | None:
        """The first thing wrong with what the student's function returned, or None."""
        if len(self.outputs) == 1:
            got, expected = (got,), (expected,)
        elif not isinstance(got, (tuple, list)) or len(got) != len(self.outputs):
            return Mismatch("type", f"{self.function} returned {kind_of(got)}; expected a "
                                    f"tuple ({', '.join(self.outputs)})", output=-1)
        for k in self.check_order or range(len(self.outputs)):
            mismatch = compare_output(self.outputs[k], got[k], expected[k], self.rtol,
                                      self.atol, self.shape_note(case, k))
            if mismatch is not None:
                mismatch.output = k
                return mismatch
        return None

    def oracles_differ(self, ours, theirs) -> str | None:
        """Where minidl's answer and PyTorch's differ, or None when they agree."""
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        for name, a, b in zip(self.outputs, ours, theirs):
            mismatch = compare_output(name, np.asarray(b, dtype=np.asarray(a).dtype), a,
                                      self.rtol, self.atol)
            if mismatch is not None:
                return f"PyTorch's {mismatch.message}, taking minidl's as expected"
        return None

    def _expected(self, case: Case, report: Report, torch):
        """minidl's answer, checked against PyTorch's when torch is installed."""
        try:
            expected = self.reference(case)
        except Exception as error:
            report.minidl_errors.append(f"{case.where()}: {type(error).__name__}: {error}")
            return None
        if torch is not None:
            try:
                gap = self.oracles_differ(expected, self.torch_reference(case, torch))
            except Exception as error:
                gap = f"PyTorch raised {type(error).__name__}: {error}"
            if gap is None:
                report.torch_agreed += 1
            else:
                report.torch_disagreed.append(f"{case.where()}: {gap}")
        return expected

    def judge(self, fn, case: Case, report: Report, torch, thorough: bool = True):
        """Run one case: its Failure, or None when the student's function got it right."""
        expected = self._expected(case, report, torch)
        if expected is None:
            return None
        got, error = call_student(fn, case.args)
        if error is not None and error.not_written:
            return Failure(case.where(), f"not written yet: {error.text()}", kind="not written",
                           args=case.args, key=("not written",))
        if error is not None:
            return Failure(case.where(), error.text(), _quietly(self.exception_hint, case, error),
                           "exception", case.args, key=error.key)
        mismatch = self.check(case, got, expected)
        if not thorough:          # Hypothesis searching: whether it fails is all it needs
            return None if mismatch is None else Failure(case.where(), mismatch.message)
        failure = None
        if mismatch is not None:
            hint = _quietly(self.hint, case, mismatch, got)
            if hint is None and mismatch.kind == "value" and mismatch.relative < 1e-5:
                hint = (f"right to about float32 precision only (errors up to "
                        f"{mismatch.relative:.1g} of the largest value): compute in float64 "
                        "all the way")
            failure = Failure(case.where(), mismatch.message, hint, mismatch.kind, case.args,
                              mismatch.index)
        return self.after_check(fn, case, got, failure, report)

    # ---- grading ----
    def _unusable(self, fn) -> Failure | None:
        """A Failure when fn is not a function that takes the exercise's arguments."""
        if not callable(fn):
            what = "None" if fn is None else kind_of(fn)
            return Failure("(before any case)", f"expected the function {self.signature()}, "
                                                f"got {what}", kind="type")
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):       # a builtin without a signature: just call it
            return None
        try:
            sig.bind(*self.arguments)
        except TypeError:
            return Failure("(before any case)", f"{getattr(fn, '__name__', 'the function')}"
                           f"{sig} cannot be called as {self.signature()}",
                           f"the exercise calls it with {len(self.arguments)} positional "
                           f"arguments: {', '.join(self.arguments)}", kind="type")
        return None

    def grade(self, fn) -> Report:
        """Grade `fn` on the hand-picked cases, then on drawn ones; never raises for it."""
        report = Report(self.name, self.function, self.reference_name)
        unusable = self._unusable(fn)
        if unusable is not None:
            report.failures.append(unusable)
            return report
        torch = _torch()
        report.torch_version = None if torch is None else torch.__version__
        for i, case in enumerate(self.edge_cases()):
            failure = self.judge(fn, case, report, torch)
            report.hand_picked += 1
            if failure is not None:
                report.add(failure)
                if i == 0 and failure.kind == "not written":
                    report.not_written = True
                    return report
        hypothesis = _hypothesis()
        if hypothesis is not None:
            try:
                self._grade_drawn_by_hypothesis(fn, report, torch)
                return report
            except Exception as error:     # e.g. Flaky: the function is not deterministic
                report.notes.append(f"Hypothesis stopped ({type(error).__name__}: {error}); "
                                    "the seeded cases ran instead")
        self._grade_seeded(fn, report, torch)
        return report

    def _grade_drawn_by_hypothesis(self, fn, report: Report, torch) -> None:
        """Search for a failing case; Hypothesis shrinks the one it finds to a small one."""
        from hypothesis import HealthCheck, find, settings, strategies as st
        from hypothesis.errors import NoSuchExample

        @st.composite
        def parameters(draw):
            return self.draw(lambda lo, hi: draw(st.integers(lo, hi)))

        def fails(params) -> bool:
            report.drawn += 1
            return self.judge(fn, self.build(params), report, torch, thorough=False) is not None

        budget = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None,
                          deadline=None, suppress_health_check=list(HealthCheck))
        report.drawn_by = "Hypothesis"
        try:
            smallest = find(parameters(), fails, settings=budget)
        except NoSuchExample:
            return
        case = self.build(smallest)
        case.title = "drawn by Hypothesis, shrunk to a small failing case"
        failure = self.judge(fn, case, report, torch)
        if failure is None:
            failure = Failure(case.where(), "failed during the search but passed when run "
                              "again", "does the function keep state between calls (a "
                              "global, an argument changed in place)?", "flaky", case.args)
        report.add(failure, drawn=True)

    def _grade_seeded(self, fn, report: Report, torch) -> None:
        """Without Hypothesis: a fixed seeded list of cases, smallest first, to the first
        failure."""
        rng = np.random.default_rng(0)

        def pick(lo: int, hi: int) -> int:
            return int(rng.integers(lo, hi + 1))

        cases = sorted((self.build(self.draw(pick)) for _ in range(SEEDED_CASES)),
                       key=self.size)
        report.drawn_by = "a fixed seeded list (Hypothesis is not installed)"
        for k, case in enumerate(cases):
            case.title = f"seeded case {k + 1} of {len(cases)}, smallest first"
            report.drawn += 1
            failure = self.judge(fn, case, report, torch)
            if failure is not None:
                report.add(failure, drawn=True)
                return
