"""Effective number of parameters, effective sample size and nearest training rows.

All three are read off the smoother weights ``s(x)`` chunk by chunk, so only
one chunk of weights is held at a time.
"""

import numpy as np
from scipy import sparse
from sklearn.utils import Bunch

from ._smoother import iter_smoother_weights


def _squared_norms(weights):
    if sparse.issparse(weights):
        return np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", weights, weights)


def _squared_norms_of(estimator, X_train, X, sample_weight, n_estimators=None):
    parts = [
        _squared_norms(weights)
        for _, weights, _ in iter_smoother_weights(
            estimator,
            X_train,
            X,
            sample_weight=sample_weight,
            n_estimators=n_estimators,
        )
    ]
    return np.concatenate(parts)


def effective_parameters(estimator, X_train, X=None, *, sample_weight=None):
    """Effective number of parameters of a tree ensemble on a set of inputs.

    ``p(I) = n / |I| * sum_{x in I} ||s(x)||^2`` where ``s(x)`` are the smoother
    weights (see :func:`smoother_weights`) and ``n`` the number of training
    rows. With i.i.d. outcome noise of variance ``sigma^2``, ``||s(x)||^2 *
    sigma^2`` is the variance of the prediction at ``x``, so ``p`` is ``n`` times
    the average prediction variance in units of ``sigma^2``. It equals ``n / k``
    for k-nearest neighbours and the number of coefficients for least squares
    on its training inputs.

    Parameters
    ----------
    estimator : fitted estimator
        A model supported by :func:`smoother_weights`.
    X_train : array-like of shape (n_train, n_features)
        The rows the model was fit on.
    X : array-like of shape (n_queries, n_features), default=None
        The inputs ``I`` to average over. None means the training inputs
        (``p_train``); held-out rows give ``p_test``.
    sample_weight : array-like of shape (n_train,), default=None
        The sample weights the model was fit with.

    Returns
    -------
    p : float
        The effective number of parameters.

    See Also
    --------
    smoother_weights : The weights this is computed from.
    effective_sample_size : The per-input quantity ``1 / ||s(x)||^2``.

    References
    ----------
    .. [1] A. Curth, A. Jeffares and M. van der Schaar, "A U-turn on Double
       Descent: Rethinking Parameter Counting in Statistical Learning",
       NeurIPS 2023.

    Examples
    --------
    Fully grown trees without bootstrap interpolate: each training row gets all
    of its own weight, so ``p_train`` is the number of training rows.

    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import ExtraTreesRegressor
    >>> from skensemble.inspection import effective_parameters
    >>> X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    >>> forest = ExtraTreesRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> round(effective_parameters(forest, X), 6)
    100.0
    >>> effective_parameters(forest, X, X + 0.5) < 100
    True
    """
    norms = _squared_norms_of(estimator, X_train, X, sample_weight)
    return float(np.shape(X_train)[0] * norms.mean())


def effective_sample_size(estimator, X_train, X=None, *, sample_weight=None):
    """Effective number of training rows behind each prediction, ``1 / ||s(x)||^2``.

    A prediction that averages ``k`` training targets with equal weights has an
    effective sample size of ``k``; concentrated weights give a smaller one.

    Parameters
    ----------
    estimator : fitted estimator
        A model supported by :func:`smoother_weights`.
    X_train : array-like of shape (n_train, n_features)
        The rows the model was fit on.
    X : array-like of shape (n_queries, n_features), default=None
        The inputs to evaluate. None means the training inputs.
    sample_weight : array-like of shape (n_train,), default=None
        The sample weights the model was fit with.

    Returns
    -------
    n_eff : ndarray of shape (n_queries,)
        The effective sample size of each prediction.

    See Also
    --------
    effective_parameters : ``n * mean(1 / n_eff)``.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skensemble.inspection import effective_sample_size
    >>> X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    >>> forest = RandomForestRegressor(
    ...     n_estimators=10, min_samples_leaf=5, random_state=0
    ... ).fit(X, y)
    >>> n_eff = effective_sample_size(forest, X, X[:3])
    >>> n_eff.shape, bool((n_eff >= 1).all())
    ((3,), True)
    """
    return 1.0 / _squared_norms_of(estimator, X_train, X, sample_weight)


def similar_training_examples(estimator, X_train, X, n=5, *, sample_weight=None):
    """The training rows that carry the most weight in each prediction.

    Parameters
    ----------
    estimator : fitted estimator
        A model supported by :func:`smoother_weights`.
    X_train : array-like of shape (n_train, n_features)
        The rows the model was fit on.
    X : array-like of shape (n_queries, n_features)
        The rows whose predictions to explain.
    n : int, default=5
        How many training rows to return per query.
    sample_weight : array-like of shape (n_train,), default=None
        The sample weights the model was fit with.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``indices``: ndarray of shape (n_queries, n), training row numbers in
        decreasing order of weight. ``weights``: their weights.
        ``coverage``: ndarray of shape (n_queries,), the sum of the returned
        weights divided by the sum of all absolute weights (the share of the
        prediction's weight they hold; forest weights are non-negative and sum
        to one, boosting weights can be negative).

    See Also
    --------
    smoother_weights : All the weights.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skensemble.inspection import similar_training_examples
    >>> X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    >>> forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> result = similar_training_examples(forest, X, X[:2], n=3)
    >>> result.indices.shape
    (2, 3)
    >>> bool(np.all(np.diff(result.weights, axis=1) <= 0))
    True
    """
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    indices, top_weights, coverage = [], [], []
    for _, weights, _ in iter_smoother_weights(
        estimator, X_train, X, sample_weight=sample_weight
    ):
        dense = weights.toarray() if sparse.issparse(weights) else weights
        count = min(n, dense.shape[1])
        top = np.argpartition(-dense, count - 1, axis=1)[:, :count]
        top_values = np.take_along_axis(dense, top, axis=1)
        order = np.argsort(-top_values, axis=1, kind="stable")
        indices.append(np.take_along_axis(top, order, axis=1))
        top_weights.append(np.take_along_axis(top_values, order, axis=1))
        coverage.append(top_values.sum(axis=1) / np.abs(dense).sum(axis=1))
    return Bunch(
        indices=np.concatenate(indices),
        weights=np.concatenate(top_weights),
        coverage=np.concatenate(coverage),
    )


def effective_parameters_path(
    estimator, X_train, X=None, *, ensemble_sizes, sample_weight=None
):
    """Effective parameters of the first ``k`` trees (or rounds) for each ``k``."""
    return np.array(
        [
            np.shape(X_train)[0]
            * _squared_norms_of(estimator, X_train, X, sample_weight, size).mean()
            for size in ensemble_sizes
        ]
    )
