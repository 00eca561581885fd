"""Public entry point: the weights a fitted tree ensemble puts on training rows."""

import numpy as np
from scipy import sparse
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from .._validation import check_sample_weight
from ._boosted_models import (
    gradient_boosting_trees,
    hist_gradient_boosting_trees,
    xgboost_trees,
)
from ._boosting import iter_boosted_weights
from ._forest import check_forest_is_linear_smoother, forest_smoother_weights

_FORESTS = (
    RandomForestRegressor,
    RandomForestClassifier,
    ExtraTreesRegressor,
    ExtraTreesClassifier,
)

SUPPORTED_MODELS = (
    "RandomForestRegressor, RandomForestClassifier, ExtraTreesRegressor, "
    "ExtraTreesClassifier, GradientBoostingRegressor(loss='squared_error'), "
    "HistGradientBoostingRegressor(loss='squared_error') and "
    "xgboost.XGBRegressor(objective='reg:squarederror'), alone or as a "
    "Pipeline's last step"
)


def _is_xgboost_regressor(estimator):
    try:
        import xgboost
    except ImportError:
        return False
    return isinstance(estimator, xgboost.XGBRegressor)


def _check_rows(estimator, X, name):
    """Check shape only; values go to the model's own input handling unchanged."""
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if len(X.shape) != 2 or X.shape[0] == 0:
        raise ValueError(
            f"{name} must be 2-dimensional with at least one row, got shape {X.shape}."
        )
    n_features = getattr(estimator, "n_features_in_", X.shape[1])
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but {type(estimator).__name__} was "
            f"fit on {n_features}."
        )
    return X


def _boosted_structure(estimator, X_train, sample_weight):
    if isinstance(estimator, GradientBoostingRegressor):
        return gradient_boosting_trees(estimator, X_train, sample_weight)
    if isinstance(estimator, HistGradientBoostingRegressor):
        return hist_gradient_boosting_trees(estimator, X_train, sample_weight)
    return xgboost_trees(estimator, X_train, sample_weight)


def final_model(estimator, X_train, X=None):
    """A fitted Pipeline's last step, with the inputs its earlier steps make.

    The earlier steps are a fixed function of X, so the final model's weights
    on the transformed rows are exactly the pipeline's weights.
    """
    while isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        preprocessing, estimator = estimator[:-1], estimator[-1]
        X_train = preprocessing.transform(X_train)
        X = None if X is None else preprocessing.transform(X)
    return estimator, X_train, X


def validate_smoother_inputs(estimator, X_train, X, oob, sample_weight):
    """Check the model kind, fit state and inputs.

    Returns the final model (a Pipeline's last step), whether it is a forest,
    and the checked inputs.
    """
    estimator, X_train, X = final_model(estimator, X_train, X)
    is_forest = isinstance(estimator, _FORESTS)
    is_boosting = isinstance(
        estimator, (GradientBoostingRegressor, HistGradientBoostingRegressor)
    ) or _is_xgboost_regressor(estimator)
    if not (is_forest or is_boosting):
        raise TypeError(
            f"{type(estimator).__name__} is not supported. Smoother weights are "
            f"exact for {SUPPORTED_MODELS}."
        )
    check_is_fitted(estimator)
    X_train = _check_rows(estimator, X_train, "X_train")
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X_train)
    if oob:
        if not (is_forest and estimator.bootstrap):
            raise ValueError(
                "oob=True needs a forest fit with bootstrap=True: only then does "
                "each training row have trees that never saw it."
            )
        if X is not None:
            raise ValueError(
                "oob=True gives weights for the training rows themselves; leave X=None."
            )
    X = X_train if X is None else _check_rows(estimator, X, "X")
    if is_forest:
        check_forest_is_linear_smoother(estimator)
    return estimator, is_forest, X_train, X, sample_weight


def iter_smoother_weights(
    estimator,
    X_train,
    X=None,
    *,
    oob=False,
    sample_weight=None,
    n_estimators=None,
    verbose=0,
):
    """Yield ``(rows, weights, offsets)`` chunk by chunk; see smoother_weights.

    ``n_estimators`` restricts the model to its first trees or rounds.
    """
    estimator, is_forest, X_train, X, sample_weight = validate_smoother_inputs(
        estimator, X_train, X, oob, sample_weight
    )
    if is_forest:
        weights = forest_smoother_weights(
            estimator,
            X_train,
            X,
            oob=oob,
            sample_weight=sample_weight,
            n_trees=n_estimators,
        )
        yield slice(0, weights.shape[0]), weights, np.zeros(weights.shape[0])
        return
    trees = _boosted_structure(estimator, X_train, sample_weight)
    yield from iter_boosted_weights(trees, X, n_rounds=n_estimators, verbose=verbose)


