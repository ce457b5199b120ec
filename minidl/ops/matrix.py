"""Matrix ops with PyTorch's strict shape rules, on top of matmul: mm, bmm, addmm, baddbmm,
mv, dot, outer, diag, tril, triu, einsum."""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayFunction, torch_node
from ..backend import get_array_module
from ..tensor import constant
from .linalg import matmul


def mm(input, mat2):
    """(n, m) @ (m, p) -> (n, p); both must be 2-D (torch.mm)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got {input.ndim}-D) and mat2 must be "
                           f"a matrix (got {mat2.ndim}-D)" if input.ndim != 2 else
                           f"mm: mat2 must be a matrix, got {mat2.ndim}-D tensor")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
                           f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return matmul(input, mat2)


def bmm(input, mat2):
    """(b, n, m) @ (b, m, p) -> (b, n, p) (torch.bmm)."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}-D) and batch2 must "
                           f"be a 3D tensor (got {mat2.ndim}-D)")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    return matmul(input, mat2)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2) (torch.addmm)."""
    prod = mm(mat1, mat2)
    return _scaled(input, beta) + _scaled(prod, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled(input, beta) + _scaled(bmm(batch1, batch2), alpha)


def _scaled(x, factor):
    return x if factor == 1 else x * factor


def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, "
                           f"{vec.ndim}")
    return matmul(input, vec)


def dot(input, other):
    """The inner product of two 1-D tensors of the same size (torch.dot)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           f"tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and "
                           f"src [{other.shape[0]}] to have the same number of elements, but "
                           f"got {input.shape[0]} and {other.shape[0]} elements respectively")
    return (input * other).sum()


def outer(input, vec2):
    """input[i] * vec2[j] (torch.outer)."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def _tri_mask(x, diagonal: int, lower: bool):
    xp = get_array_module(x.array)
    rows, cols = x.shape[-2], x.shape[-1]
    fn = xp.tril if lower else xp.triu
    return constant(fn(xp.ones((rows, cols), dtype=bool), diagonal))


@torch_node("TrilBackward0")
def tril(input, diagonal: int = 0):
    """The lower triangle of the last two dims (the rest zeroed), differentiable."""
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    from .select import where
    return where(_tri_mask(input, diagonal, True), input, 0)


@torch_node("TriuBackward0")
def triu(input, diagonal: int = 0):
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    from .select import where
    return where(_tri_mask(input, diagonal, False), input, 0)


def diag(input, diagonal: int = 0):
    """A 1-D tensor's values on a matrix diagonal, or a matrix's diagonal as 1-D."""
    xp = get_array_module(input.array)
    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        rows = xp.arange(input.shape[0]) + max(-diagonal, 0)
        cols = xp.arange(input.shape[0]) + max(diagonal, 0)
        from .shape import index_put
        zeros = constant(xp.zeros((n, n), dtype=input.array.dtype))
        return index_put(zeros, (rows, cols), input)
    if input.ndim == 2:
        return diagonal_(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagonal_(input, offset: int = 0):
    xp = get_array_module(input.array)
    n, m = input.shape[-2], input.shape[-1]
    length = max(0, min(n - max(-offset, 0), m - max(offset, 0)))
    rows = xp.arange(length) + max(-offset, 0)
    cols = xp.arange(length) + max(offset, 0)
    return input[..., rows, cols]


@torch_node("TraceBackward0")
def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal_(input).sum()


# ---- einsum ----
def _parse(equation: str, operands) -> tuple:
    """('ij,jk', 'ik') with '...' expanded to letters and the implicit output filled in."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        raise RuntimeError(f"einsum(): {len(inputs)} operands in the equation but "
                           f"{len(operands)} given")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    n_ell = max((op.ndim - len(term.replace("...", "")) for term, op in zip(inputs, operands)
                 if "..." in term), default=0)
    ell = "".join(spare[:n_ell])
    terms = []
    for term, op in zip(inputs, operands):
        if "..." in term:
            k = op.ndim - len(term.replace("...", ""))
            term = term.replace("...", ell[n_ell - k:])
        if len(term) != op.ndim or (term and not term.isalpha()):
            raise RuntimeError(f"einsum(): the subscripts {term!r} do not match an operand of "
                               f"{op.ndim} dims")
        terms.append(term)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(terms)
        out = ell + "".join(sorted(c for c in set(letters) - set(ell) if letters.count(c) == 1))
    return terms, out


class EinsumFn(ArrayFunction):
    """y = einsum(terms -> out, *operands); each operand's gradient is another einsum."""

    torch_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, *arrays, terms, out):
        ctx.terms, ctx.out = terms, out
        ctx.save_for_backward(*arrays)
        ctx.shapes = [a.shape for a in arrays]
        return get_array_module(arrays[0]).einsum(",".join(terms) + "->" + out, *arrays)

    @staticmethod
    def backward(ctx, grad_out):
        ops_ = ctx.saved_tensors
        grads = []
        for i, term in enumerate(ctx.terms):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(ctx.terms) if j != i]
            # d y / d operand_i: contract the gradient with every other operand; letters of
            # operand i that appear nowhere else were summed out, so they broadcast back
            target = "".join(c for c in term if c in ctx.out or any(c in t for t in others))
            g = einsum(",".join([ctx.out] + others) + "->" + target, grad_out,
                       *[o for j, o in enumerate(ops_) if j != i])
            g = _expand_to(g, target, term, ctx.shapes[i])
            grads.append(g)
        return tuple(grads)


def _expand_to(g, have: str, want: str, shape):
    """g with subscripts `have` as a tensor with subscripts `want` (inserting broadcast
    dims for summed-out letters, taking diagonals' repeated letters as they come)."""
    if len(set(want)) != len(want):
        raise NotImplementedError("einsum: the gradient of an operand with a repeated "
                                  "subscript (a diagonal) is not implemented")
    perm_src = have
    for c in want:
        if c not in perm_src:
            g = g.unsqueeze(-1)
            perm_src += c
    g = g.permute(*[perm_src.index(c) for c in want])
    return g.expand(*shape)


def einsum(equation: str, *operands):
    """Einstein summation (torch.einsum), with '...' and an implicit output."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, out = _parse(equation, operands)
    for term, op in zip(terms, operands):
        for c, n in zip(term, op.shape):
            for t2, o2 in zip(terms, operands):
                for c2, n2 in zip(t2, o2.shape):
                    if c == c2 and n != n2 and 1 not in (n, n2):
                        raise RuntimeError(f"einsum(): subscript {c} has size {n2} for an "
                                           f"operand which does not broadcast with "
                                           f"previously seen size {n}")
    return EinsumFn.apply(*operands, terms=terms, out=out)
