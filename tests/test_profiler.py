"""minidl.profiler: per-op rows that add up, nesting (self <= total), saved bytes, the
Python layers as rows, and nothing left patched once the block ends."""
import numpy as np
import pytest

import minidl
from minidl import profiler
from minidl.autograd import engine
from minidl.autograd.function import Function
from minidl.cli import main
from minidl.nn.module import Module


def _step():
    minidl.manual_seed(0)
    model = minidl.nn.Sequential(minidl.nn.Linear(8, 16), minidl.nn.ReLU(),
                                 minidl.nn.Linear(16, 3))
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    x, y = minidl.randn(4, 8), minidl.tensor([0, 1, 2, 0])
    return model, opt, x, y


def test_rows_name_the_ops_forward_and_backward_and_add_up():
    model, opt, x, y = _step()
    with profiler.profile() as prof:
        loss = minidl.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    rows = prof.rows
    assert rows["LinearFn"].calls == 2 and rows["LinearFn"].backward_calls == 2
    assert rows["ReLUFn"].calls == 1 and rows["ReLUFn"].backward_calls == 1
    assert rows["nn.Module: Linear"].calls == 2 and rows["nn.Module: Sequential"].calls == 1
    assert rows["Optimizer.step#SGD.step"].calls == 1 and rows["autograd engine"].calls == 1
    for r in rows.values():
        assert 0 <= r.self_time <= r.total + 1e-9 and 0 <= r.backward_self <= r.backward_total + 1e-9
    accounted = sum(r.self_all for r in rows.values())
    assert accounted <= prof.wall * 1.0001              # self times never double count
    assert rows["nn.Module: Sequential"].total >= rows["LinearFn"].total
    text = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert len(text.splitlines()) == 2 + 5 + 2 and "self time of the rows" in text


def test_saved_bytes_are_what_the_nodes_keep():
    a = minidl.randn(100, 10, requires_grad=True)
    b = minidl.randn(100, 10, requires_grad=True)
    with profiler.profile() as prof:
        (a * b).sum().backward()
    assert prof.rows["MulFn"].saved_bytes == 2 * 100 * 10 * 4   # a and b, float32
    assert prof.rows["SumFn"].saved_bytes == 0


def test_record_function_nests_and_is_silent_outside_a_profile():
    with profiler.record_function("outside"):
        pass
    x = minidl.randn(50, 50)
    with profiler.profile() as prof:
        with profiler.record_function("block"):
            for _ in range(3):
                x = x * 1.5
    block, mul = prof.rows["block"], prof.rows["MulFn"]
    assert block.calls == 1 and mul.calls == 3 and "outside" not in prof.rows
    assert block.total >= mul.total and abs(block.self_time - (block.total - mul.total)) < 1e-6


def test_everything_is_put_back_and_profiles_do_not_nest():
    before = (Function.__dict__["apply"].__func__, Module.__dict__["__call__"],
              minidl.optim.SGD.__dict__["step"], engine._run)
    with profiler.profile():
        with pytest.raises(RuntimeError, match="already running"):
            profiler.profile().__enter__()
    after = (Function.__dict__["apply"].__func__, Module.__dict__["__call__"],
             minidl.optim.SGD.__dict__["step"], engine._run)
    assert before == after and engine._backward_timer is None
    with pytest.raises(ValueError):
        with profiler.profile():
            raise ValueError("inside")
    assert Function.__dict__["apply"].__func__ is before[0]


def test_results_are_the_same_with_the_profiler_on():
    model, opt, x, y = _step()
    loss = minidl.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with profiler.profile():
        minidl.nn.functional.cross_entropy(model(x), y).backward()
    for g, p in zip(plain, model.parameters()):
        assert np.array_equal(g, p.grad.numpy())


def test_train_profile_prints_the_table(capsys, tmp_path):
    assert main(["train", "--profile", "2", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "Conv2dFn" in out and "Optimizer.step#Adam.step" in out
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()
