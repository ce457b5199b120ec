"""Data-parallel training over MPI (issue 20): 2 ranks end where one process on the global
batch ends; a rank that raises ends the job, not hangs it; a model that differs across
ranks is named; `minidl train --distributed` resumes after a crash exactly."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minidl

pytest.importorskip("mpi4py")
HERE = Path(__file__).parent
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install 'minidl[mpi]')")
sys.path.insert(0, str(HERE))
import ddp_worker  # noqa: E402


def _mpi(n, *args, timeout=300, env=None):
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("ranks", [2])
def test_ranks_end_where_one_process_on_the_global_batch_ends(ranks, tmp_path):
    out = tmp_path / "weights.npz"
    done = _mpi(ranks, str(HERE / "ddp_worker.py"), "train", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    ours = dict(np.load(out))
    reference = ddp_worker.reference_weights()
    assert ours.keys() == reference.keys()
    for key in reference:
        np.testing.assert_allclose(ours[key], reference[key], rtol=2e-4, atol=2e-6,
                                   err_msg=key)
    assert any(not np.array_equal(ours[k], ddp_worker.make_model().state_dict()[k].numpy())
               for k in reference)                     # it trained


def test_a_rank_that_raises_ends_the_job_within_a_minute():
    start = time.monotonic()
    done = _mpi(2, str(HERE / "ddp_worker.py"), "raise", timeout=60)
    assert time.monotonic() - start < 60
    assert done.returncode != 0
    assert "planted failure on rank 1" in done.stderr
    assert "rank 1 of 2 raised RuntimeError: planted failure on rank 1; aborting the job" \
        in done.stderr


def test_a_model_that_differs_on_one_rank_is_named():
    done = _mpi(2, str(HERE / "ddp_worker.py"), "mismatch", timeout=60)
    assert done.returncode != 0
    assert "rank 1's model differs from rank 0's (parameter fc1.weight of shape (128, 512)" \
        in done.stderr, done.stderr[-2000:]


@pytest.mark.skipif(__import__("importlib").util.find_spec("sklearn") is None,
                    reason="the digits dataset needs scikit-learn")
def test_train_distributed_resumes_after_a_crash_exactly(tmp_path):
    args = ["-m", "minidl", "train", "--distributed", "--dataset", "digits", "--epochs", "2",
            "--seed", "4"]
    whole = _mpi(2, *args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    env = dict(os.environ, MINIDL_CRASH_AT="step:15")          # epoch 2, batch 4 of 12
    crashed = _mpi(2, *args, "--out", str(tmp_path / "cut"), "--checkpoint-every", "0", env=env)
    assert crashed.returncode != 0
    resumed = _mpi(2, *args, "--out", str(tmp_path / "cut"), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    a = minidl.load(tmp_path / "whole" / "checkpoint.safetensors")
    b = minidl.load(tmp_path / "cut" / "checkpoint.safetensors")
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy(),
                                      err_msg=key)
    assert a["history"][-1]["train_loss"] == b["history"][-1]["train_loss"]