def smoother_weights(
    estimator, X_train, X=None, *, oob=False, sample_weight=None, verbose=0
):
    """Weights a fitted tree ensemble puts on each training target.

    Every forest, and every squared-error boosted model, predicts a weighted sum
    of the training targets plus a constant: ``predict(X) = weights @ y_train +
    offset``. For forest classifiers ``predict_proba(X) = weights @
    onehot(y_train)``. This function reads the weights exactly out of the fitted
    model, without refitting and without ``y_train``.

    Parameters
    ----------
    estimator : fitted estimator
        One of ``RandomForestRegressor``, ``RandomForestClassifier``,
        ``ExtraTreesRegressor``, ``ExtraTreesClassifier``,
        ``GradientBoostingRegressor(loss="squared_error")`` with ``init=None``
        or ``"zero"`` and ``subsample=1``,
        ``HistGradientBoostingRegressor(loss="squared_error")`` (its internal
        early-stopping hold-out is recovered), or
        ``xgboost.XGBRegressor(objective="reg:squarederror")`` (any
        ``reg_lambda``, ``base_score`` and ``num_parallel_tree``). Anything else
        raises an error that says why it is not a linear smoother. A fitted
        :class:`~sklearn.pipeline.Pipeline` ending in one of these works too:
        its earlier steps (scaling, encoding...) are a fixed function of the
        rows, so the weights of its last step on the transformed rows are
        exactly the pipeline's.
    X_train : array-like of shape (n_train, n_features)
        The rows the model was fit on, in the same order.
    X : array-like of shape (n_queries, n_features), default=None
        Rows to explain. None means the training rows.
    oob : bool, default=False
        Out-of-bag weights of the training rows (bootstrap forests only): each
        row is averaged over the trees that did not draw it. These reproduce
        ``oob_prediction_`` / ``oob_decision_function_`` and are the RF-GAP
        proximities. A row that is in-bag for every tree gets a zero row.
    sample_weight : array-like of shape (n_train,), default=None
        The sample weights the model was fit with. They are checked against the
        leaf sizes the fitted trees stored.
    verbose : int, default=0
        When > 0, boosted models print progress after each chunk of query rows.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``weights``: scipy CSR matrix (forests; rows are non-negative and sum to
        one) or dense ndarray (boosting; entries can be negative) of shape
        (n_queries, n_train). ``offset``: ndarray of shape (n_queries,), the part
        of the prediction that does not depend on ``y_train``. It is non-zero only
        for xgboost, whose ``base_score`` is a constant rather than a weighted
        mean of ``y_train``.

    See Also
    --------
    effective_parameters : The effective number of parameters built from these
        weights.
    similar_training_examples : The training rows with the largest weights.

    Notes
    -----
    Forests are computed as a product of two sparse leaf-indicator matrices,
    never as a dense ``n x n`` matrix. Boosted models are computed by a
    backward recursion over the rounds, in chunks of query rows, in time
    ``O(n_rounds * n_queries * n_train)`` and memory bounded by the chunk.

    References
    ----------
    .. [1] A. Curth, A. Jeffares and M. van der Schaar, "Why do Random Forests
       Work? Understanding Tree Ensembles as Self-Regularizing Adaptive
       Smoothers", arXiv:2402.01502, 2024.
    .. [2] A. Curth, A. Jeffares and M. van der Schaar, "A U-turn on Double
       Descent: Rethinking Parameter Counting in Statistical Learning",
       NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skensemble.inspection import smoother_weights
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    >>> result = smoother_weights(forest, X, X[:5])
    >>> result.weights.shape
    (5, 200)
    >>> bool(np.allclose(result.weights @ y + result.offset, forest.predict(X[:5])))
    True
    """
    chunks = iter_smoother_weights(
        estimator,
        X_train,
        X,
        oob=oob,
        sample_weight=sample_weight,
        verbose=verbose,
    )
    rows, chunk_weights, chunk_offsets = next(chunks)
    if sparse.issparse(chunk_weights):
        # Forests come as one sparse matrix.
        return Bunch(weights=chunk_weights, offset=chunk_offsets)
    # Boosting comes in dense chunks: fill one preallocated array so the peak
    # memory is the result plus one chunk, not twice the result.
    n_queries = np.shape(X_train if X is None else X)[0]
    weights = np.empty((n_queries, chunk_weights.shape[1]))
    offset = np.empty(n_queries)
    weights[rows], offset[rows] = chunk_weights, chunk_offsets
    for rows, chunk_weights, chunk_offsets in chunks:
        weights[rows], offset[rows] = chunk_weights, chunk_offsets
    return Bunch(weights=weights, offset=offset)
