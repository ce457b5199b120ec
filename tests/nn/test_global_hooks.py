"""Global module hooks (torch.nn.modules.module.register_module_forward_[pre_]hook)."""
import numpy as np

import minidl
import minidl.nn as nn
from minidl.nn.modules.module import (register_module_forward_hook,
                                      register_module_forward_pre_hook)


def test_global_hooks_run_around_every_module_before_its_own():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    calls = []
    model.register_forward_pre_hook(lambda m, a: calls.append(("own", type(m).__name__)))
    pre = register_module_forward_pre_hook(lambda m, a: calls.append(("pre", type(m).__name__)))
    post = register_module_forward_hook(
        lambda m, a, out: calls.append(("post", type(m).__name__)))
    try:
        model(minidl.ones(1, 2))
    finally:
        pre.remove()
        post.remove()
    assert calls == [("pre", "Sequential"), ("own", "Sequential"), ("pre", "Linear"),
                     ("post", "Linear"), ("pre", "ReLU"), ("post", "ReLU"),
                     ("post", "Sequential")]
    calls.clear()
    model(minidl.ones(1, 2))
    assert calls == [("own", "Sequential")]          # removed: only the module's own


def test_a_global_forward_hook_may_replace_the_output():
    layer = nn.Identity()
    handle = register_module_forward_hook(lambda m, a, out: out * 2)
    try:
        np.testing.assert_array_equal(layer(minidl.ones(2)).numpy(), [2.0, 2.0])
    finally:
        handle.remove()
    np.testing.assert_array_equal(layer(minidl.ones(2)).numpy(), [1.0, 1.0])
