"""Prequential (test-then-train) evaluation of stream classifiers on arrays."""

import time
import warnings

import numpy as np
from sklearn.metrics import cohen_kappa_score
from sklearn.utils import Bunch, check_consistent_length
from sklearn.utils.validation import check_array, column_or_1d

from ..metrics._stream import kappa_m_score, kappa_t_score

_CHUNK = 1000


def _predict_then_learn(model, X, y, classes, batch_size):
    """Yield (row slice, predictions made before learning) over the stream."""
    n_samples = X.shape[0]
    if hasattr(model, "partial_fit_predict"):
        step = max(batch_size, _CHUNK)
        for start in range(0, n_samples, step):
            rows = slice(start, min(start + step, n_samples))
            yield rows, model.partial_fit_predict(X[rows], y[rows], classes=classes)
    elif hasattr(model, "learn_one") and hasattr(model, "predict_one"):
        keys = range(X.shape[1])
        labels = y.tolist()
        for start in range(0, n_samples, _CHUNK):
            stop = min(start + _CHUNK, n_samples)
            predictions = []
            for index in range(start, stop):
                features = dict(zip(keys, X[index].tolist()))
                predictions.append(model.predict_one(features))
                model.learn_one(features, labels[index])
            yield slice(start, stop), predictions
    elif hasattr(model, "partial_fit"):
        fitted = False
        for start in range(0, n_samples, batch_size):
            rows = slice(start, min(start + batch_size, n_samples))
            if fitted:
                predictions = model.predict(X[rows])
            else:
                predictions = [None] * (rows.stop - rows.start)
            model.partial_fit(X[rows], y[rows], classes=classes)
            fitted = True
            yield rows, predictions
    else:
        raise TypeError(
            f"{type(model).__name__} can be evaluated prequentially only if it has "
            "partial_fit_predict, learn_one and predict_one (river), or partial_fit."
        )


def prequential_score(
    model, X, y, *, classes=None, window=1000, batch_size=1, verbose=0
):
    """Test-then-train evaluation of a stream classifier over an array stream.

    Each instance is first predicted, then learnt, in row order. The model is
    updated in place. Three kinds of models are accepted: those with a
    ``partial_fit_predict`` method (:class:`DriftMoEClassifier`), river
    classifiers (``predict_one`` / ``learn_one`` on dicts keyed by column
    index), and scikit-learn estimators with ``partial_fit`` (predicted and
    then learnt ``batch_size`` rows at a time). A prediction the model cannot
    make yet (before it has learnt anything) counts as a miss.

    Parameters
    ----------
    model : object
        The stream classifier, updated in place.
    X : array-like of shape (n_samples, n_features)
        The stream's features in arrival order.
    y : array-like of shape (n_samples,)
        The labels.
    classes : array-like, default=None
        Every label of the stream, passed to ``partial_fit``; by default the
        labels found in ``y``.
    window : int, default=1000
        Width of the non-overlapping windows of the accuracy curve.
    batch_size : int, default=1
        Rows per predict/learn call for scikit-learn estimators (exact
        test-then-train with 1). River models always go one row at a time;
        DriftMoE is exact for any chunk size.
    verbose : int, default=0
        Print the running accuracy every tenth of the stream when > 0.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``accuracy``, ``kappa`` (Cohen's), ``kappa_m``, ``kappa_t``,
        ``instances_per_second``, ``seconds``, ``n_instances``,
        ``window_ends`` and ``window_accuracy`` (the curve) and ``y_pred``
        (object array, ``None`` where no prediction was made).

    See Also
    --------
    PrequentialDisplay : Plot the windowed accuracy of several models.
    skensemble.metrics.kappa_m_score : Kappa against the majority class.
    skensemble.metrics.kappa_t_score : Kappa against the no-change classifier.
    river.evaluate.progressive_val_score : river's own prequential loop.

    References
    ----------
    .. [1] J. Gama, R. Sebastião and P. P. Rodrigues, "On evaluating stream
       learning algorithms", Machine Learning 90, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from river import tree
    >>> from skensemble.stream import prequential_score
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(2000, 2))
    >>> y = (X[:, 0] > X[:, 1]).astype(int)
    >>> result = prequential_score(tree.HoeffdingTreeClassifier(), X, y)
    >>> result.accuracy > 0.8, result.window_accuracy.shape
    (True, (2,))
    """
    X = check_array(X, dtype=np.float64)
    y = column_or_1d(y)
    check_consistent_length(X, y)
    if window < 1 or batch_size < 1:
        raise ValueError(
            f"window and batch_size must be >= 1, got {window} and {batch_size}."
        )
    if classes is None:
        classes = np.unique(y)
    n_samples = X.shape[0]
    if window > n_samples:
        warnings.warn(
            f"window={window} is longer than the stream ({n_samples} instances), "
            f"so the windowed accuracy curve is empty; pass a smaller window.",
            UserWarning,
            stacklevel=2,
        )
    y_pred = np.empty(n_samples, dtype=object)
    report_every = max(1, n_samples // 10)
    next_report = report_every
    start_time = time.perf_counter()
    for rows, predictions in _predict_then_learn(model, X, y, classes, batch_size):
        y_pred[rows] = list(predictions)
        if verbose > 0 and rows.stop >= next_report:
            seen = slice(0, rows.stop)
            print(
                f"[prequential] {rows.stop}/{n_samples} instances, accuracy "
                f"{np.mean(y_pred[seen] == y[seen]):.4f}",
                flush=True,
            )
            next_report += report_every
    seconds = time.perf_counter() - start_time

    code_of = {label: code for code, label in enumerate(np.unique(y).tolist())}
    true_codes = np.fromiter(
        (code_of[label] for label in y.tolist()), np.int64, n_samples
    )
    predicted_codes = np.fromiter(
        (code_of.get(label, -1) for label in y_pred.tolist()), np.int64, n_samples
    )
    correct = true_codes == predicted_codes
    window_ends = np.arange(window, n_samples + 1, window)
    window_accuracy = (
        correct[: window_ends.size * window].reshape(-1, window).mean(axis=1)
    )
    return Bunch(
        accuracy=float(correct.mean()),
        kappa=float(cohen_kappa_score(true_codes, predicted_codes)),
        kappa_m=kappa_m_score(true_codes, predicted_codes),
        kappa_t=kappa_t_score(true_codes, predicted_codes),
        instances_per_second=n_samples / seconds,
        seconds=seconds,
        n_instances=n_samples,
        window_ends=window_ends,
        window_accuracy=window_accuracy,
        y_pred=y_pred,
    )
