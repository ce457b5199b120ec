"""Module: registration, traversal order, modes, state_dict round trips and errors, to(),
zero_grad, hooks, repr, Parameter."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import minidl
import minidl.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(minidl.ones(4))
        self.register_buffer("steps", minidl.zeros(1))
        self.register_buffer("cache", minidl.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(minidl.tensor([0.5]))
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x)) * self.alpha


def test_registration_goes_to_the_right_registry():
    net = Net()
    assert list(net._parameters) == ["alpha"]
    assert list(net._modules) == ["block", "head"]
    assert list(net.block._buffers) == ["steps", "cache"]
    assert net.head.bias is None and "bias" in net.head._parameters
    assert net.block.steps is net.block._buffers["steps"]
    net.block.steps = minidl.ones(1)      # re-assigning a buffer keeps it a buffer
    assert net.block._buffers["steps"].numpy()[0] == 1
    net.plain = 3
    assert net.plain == 3 and "plain" not in net._parameters


def test_named_parameters_order_is_pytorchs():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["alpha", "block.scale", "block.fc.weight", "block.fc.bias",
                     "block.bn.weight", "block.bn.bias", "head.weight"]
    assert len(list(Net().parameters(recurse=False))) == 1


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3         # seq, shared, relu
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_buffers_children_modules():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "block.steps", "block.cache", "block.bn.running_mean", "block.bn.running_var",
        "block.bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn",
                                                   "head"]
    assert net.get_submodule("block.bn") is net.block.bn


def test_state_dict_keys_values_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["alpha", "block.scale", "block.steps", "block.fc.weight",
                        "block.fc.bias", "block.bn.weight", "block.bn.bias",
                        "block.bn.running_mean", "block.bn.running_var",
                        "block.bn.num_batches_tracked", "head.weight"]
    assert not sd["alpha"].requires_grad                # detached
    assert sd["alpha"].array is net.alpha.array           # sharing memory
    assert sd["block.bn.num_batches_tracked"].dtype == np.int64
    assert net.state_dict(keep_vars=True)["alpha"] is net.alpha


def test_load_state_dict_round_trip_from_tensors_and_numpy():
    src, dst = Net(), Net()
    with minidl.no_grad():
        src.block.bn.running_mean.array[...] = 3.0
        src.block.bn.num_batches_tracked.array[...] = 7
    result = dst.load_state_dict({k: v.numpy() for k, v in src.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    weight = dst.block.fc.weight
    dst.load_state_dict(Net().state_dict())            # tensors; copied in place
    assert dst.block.fc.weight is weight
    assert dst.block.bn.num_batches_tracked.dtype == np.int64


def test_load_state_dict_strict_errors_list_every_problem():
    net = Net()
    sd = net.state_dict()
    del sd["head.weight"]
    sd["block.extra"] = minidl.zeros(1)
    sd["block.fc.weight"] = minidl.zeros(4, 5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "head.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "block.extra".' in msg
    assert ("size mismatch for block.fc.weight: copying a param with shape (4, 5) from "
            "checkpoint, the shape in current model is (4, 3).") in msg


def test_load_state_dict_non_strict_reports_keys():
    net = Net()
    sd = net.state_dict()
    del sd["alpha"]
    sd["zzz"] = np.zeros(2)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["alpha"] and unexpected == ["zzz"]
    sd["head.weight"] = np.zeros((3, 3))
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        net.load_state_dict(sd, strict=False)           # shape errors raise regardless
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_batchnorm_state_dict_without_num_batches_tracked_loads():
    bn = nn.BatchNorm2d(3)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


def test_train_eval_propagate():
    net = Net()
    assert net.training and net.block.bn.training
    assert net.eval() is net
    assert not net.training and not net.block.bn.training
    net.train()
    assert net.block.fc.training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(minidl.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_double_float_keep_parameter_identity_and_int_buffers():
    net = Net()
    weight = net.block.fc.weight
    net(minidl.randn(5, 3)).sum().backward()
    assert net.double() is net
    assert net.block.fc.weight is weight and weight.dtype == np.float64
    assert weight.grad.dtype == np.float64 and weight.requires_grad
    assert net.block.bn.running_var.dtype == np.float64
    assert net.block.bn.num_batches_tracked.dtype == np.int64     # only floats convert
    net.to(minidl.float32)
    assert weight.dtype == np.float32
    net.to("cpu", dtype=minidl.float64)
    assert weight.dtype == np.float64
    net.to(minidl.zeros(1, dtype=minidl.float32))
    assert weight.dtype == np.float32
    assert net.cpu().float() is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(minidl.int64)


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Block", "Linear", "Net"]


def test_forward_hooks_and_handles():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    y = lin(minidl.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1,
                                                                   (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    pre.remove()
    post.remove()
    assert lin._forward_pre_hooks == {} and lin._forward_hooks == {}


def test_setattr_errors():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    net = Net()
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'alpha'"):
        net.alpha = minidl.ones(1)
    with pytest.raises(TypeError, match="as child module 'head'"):
        net.head = 3
    with pytest.raises(KeyError, match='buffer name can.*contain'):
        net.register_buffer("a.b", minidl.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        net.register_parameter("forward", None)
    with pytest.raises(TypeError, match="buffer 'x'"):
        net.register_buffer("x", np.ones(1))
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_delattr_and_reassign_between_kinds():
    net = Net()
    del net.alpha
    assert "alpha" not in net._parameters
    net.head = None
    assert net._modules["head"] is None
    assert [n for n, _ in net.named_children()] == ["block"]
    net.block = nn.Parameter(minidl.ones(1))          # a module slot becomes a parameter
    assert "block" not in net._modules and "block" in net._parameters


def test_repr_nested_layout():
    expected = ("Net(\n"
                "  (block): Block(\n"
                "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
                "    (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                "track_running_stats=True)\n"
                "  )\n"
                "  (head): Linear(in_features=4, out_features=2, bias=False)\n"
                ")")
    assert repr(Net()) == expected


def test_deepcopy_gives_independent_parameters():
    net = Net()
    clone = copy.deepcopy(net)
    assert isinstance(clone.block.fc.weight, nn.Parameter)
    assert clone.block.fc.weight is not net.block.fc.weight
    np.testing.assert_array_equal(clone.block.fc.weight.detach().numpy(),
                                  net.block.fc.weight.detach().numpy())
    with minidl.no_grad():
        clone.block.fc.weight.array[...] = 0
    assert net.block.fc.weight.detach().numpy().any()


def test_parameter_basics():
    p = nn.Parameter(minidl.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, minidl.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    frozen = nn.Parameter(minidl.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    t = minidl.ones(3)
    assert nn.Parameter(t).array is t.array                # shares memory, as PyTorch
    assert nn.Parameter().shape == (0,)
    assert type(p * 2) is minidl.Tensor                  # results are plain tensors
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(minidl.tensor([1, 2]))


@pytest.mark.gpu
def test_cuda_moves_parameters_buffers_and_loads_host_state():
    from minidl import backend
    if not backend.has_cupy():
        pytest.skip("needs CuPy and a CUDA device")
    net = Net()
    host_state = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    weight = net.block.fc.weight
    assert net.cuda() is net and net.block.fc.weight is weight
    assert all(str(t.device) == "cuda:0" for t in net.state_dict().values())
    net.load_state_dict(host_state)
    y = net.eval()(minidl.randn(4, 3).cuda())      # eval: the buffers stay as loaded
    y.sum().backward()
    assert str(weight.grad.device) == "cuda:0"
    net.cpu()
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), host_state[k], err_msg=k)
