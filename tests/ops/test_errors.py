"""Bad input raises PyTorch's exception type, with a message naming the op and the
offending shapes, dims or dtypes (never a bare NumPy error from deep inside an op)."""
import numpy as np
import pytest

import minidl
from minidl.ops import pad

# (call, exception type PyTorch raises, pattern the message must match)
CASES = {
    "matmul shapes": (lambda: minidl.ones(2, 3) @ minidl.ones(4, 5), RuntimeError,
                      r"matmul.*\(2, 3\).*\(4, 5\)"),
    "matmul 0-d": (lambda: minidl.tensor(1.0) @ minidl.ones(3), RuntimeError,
                   r"matmul.*at least 1 dimension.*\(\).*\(3,\)"),
    "matmul batch": (lambda: minidl.ones(2, 3, 4) @ minidl.ones(3, 4, 5), RuntimeError,
                     r"matmul.*\(2, 3, 4\).*\(3, 4, 5\)"),
    "matmul dtypes": (lambda: minidl.ones(2, 3) @ minidl.ones(3, 2, dtype=minidl.float64),
                      RuntimeError, r"matmul.*float32.*float64"),
    "reshape": (lambda: minidl.ones(6).reshape(4, 2), RuntimeError,
                r"reshape.*\[4, 2\].*size 6"),
    "view two -1": (lambda: minidl.ones(6).view(-1, -1), RuntimeError,
                    r"view: only one dimension can be inferred"),
    "add shapes": (lambda: minidl.ones(2, 3) + minidl.ones(4), RuntimeError,
                   r"add.*\(2, 3\).*\(4,\)"),
    "mul shapes": (lambda: minidl.ones(3, 1, 4) * minidl.ones(2, 3), RuntimeError,
                   r"mul.*\(3, 1, 4\).*\(2, 3\)"),
    "maximum shapes": (lambda: minidl.maximum(minidl.ones(3), minidl.ones(2)), RuntimeError,
                       r"maximum.*\(3,\).*\(2,\)"),
    "where shapes": (lambda: minidl.where(minidl.ones(3) > 0, minidl.ones(3), minidl.ones(2)),
                     RuntimeError, r"where.*\(3,\).*\(2,\)"),
    "floor_divide shapes": (lambda: minidl.ones(3) // minidl.ones(2), RuntimeError,
                            r"floor_divide.*\(3,\).*\(2,\)"),
    "where condition": (lambda: minidl.where(minidl.ones(3), minidl.ones(3), minidl.ones(3)),
                        RuntimeError, r"where.*boolean.*float32"),
    "masked_fill mask": (lambda: minidl.ones(3).masked_fill(minidl.ones(3), 0.0), RuntimeError,
                         r"masked_fill.*boolean.*float32"),
    "masked_fill shapes": (lambda: minidl.ones(2, 3).masked_fill(minidl.ones(4) > 0, 0.0),
                           RuntimeError, r"\(4,\).*\(2, 3\)"),
    "int negative power": (lambda: minidl.tensor([2]) ** -1, RuntimeError,
                           r"pow.*[Ii]ntegers to negative integer powers"),
    "int remainder by 0": (lambda: minidl.tensor([3]) % 0, RuntimeError,
                           r"remainder.*ZeroDivisionError"),
    "int floor_divide by 0": (lambda: minidl.tensor([3]) // minidl.tensor([0]), RuntimeError,
                              r"floor_divide.*ZeroDivisionError"),
    "neg of bool": (lambda: -minidl.tensor([True]), RuntimeError, r"neg.*bool"),
    "sum dim": (lambda: minidl.ones(2, 3).sum(2), IndexError,
                r"sum: Dimension out of range.*\[-2, 1\].*2"),
    "mean negative dim": (lambda: minidl.ones(2, 3).mean(-3), IndexError, r"mean.*-3"),
    "softmax dim": (lambda: minidl.ones(2, 3).softmax(5), IndexError, r"softmax.*5"),
    "max dim": (lambda: minidl.ones(2, 3).max(2), IndexError, r"max.*2"),
    "argmax dim": (lambda: minidl.ones(2, 3).argmax(-3), IndexError, r"argmax.*-3"),
    "squeeze dim": (lambda: minidl.ones(2).squeeze(3), IndexError, r"squeeze.*3"),
    "unsqueeze dim": (lambda: minidl.ones(2, 3).unsqueeze(3), IndexError,
                      r"unsqueeze.*\[-3, 2\].*3"),
    "transpose dim": (lambda: minidl.ones(2, 3).transpose(0, 2), IndexError, r"transpose.*2"),
    "cat dim": (lambda: minidl.cat([minidl.ones(2)], dim=1), IndexError, r"cat.*1"),
    "size dim": (lambda: minidl.ones(2).size(1), IndexError, r"size.*1"),
    "repeated dims": (lambda: minidl.ones(2, 3).sum((0, -2)), RuntimeError,
                      r"sum.*appears multiple times"),
    "cat shapes": (lambda: minidl.cat([minidl.ones(2, 3), minidl.ones(3, 4)]), RuntimeError,
                   r"cat.*\(2, 3\).*\(3, 4\)"),
    "cat 0-d": (lambda: minidl.cat([minidl.tensor(1.0)]), RuntimeError,
                r"cat: zero-dimensional tensor \(at position 0\)"),
    "cat empty": (lambda: minidl.cat([]), ValueError, r"cat: expected a non-empty list"),
    "stack shapes": (lambda: minidl.stack([minidl.ones(2), minidl.ones(3)]), RuntimeError,
                     r"stack.*\(2,\).*\(3,\)"),
    "permute count": (lambda: minidl.ones(2, 3).permute(0), RuntimeError,
                      r"permute.*\(2, 3\).*2 dims.*1"),
    "permute repeated": (lambda: minidl.ones(2, 3).permute(1, 1), RuntimeError,
                         r"permute: repeated dim"),
    "expand": (lambda: minidl.ones(2, 3).expand(4, 5), RuntimeError,
               r"expand.*\(4, 5\).*\(2, 3\)"),
    "expand fewer sizes": (lambda: minidl.ones(2, 3).expand(3), RuntimeError,
                           r"expand.*\(1\).*\(2\)"),
    "expand -1 leading": (lambda: minidl.ones(2, 3).expand(-1, 2, 3), RuntimeError,
                          r"expand.*-1.*leading"),
    "repeat": (lambda: minidl.ones(2, 3).repeat(2), RuntimeError, r"repeat.*\(1\).*\(2\)"),
    "flatten": (lambda: minidl.ones(2, 3, 4).flatten(2, 1), RuntimeError,
                r"flatten.*\(2, 3, 4\)"),
    "t of 3-d": (lambda: minidl.ones(2, 3, 4).t(), RuntimeError, r"t\(\).*3D.*\(2, 3, 4\)"),
    "split sizes": (lambda: minidl.ones(5).split([2, 2]), RuntimeError,
                    r"split.*\[2, 2\].*5"),
    "split zero": (lambda: minidl.ones(5).split(0), RuntimeError, r"split.*0"),
    "chunk zero": (lambda: minidl.ones(5).chunk(0), RuntimeError, r"chunk.*0"),
    "pad odd": (lambda: pad(minidl.ones(2, 3), (1,)), RuntimeError, r"pad.*1.*\(2, 3\)"),
    "pad too long": (lambda: pad(minidl.ones(3), (1, 1, 1, 1)), RuntimeError,
                     r"pad.*4.*\(3,\)"),
    "index out of range": (lambda: minidl.ones(2, 3)[5], IndexError, r"5.*\(2, 3\)"),
    "tensor index out of range": (lambda: minidl.ones(2, 3)[minidl.tensor([0, 2])],
                                  IndexError, r"\(2, 3\).*out of bounds"),
    "too many indices": (lambda: minidl.ones(2, 3)[0, 0, 0], IndexError, r"\(2, 3\)"),
    "float index": (lambda: minidl.ones(3)[minidl.tensor([1.0])], IndexError,
                    r"long, int or bool"),
    "requires_grad on int": (lambda: minidl.tensor([1, 2], requires_grad=True), RuntimeError,
                             r"floating point.*int64"),
    "requires_grad_ on int": (lambda: minidl.arange(3).requires_grad_(), RuntimeError,
                              r"floating point.*int64"),
    "requires_grad = True on int": (lambda: setattr(minidl.arange(3), "requires_grad", True),
                                    RuntimeError, r"floating point.*int64"),
    "requires_grad set on a non-leaf": (
        lambda: setattr(minidl.ones(2, requires_grad=True) * 2, "requires_grad", True),
        RuntimeError, r"requires_grad: you can only change requires_grad flags of leaf"),
    "item of many": (lambda: minidl.ones(2, 3).item(), RuntimeError, r"item.*6 elements"),
    "float of many": (lambda: float(minidl.ones(3)), ValueError, r"one element.*\(3,\)"),
    "int of many": (lambda: int(minidl.ones(3)), ValueError, r"one element.*\(3,\)"),
    "bool of many": (lambda: bool(minidl.ones(2, 3)), RuntimeError,
                     r"Boolean value of Tensor with 6 values is ambiguous"),
    "if on many": (lambda: 1 if minidl.ones(2) > 0 else 0, RuntimeError, r"ambiguous"),
    "len of 0-d": (lambda: len(minidl.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    "iter of 0-d": (lambda: iter(minidl.tensor(1.0)), TypeError, r"iteration over a 0-d"),
    "mean of int": (lambda: minidl.arange(3).mean(), RuntimeError, r"mean.*int64"),
    "std of int": (lambda: minidl.arange(3).std(), RuntimeError, r"var.*int64"),
    "norm of int": (lambda: minidl.arange(3).norm(), RuntimeError, r"norm.*int64"),
    "max of empty": (lambda: minidl.ones(0).max(), RuntimeError, r"max.*numel\(\) == 0"),
    "max of empty dim": (lambda: minidl.ones(0, 3).max(0), IndexError,
                         r"max.*non-zero size.*\(0, 3\)"),
    "argmax of empty": (lambda: minidl.ones(0).argmax(), IndexError, r"argmax.*\(0,\)"),
    "softmax without dim": (lambda: minidl.softmax(minidl.ones(3), None), TypeError,
                            r"softmax.*dim"),
    "clamp without bounds": (lambda: minidl.ones(3).clamp(), RuntimeError, r"clamp"),
    "numpy of requires_grad": (lambda: minidl.ones(3, requires_grad=True).cpu().numpy(),
                               RuntimeError, r"numpy\(\).*requires grad"),
    "string data": (lambda: minidl.tensor("a"), TypeError, r"tensor.*str"),
    "in-place on leaf": (lambda: minidl.ones(3, requires_grad=True).add_(1), RuntimeError,
                         r"leaf Variable that requires grad.*in-place"),
    "setitem shape": (lambda: minidl.zeros(3, 4).__setitem__(0, minidl.ones(2)), RuntimeError,
                      r"setitem.*\(2,\).*\(3, 4\)"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_pytorchs_exception_with_a_clear_message(name):
    call, kind, pattern = CASES[name]
    with np.errstate(all="ignore"), pytest.raises(kind, match=pattern) as info:
        call()
    # the exact type, not a subclass: a NumPy AxisError is both IndexError and ValueError
    assert type(info.value) is kind, type(info.value)


def test_broadcast_errors_are_not_numpys_value_error():
    with pytest.raises(RuntimeError) as info:
        minidl.ones(2, 3) - minidl.ones(4)
    assert not isinstance(info.value, ValueError)
    assert "operands could not be broadcast" not in str(info.value)

