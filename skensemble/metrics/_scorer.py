"""A scikit-learn scorer for multi-quantile models (for GridSearchCV)."""

import numpy as np

from skensemble._quantile_levels import check_quantile_grid
from skensemble.metrics._quantile import (
    crps_from_quantiles,
    pinball_loss,
    weighted_interval_score,
)

_METRICS = {
    "pinball": pinball_loss,
    "wis": weighted_interval_score,
    "crps": crps_from_quantiles,
}


class _QuantileScorer:
    """Negated quantile loss of ``estimator.predict(X, quantiles=...)``."""

    def __init__(self, metric, quantiles):
        self.metric = metric
        self.quantiles = quantiles

    def _levels(self, estimator):
        if self.quantiles is not None:
            return self.quantiles
        levels = getattr(estimator, "quantiles_", None)
        if levels is None:
            raise ValueError(
                f"{type(estimator).__name__} has no fitted quantiles_ attribute; "
                "pass quantiles= to make_quantile_scorer to say which levels to "
                "score."
            )
        return np.asarray(levels, dtype=float)

    def __call__(self, estimator, X, y_true, sample_weight=None):
        levels = self._levels(estimator)
        # A list, not an array: quantile-forest compares ``quantiles`` to strings.
        y_pred = estimator.predict(X, quantiles=[float(q) for q in levels])
        y_pred = np.asarray(y_pred, dtype=float)
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        # Only pass weights when given: a user's metric may not take them.
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        return -float(self.metric(y_true, y_pred, quantiles=levels, **weights))

    def __repr__(self):
        name = getattr(self.metric, "__name__", repr(self.metric))
        return f"make_quantile_scorer({name}, quantiles={self.quantiles!r})"


def make_quantile_scorer(metric="pinball", *, quantiles=None):
    """Make a scorer that tunes multi-quantile models by a quantile loss.

    ``RegressorMixin.score`` is the R² of the median, which says nothing about
    the other levels. This scorer predicts every level and returns the negated
    loss (greater is better), so ``GridSearchCV`` and ``RandomizedSearchCV``
    choose hyperparameters by the whole predicted distribution, as the random
    search of Fakoor et al. (2023) does.

    Parameters
    ----------
    metric : {"pinball", "wis", "crps"} or callable, default="pinball"
        The loss to minimise: :func:`~skensemble.metrics.pinball_loss`,
        :func:`~skensemble.metrics.weighted_interval_score` or
        :func:`~skensemble.metrics.crps_from_quantiles`, or any callable
        ``metric(y_true, y_pred, *, quantiles)`` where lower is better.
    quantiles : array-like of shape (n_quantiles,), default=None
        Levels to score. ``None`` scores the estimator's fitted grid
        ``quantiles_`` (as on :class:`~skensemble.quantile.MultiQuantileRegressor`,
        :class:`~skensemble.quantile.QuantileAggregator` and
        ``TabMRegressor(loss="quantile")``). Give the levels for estimators
        without that attribute, such as quantile-forest's regressors.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)`` returns
        ``-metric(y, estimator.predict(X, quantiles=levels), quantiles=levels)``,
        passing ``sample_weight`` on to the metric when it is given.

    Raises
    ------
    ValueError
        If ``metric`` is an unknown name, or ``quantiles`` is empty, holds a
        level outside (0, 1) or is not strictly increasing.

    See Also
    --------
    pinball_loss : The default loss.
    weighted_interval_score : The interval score of the symmetric level pairs.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skensemble.metrics import make_quantile_scorer
    >>> from skensemble.quantile import MultiQuantileRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, noise=10, random_state=0)
    >>> model = MultiQuantileRegressor(
    ...     HistGradientBoostingRegressor(loss="quantile", max_iter=20),
    ...     quantiles=[0.1, 0.5, 0.9],
    ... )
    >>> search = GridSearchCV(
    ...     model,
    ...     {"estimator__learning_rate": [0.05, 0.2]},
    ...     scoring=make_quantile_scorer("pinball"),
    ...     cv=3,
    ... ).fit(X, y)
    >>> sorted(search.best_params_)
    ['estimator__learning_rate']
    >>> bool(search.best_score_ < 0)
    True
    """
    if isinstance(metric, str):
        metric = _METRICS.get(metric, metric)
    if not callable(metric):
        raise ValueError(
            f"metric must be one of {sorted(_METRICS)} or a callable; got {metric!r}."
        )
    if quantiles is not None:
        quantiles = check_quantile_grid(quantiles)
    return _QuantileScorer(metric, quantiles)
