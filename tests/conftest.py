"""Shared test settings: Hypothesis profiles (smaller in CI) and the array-module fixture."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _array_modules():
    mods = [pytest.param(np, id="numpy")]
    from minidl import backend
    if backend.has_cupy():
        import cupy
        mods.append(pytest.param(cupy, id="cupy", marks=pytest.mark.gpu))
    return mods


@pytest.fixture(params=_array_modules())
def xp(request):
    """Each available array module: numpy always, cupy where a GPU is present."""
    return request.param
