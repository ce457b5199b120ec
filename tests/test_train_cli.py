"""`minidl train`: it learns, it resumes exactly after a SIGKILL, and it refuses bad input."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl.cli import main

pytestmark = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                reason="the digits dataset needs scikit-learn (extra 'train')")

DIGITS = ["train", "--dataset", "digits", "--batch-size", "64", "--seed", "3"]


def _weights(out: Path) -> dict:
    return {k: v.numpy() for k, v in minidl.load(out / "checkpoint.safetensors")["model"].items()}


def _start(args, env=None):
    return subprocess.Popen([sys.executable, "-m", "minidl", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def test_default_run_reaches_95_percent_on_digits_and_writes_its_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out)]) == 0          # the README's main job
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, 11))
    losses = [e["train_loss"] for e in metrics["epochs"]]
    assert losses[-1] < losses[0] / 5
    assert metrics["epochs"][-1]["test_accuracy"] >= 0.95
    report = (out / "report.txt").read_text()
    assert "precision" in report and "confusion matrix" in report
    assert (out / "checkpoint.safetensors").is_file()
    if importlib.util.find_spec("matplotlib"):
        assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "final test accuracy" in capsys.readouterr().out


def _kill_when(proc, condition, timeout=120):
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before it could be killed:\n" \
                                    f"{proc.stdout.read()}"
        assert time.time() < deadline, "the run never reached the kill point"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("every", [0, 7], ids=["epoch-checkpoints", "every-7-batches"])
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, every):
    args = DIGITS + ["--epochs", "3", "--checkpoint-every", str(every)]
    whole = tmp_path / "whole"
    assert main(args + ["--out", str(whole)]) == 0

    cut = tmp_path / "cut"
    ckpt = cut / "checkpoint.safetensors"
    proc = _start(args + ["--out", str(cut)])
    # epoch checkpoints: kill during epoch 2; batch checkpoints: right after the first one
    _kill_when(proc, lambda: ckpt.exists())
    saved = minidl.load(ckpt)
    assert saved["epoch"] < 3
    assert main(args + ["--out", str(cut), "--resume"]) == 0

    a, b = _weights(whole), _weights(cut)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    history = json.loads((cut / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == [1, 2, 3]


def test_resume_refuses_a_checkpoint_from_another_model(tmp_path):
    out = tmp_path / "run"
    assert main(DIGITS + ["--epochs", "1", "--out", str(out)]) == 0
    with pytest.raises(SystemExit, match="model: checkpoint 'simplecnn' vs now 'mlp'"):
        main(DIGITS + ["--epochs", "2", "--out", str(out), "--resume", "--model", "mlp"])


def test_resume_without_checkpoint_says_where_it_looked(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at"):
        main(DIGITS + ["--out", str(tmp_path / "nothing"), "--resume"])


def test_missing_mnist_folder_names_the_expected_files(tmp_path):
    with pytest.raises((FileNotFoundError, SystemExit)) as info:
        main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"),
              "--out", str(tmp_path / "run")])
    assert "train-images-idx3-ubyte" in str(info.value)


def test_mnist_without_data_dir_asks_for_one(tmp_path):
    with pytest.raises(SystemExit, match="--data-dir is required"):
        main(["train", "--dataset", "mnist", "--out", str(tmp_path / "run")])
