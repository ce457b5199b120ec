"""Classification metrics: accuracy, confusion matrix, precision / recall / F1, a report.

Inputs may be minidl Tensors, NumPy (or CuPy) arrays or lists; results are Python floats
and NumPy arrays. Class labels are ints in 0..num_classes-1. The prediction comes first,
then the target (torchmetrics' order); where both are label arrays (the confusion matrix,
precision/recall/F1, the report) they are passed by name, `preds=` and `target=`, so that
a swapped pair cannot silently swap precision and recall.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .backend import to_numpy
from .tensor import Tensor


def _host(x, name: str) -> np.ndarray:
    arr = to_numpy(x.array if isinstance(x, Tensor) else x)
    if arr.dtype == object:
        raise TypeError(f"{name}: expected numbers, got an object array")
    return arr


def _labels(x, name: str, op: str) -> np.ndarray:
    arr = _host(x, op)
    if arr.ndim != 1:
        raise ValueError(f"{op}: {name} should be a 1-D array of class labels, got shape "
                         f"{tuple(arr.shape)}")
    if arr.size and (arr.dtype.kind not in "iub" and not np.all(arr == np.round(arr))):
        raise ValueError(f"{op}: {name} should hold integer class labels, got {arr.dtype} "
                         f"values such as {arr.reshape(-1)[0]}")
    return arr.astype(np.int64)


def accuracy(preds, target, *, threshold: float | None = None) -> float:
    """Fraction of samples whose predicted class equals the target (torchmetrics' order:
    prediction first, then target).

    Parameters
    ----------
    preds : Tensor or array
        Predicted labels (N,), or scores (N, C), C >= 2, whose argmax over dim 1 is the
        prediction (logits, probabilities or log-probabilities alike). Binary
        probabilities, (N,) or (N, 1) floats, need `threshold`.
    target : Tensor or array
        True labels (N,).
    threshold : float, keyword-only
        For binary probabilities: class 1 where preds >= threshold.

    Returns
    -------
    float
        In [0, 1]; NaN for an empty batch.
    """
    raw = _host(preds, "accuracy")
    target = _labels(target, "target", "accuracy")
    pred = raw
    if threshold is not None:
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred[:, 0]
        if pred.ndim != 1:
            raise ValueError(f"accuracy: threshold is for binary probabilities of shape (N,) "
                             f"or (N, 1), got preds of shape {tuple(raw.shape)}")
        pred = (pred >= threshold).astype(np.int64)
    elif pred.ndim == 2 and pred.shape[1] == 1:
        raise ValueError(f"accuracy: preds of shape {tuple(raw.shape)} hold one score per "
                         "sample; an argmax over one column is always 0. For binary "
                         "probabilities pass threshold (accuracy(probs, target, "
                         "threshold=0.5)); for C classes pass scores of shape (N, C)")
    elif pred.ndim == 2:
        pred = pred.argmax(axis=1)
    elif pred.ndim != 1:
        raise ValueError(f"accuracy: expected predictions (N,) or scores (N, C), got shape "
                         f"{tuple(raw.shape)}")
    elif pred.size and pred.dtype.kind == "f" and not np.all(pred == np.round(pred)):
        raise ValueError(f"accuracy: preds of shape {tuple(raw.shape)} hold fractions such "
                         f"as {pred[pred != np.round(pred)][0]}, not class labels; for "
                         "binary probabilities pass threshold (threshold=0.5)")
    if pred.shape[0] != target.shape[0]:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions for {target.shape[0]} "
                         f"targets (shapes {tuple(raw.shape)} and {tuple(target.shape)})")
    if target.size == 0:
        return float("nan")
    return float(np.mean(pred == target))


def _by_name(op: str, args: tuple) -> None:
    """preds and target are both label arrays here: a swapped pair would silently swap
    precision and recall, so they are passed by name."""
    if args:
        raise TypeError(f"{op}: pass preds= and target= by name ({op}(preds=..., "
                        f"target=...)): both are label arrays, and a swapped pair would "
                        f"silently swap precision and recall")


def confusion_matrix(*args, preds=None, target=None,
                     num_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs (sklearn.metrics.confusion_matrix).

    Parameters
    ----------
    preds, target : Tensor or array (N,), keyword-only
        Predicted and true class labels.
    num_classes : int, optional
        Number of classes C (default: 1 + the largest label seen).

    Returns
    -------
    numpy.ndarray, int64 (C, C)
        Entry [i, j] counts samples of true class i predicted as class j: rows are true
        classes, columns predicted ones.
    """
    _by_name("confusion_matrix", args)
    target = _labels(target, "target", "confusion_matrix")
    pred = _labels(preds, "preds", "confusion_matrix")
    if target.shape != pred.shape:
        raise ValueError(f"confusion_matrix: preds and target should have the same length, "
                         f"got shapes {tuple(pred.shape)} and {tuple(target.shape)}")
    if num_classes is None:
        num_classes = int(max(target.max(initial=-1), pred.max(initial=-1))) + 1
    if num_classes < 1:
        raise ValueError(f"confusion_matrix: num_classes should be positive, got {num_classes}")
    for name, arr in (("preds", pred), ("target", target)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} labels should lie in "
                             f"0..{num_classes - 1}, found {int(arr.min())}..{int(arr.max())}")
    flat = np.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


