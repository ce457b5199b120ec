"""minidl.exercises: the grader passes correct answers, fails typical mistakes and says where
(the case, the element or shape, a hint), reports unwritten and crashing functions without
raising, agrees with PyTorch, and runs from `minidl learn`."""
import inspect
import textwrap

import numpy as np
import pytest

import exercise_answers as answers
from minidl import exercises
from minidl.cli import main
from minidl.exercises import grading

CORRECT = {"mul_backward": answers.mul_backward, "matmul_backward": answers.matmul_backward,
           "conv2d_im2col": answers.conv2d, "maxpool2d_backward": answers.maxpool2d_backward,
           "softmax_cross_entropy": answers.softmax_cross_entropy,
           "adam_step": answers.adam_step, "topological_order": answers.topological_order}

# (exercise, wrong answer, what the report must say: the case and the mistake)
MISTAKES = [
    ("mul_backward", answers.mul_backward_no_broadcast_sum,
     ['"b broadcast over rows', "grad_b has shape (3, 4), expected (1, 4)",
      "grad_b has shape (3, 4) where b has shape (1, 4): sum the gradient over the dimensions "
      "broadcasting expanded"]),
    ("mul_backward", answers.mul_backward_swapped,
     ['"same shapes, no broadcasting": grad_out (3, 4), a (3, 4), b (3, 4)',
      "grad_a is wrong at index (0, 0): expected", "grad_a looks like grad_out * a",
      "finite differences disagree with your backward too"]),
    ("mul_backward", answers.mul_backward_no_keepdims,
     ["grad_b has shape (4,), expected (1, 4)", "keepdims=True"]),
    ("matmul_backward", answers.matmul_backward_missing_transpose,
     ['"square matrices', "grad_a is wrong at index (0, 0)",
      "grad_a equals grad_out @ b, not grad_out @ b.T: a missing transpose",
      "finite differences disagree with your backward too (gradcheck): Jacobian mismatch",
      '"rectangular, every side different": grad_out (2, 4), a (2, 3), b (3, 4)',
      "raised ValueError: matmul", "exercise_answers.py, line",
      "in matmul_backward_missing_transpose", "a matrix product of mismatched shapes"]),
    ("matmul_backward", answers.matmul_backward_wrong_order,
     ["grad_b has shape (4, 3), expected (3, 4)", "grad_b has the transposed shape (4, 3)",
      "grad_b equals grad_out.T @ a, not a.T @ grad_out"]),
    ("conv2d_im2col", answers.conv2d_flipped_kernel,
     ["weight (4, 3, 3, 3), bias (4,), stride=1, padding=0",
      "out is wrong at index (0, 0, 0, 0)", "the convolution with the kernel flipped"]),
    ("conv2d_im2col", answers.conv2d_off_by_one,
     ["out has shape (2, 4, 2, 2), expected (2, 4, 3, 3)",
      "OH is 2 where the formula (H + 2*padding - kh) // stride + 1 = (5 + 2*0 - 3) // 1 + 1 "
      "gives 3", ": an off-by-one window", "stride=2, padding=1"]),
    ("conv2d_im2col", answers.conv2d_no_bias,
     ["bias (4,)", "the bias is missing: add bias[o]"]),
    ("maxpool2d_backward", answers.maxpool2d_backward_every_tie,
     ['"ties: windows whose maximum appears more than once"',
      "grad_x is wrong at index (0, 0, 0, 1): expected 0, got",
      "has tied maxima at [(0, 0), (0, 1), (1, 1)]", "first maximum only"]),
    ("maxpool2d_backward", answers.maxpool2d_backward_overwrite,
     ['"overlapping windows (stride 1 < kernel 2)', "kernel_size=2, stride=1",
      "grad_x is wrong at index (0, 0, 1, 1)",
      "x[0, 0, 1, 1] is the maximum of 4 overlapping windows", "add (+=) into grad_x"]),
    ("softmax_cross_entropy", answers.softmax_cross_entropy_no_max,
     ['"large logits', "loss is wrong: expected 1.2038", "got nan",
      "loss is inf/nan for large logits: subtract the row max before exp"]),
    ("softmax_cross_entropy", answers.softmax_cross_entropy_sum,
     ['"a small batch": logits (4, 3), target (4,)', "loss is N = 4 times too large",
      "sum instead of mean"]),
    ("softmax_cross_entropy", answers.softmax_cross_entropy_no_onehot,
     ["grad_logits is wrong at index (0, 0)", "grad_logits equals softmax(logits) / N"]),
    ("adam_step", answers.adam_step_no_bias_correction,
     ['"the first step (step=1', "step=1, lr=0.001", "param is wrong at index (0,)",
      "no bias correction"]),
    ("adam_step", answers.adam_step_eps_inside_sqrt,
     ['"tiny gradients', "eps is inside the square root"]),
    ("adam_step", answers.adam_step_returns_m_hat,
     ["m is wrong at index (0,)", "m is bias-corrected"]),
    ("topological_order", answers.topological_order_preorder,
     ['"a diamond: one node feeds two"', "a node comes after a node it feeds",
      "MulBackward0 (c = a * 3) is at position 5 but sends gradients to MulBackward0 "
      "(a = x * 3) at position 3", "pre-order"]),
    ("topological_order", answers.topological_order_no_visited_set,
     ["a node appears twice: MulBackward0 (a = x * 3) at positions", "keep a visited set"]),
    ("topological_order", answers.topological_order_keeps_none,
     ["raised AttributeError", "in visit", "skip those entries"]),
]


