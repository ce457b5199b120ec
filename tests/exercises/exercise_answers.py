"""Correct answers to the exercises in plain NumPy, and typical wrong ones, for the tests.

Each wrong answer is a mistake students make; its docstring names it. The grader must pass
the correct ones and fail each wrong one with a report that names where it went wrong.
"""
import numpy as np


# ---- mul_backward ----
def _sum_to(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)


def mul_backward(grad_out, a, b):
    return _sum_to(grad_out * b, a.shape), _sum_to(grad_out * a, b.shape)


def mul_backward_no_broadcast_sum(grad_out, a, b):
    """The dropped broadcast sum: gradients keep the broadcast shape."""
    return grad_out * b, grad_out * a


def mul_backward_swapped(grad_out, a, b):
    """Each input's gradient multiplied by itself instead of by the other factor."""
    return _sum_to(grad_out * a, a.shape), _sum_to(grad_out * b, b.shape)


def mul_backward_no_keepdims(grad_out, a, b):
    """The broadcast dims summed away instead of kept as 1s."""
    def squeeze_sum(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1))
    return squeeze_sum(grad_out * b, a.shape), squeeze_sum(grad_out * a, b.shape)


# ---- matmul_backward ----
def matmul_backward(grad_out, a, b):
    return grad_out @ b.T, a.T @ grad_out


def matmul_backward_missing_transpose(grad_out, a, b):
    """grad_a = grad_out @ b: the missing transpose (square matrices hide it)."""
    return grad_out @ b, a.T @ grad_out


def matmul_backward_wrong_order(grad_out, a, b):
    """grad_b = grad_out.T @ a: the transposed product, of the wrong shape."""
    return grad_out @ b.T, grad_out.T @ a


# ---- conv2d_im2col ----
def _im2col(x, kh, kw, stride, padding, plus_one=1):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - kh) // stride + plus_one
    OW = (W + 2 * padding - kw) // stride + plus_one
    cols = np.empty((N, OH, OW, C * kh * kw))
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            cols[:, i, j] = patch.reshape(N, -1)
    return cols, OH, OW


def conv2d(x, weight, bias, stride, padding, plus_one=1):
    O, _, kh, kw = weight.shape
    cols, OH, OW = _im2col(x, kh, kw, stride, padding, plus_one)
    out = cols.reshape(-1, cols.shape[-1]) @ weight.reshape(O, -1).T
    out = out.reshape(x.shape[0], OH, OW, O).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return np.ascontiguousarray(out)


def conv2d_flipped_kernel(x, weight, bias, stride, padding):
    """A true convolution: the kernel flipped, as in the signal processing textbooks."""
    return conv2d(x, weight[:, :, ::-1, ::-1], bias, stride, padding)


def conv2d_off_by_one(x, weight, bias, stride, padding):
    """The output size without its + 1: one window too few in each direction."""
    return conv2d(x, weight, bias, stride, padding, plus_one=0)


def conv2d_no_bias(x, weight, bias, stride, padding):
    """The bias forgotten."""
    return conv2d(x, weight, None, stride, padding)


# ---- maxpool2d_backward ----
def maxpool2d_backward(grad_out, x, kernel_size, stride, overwrite=False, every_tie=False):
    k, s = kernel_size, stride
    grad_x = np.zeros_like(x)
    N, C, OH, OW = grad_out.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    if every_tie:
                        grad_x[n, c, i * s:i * s + k, j * s:j * s + k] += \
                            (window == window.max()) * grad_out[n, c, i, j]
                        continue
                    p, q = divmod(int(window.argmax()), k)
                    if overwrite:
                        grad_x[n, c, i * s + p, j * s + q] = grad_out[n, c, i, j]
                    else:
                        grad_x[n, c, i * s + p, j * s + q] += grad_out[n, c, i, j]
    return grad_x


def maxpool2d_backward_every_tie(grad_out, x, kernel_size, stride):
    """The gradient sent to every element equal to the window's maximum."""
    return maxpool2d_backward(grad_out, x, kernel_size, stride, every_tie=True)


def maxpool2d_backward_overwrite(grad_out, x, kernel_size, stride):
    """Assigning instead of adding where windows overlap."""
    return maxpool2d_backward(grad_out, x, kernel_size, stride, overwrite=True)


# ---- softmax_cross_entropy ----
def softmax_cross_entropy(logits, target):
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), target].mean()
    grad = np.exp(log_p)
    grad[np.arange(N), target] -= 1
    return loss, grad / N


def softmax_cross_entropy_no_max(logits, target):
    """exp of the raw logits: inf for large ones."""
    N = logits.shape[0]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), target]).mean()
    grad = p.copy()
    grad[np.arange(N), target] -= 1
    return loss, grad / N


def softmax_cross_entropy_sum(logits, target):
    """The sum over the batch instead of the mean."""
    loss, grad = softmax_cross_entropy(logits, target)
    return loss * len(target), grad * len(target)


def softmax_cross_entropy_no_onehot(logits, target):
    """The gradient is softmax / N: the one-hot of the target never subtracted."""
    loss, grad = softmax_cross_entropy(logits, target)
    N = len(target)
    grad = grad.copy()
    grad[np.arange(N), target] += 1 / N
    return loss, grad


# ---- adam_step ----
def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_step_no_bias_correction(param, grad, m, v, step, lr, beta1, beta2, eps):
    """m and v used as they are, without dividing by 1 - beta**step."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return param - lr * m / (np.sqrt(v) + eps), m, v


def adam_step_eps_inside_sqrt(param, grad, m, v, step, lr, beta1, beta2, eps):
    """eps added under the square root."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / np.sqrt(v_hat + eps), m, v


def adam_step_returns_m_hat(param, grad, m, v, step, lr, beta1, beta2, eps):
    """The bias-corrected moments returned (and so fed to the next step)."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


# ---- topological_order ----
def topological_order(root):
    """Reverse post-order of an iterative DFS."""
    order, seen = [], {root.grad_fn}
    stack = [(root.grad_fn, iter(root.grad_fn.next_functions))]
    while stack:
        node, children = stack[-1]
        for child, _ in children:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append((child, iter(child.next_functions)))
                break
        else:
            stack.pop()
            order.append(node)
    return order[::-1]


def topological_order_preorder(root):
    """Pre-order DFS: a shared node is listed before its second consumer."""
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None:
                visit(child)

    visit(root.grad_fn)
    return order


def topological_order_no_visited_set(root):
    """Reverse post-order without a visited set: a shared node is listed twice."""
    order = []

    def visit(node):
        for child, _ in node.next_functions:
            if child is not None:
                visit(child)
        order.append(node)

    visit(root.grad_fn)
    return order[::-1]


def topological_order_keeps_none(root):
    """next_functions followed without skipping None: AttributeError on a constant."""
    order, seen = [], set()

    def visit(node):
        seen.add(node)
        for child, _ in node.next_functions:
            if child not in seen:
                visit(child)
        order.append(node)

    visit(root.grad_fn)
    return order[::-1]
