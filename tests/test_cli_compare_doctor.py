"""`minidl compare` (exit 0 agree, 1 diverge, 2 bad usage; a planted bug named by layer and
direction) and `minidl doctor` (one OK/FAIL line per check)."""
import json
from pathlib import Path

import pytest

from minidl.cli import main

ROOT = Path(__file__).resolve().parents[1]
PLANTED = f"{ROOT / 'examples' / 'planted_bug.py'}:make_model"


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("model", ["simplecnn", "mlp", "lenet5"])
def test_the_zoo_agrees_and_exits_0(capsys, torch, model):
    code, out, _ = _run(capsys, "compare", "--model", model, "--dtype", "float64")
    assert code == 0, out
    assert "forward: agrees" in out and "backward: agrees" in out


def test_the_planted_bug_is_named_by_layer_and_direction_and_exits_1(capsys, torch):
    code, out, _ = _run(capsys, "compare", "--module", PLANTED, "--input-shape", "8,20")
    assert code == 1
    assert "forward: agrees" in out
    assert "backward: first divergence at 'act'" in out


def test_json_and_training_curves(capsys, torch):
    code, out, _ = _run(capsys, "compare", "--model", "mlp", "--steps", "5", "--json",
                        "--dtype", "float64")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["compare"]["ok"]
    assert len(report["training"]["losses"]["minidl"]) == 5
    code, out, _ = _run(capsys, "compare", "--module", PLANTED, "--input-shape", "8,20",
                        "--steps", "5", "--json")
    report = json.loads(out)
    assert code == 1 and report["compare"]["first_backward_divergence"] == "act"


@pytest.mark.parametrize("argv,message", [
    (["--module", "no_such_package.mod:make"], "cannot import no_such_package.mod"),
    (["--module", f"{ROOT / 'examples' / 'planted_bug.py'}:nope", "--input-shape", "2,20"],
     "has no function 'nope'"),
    (["--module", "examples/missing.py:f", "--input-shape", "2,3"], "no file"),
    (["--module", "no_colon"], "expects package.module:factory"),
    (["--module", PLANTED], "needs --input-shape"),
    (["--module", PLANTED, "--input-shape", "8,x"], "--input-shape expects integers"),
])
def test_bad_usage_exits_2_with_a_message(capsys, torch, argv, message):
    code, _, err = _run(capsys, "compare", *argv)
    assert code == 2 and message in err


def test_an_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["compare", "--model", "resnet"])
    assert info.value.code == 2


def test_doctor_prints_one_line_per_check_and_passes_here(capsys):
    code, out, _ = _run(capsys, "doctor")
    lines = [line for line in out.splitlines() if line[:4].strip() in ("OK", "FAIL", "SKIP")]
    names = {line.split()[1] for line in lines}
    assert {"python", "numpy", "numba", "blas", "threads", "gradcheck", "kernels"} <= names
    assert code == 0 and "all checks passed" in out


def test_doctor_reports_a_failing_check(capsys, monkeypatch):
    from minidl import doctor
    monkeypatch.setattr(doctor, "_kernel_twin",
                        lambda: (_ for _ in ()).throw(AssertionError("planted")))
    code, out, _ = _run(capsys, "doctor")
    assert code == 1 and "FAIL  kernels" in out and "planted" in out
