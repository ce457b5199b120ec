"""minidl.testing.assert_close fails with PyTorch's message, word for word."""
import numpy as np
import pytest

import minidl
from minidl.testing import assert_close

torch = pytest.importorskip("torch")

CASES = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {}),
    ([[1.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]], {}),
    ([float("nan")], [float("nan")], {}),
    ([float("nan"), 1.0], [float("nan"), 2.0], {"equal_nan": True}),
    ([1.0, 2.0], [1.0, 2.001], {"rtol": 1e-6, "atol": 1e-9}),
    ([[0.1, 0.2, 0.3]], [[0.1, 0.25, 0.35]], {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("actual,expected,kwargs", CASES)
def test_the_message_is_pytorchs(actual, expected, kwargs, dtype):
    with pytest.raises(AssertionError) as theirs:
        torch.testing.assert_close(torch.tensor(actual, dtype=getattr(torch, dtype)),
                                   torch.tensor(expected, dtype=getattr(torch, dtype)), **kwargs)
    with pytest.raises(AssertionError) as ours:
        assert_close(minidl.tensor(actual, dtype=getattr(minidl, dtype)),
                     torch.tensor(expected, dtype=getattr(torch, dtype)), **kwargs)
    assert str(ours.value) == str(theirs.value)
    assert "np.float" not in str(ours.value)


def test_scalars_shapes_and_custom_messages_are_pytorchs():
    for call in (lambda f: f(1.5, 1.0), lambda f: f(2.0, 3.0)):
        with pytest.raises(AssertionError) as theirs:
            call(torch.testing.assert_close)
        with pytest.raises(AssertionError) as ours:
            call(assert_close)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(AssertionError, match=r"^The values for attribute 'shape' do not match: "
                                             r"torch.Size\(\[2\]\) != torch.Size\(\[3\]\).$"):
        assert_close(np.ones(2), np.ones(3))
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(np.ones(2), np.zeros(2), msg="custom")
    with pytest.raises(AssertionError, match="^here: Tensor-likes are not close!"):
        assert_close(np.ones(2), np.zeros(2), msg=lambda text: "here: " + text)
    assert_close(minidl.ones(3), torch.ones(3))          # equal: no error
