"""PyTorch's keyword names on minidl's public functions: torch.add(input=x, other=y),
torch.sum(x, axis=0), torch.zeros(size=(2, 3)).

minidl's ops name their operands as the maths does (x; a and b), PyTorch's documentation
names them input and other, and a swapped program may use either. `torch_keywords` wraps a
public function so that it also takes PyTorch's names (and the NumPy aliases PyTorch
accepts: axis for dim, keepdims for keepdim), turning them into the op's own before the
call. A call without keywords costs one `if`; the wrapper's signature (help(), inspect)
shows PyTorch's names.
"""
from __future__ import annotations

import functools
import inspect

# what PyTorch calls an op's operands, where it is not input (first) and other (second)
_POSITIONAL = {
    "pow": ("input", "exponent"), "mm": ("input", "mat2"), "bmm": ("input", "mat2"),
    "mv": ("input", "vec"), "dot": ("input", "tensor"), "outer": ("input", "vec2"),
    "where": ("condition", "input", "other"), "split": ("tensor", "split_size_or_sections"),
    "cat": ("tensors",), "stack": ("tensors",), "concat": ("tensors",),
    "clamp": ("input", "min", "max"), "masked_fill": ("input", "mask", "value"),
    "addmm": ("input", "mat1", "mat2"), "baddbmm": ("input", "batch1", "batch2"),
    "atan2": ("input", "other"), "full_like": ("input", "fill_value"),
}
# an operand's own name -> PyTorch's, for every other op
_OWN_TO_TORCH = {"x": "input", "a": "input", "b": "other"}
_NUMPY_ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def torch_keywords(fn, name: str | None = None):
    """fn, also taking PyTorch's keyword names for its operands (see the module docstring);
    fn itself where it already takes every name PyTorch gives."""
    name = name or fn.__name__
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    method = bool(positional) and positional[0].name == "self"
    if method:                       # Tensor methods already say other, dim...: aliases only
        positional = []
    rename = {}
    torch_names = _POSITIONAL.get(name)
    for i, p in enumerate(positional):
        theirs = torch_names[i] if torch_names and i < len(torch_names) else (
            None if torch_names else _OWN_TO_TORCH.get(p.name))
        if theirs and theirs != p.name and theirs not in {q.name for q in params}:
            rename[theirs] = p.name
    own = {p.name for p in params if p.kind is not p.VAR_POSITIONAL}
    for alias, target in _NUMPY_ALIASES.items():
        if target in own and alias not in own:
            rename[alias] = target
    varargs = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    # sizes given as a keyword to a function taking them as *size (zeros(size=(2, 3)))
    size_keywords = {varargs, "size"} - own if varargs in ("size", "shape", "sizes") else set()
    if not rename and not size_keywords:
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for theirs in [k for k in kwargs if k in rename]:
                mine = rename[theirs]
                if mine in kwargs:
                    raise TypeError(f"{name}() got both '{theirs}' and '{mine}' for the same "
                                    "argument")
                kwargs[mine] = kwargs.pop(theirs)
            for key in size_keywords & kwargs.keys():
                if len(args) > method:
                    raise TypeError(f"{name}() got sizes both as arguments and as {key}=")
                args = args + (tuple(kwargs.pop(key)),)
        return fn(*args, **kwargs)

    shown = {v: k for k, v in rename.items() if k not in _NUMPY_ALIASES}
    try:
        call.__signature__ = inspect.signature(fn).replace(parameters=[
            p.replace(name=shown.get(p.name, p.name)) for p in params])
    except ValueError:
        pass
    return call


def wrap_namespace(namespace: dict, names) -> None:
    """Give each named function of a module namespace PyTorch's keyword names."""
    for n in names:
        fn = namespace.get(n)
        if callable(fn) and not isinstance(fn, type) and not getattr(fn, "_torch_kw", False):
            wrapped = torch_keywords(fn, n)
            if wrapped is not fn:
                wrapped._torch_kw = True
                namespace[n] = wrapped
