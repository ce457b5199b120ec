"""Version counters: how many times an array's memory has been changed in place.

A graph keeps the values its backward needs (`ctx.save_for_backward`). If one of them is
changed in place before backward runs, say by `optimizer.step()` between a forward and its
backward, the gradient would be computed from values the forward never saw. PyTorch counts
the in-place changes of each tensor's storage and refuses to unpack a saved value whose
count has moved; minidl does the same, so such a backward raises instead of returning a
silently wrong gradient.

The count belongs to the memory, not to a Tensor: it is kept for the array that owns the
memory (the end of NumPy's `.base` chain), so a view, a reshape or a `detach()` shares the
count of the array it looks into, as views share a version counter in PyTorch. Only arrays
that were changed in place have an entry; every other array is at version 0, and an entry
goes when its array is freed.

What bumps the count: every in-place op on a Tensor that writes into its array (`add_`,
`zero_`, `copy_`, `x[i] = v`, ... under no_grad or on a tensor that needs no grad), the
optimizers' updates, a zeroing `zero_grad(set_to_none=False)`, BatchNorm's running
statistics, `load_state_dict` and the `nn.init` functions. Writing through `t.data` (a
Tensor that shares the memory) or into `t.array` (the raw array) does not, as writing
through `t.data` is untracked in PyTorch.
"""
from __future__ import annotations

import weakref

_counts = {}        # id(owner array) -> in-place changes so far


def _owner(array):
    """The array that owns `array`'s memory: the last array on its `.base` chain."""
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "shape"):
        array, base = base, getattr(base, "base", None)
    return array


def bump(array) -> None:
    """Record one in-place change of `array`'s memory."""
    owner = _owner(array)
    key = id(owner)
    count = _counts.get(key)
    if count is None:
        count = 0
        try:                    # forget the count with the memory (an id is reused after)
            weakref.finalize(owner, _counts.pop, key, None)
        except TypeError:       # an array type without weak references keeps its entry
            pass
    _counts[key] = count + 1


def version(array) -> int:
    """How many in-place changes `array`'s memory has had."""
    if not _counts:
        return 0
    return _counts.get(id(array if array.base is None else _owner(array)), 0)
