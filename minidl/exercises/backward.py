"""Exercises on backward functions: mul_backward (broadcasting) and matmul_backward.

The expected gradients come from minidl's autograd (and PyTorch's); the student's backward
is also wrapped in a `minidl.autograd.Function` and checked by `gradcheck` against finite
differences, which need no reference at all.
"""
from __future__ import annotations

import numpy as np

import minidl
from ..autograd import Function, GradcheckError, gradcheck
from .checks import Case, close, describe_args, raised
from .grading import Exercise
from .report import Failure


class _StudentBackwardFn(Function):
    """out = op(a, b), whose backward is the student's function."""

    @staticmethod
    def forward(ctx, a, b, op, student):
        ctx.save_for_backward(a, b)
        ctx.student = student
        return op(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        # (grad_a, grad_b) as the student computes them, from NumPy copies
        a, b = ctx.saved_tensors
        grad_a, grad_b = ctx.student(*(t.detach().numpy().copy() for t in (grad_out, a, b)))
        return (minidl.tensor(grad_a, dtype=minidl.float64),
                minidl.tensor(grad_b, dtype=minidl.float64), None, None)


def _leaves(*arrays):
    return [minidl.tensor(a, dtype=minidl.float64, requires_grad=True) for a in arrays]


class _BackwardExercise(Exercise):
    """A backward(grad_out, a, b) -> (grad_a, grad_b) for out = op(a, b)."""

    arguments = ("grad_out", "a", "b")
    outputs = ("grad_a", "grad_b")

    @staticmethod
    def op(a, b):
        raise NotImplementedError

    def _case(self, title: str, a, b, grad_out) -> Case:
        args = (np.asarray(grad_out, dtype=np.float64), np.asarray(a, dtype=np.float64),
                np.asarray(b, dtype=np.float64))
        return Case(title, args, describe_args(self.arguments, args))

    def reference(self, case: Case):
        grad_out, a, b = case.args
        at, bt = _leaves(a, b)
        self.op(at, bt).backward(minidl.tensor(grad_out, dtype=minidl.float64))
        return at.grad.numpy(), bt.grad.numpy()

    def torch_reference(self, case: Case, torch):
        grad_out, a, b = case.args
        at, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        self.op(at, bt).backward(torch.tensor(grad_out, dtype=torch.float64))
        return at.grad.numpy(), bt.grad.numpy()

    def shape_note(self, case: Case, k: int) -> str:
        return f"the shape of {'ab'[k]}"

    def after_check(self, fn, case: Case, got, failure, report):
        """gradcheck the student's backward, wrapped in a Function, on this case's a and b."""
        if failure is not None and failure.kind != "value":
            return failure        # a wrong type or shape is named already
        _, a, b = case.args
        try:
            gradcheck(lambda x, y: _StudentBackwardFn.apply(x, y, self.op, fn), _leaves(a, b))
            verdict = None
        except GradcheckError as error:
            verdict = f"{error} (input 0 is a, input 1 is b)"
        except Exception as error:
            verdict = f"when minidl's autograd called your backward, it {raised(error).text()}"
        report.gradchecked += 1
        report.gradcheck_failed += verdict is not None
        if failure is not None:
            failure.notes.append(
                f"finite differences disagree with your backward too (gradcheck): {verdict}"
                if verdict else "finite differences (gradcheck, atol=1e-5, rtol=1e-3) cannot "
                "tell your backward from the right one here: a small error (float32 "
                "arithmetic somewhere?), or, if the difference above is large, a wrong answer "
                "from minidl: please report this case")
            return failure
        if verdict is None:
            return None
        return Failure(case.where(), f"your backward matches minidl's answer here, but "
                       f"finite differences disagree: {verdict}", "a backward must give the "
                       "same answer for the same arguments: does yours use randomness or "
                       "state kept between calls, or change its arguments in place?", "gradcheck",
                       case.args)


class MulBackwardExercise(_BackwardExercise):
    name = "mul_backward"
    function = "mul_backward"
    summary = "the gradients of out = a * b, with broadcasting"
    reference_name = "its autograd: (a * b).backward(grad_out)"
    lesson = """
out = a * b multiplies elementwise, broadcasting as NumPy does: a (3, 1) times b (4,)
gives out (3, 4). Write the backward: given grad_out = dL/dout, return dL/da and dL/db.

Receives  grad_out  float64 array, the shape of a * b (np.broadcast_shapes(a.shape, b.shape))
          a, b      float64 arrays whose shapes broadcast together (0-d arrays included)
Returns   (grad_a, grad_b), float64 arrays with exactly a's shape and b's shape

Maths     d(a * b)/da = b, so grad_a = grad_out * b (elementwise, in the broadcast shape),
          and grad_b = grad_out * a. Broadcasting copied a along some dims: every copy
          received a gradient, and the chain rule adds them up.

Hints     - Sum grad_out * b over the leading dims that a does not have, then over the dims
            where a has size 1 and out does not (keepdims=True keeps them as 1s).
          - Check: grad_a.shape == a.shape, always.
"""
    docstring = """
    Gradients of out = a * b (with NumPy broadcasting) with respect to a and b.

    Parameters
    ----------
    grad_out : np.ndarray, float64, shape np.broadcast_shapes(a.shape, b.shape)
        dL/dout.
    a, b : np.ndarray, float64, shapes that broadcast together

    Returns
    -------
    (grad_a, grad_b) : float64 arrays of a's shape and b's shape"""

    @staticmethod
    def op(a, b):
        return a * b

    def draw(self, pick) -> dict:
        out = [pick(1, 4) for _ in range(pick(0, 3))]

        def operand():
            dims = out[len(out) - pick(0, len(out)):]     # the trailing dims it keeps
            return tuple(1 if pick(0, 1) else side for side in dims)

        return {"a": operand(), "b": operand(), "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        rng = np.random.default_rng(params["seed"])
        out = np.broadcast_shapes(params["a"], params["b"])
        return self._case("drawn", rng.standard_normal(params["a"]),
                          rng.standard_normal(params["b"]), rng.standard_normal(out))

    def edge_cases(self) -> list:
        rng = np.random.default_rng(1)

        def case(title, a_shape, b_shape):
            out = np.broadcast_shapes(a_shape, b_shape)
            return self._case(title, rng.standard_normal(a_shape),
                              rng.standard_normal(b_shape), rng.standard_normal(out))

        return [case("same shapes, no broadcasting", (3, 4), (3, 4)),
                case("b broadcast over rows: a 1 in b's shape", (3, 4), (1, 4)),
                case("b misses a leading dim", (3, 4), (4,)),
                case("both broadcast: a gets a middle dim, b a leading one", (2, 1, 4), (3, 1)),
                case("an outer product by broadcasting", (4, 1), (1, 5)),
                case("b is a 0-d array (a scalar)", (2, 3), ()),
                case("a has size 1 in every dim", (1, 1), (3, 4)),
                case("a leading dim only b has", (5,), (2, 3, 5))]

    def hint(self, case: Case, mismatch, got) -> str | None:
        grad_out, a, b = case.args
        k = mismatch.output
        if k < 0:
            return None
        name, x, other = ("grad_a", a, b) if k == 0 else ("grad_b", b, a)
        arg = "ab"[k]
        g = np.asarray(got[k])
        if mismatch.kind == "shape":
            if g.shape == grad_out.shape:
                return (f"{name} has shape {g.shape} where {arg} has shape {x.shape}: sum the "
                        "gradient over the dimensions broadcasting expanded")
            if g.size == x.size:
                return (f"the right number of elements in the wrong shape: keep the summed "
                        f"dims of size 1 (keepdims=True) or reshape to {x.shape}")
            if g.shape == other.shape:
                return f"{name} has the shape of {'ba'[k]}: are grad_a and grad_b swapped?"
            return None
        if mismatch.kind != "value":
            return None
        expected = self.reference(case)[k]
        if x.size < grad_out.size and close(g, expected * x.size / grad_out.size):
            return (f"{name} is the mean over the broadcast copies: the chain rule adds them, "
                    "sum instead of mean")
        if close(g, _mul_grad(x, x, grad_out)):
            return (f"{name} looks like grad_out * {arg}: the derivative of a * b with "
                    f"respect to {arg} is the other factor, {'ba'[k]}")
        if close(g, _mul_grad(x, other, np.ones_like(grad_out))):
            return f"{name} ignores grad_out: multiply by it (the chain rule)"
        return None


def _mul_grad(x, factor, grad_out):
    """The gradient of x in x * factor, by minidl's autograd: the right formula applied to
    the wrong factor or grad_out, to recognise a mistake."""
    xt, = _leaves(x)
    (xt * minidl.tensor(np.broadcast_to(factor, grad_out.shape).copy(), dtype=minidl.float64)
     ).backward(minidl.tensor(grad_out, dtype=minidl.float64))
    return xt.grad.numpy()


class MatmulBackwardExercise(_BackwardExercise):
    name = "matmul_backward"
    function = "matmul_backward"
    summary = "the gradients of out = a @ b, for 2-D matrices"
    reference_name = "its autograd: (a @ b).backward(grad_out)"
    lesson = """
out = a @ b multiplies an (n, k) matrix by a (k, m) matrix: out[i, j] = sum_p a[i, p] b[p, j].
Write the backward: given grad_out = dL/dout, return dL/da and dL/db.

Receives  grad_out  float64 array (n, m)
          a         float64 array (n, k)
          b         float64 array (k, m)
Returns   (grad_a, grad_b): float64 arrays (n, k) and (k, m)

Maths     dL/da[i, p] = sum_j grad_out[i, j] b[p, j], that is grad_a = grad_out @ b.T;
          dL/db[p, j] = sum_i a[i, p] grad_out[i, j], that is grad_b = a.T @ grad_out.

Hints     - Let the shapes guide you: grad_a must be (n, k), and only one product of
            grad_out (n, m) with b (k, m) or its transpose gives that.
          - A square a and b hide a missing transpose from the shapes: check on paper with
            2 x 2 matrices.
"""
    docstring = """
    Gradients of out = a @ b (2-D matrices) with respect to a and b.

    Parameters
    ----------
    grad_out : np.ndarray, float64, shape (n, m)
        dL/dout.
    a : np.ndarray, float64, shape (n, k)
    b : np.ndarray, float64, shape (k, m)

    Returns
    -------
    (grad_a, grad_b) : float64 arrays of shapes (n, k) and (k, m)"""

    @staticmethod
    def op(a, b):
        return a @ b

    def draw(self, pick) -> dict:
        return {"n": pick(1, 5), "k": pick(1, 5), "m": pick(1, 5), "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        rng = np.random.default_rng(params["seed"])
        n, k, m = params["n"], params["k"], params["m"]
        return self._case("drawn", rng.standard_normal((n, k)), rng.standard_normal((k, m)),
                          rng.standard_normal((n, m)))

    def edge_cases(self) -> list:
        rng = np.random.default_rng(2)

        def case(title, n, k, m):
            return self._case(title, rng.standard_normal((n, k)), rng.standard_normal((k, m)),
                              rng.standard_normal((n, m)))

        return [case("square matrices: a missing transpose keeps the shapes", 3, 3, 3),
                case("rectangular, every side different", 2, 3, 4),
                case("a row times a column: out is (1, 1)", 1, 4, 1),
                case("a column times a row: an outer product", 4, 1, 3),
                case("tall a, square b", 5, 2, 2)]

    def hint(self, case: Case, mismatch, got) -> str | None:
        grad_out, a, b = case.args
        k = mismatch.output
        if k < 0:
            return None
        g = np.asarray(got[k])
        name, x = ("grad_a", a) if k == 0 else ("grad_b", b)
        if mismatch.kind == "shape":
            if g.shape == x.shape[::-1]:
                return (f"{name} has the transposed shape {g.shape}: it must have "
                        f"{'ab'[k]}'s shape {x.shape}; "
                        + ("grad_a = grad_out @ b.T" if k == 0 else "grad_b = a.T @ grad_out"))
            return None
        if mismatch.kind != "value":
            return None
        wrong = ({"grad_out @ b": (grad_out, b), "b.T @ grad_out": (b.T, grad_out),
                  "b @ grad_out": (b, grad_out), "grad_out @ a": (grad_out, a)} if k == 0 else
                 {"a @ grad_out": (a, grad_out), "grad_out @ a.T": (grad_out, a.T),
                  "grad_out.T @ a": (grad_out.T, a), "grad_out @ b": (grad_out, b)})
        right = "grad_out @ b.T" if k == 0 else "a.T @ grad_out"
        for text, (p, q) in wrong.items():
            if p.shape[1] == q.shape[0] and close(g, p @ q):
                if text in ("grad_out @ b", "a @ grad_out"):
                    return f"{name} equals {text}, not {right}: a missing transpose"
                return f"{name} equals {text}, not {right}: the wrong product"
        return None

    def exception_hint(self, case: Case, error) -> str | None:
        text = str(error.error)
        if isinstance(error.error, ValueError) and ("matmul" in text or "shapes" in text
                                                    or "aligned" in text):
            return ("a matrix product of mismatched shapes: grad_a = grad_out @ b.T has a's "
                    "shape (n, k); grad_b = a.T @ grad_out has b's shape (k, m)")
        return None
