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
    mods = [pytest.param(np, id="numpy"), pytest.param("device_double", id="device_double")]
    from minidl import backend
    if backend.has_cupy():
        import cupy
        mods.append(pytest.param(cupy, id="cupy", marks=pytest.mark.gpu))
    return mods


@pytest.fixture(params=_array_modules())
def xp(request):
    """Each available array module: numpy always; the CuPy-shaped test double
    (minidl.testing.device_double, installed as minidl's CuPy for the test); cupy where a
    GPU is present."""
    if request.param == "device_double":
        from minidl.testing import device_double
        with device_double.installed() as double:
            yield double
        return
    yield request.param


if os.environ.get("MINIDL_TEST_DEVICE") == "double":
    # MINIDL_TEST_DEVICE=double pytest ...: every test runs with the CuPy-shaped test double
    # installed and "cuda" as the default device, so tensors that tests make without a
    # device land "on the GPU" (issue 19's road to the whole suite on the double)
    @pytest.fixture(autouse=True)
    def _on_the_device_double():
        from minidl import backend
        from minidl.testing import device_double
        with device_double.installed():
            backend.set_default_device("cuda")
            try:
                yield
            finally:
                backend.set_default_device(None)