class ClassificationScores(NamedTuple):
    """Per-class scores (arrays of length C) and their unweighted (macro) means."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro_precision: float
    macro_recall: float
    macro_f1: float


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den is 0."""
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1(*args, preds=None, target=None,
                        num_classes: int | None = None) -> ClassificationScores:
    """Precision, recall and F1 of each class, and their macro averages.

    Parameters
    ----------
    preds, target : Tensor or array (N,), keyword-only
        Predicted and true class labels.
    num_classes : int, optional
        Number of classes C (default: 1 + the largest label seen).

    Returns
    -------
    ClassificationScores
        `precision`, `recall`, `f1` (float64 arrays (C,)), `support` (int64 (C,), samples
        of each true class), and `macro_precision`, `macro_recall`, `macro_f1`: plain
        means over all C classes.

    Notes
    -----
    precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN).
    A ratio whose denominator is 0 (a class never predicted, or absent from `target`) is
    0, as scikit-learn's default (`zero_division="warn"`) gives, without its warning.

    See Also
    --------
    sklearn.metrics.precision_recall_fscore_support
    """
    _by_name("precision_recall_f1", args)
    cm = confusion_matrix(preds=preds, target=target, num_classes=num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    f1 = _ratio(2 * tp, predicted + support)
    return ClassificationScores(precision, recall, f1, support.astype(np.int64),
                                float(precision.mean()), float(recall.mean()), float(f1.mean()))


def classification_report(*args, preds=None, target=None, num_classes: int | None = None,
                          target_names: Sequence[str] | None = None, digits: int = 2) -> str:
    """A text table of precision, recall, F1 and support per class, as scikit-learn prints.

    Parameters
    ----------
    preds, target : Tensor or array (N,), keyword-only
    num_classes : int, optional
    target_names : sequence of str, optional
        A name for each class (default: the class numbers).
    digits : int
        Decimals of the scores.

    Returns
    -------
    str
        One row per class, then accuracy, macro average and support-weighted average.

    See Also
    --------
    sklearn.metrics.classification_report
    """
    _by_name("classification_report", args)
    scores = precision_recall_f1(preds=preds, target=target, num_classes=num_classes)
    C = len(scores.support)
    names = [str(c) for c in range(C)] if target_names is None else [str(n) for n in target_names]
    if len(names) != C:
        raise ValueError(f"classification_report: {len(names)} target_names for {C} classes")
    total = int(scores.support.sum())
    weights = scores.support / total if total else np.zeros(C)
    width = max([len(n) for n in names] + [len("weighted avg"), digits])
    head = ["precision", "recall", "f1-score", "support"]
    lines = [" " * width + "".join(f"{h:>10}" for h in head), ""]

    def row(name: str, values: Sequence[float], support: int) -> str:
        return f"{name:>{width}}" + "".join(f"{v:>10.{digits}f}" for v in values) + \
            f"{support:>10}"

    for c in range(C):
        lines.append(row(names[c], (scores.precision[c], scores.recall[c], scores.f1[c]),
                         int(scores.support[c])))
    lines.append("")
    acc = accuracy(preds, target) if total else 0.0
    lines.append(f"{'accuracy':>{width}}" + " " * 20 + f"{acc:>10.{digits}f}{total:>10}")
    lines.append(row("macro avg", (scores.macro_precision, scores.macro_recall,
                                   scores.macro_f1), total))
    lines.append(row("weighted avg", (float(weights @ scores.precision),
                                      float(weights @ scores.recall),
                                      float(weights @ scores.f1)), total))
    return "\n".join(lines) + "\n"


__all__ = ["accuracy", "confusion_matrix", "precision_recall_f1", "ClassificationScores",
           "classification_report"]
