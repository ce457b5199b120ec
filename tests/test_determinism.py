"""minidl.use_deterministic_algorithms (issue 17): with it on, results are bit-identical at
one thread and at two; the cases that cannot promise it raise, or warn with warn_only."""
import warnings

import numpy as np
import pytest

import minidl
from minidl import determinism
from minidl.kernels import threads
from minidl.models import define_models


def _step(model_name: str) -> dict:
    """Outputs and gradients of one training step of a fixed model on fixed data."""
    zoo = define_models(minidl.nn)
    minidl.manual_seed(0)
    model = zoo.SimpleCNN(1, 28) if model_name == "simplecnn" else zoo.MLP(784, 512)
    rng = np.random.default_rng(1)
    x = minidl.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
    y = minidl.tensor(rng.integers(0, 10, 16))
    out = model(x)
    minidl.nn.functional.cross_entropy(out, y).backward()
    big = rng.standard_normal((512, 512)).astype(np.float32)
    product = minidl.tensor(big) @ minidl.tensor(big)       # threaded by BLAS when allowed
    result = {"out": out.detach().numpy(), "big matmul": product.numpy()}
    result.update({name: p.grad.numpy().copy() for name, p in model.named_parameters()})
    return result


def _at(n: int, model_name: str) -> dict:
    before = minidl.get_num_threads()
    minidl.set_num_threads(n)
    try:
        return _step(model_name)
    finally:
        minidl.set_num_threads(before)


@pytest.mark.parametrize("model_name", ["simplecnn", "mlp"])
def test_deterministic_mode_gives_the_same_bits_at_one_and_two_threads(model_name):
    minidl.use_deterministic_algorithms(True)
    try:
        assert minidl.are_deterministic_algorithms_enabled()
        one, two = _at(1, model_name), _at(2, model_name)
    finally:
        minidl.use_deterministic_algorithms(False)
    assert not minidl.are_deterministic_algorithms_enabled()
    different = [k for k in one if not np.array_equal(one[k], two[k])]
    assert not different, f"different at 1 and 2 threads: {different}"


def test_blas_gets_its_threads_back_when_the_mode_goes_off(monkeypatch):
    counts = []
    monkeypatch.setattr(threads, "_blas", lambda: (None, counts.append))
    monkeypatch.setattr(threads._state, "threads", 2)
    minidl.use_deterministic_algorithms(True)
    minidl.set_num_threads(2)                 # still one BLAS thread while the mode is on
    minidl.use_deterministic_algorithms(False)
    assert counts == [1, 1, 2]


def test_what_cannot_be_deterministic_raises_or_warns():
    assert "index backward on CUDA" in minidl.determinism.not_deterministic()
    determinism.alert("index backward on CUDA")           # mode off: nothing
    minidl.use_deterministic_algorithms(True)
    try:
        with pytest.raises(RuntimeError, match="index backward on CUDA does not have a "
                                               "deterministic implementation.*cupy.add.at"):
            determinism.alert("index backward on CUDA")
        minidl.use_deterministic_algorithms(True, warn_only=True)
        assert minidl.is_deterministic_algorithms_warn_only_enabled()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            determinism.alert("index backward on CUDA")
        assert any("deterministic implementation" in str(w.message) for w in caught)
    finally:
        minidl.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="expected bools"):
        minidl.use_deterministic_algorithms(1)
