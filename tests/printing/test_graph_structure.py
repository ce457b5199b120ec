"""The graph a lesson walks through `grad_fn.next_functions` has PyTorch's nodes: mean and
mse_loss are one node each (PyTorch's neural-networks tutorial prints this chain)."""
import pytest

import minidl

torch = pytest.importorskip("torch")


def _chain(lib, make):
    x = lib.ones(2, 3, requires_grad=True)
    w = lib.ones(3, 4, requires_grad=True)
    node, names = make(lib, x, w).grad_fn, []
    while node is not None:
        names.append(node.name().replace("torch::autograd::", ""))
        node = node.next_functions[0][0] if node.next_functions else None
    return names


@pytest.mark.parametrize("make", [
    lambda lib, x, w: (x @ w).relu().mean(),
    lambda lib, x, w: (x @ w).relu().mean(dim=1).sum(),
    lambda lib, x, w: lib.nn.functional.mse_loss((x @ w).relu(), lib.zeros(2, 4)),
    lambda lib, x, w: lib.nn.functional.mse_loss((x @ w).tanh(), lib.zeros(2, 4),
                                                 reduction="sum"),
], ids=["mean", "mean_dim", "mse_mean", "mse_sum"])
def test_first_input_chain_matches_pytorch(make):
    assert _chain(minidl, make) == _chain(torch, make)
