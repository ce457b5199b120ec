"""Determinism as a contract (issue 17): the same seed, data and thread count give
bit-identical weights and optimizer state, run after run, killed with SIGKILL and resumed
or not, at any --checkpoint-every.

Every run is a fresh process (`python -m minidl train`). The crashes are real SIGKILLs,
taken at exact points by MINIDL_CRASH_AT (minidl/training.py): mid-epoch between
checkpoints, right after a checkpoint, and during an evaluation.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import minidl

pytestmark = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                reason="the digits dataset needs scikit-learn (extra 'train')")

ARGS = ["train", "--dataset", "digits", "--batch-size", "64", "--seed", "5", "--epochs", "2"]
# (name, MINIDL_CRASH_AT, --checkpoint-every): digits has 23 batches an epoch
CRASHES = [("mid-epoch", "step:13", "5"),            # checkpoints at 5 and 10, killed at 13
           ("after-checkpoint", "checkpoint:1", "0"),  # right after epoch 1's checkpoint
           ("during-evaluation", "eval:2", "0")]      # epoch 2's test pass, before its save


def _train(out, *extra, crash=None):
    env = dict(os.environ)
    env.pop("MINIDL_CRASH_AT", None)
    if crash:
        env["MINIDL_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "minidl", *ARGS, "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=600, env=env)


def _flat(value, prefix=""):
    """Every entry of a checkpoint by its path, arrays as NumPy; the config and the wall
    times (which say how this process ran, not what it computed) left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k not in ("config", "seconds"):
                out.update(_flat(v, f"{prefix}{k}/"))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(_flat(v, f"{prefix}{i}/"))
        return out
    return {prefix: value.numpy() if isinstance(value, minidl.Tensor) else np.asarray(value)}


def _state(out):
    return _flat(minidl.load(out / "checkpoint.safetensors"))


def _assert_identical(a, b, what):
    assert a.keys() == b.keys(), what
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not different, f"{what}: {len(different)} of {len(a)} entries differ: {different[:8]}"


@pytest.fixture(scope="module", params=["mlp", "simplecnn"])
def reference(request, tmp_path_factory):
    """An uninterrupted run of each model, run twice in fresh processes."""
    model = request.param
    first = tmp_path_factory.mktemp(f"{model}-first")
    second = tmp_path_factory.mktemp(f"{model}-second")
    for out in (first, second):
        done = _train(out, "--model", model)
        assert done.returncode == 0, done.stderr[-2000:]
    return model, first, second


def test_two_fresh_runs_are_bit_identical(reference):
    model, first, second = reference
    a, b = _state(first), _state(second)
    assert any("optimizer" in k for k in a) and any("model" in k for k in a)
    _assert_identical(a, b, f"{model}: two uninterrupted runs")


@pytest.mark.parametrize("name, crash, every", CRASHES, ids=[c[0] for c in CRASHES])
def test_killed_and_resumed_equals_uninterrupted(reference, tmp_path, name, crash, every):
    model, whole, _ = reference
    cut = tmp_path / "cut"
    killed = _train(cut, "--model", model, "--checkpoint-every", every, crash=crash)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (cut / "checkpoint.safetensors").is_file()
    resumed = _train(cut, "--model", model, "--checkpoint-every", every, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    _assert_identical(_state(whole), _state(cut), f"{model}, killed {name}, resumed")