@pytest.fixture
def no_torch(monkeypatch):
    """Grade as if PyTorch were not installed: minidl is the only oracle."""
    monkeypatch.setattr(grading, "_torch", lambda: None)


def test_names_describe_and_templates():
    assert exercises.names() == list(CORRECT)
    for name in exercises.names():
        text = exercises.describe(name)
        fn = exercises.function_name(name)
        assert f"write {fn}(" in text and "Receives" in text and "Hints" in text
        namespace = {}
        exec(exercises.template(name), namespace)       # a template defines the function ...
        sig = inspect.signature(namespace[fn])
        assert list(sig.parameters) == list(inspect.signature(CORRECT[name]).parameters)[
            :len(sig.parameters)]
        assert namespace[fn].__doc__
        with pytest.raises(NotImplementedError):        # ... whose body is not written
            namespace[fn](*([None] * len(sig.parameters)))
    with pytest.raises(ValueError, match="unknown exercise 'nope'.*mul_backward"):
        exercises.describe("nope")


@pytest.mark.parametrize("name", list(CORRECT))
def test_a_correct_answer_passes(no_torch, name):
    report = exercises.grade(name, CORRECT[name])
    assert report.passed, str(report)
    assert report.failures == [] and report.hand_picked >= 5 and report.drawn >= 20
    text = str(report)
    assert text.startswith(f"{name}: passed") and "PyTorch: not installed" in text
    if name in ("mul_backward", "matmul_backward"):       # the backward went through gradcheck
        assert report.gradchecked == report.hand_picked and report.gradcheck_failed == 0
        assert f"on {report.gradchecked} of {report.gradchecked} cases" in text


