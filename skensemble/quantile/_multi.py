"""One multi-quantile model from any single-level quantile regressor."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import has_fit_parameter, validate_data

from skensemble._quantile_levels import (
    check_quantile_grid,
)
from skensemble._validation import check_sample_weight
from skensemble.quantile._noncrossing import apply_noncrossing
from skensemble.quantile._predict import QuantilePredictionMixin

# Parameter that sets the level of the single-level estimators we know.
_LEVEL_PARAMETERS = {
    "GradientBoostingRegressor": "alpha",
    "HistGradientBoostingRegressor": "quantile",
    "QuantileRegressor": "quantile",
    "LGBMRegressor": "alpha",
}
_QUANTILE_LOSSES = {
    "GradientBoostingRegressor": ("loss", "quantile"),
    "HistGradientBoostingRegressor": ("loss", "quantile"),
    "LGBMRegressor": ("objective", "quantile"),
}


def final_estimator(estimator):
    """The model that predicts and the prefix of its parameters.

    A :class:`~sklearn.pipeline.Pipeline` (e.g. a scaler before
    ``QuantileRegressor``) predicts with its last step, whose parameters are
    set through ``"<step name>__"``; any other estimator is its own final model.
    """
    if isinstance(estimator, Pipeline):
        name, step = estimator.steps[-1]
        prefix, final = final_estimator(step)
        return f"{name}__{prefix}", final
    return "", estimator


def quantile_strategy(estimator):
    """How to get several levels out of ``estimator`` (or its final step).

    Returns ``"per_level"`` (one clone per level), ``"xgboost"`` (one model with
    an array of levels), ``"forest"`` (quantile-forest: levels at predict time) or
    ``"native"`` (``predict(X, quantiles=...)`` as in skensemble's estimators).
    """
    estimator = final_estimator(estimator)[1]
    name = type(estimator).__name__
    params = estimator.get_params(deep=False)
    if name in _LEVEL_PARAMETERS:
        if name in _QUANTILE_LOSSES:
            key, value = _QUANTILE_LOSSES[name]
            if params.get(key) != value:
                raise ValueError(
                    f"{name} must be configured with {key}={value!r} to predict "
                    f"quantiles; got {key}={params.get(key)!r}."
                )
        return "per_level"
    if name == "XGBRegressor":
        if params.get("objective") != "reg:quantileerror":
            raise ValueError(
                "XGBRegressor must use objective='reg:quantileerror' to predict "
                f"quantiles; got objective={params.get('objective')!r}."
            )
        return "xgboost"
    if "default_quantiles" in params:
        return "forest"
    if "quantiles" in params and "loss" in params:
        # Multi-quantile models such as skensemble's TabMRegressor.
        if params["loss"] != "quantile":
            raise ValueError(
                f"{name} must be configured with loss='quantile' to predict "
                f"quantiles; got loss={params['loss']!r}."
            )
        return "native"
    if isinstance(estimator, MultiQuantileRegressor) or hasattr(
        estimator, "predict_interval"
    ):
        return "native"
    raise TypeError(
        f"Cannot make {name} predict quantiles. Supported: GradientBoostingRegressor"
        "(loss='quantile'), HistGradientBoostingRegressor(loss='quantile'), "
        "QuantileRegressor, LGBMRegressor(objective='quantile'), "
        "XGBRegressor(objective='reg:quantileerror'), quantile-forest regressors, "
        "and estimators with predict(X, quantiles=...) such as "
        "MultiQuantileRegressor, QuantileAggregator and "
        "TabMRegressor(loss='quantile'), alone or as a Pipeline's last step."
    )


def _accepts_nan(estimator):
    """The estimator's ``allow_nan`` tag (False for a model without sklearn tags)."""
    try:
        return get_tags(estimator).input_tags.allow_nan
    except AttributeError:
        return False


def _fit_one_level(estimator, parameter, level, X, y, fit_params):
    return clone(estimator).set_params(**{parameter: level}).fit(X, y, **fit_params)


class MultiQuantileRegressor(QuantilePredictionMixin, RegressorMixin, BaseEstimator):
    """Predict many quantile levels with any single-level quantile regressor.

    scikit-learn's quantile models predict one level each. This meta-estimator
    fits one clone per level for ``GradientBoostingRegressor(loss="quantile")``,
    ``HistGradientBoostingRegressor(loss="quantile")``, ``QuantileRegressor`` and
    LightGBM, and uses the native multi-level fit of
    ``XGBRegressor(objective="reg:quantileerror")`` and of quantile-forest's
    regressors. Predictions are returned with sorted levels, so they never cross.

    Parameters
    ----------
    estimator : estimator object
        An unfitted quantile regressor of one of the supported kinds, or a
        :class:`~sklearn.pipeline.Pipeline` ending in one (e.g. a scaler before
        ``QuantileRegressor``). Its level parameter is overwritten for each
        level. Missing values (NaN) are passed on when the estimator accepts
        them (its ``allow_nan`` tag, e.g. the gradient-boosting models).
    quantiles : array-like of shape (n_quantiles,), default=(0.05, 0.5, 0.95)
        Strictly increasing levels in (0, 1) to fit.
    noncrossing : {"sort", "isotonic"} or None, default="sort"
        How to remove crossings between independently fitted levels. ``None``
        returns the raw predictions.
    n_jobs : int, default=None
        Number of per-level fits run in parallel through joblib.

    Attributes
    ----------
    estimators_ : list of estimators
        One fitted clone per level, or a single fitted estimator for the native
        multi-level kinds.
    quantiles_ : ndarray of shape (n_quantiles,)
        The fitted grid.
    strategy_ : str
        ``"per_level"``, ``"xgboost"``, ``"forest"`` or ``"native"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    QuantileAggregator : Combines several multi-quantile models.

    References
    ----------
    .. [1] N. Meinshausen, "Quantile regression forests", JMLR 7, 2006.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from skensemble.quantile import MultiQuantileRegressor
    >>> X, y = make_regression(n_samples=100, n_features=3, noise=5, random_state=0)
    >>> model = MultiQuantileRegressor(
    ...     QuantileRegressor(alpha=0.0), quantiles=[0.1, 0.5, 0.9]
    ... ).fit(X, y)
    >>> model.predict(X[:2], quantiles=[0.1, 0.9]).shape
    (2, 2)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "quantiles": ["array-like"],
        "noncrossing": [StrOptions({"sort", "isotonic"}), None],
        "n_jobs": [None, int],
    }

    def __init__(
        self, estimator, quantiles=(0.05, 0.5, 0.95), noncrossing="sort", n_jobs=None
    ):
        self.estimator = estimator
        self.quantiles = quantiles
        self.noncrossing = noncrossing
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the per-level or native multi-level model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Training targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights passed to the fit of every clone; the
            estimator's ``fit`` must accept ``sample_weight``.

        Returns
        -------
        self : MultiQuantileRegressor
            The fitted estimator.
        """
        X, y = validate_data(
            self, X, y, y_numeric=True, ensure_all_finite=self._finite_inputs()
        )
        self.quantiles_ = check_quantile_grid(self.quantiles)
        self.strategy_ = quantile_strategy(self.estimator)
        prefix, final = final_estimator(self.estimator)
        fit_params = {}
        if sample_weight is not None:
            if not has_fit_parameter(final, "sample_weight"):
                raise ValueError(
                    f"{type(final).__name__}.fit does not accept sample_weight."
                )
            weights = check_sample_weight(sample_weight, X)
            fit_params[prefix + "sample_weight"] = weights
        if self.strategy_ == "per_level":
            parameter = prefix + _LEVEL_PARAMETERS[type(final).__name__]
            self.estimators_ = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_one_level)(
                    self.estimator, parameter, level, X, y, fit_params
                )
                for level in self.quantiles_
            )
            return self
        model = clone(self.estimator)
        if self.strategy_ == "xgboost":
            model.set_params(**{prefix + "quantile_alpha": self.quantiles_})
        elif self.strategy_ == "native" and "quantiles" in final.get_params(deep=False):
            model.set_params(**{prefix + "quantiles": self.quantiles_})
        self.estimators_ = [model.fit(X, y, **fit_params)]
        return self

    def _finite_inputs(self):
        """``ensure_all_finite`` for X: NaN passes when the estimator takes it."""
        return "allow-nan" if _accepts_nan(self.estimator) else True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _accepts_nan(self.estimator)
        return tags

    def _predict_grid(self, X):
        if self.strategy_ == "per_level":
            columns = [model.predict(X) for model in self.estimators_]
            predictions = np.column_stack(columns)
        elif self.strategy_ == "xgboost":
            predictions = self.estimators_[0].predict(X).reshape(X.shape[0], -1)
        else:
            predictions = self.estimators_[0].predict(
                X, quantiles=list(self.quantiles_)
            )
        predictions = np.asarray(predictions, dtype=float).reshape(X.shape[0], -1)
        return apply_noncrossing(predictions, self.noncrossing)
