"""minidl.metrics against hand-computed values and, when installed, scikit-learn."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl
from minidl.metrics import (accuracy, classification_report, confusion_matrix,
                            precision_recall_f1)

TARGET = [0, 0, 1, 1, 1, 2, 2, 3]
PRED = [0, 1, 1, 1, 2, 2, 0, 0]


def test_accuracy_from_labels_and_logits():
    assert accuracy(np.array(PRED), np.array(TARGET)) == 4 / 8
    logits = minidl.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]])
    assert accuracy(logits, minidl.tensor([0, 2, 2])) == pytest.approx(2 / 3)
    assert np.isnan(accuracy(np.zeros(0), np.zeros(0, np.int64)))


def test_accuracy_errors():
    with pytest.raises(ValueError, match=r"accuracy: 3 predictions for 2 targets"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"predictions \(N,\) or scores \(N, C\), got shape "
                                         r"\(1, 2, 3\)"):
        accuracy(np.zeros((1, 2, 3)), [0])
    with pytest.raises(ValueError, match="integer class labels"):
        accuracy([0, 1], [0.5, 1.0])


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix(preds=minidl.tensor(PRED), target=TARGET, num_classes=5)
    expected = np.zeros((5, 5), np.int64)
    for t, p in zip(TARGET, PRED):
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64 and cm[3, 0] == 1 and cm[0, 3] == 0
    assert confusion_matrix(preds=PRED, target=TARGET).shape == (4, 4)          # 1 + largest label


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"preds labels should lie in 0..2, found 0..3"):
        confusion_matrix(preds=[0, 3], target=[0, 1], num_classes=3)
    with pytest.raises(ValueError, match=r"same length, got shapes \(3,\) and \(2,\)"):
        confusion_matrix(preds=[0, 1, 1], target=[0, 1])
    with pytest.raises(ValueError, match=r"target should be a 1-D array.*\(2, 2\)"):
        confusion_matrix(preds=[0, 1], target=np.zeros((2, 2), int))


def test_label_pairs_are_passed_by_name():
    # positional (target, pred), the old order, would silently swap precision and recall
    for fn in (confusion_matrix, precision_recall_f1, classification_report):
        with pytest.raises(TypeError, match="pass preds= and target= by name"):
            fn(TARGET, PRED)
    s = precision_recall_f1(preds=PRED, target=TARGET)
    swapped = precision_recall_f1(preds=TARGET, target=PRED)
    np.testing.assert_allclose(s.precision, swapped.recall)


def test_accuracy_on_binary_probabilities_needs_a_threshold():
    probs = np.array([[0.9], [0.2], [0.7], [0.6]])
    target = [1, 0, 1, 1]
    with pytest.raises(ValueError, match=r"shape \(4, 1\) hold one score per sample.*threshold"):
        accuracy(probs, target)
    with pytest.raises(ValueError, match="hold fractions such as 0.9.*threshold"):
        accuracy(probs[:, 0], target)
    assert accuracy(probs, target, threshold=0.5) == 1.0
    assert accuracy(minidl.tensor(probs[:, 0]), target, threshold=0.65) == 0.75
    with pytest.raises(ValueError, match="threshold is for binary probabilities"):
        accuracy(np.zeros((4, 3)), target, threshold=0.5)


def test_precision_recall_f1_by_hand():
    s = precision_recall_f1(preds=PRED, target=TARGET, num_classes=5)
    # class 0: TP 1, FP 2, FN 1; class 1: TP 2, FP 1, FN 1; class 2: TP 1, FP 1, FN 1;
    # class 3: TP 0, FP 0, FN 1 (never predicted); class 4: absent everywhere.
    np.testing.assert_allclose(s.precision, [1 / 3, 2 / 3, 1 / 2, 0, 0])
    np.testing.assert_allclose(s.recall, [1 / 2, 2 / 3, 1 / 2, 0, 0])
    np.testing.assert_allclose(s.f1, [2 / 5, 2 / 3, 1 / 2, 0, 0])
    assert s.support.tolist() == [2, 3, 2, 1, 0]
    assert s.macro_precision == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 5)
    assert s.macro_f1 == pytest.approx((2 / 5 + 2 / 3 + 1 / 2) / 5)


def test_classification_report_text():
    text = classification_report(preds=PRED, target=TARGET,
                                 target_names=["cat", "dog", "owl", "emu"])
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[2].split() == ["cat", "0.33", "0.50", "0.40", "2"]
    assert lines[5].split() == ["emu", "0.00", "0.00", "0.00", "1"]
    assert lines[7].split() == ["accuracy", "0.50", "8"]
    assert lines[8].split()[:2] == ["macro", "avg"]
    with pytest.raises(ValueError, match="2 target_names for 4 classes"):
        classification_report(preds=PRED, target=TARGET, target_names=["a", "b"])


labels = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=40)


@given(pairs=labels)
def test_against_scikit_learn(pairs):
    metrics = pytest.importorskip("sklearn.metrics")
    y_true = np.array([t for t, _ in pairs])
    y_pred = np.array([p for _, p in pairs])
    classes = list(range(5))
    np.testing.assert_array_equal(confusion_matrix(preds=y_pred, target=y_true, num_classes=5),
                                  metrics.confusion_matrix(y_true, y_pred, labels=classes))
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                         zero_division=0)
    ours = precision_recall_f1(preds=y_pred, target=y_true, num_classes=5)
    np.testing.assert_allclose(ours.precision, p, rtol=1e-12)
    np.testing.assert_allclose(ours.recall, r, rtol=1e-12)
    np.testing.assert_allclose(ours.f1, f, rtol=1e-12)
    np.testing.assert_array_equal(ours.support, s)
    macro = metrics.precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                    average="macro", zero_division=0)
    assert (ours.macro_precision, ours.macro_recall, ours.macro_f1) == \
        pytest.approx(macro[:3], rel=1e-12)
    assert accuracy(y_pred, y_true) == pytest.approx(metrics.accuracy_score(y_true, y_pred))


def test_report_matches_scikit_learn_numbers():
    metrics = pytest.importorskip("sklearn.metrics")
    ours = classification_report(preds=PRED, target=TARGET, digits=3).split()
    theirs = metrics.classification_report(TARGET, PRED, digits=3, zero_division=0).split()
    assert ours == theirs
