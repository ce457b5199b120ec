"""Optimizer: the base class that holds parameter groups and per-parameter state.

Subclasses (SGD, Adam, AdamW) validate their hyper-parameters, then write `step()` as a
few plain lines on the parameters' arrays. The base class owns the bookkeeping that is
the same for all of them: parameter groups, `zero_grad`, and `state_dict` /
`load_state_dict` in PyTorch's layout, so checkpoints move between minidl and PyTorch.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from .. import backend
from ..autograd.engine import reset_grad
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class of all optimizers (torch.optim.Optimizer).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, `(name, tensor)` pairs (as `named_parameters()` yields), or
        dicts (parameter groups), each with a `'params'` entry and optional per-group
        options that override `defaults`.
    defaults : dict
        Default value of each option, used by groups that do not set it.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: `'params'` (a list of tensors) and the options.
    state : dict
        Per-parameter state (momentum buffers, moment estimates), keyed by the tensor.

    Notes
    -----
    A parameter may appear only once: PyTorch warns about a duplicate inside a group
    (and announces it will become an error); minidl raises ValueError, since the update
    would be applied twice.

    See Also
    --------
    torch.optim.Optimizer
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones come from defaults).

        Raises ValueError when a parameter is already optimized (in this or another group).
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            params = [p[1] for p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")

        param_group["params"] = params        # the caller's dict becomes the group, as in torch
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: set `.grad` to None (default), or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                reset_grad(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once; `closure` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None):
        """Run the closure (with grad recording on, as it calls backward) and return its loss."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- checkpoints ----
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout.

        Returns
        -------
        dict
            `{'state': {index: {name: value}}, 'param_groups': [{option: value, 'params':
            [index, ...]}]}`, where parameters are numbered in group order. As in PyTorch,
            the state tensors are shared with the optimizer, not copied: save the dict (or
            deep-copy it) to keep a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): dict(v)
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from `state_dict()` (minidl's or PyTorch's, through the bridge).

        Groups are matched by position and parameters by their order inside each group.
        State tensors are copied and cast to their parameter's dtype and device.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups' "
                             "entries, as Optimizer.state_dict() returns")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups: "
                             f"{len(saved_groups)} saved, the optimizer has {len(groups)}")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} saved parameters, the optimizer's "
                                 f"has {len(group['params'])}")
        id_map = {saved_id: p for group, saved in zip(groups, saved_groups)
                  for saved_id, p in zip(saved["params"], group["params"])}

        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {name: self._cast_state(param, name, v)
                                for name, v in value.items()}
            else:
                state[key] = copy.deepcopy(value)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    @staticmethod
    def _cast_state(param: Tensor, name: str, value):
        """A private copy of one state value: tensors on the parameter's device and dtype."""
        if name == "step":
            value = value.item() if isinstance(value, Tensor) else value
            return int(value) if float(value).is_integer() else float(value)
        if isinstance(value, (Tensor, np.ndarray)):
            array = value.array if isinstance(value, Tensor) else value
            array = backend.to_device(array, param.device)
            xp = backend.get_array_module(array)
            dtype = param.dtype if param.dtype.kind == "f" else array.dtype
            return Tensor._wrap(xp.array(array, dtype=dtype, copy=True), False, None, 0)
        return copy.deepcopy(value)
