"""What `exercises.grade` returns: a Report of the cases run and a Failure per wrong case."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

# failures printed in full by str(report); the rest are in report.failures
SHOWN = 6


@dataclass
class Failure:
    """One case the student's function got wrong.

    case: which case, with its arguments (shapes, stride, ...); message: what is wrong (a
    wrong type, shape or dtype named as such, else the first wrong element's index, the
    expected and the received value); hint: the likely mistake, when the failure has a
    recognisable signature; kind: 'value', 'shape', 'dtype', 'type', 'order', 'exception',
    'not written', 'gradcheck' or 'flaky'; args: the arguments, to call the function again.
    """

    case: str
    message: str
    hint: str | None = None
    kind: str = "value"
    args: tuple = field(default=(), repr=False)
    index: tuple | None = None
    notes: list = field(default_factory=list)   # more evidence (what gradcheck says)
    also: list = field(default_factory=list)    # other cases that failed the same way
    key: tuple | None = field(default=None, repr=False)   # what "the same way" means

    def __str__(self) -> str:
        lines = [f"case {self.case}"]
        lines += ["  " + line for line in self.message.splitlines()]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines += ["  " + note for note in self.notes]
        if self.also:
            more = "; ".join(self.also[:3]) + ("; ..." if len(self.also) > 3 else "")
            lines.append(f"  the same in {len(self.also)} more case(s): {more}")
        return "\n".join(lines)


class Report:
    """The result of grading one function: `passed`, `failures`, and str() to read it all."""

    def __init__(self, exercise: str, function: str, reference: str):
        self.exercise = exercise
        self.function = function
        self.reference = reference      # what minidl computes the answers with
        self.failures: list[Failure] = []
        self.not_written = False
        self.hand_picked = 0            # cases run, and how many of them failed
        self.hand_picked_failed = 0
        self.drawn = 0
        self.drawn_by = None            # "Hypothesis" or the seeded list
        self.drawn_failed = False
        self.torch_version = None       # None: PyTorch not installed
        self.torch_agreed = 0
        self.torch_disagreed: list[str] = []
        self.minidl_errors: list[str] = []
        self.gradchecked = 0            # cases whose backward went through gradcheck
        self.gradcheck_failed = 0
        self.notes: list[str] = []

    @property
    def passed(self) -> bool:
        """True when every case ran and none failed."""
        return not self.failures and not self.not_written and self.hand_picked > 0

    def add(self, failure: Failure, drawn: bool = False) -> None:
        """Record a failure; one that repeats an earlier one (same key) joins it."""
        if drawn:
            self.drawn_failed = True
        else:
            self.hand_picked_failed += 1
        for earlier in self.failures:
            if failure.key is not None and earlier.key == failure.key:
                earlier.also.append(failure.case)
                return
        self.failures.append(failure)

    @property
    def oracles(self) -> list[str]:
        """One line per oracle: who computed the expected answers, and who agreed."""
        total = self.torch_agreed + len(self.torch_disagreed)
        lines = [f"minidl ({self.reference}): the expected answer of every case"]
        if self.minidl_errors:
            lines.append(f"minidl could not answer {len(self.minidl_errors)} case(s), "
                         f"skipped (a minidl bug: please report it): {self.minidl_errors[0]}")
        if self.torch_version is None:
            lines.append("PyTorch: not installed, so minidl alone")
        elif not self.torch_disagreed:
            lines.append(f"PyTorch {self.torch_version}: agreed with minidl on all {total} cases")
        else:
            lines.append(f"PyTorch {self.torch_version}: DISAGREED with minidl on "
                         f"{len(self.torch_disagreed)} of {total} cases (a minidl bug: please "
                         f"report it): {self.torch_disagreed[0]}")
        if self.gradchecked:
            agreed = self.gradchecked - self.gradcheck_failed
            lines.append(f"finite differences: minidl.autograd.gradcheck passed your backward "
                         f"(wrapped in a minidl.autograd.Function) on {agreed} of "
                         f"{self.gradchecked} cases")
        return lines

    def _headline(self) -> str:
        if self.not_written:
            return (f"{self.exercise}: not written yet ({self.function} raises "
                    f"NotImplementedError); print(exercises.describe({self.exercise!r})) "
                    "says what to write")
        drawn = ("none drawn" if not self.drawn_by else f"{self.drawn} drawn by Hypothesis"
                 if self.drawn_by == "Hypothesis" else f"{self.drawn} from {self.drawn_by}")
        if self.passed:
            return f"{self.exercise}: passed ({self.hand_picked} hand-picked cases, {drawn})"
        if not self.hand_picked:
            return f"{self.exercise}: FAILED before any case ran"
        where = [f"{self.hand_picked_failed} of {self.hand_picked} hand-picked cases"]
        if self.drawn_failed:
            where.append("a drawn case")
        return f"{self.exercise}: FAILED on {' and '.join(where)} ({drawn})"

    def __str__(self) -> str:
        lines = [self._headline()]
        if self.hand_picked and not self.not_written:
            lines.append("checked against:")
            lines += [f"  {line}" for line in self.oracles]
        lines += self.notes
        for i, failure in enumerate(self.failures[:SHOWN]):
            lines.append("")
            lines.append(f"{i + 1}. " + str(failure).replace("\n", "\n   "))
        if len(self.failures) > SHOWN:
            lines.append(f"\n... and {len(self.failures) - SHOWN} more (report.failures)")
        if any(f.args for f in self.failures) and not self.not_written:
            lines.append(f"\n(report.failures[i].args are failure i+1's arguments: call "
                         f"{self.function}(*args) to see it again)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report {self._headline()}>"

    def _repr_pretty_(self, p, cycle) -> None:      # IPython and Jupyter: the readable text
        p.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head, _, rest = str(self).partition("\n")
        return (f'<pre><b style="color:{colour}">{html.escape(head)}</b>\n'
                f"{html.escape(rest)}</pre>")