@pytest.mark.parametrize("name,wrong,says", MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_typical_mistake_fails_and_the_report_says_where(no_torch, name, wrong, says):
    report = exercises.grade(name, wrong)
    text = str(report)
    assert not report.passed and report.failures, text
    for phrase in says:
        assert phrase in text, f"{phrase!r} not in the report:\n{text}"
    first = report.failures[0]
    assert first.case and first.message and first.hint, first
    assert isinstance(first.args, tuple) and first.args


def test_the_shrunk_drawn_case_is_small(no_torch):
    report = exercises.grade("matmul_backward", answers.matmul_backward_wrong_order)
    drawn = [f for f in report.failures if "drawn by Hypothesis" in f.case]
    assert drawn and report.drawn_failed
    grad_out, a, b = drawn[0].args
    assert a.size + b.size <= 4, drawn[0].case          # shrunk to 1x1 @ 1x2 or so
    assert str(exercises.grade("matmul_backward", answers.matmul_backward_wrong_order)) == \
        str(report)                                     # derandomized: the same every time


def test_without_hypothesis_a_seeded_list_runs(no_torch, monkeypatch):
    monkeypatch.setattr(grading, "_hypothesis", lambda: None)
    report = exercises.grade("adam_step", answers.adam_step)
    assert report.passed and report.drawn == grading.SEEDED_CASES
    assert "fixed seeded list" in str(report)
    report = exercises.grade("mul_backward", answers.mul_backward_no_keepdims)
    drawn = [f for f in report.failures if f.case.startswith('"seeded case')]
    assert drawn and "smallest first" in drawn[0].case and drawn[0].kind == "shape"


@pytest.mark.parametrize("name", ["mul_backward", "conv2d_im2col", "topological_order"])
def test_not_written_yet(no_torch, name):
    namespace = {}
    exec(exercises.template(name), namespace)
    report = exercises.grade(name, namespace[exercises.function_name(name)])
    assert not report.passed and report.not_written
    assert f"{name}: not written yet" in str(report)
    assert report.failures[0].kind == "not written"


def _crashes(grad_out, a, b):
    return _helper(grad_out)


def _helper(g):
    return g.size // 0           # the student's bug: here


def test_an_exception_in_the_students_code_is_reported_not_raised(no_torch):
    report = exercises.grade("mul_backward", _crashes)
    text = str(report)
    assert not report.passed and report.failures[0].kind == "exception"
    line = inspect.getsourcelines(_helper)[1] + 1
    assert "raised ZeroDivisionError" in text
    assert f"test_exercises.py, line {line}, in _helper" in text    # the student's frame
    assert "return g.size // 0" in text
    assert len(report.failures) == 1 and report.failures[0].also    # one entry, many cases


def test_wrong_types_shapes_and_dtypes_are_named(no_torch):
    forgot_return = exercises.grade("matmul_backward", lambda grad_out, a, b: None)
    assert "returned None (does the function end without `return`?)" in str(forgot_return)
    single = exercises.grade("adam_step", lambda *args: args[0])
    assert "expected a tuple (param, m, v)" in str(single)
    low = exercises.grade("matmul_backward", lambda g, a, b: tuple(
        x.astype(np.float32) for x in answers.matmul_backward(g, a, b)))
    assert "grad_a has dtype float32, expected float64" in str(low)
    rounded = exercises.grade("matmul_backward", lambda g, a, b: tuple(
        x.astype(np.float32).astype(np.float64) for x in answers.matmul_backward(g, a, b)))
    assert "right to about float32 precision only" in str(rounded)
    per_sample = exercises.grade("softmax_cross_entropy", lambda z, t: (
        np.full(len(t), answers.softmax_cross_entropy(z, t)[0]),
        answers.softmax_cross_entropy(z, t)[1]))
    assert "loss is one value per sample" in str(per_sample)
    tensors = exercises.grade("topological_order", lambda root: [root])
    assert "element 0 is a Tensor, not a node" in str(tensors)
    assert not exercises.grade("mul_backward", None).passed
    wrong_signature = exercises.grade("mul_backward", lambda a, b: (a, b))
    assert "cannot be called as mul_backward(grad_out, a, b)" in str(wrong_signature)


@pytest.mark.parametrize("name", list(CORRECT))
def test_pytorch_agrees_with_minidl_on_every_case(name):
    torch = pytest.importorskip("torch")
    report = exercises.grade(name, CORRECT[name])
    assert report.passed and report.torch_disagreed == [] and not report.minidl_errors
    total = report.hand_picked + report.drawn
    assert report.torch_agreed == total
    assert f"PyTorch {torch.__version__}: agreed with minidl on all {total} cases" in str(report)


# ---- the command line ----
def _learn(capsys, *argv):
    code = main(["learn", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _write(tmp_path, name, fn):
    path = tmp_path / name
    path.write_text("import numpy as np\n\n\n" + textwrap.dedent(inspect.getsource(fn)))
    return path


def test_learn_lists_describes_and_grades(capsys, tmp_path, no_torch):
    code, out, _ = _learn(capsys)
    assert code == 0 and all(name in out for name in CORRECT)
    code, out, _ = _learn(capsys, "matmul_backward")
    assert code == 0 and "grad_a = grad_out @ b.T" in out and "def matmul_backward(" in out
    good = _write(tmp_path, "good.py", answers.matmul_backward)
    code, out, _ = _learn(capsys, "matmul_backward", str(good))
    assert code == 0 and "matmul_backward: passed" in out
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent(inspect.getsource(answers.matmul_backward_missing_transpose))
                   .replace("matmul_backward_missing_transpose", "matmul_backward"))
    code, out, _ = _learn(capsys, "matmul_backward", str(bad))
    assert code == 1 and "a missing transpose" in out and "bad.py, line" in out
    template = tmp_path / "start.py"
    template.write_text(exercises.template("conv2d_im2col"))
    code, out, _ = _learn(capsys, "conv2d_im2col", str(template))
    assert code == 1 and "not written yet" in out


def test_learn_usage_errors(capsys, tmp_path):
    other = _write(tmp_path, "other.py", answers.mul_backward)
    code, _, err = _learn(capsys, "matmul_backward", str(other))
    assert code == 2
    assert "defines no function named 'matmul_backward' (it defines mul_backward)" in err
    code, _, err = _learn(capsys, "matmul_backward", str(tmp_path / "missing.py"))
    assert code == 2 and "no such file" in err
    code, _, err = _learn(capsys, "nope")
    assert code == 2 and "no exercise 'nope'" in err
    broken = tmp_path / "broken.py"
    broken.write_text("def matmul_backward(grad_out, a, b)\n    return 1\n")
    code, _, err = _learn(capsys, "matmul_backward", str(broken))
    assert code == 1 and "SyntaxError" in err
