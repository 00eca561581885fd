"""Kappa statistics for evaluating classifiers on data streams.

Plain accuracy flatters a stream classifier when one class dominates (kappa-M)
or when labels come in long runs (kappa-T). Both compare the classifier with a
trivial prequential baseline that only looks at the labels seen so far.
"""

import numpy as np
from sklearn.utils import check_consistent_length, column_or_1d


def _validated_labels(y_true, y_pred):
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty; a kappa statistic needs at least one label.")
    return y_true, y_pred


def _relative_improvement(accuracy, baseline_accuracy):
    if baseline_accuracy == 1.0:
        return 0.0 if accuracy == 1.0 else -np.inf
    return float((accuracy - baseline_accuracy) / (1.0 - baseline_accuracy))


def _running_majority(y_true):
    """Most frequent label among ``y_true[:t]`` for every ``t`` (ties: smallest)."""
    labels, codes = np.unique(y_true, return_inverse=True)
    counts = np.zeros(labels.shape[0], dtype=np.int64)
    majority = np.empty(y_true.shape[0], dtype=np.int64)
    best = 0
    for t, code in enumerate(codes):
        majority[t] = best
        counts[code] += 1
        if counts[code] > counts[best] or (
            counts[code] == counts[best] and code < best
        ):
            best = code
    return codes, majority


def kappa_m_score(y_true, y_pred):
    """Kappa-M: accuracy gain over the prequential majority-class classifier.

    The baseline predicts, for each instance, the label that was most frequent
    among the labels *before* it (ties go to the smallest label); it has no
    prediction for the first instance, which counts as a miss. The score is
    ``(acc - acc_majority) / (1 - acc_majority)``: 0 means no better than the
    baseline, 1 is perfect, negative is worse than the baseline.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels in stream order.
    y_pred : array-like of shape (n_samples,)
        Predicted labels, each made before the classifier saw its true label.

    Returns
    -------
    score : float
        The kappa-M statistic (``-inf`` when the baseline is perfect and the
        classifier is not).

    See Also
    --------
    kappa_t_score : The same comparison against the no-change classifier.
    sklearn.metrics.cohen_kappa_score : Agreement beyond chance.

    References
    ----------
    .. [1] A. Bifet, G. de Francisci Morales, J. Read, G. Holmes
       and B. Pfahringer, "Efficient online evaluation of big data stream
       classifiers", KDD 2015.

    Examples
    --------
    >>> from skensemble.metrics import kappa_m_score
    >>> kappa_m_score([0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0])
    1.0
    >>> kappa_m_score([0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0])
    0.5
    """
    y_true, y_pred = _validated_labels(y_true, y_pred)
    codes, majority = _running_majority(y_true)
    baseline_hits = codes == majority
    baseline_hits[0] = False
    accuracy = float(np.mean(y_true == y_pred))
    return _relative_improvement(accuracy, float(np.mean(baseline_hits)))


def kappa_t_score(y_true, y_pred):
    """Kappa-T (temporal kappa): accuracy gain over the no-change classifier.

    The baseline predicts that each label equals the previous one; it has no
    prediction for the first instance, which counts as a miss. The score is
    ``(acc - acc_no_change) / (1 - acc_no_change)``. Streams with long runs of
    the same label (such as Electricity) make the no-change classifier strong,
    and kappa-T shows whether a model does better than merely repeating.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels in stream order.
    y_pred : array-like of shape (n_samples,)
        Predicted labels, each made before the classifier saw its true label.

    Returns
    -------
    score : float
        The kappa-T statistic (``-inf`` when the baseline is perfect and the
        classifier is not).

    See Also
    --------
    kappa_m_score : The same comparison against the majority-class classifier.

    References
    ----------
    .. [1] I. Zliobaite, A. Bifet, J. Read, B. Pfahringer and G. Holmes,
       "Evaluation methods and decision theory for classification of streaming
       data with temporal dependence", Machine Learning 98, 2015.

    Examples
    --------
    >>> from skensemble.metrics import kappa_t_score
    >>> kappa_t_score([0, 0, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0])
    1.0
    >>> round(kappa_t_score([0, 1, 0, 1, 0, 1], [1, 1, 0, 1, 0, 1]), 3)
    0.833
    """
    y_true, y_pred = _validated_labels(y_true, y_pred)
    baseline_hits = np.zeros(y_true.shape[0], dtype=bool)
    baseline_hits[1:] = y_true[1:] == y_true[:-1]
    accuracy = float(np.mean(y_true == y_pred))
    return _relative_improvement(accuracy, float(np.mean(baseline_hits)))
