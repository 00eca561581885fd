"""QuantileAggregator: learn how to combine quantile regressors (Fakoor et al. 2023)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from skensemble._quantile_levels import (
    check_quantile_grid,
    symmetric_pairs,
)
from skensemble._torch import check_device, resolve_device
from skensemble._validation import check_sample_weight
from skensemble.quantile._aggregator_docs import DOCSTRING
from skensemble.quantile._calibration import ConformalCalibrationMixin
from skensemble.quantile._crossfit import (
    as_multi_quantile,
    check_estimators,
    check_finite,
    crossfit,
    fit_full,
)
from skensemble.quantile._crossfit import predict_grid as base_grid
from skensemble.quantile._noncrossing import apply_noncrossing
from skensemble.quantile._predict import QuantilePredictionMixin
from skensemble.quantile._weights import (
    LOCAL_SEARCH_SPACE,
    SEARCH_SPACE,
    fit_head,
    head_weights,
    predict_head,
)

_DEFAULT_GRID = np.round(np.arange(1, 20) / 20, 10)


class QuantileAggregator(
    ConformalCalibrationMixin, QuantilePredictionMixin, RegressorMixin, BaseEstimator
):
    __doc__ = DOCSTRING

    _parameter_constraints = {
        "estimators": [list, tuple],
        "quantiles": ["array-like", None],
        "weights": [StrOptions({"local", "global", "mean", "median"})],
        "granularity": [StrOptions({"coarse", "medium", "fine"})],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "noncrossing": [StrOptions({"sort", "isotonic"}), None],
        "conformal": [StrOptions({"split", "cv+"}), None],
        "calibration_size": [Interval(Real, 0, 1, closed="neither")],
        "crossing_penalty": [Interval(Real, 0, None, closed="left")],
        "crossing_margin": [Interval(Real, 0, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "validation_interval": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_search": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimators,
        *,
        quantiles=None,
        weights="local",
        granularity="fine",
        cv=5,
        noncrossing="sort",
        conformal=None,
        calibration_size=0.2,
        crossing_penalty=1.0,
        crossing_margin=0.0,
        hidden_size=64,
        n_layers=2,
        dropout=0.0,
        learning_rate=1e-3,
        weight_decay=1e-7,
        batch_size="auto",
        max_iter=200,
        n_iter_no_change=20,
        validation_interval=None,
        validation_fraction=0.2,
        n_search=1,
        tol=1e-5,
        n_jobs=None,
        random_state=None,
        device="auto",
        verbose=0,
    ):
        self.estimators = estimators
        self.quantiles = quantiles
        self.weights = weights
        self.granularity = granularity
        self.cv = cv
        self.noncrossing = noncrossing
        self.conformal = conformal
        self.calibration_size = calibration_size
        self.crossing_penalty = crossing_penalty
        self.crossing_margin = crossing_margin
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.validation_interval = validation_interval
        self.validation_fraction = validation_fraction
        self.n_search = n_search
        self.tol = tol
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Cross-fit the base models, learn the weights and calibrate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Training targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, passed to every base model's fit (each
            must accept ``sample_weight``) and weighting the pinball loss the
            aggregation weights are learnt on. Conformal calibration counts a
            row as many times as its weight (integer weights act as repeated
            rows).

        Returns
        -------
        self : QuantileAggregator
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, y_numeric=True)
        y = y.astype(float)
        check_device(self.device)
        self.device_ = resolve_device(self.device)
        names = check_estimators(self.estimators)
        grid = _DEFAULT_GRID if self.quantiles is None else self.quantiles
        self.quantiles_ = check_quantile_grid(grid)
        pairs = symmetric_pairs(self.quantiles_)
        if self.conformal is not None and not pairs:
            raise ValueError(
                "conformal calibration needs at least one symmetric pair of levels "
                f"(tau and 1 - tau) in quantiles; got {self.quantiles_}."
            )
        random_state = check_random_state(self.random_state)
        models = [as_multi_quantile(est, self.quantiles_) for _, est in self.estimators]
        if sample_weight is not None:
            sample_weight = self._check_weights(sample_weight, X)

        fit_rows, calibration_rows = np.arange(X.shape[0]), None
        if self.conformal == "split":
            order = random_state.permutation(X.shape[0])
            n_calibration = max(1, round(self.calibration_size * X.shape[0]))
            calibration_rows = np.sort(order[:n_calibration])
            fit_rows = np.sort(order[n_calibration:])
        if fit_rows.size < 2 * self.cv:
            raise ValueError(
                f"Got n_samples={X.shape[0]} ({fit_rows.size} left for fitting after "
                f"the calibration split); cross-fitting with cv={self.cv} needs at "
                f"least {2 * self.cv}."
            )
        X_fit, y_fit = X[fit_rows], y[fit_rows]
        w_fit = None if sample_weight is None else sample_weight[fit_rows]
        self._set_scaling(X_fit, y_fit)

        learned = self.weights in ("local", "global")
        fitted = None
        fold_of_sample = random_state.permutation(fit_rows.size) % self.cv
        if learned or self.conformal == "cv+":
            fitted = crossfit(
                models,
                X_fit,
                y_fit,
                fold_of_sample,
                self.quantiles_,
                nested=learned and self.conformal == "cv+",
                n_jobs=self.n_jobs,
                verbose=self.verbose,
                sample_weight=w_fit,
            )
            self.estimators_ = fitted["full"]
        else:
            self.estimators_ = fit_full(
                models, X_fit, y_fit, self.n_jobs, self.verbose, w_fit
            )
        self.named_estimators_ = dict(zip(names, self.estimators_, strict=True))

        self.loss_curve_, self.validation_scores_, self.n_iter_ = [], [], 0
        self.head_ = None
        if learned:
            check_finite(fitted["oof"], names)
            self.oof_predictions_ = fitted["oof"]
            self.head_ = self._fit_head(
                X_fit, fitted["oof"], y_fit, random_state, True, w_fit
            )
        self.weights_ = self._summary_weights(X_fit)

        if self.conformal is not None:
            self._calibrate(
                (X, y, sample_weight, calibration_rows),
                (X_fit, y_fit, w_fit),
                fold_of_sample,
                fitted,
                random_state,
            )
        return self

    def _check_weights(self, sample_weight, X):
        # The given estimators, not their multi-quantile wrappers, whose fit
        # always takes sample_weight: a refusal surfaces here, before any fit.
        for name, estimator in self.estimators:
            if not has_fit_parameter(estimator, "sample_weight"):
                raise ValueError(
                    f"The base model {name!r} ({type(estimator).__name__}) does "
                    f"not accept sample_weight in fit."
                )
        return check_sample_weight(sample_weight, X)

    def __sklearn_is_fitted__(self):
        # Attributes set early in a fit that failed must not count as fitted.
        return hasattr(self, "weights_")

    def _set_scaling(self, X, y):
        self._x_mean = X.mean(axis=0)
        x_scale = X.std(axis=0)
        self._x_scale = np.where(x_scale > 0, x_scale, 1.0)
        self._y_mean = float(y.mean())
        y_scale = float(y.std())
        self._y_scale = y_scale if y_scale > 0 else 1.0

    def _features(self, X):
        """The local network's input: X standardised with the fit rows' scaling."""
        return (X - self._x_mean) / self._x_scale

    def _scaled(self, X, base, y=None):
        features = self._features(X)
        base = (base - self._y_mean) / self._y_scale
        if y is None:
            return features, base
        return features, base, (y - self._y_mean) / self._y_scale

    def _fit_head(self, X, base, y, random_state, record, sample_weight=None):
        head, curves, chosen = fit_head(
            *self._scaled(X, base, y),
            self.quantiles_,
            self.get_params(deep=False),
            random_state,
            self.device_,
            sample_weight,
        )
        if record:
            self.search_params_ = {
                key: chosen[key] for key in (*SEARCH_SPACE, *LOCAL_SEARCH_SPACE)
            }
            self.loss_curve_, self.validation_scores_ = curves
            self.n_iter_ = len(curves[0])
        return head

    def _stack(self, models, X):
        # At the aggregator's grid, as in cross-fitting: a base model need not
        # expose quantiles_ (a Pipeline ending in a quantile model does not).
        return np.stack([base_grid(model, X, self.quantiles_) for model in models], 1)

    def _aggregate(self, X, base, head=None):
        if self.weights == "mean":
            combined = base.mean(axis=1)
        elif self.weights == "median":
            combined = np.median(base, axis=1)
        else:
            head = head if head is not None else self.head_
            features, scaled_base = self._scaled(X, base)
            combined = predict_head(head, features, scaled_base, "cpu")
            combined = combined * self._y_scale + self._y_mean
        return apply_noncrossing(combined, self.noncrossing)

    def _summary_weights(self, X):
        if self.weights == "median":
            return None
        n_models, n_levels = len(self.estimators_), self.quantiles_.size
        if self.weights == "mean":
            return np.full(n_models, 1.0 / n_models)
        weights = head_weights(self.head_, self._features(X), "cpu")
        if self.weights == "local":
            weights = weights.mean(axis=0)
        if self.granularity == "fine":
            return weights.reshape(n_models, n_levels, n_levels)
        return weights

    def predict_weights(self, X):
        """Learned aggregation weights at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        weights : ndarray of shape ``(n_samples, *weights_.shape)``
            The softmax weights used for each row (identical rows for global
            weights).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if self.head_ is None:
            raise AttributeError(
                f"weights={self.weights!r} has no learned weights; use weights_."
            )
        if self.weights == "global":
            return np.repeat(self.weights_[None], X.shape[0], axis=0)
        weights = head_weights(self.head_, self._features(X), "cpu")
        return weights.reshape(X.shape[0], *self.weights_.shape)

    def _median_index(self):
        return int(np.argmin(np.abs(self.quantiles_ - 0.5)))

    def _predict_grid(self, X):
        predictions = self._aggregate(X, self._stack(self.estimators_, X))
        if self.conformal is None:
            return predictions
        return self._calibrated_grid(X, predictions)
