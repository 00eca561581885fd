"""QuantileAggregator: learn how to combine quantile regressors (Fakoor et al. 2023)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skensemble._quantile_levels import (
    check_quantile_grid,
    symmetric_pairs,
)
from skensemble._torch import check_device, resolve_device
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
    """Combine quantile regressors into one non-crossing, calibrated model.

    Each base model predicts a grid of quantile levels. The aggregate at level
    ``tau`` is a softmax-weighted sum of base quantiles, with weights fitted by
    minimising the pinball loss over all levels on out-of-fold base
    predictions (cross-fitting). Six families (Fakoor et al. 2023):

    - ``granularity="coarse"``: one weight per model;
    - ``"medium"``: one weight per model and level;
    - ``"fine"``: every level of every model feeds every output level;

    each either ``weights="global"`` (the same for every x) or ``"local"``
    (computed from x by a small neural network). Local-fine is the paper's deep
    quantile aggregation (DQA) and the default. ``weights="mean"`` and
    ``"median"`` are the usual baselines that average or take the median of the
    base quantiles at each level.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        Base quantile models. Single-level sklearn quantile regressors,
        XGBoost and quantile-forest models are wrapped in
        :class:`MultiQuantileRegressor`; models with ``predict(X, quantiles=...)``
        are used as they are.
    quantiles : array-like of shape (n_quantiles,), default=None
        Strictly increasing levels in (0, 1). ``None`` uses the 19 levels 0.05,
        0.10, ..., 0.95; ``np.arange(1, 100) / 100`` is the paper's grid.
    weights : {"local", "global", "mean", "median"}, default="local"
        Feature-dependent learned weights, constant learned weights, or a fixed
        baseline.
    granularity : {"coarse", "medium", "fine"}, default="fine"
        How many weights are learned (ignored by the baselines).
    cv : int, default=5
        Number of cross-fitting folds for out-of-fold base predictions.
    noncrossing : {"sort", "isotonic"} or None, default="sort"
        Post-processing that makes levels non-decreasing. Both can only lower
        the summed pinball loss of every sample.
    conformal : {"split", "cv+"} or None, default=None
        Conformal calibration of each symmetric pair of levels ``(tau, 1 - tau)``.
        ``"split"`` holds out ``calibration_size`` of the rows; ``"cv+"`` reuses
        the ``cv`` folds and also fits base models without each pair of folds
        (``cv * (cv - 1) / 2`` extra fits per model), so that no score leaks.
    calibration_size : float, default=0.2
        Fraction of rows held out for split conformal calibration.
    crossing_penalty : float, default=1.0
        Weight of the crossing penalty during training: the mean of
        ``(q_tau - q_tau' + crossing_margin)_+`` over all pairs of levels
        ``tau < tau'`` (Fakoor et al., eq. 19).
    crossing_margin : float, default=0.0
        Spacing asked of every pair of levels by the penalty, in units of the
        standardised target (the paper searches 1e-4 to 1e-2).
    hidden_size : int, default=64
        Width of the local weight network.
    n_layers : int, default=2
        Number of hidden layers of the local weight network.
    dropout : float, default=0.0
        Dropout between hidden layers of the local weight network.
    learning_rate : float, default=1e-3
        Adam (amsgrad) learning rate.
    weight_decay : float, default=1e-7
        Adam weight decay.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``2 ** (3 + floor(log10 n))`` within [32, 512].
    max_iter : int, default=200
        Maximum number of epochs of weight training.
    n_iter_no_change : int, default=20
        Validation checks without improvement of the validation pinball loss
        before stopping (epochs, unless ``validation_interval`` is set).
    validation_interval : int or None, default=None
        Check the validation loss every this many optimizer steps instead of
        after every epoch. The paper's schedule is ``validation_interval=100``
        with ``n_iter_no_change=5`` (stop after 500 steps without gain) and no
        epoch limit (a large ``max_iter``).
    validation_fraction : float, default=0.2
        Fraction of the out-of-fold rows held out for early stopping of the
        weights (and for choosing among the ``n_search`` candidates); 0.2 is
        the paper's 80/20 train/validation split.
    n_search : int, default=1
        Random search of the paper: the given settings plus ``n_search - 1``
        draws of ``crossing_penalty``, ``crossing_margin`` and, for local
        weights, ``hidden_size``, ``n_layers`` and ``dropout`` from the grids
        of Fakoor et al.; the head with the lowest validation pinball loss is
        kept. The paper uses 20 draws; each costs one more training of the
        weights (base models are not refitted).
    tol : float, default=1e-5
        Minimum improvement of the validation loss that counts.
    n_jobs : int, default=None
        Number of base-model fits run in parallel through joblib.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the splits and the weight network.
    device : str, default="auto"
        Torch device of the weight network; "auto" picks CUDA when available.
    verbose : int, default=0
        Print base-model progress and one line per training epoch when > 0.

    Attributes
    ----------
    quantiles_ : ndarray of shape (n_quantiles,)
        The fitted grid.
    estimators_ : list of estimators
        Base models refitted on all training rows (all but the calibration rows
        for split conformal), each predicting the full grid.
    named_estimators_ : dict
        The same models by name.
    weights_ : ndarray or None
        Softmax weights: shape (n_models,) for coarse, (n_models, n_quantiles) for
        medium, (n_models, n_quantiles, n_quantiles) (model, input level, output
        level) for fine. Local weights are averaged over the training rows
        (:meth:`predict_weights` gives them per row). Equal weights for
        ``"mean"``, ``None`` for ``"median"``.
    conformal_offsets_ : ndarray of shape (n_pairs,)
        Split conformal shift of each symmetric pair (only for ``"split"``).
    conformal_pairs_ : ndarray of shape (n_pairs, 2)
        Levels of the calibrated pairs (only when ``conformal`` is set).
    oof_predictions_ : ndarray of shape (n_train, n_models, n_quantiles)
        Out-of-fold base predictions the weights were trained on (learned weights).
    search_params_ : dict
        Settings of the kept weight head among the searched ones
        (``crossing_penalty``, ``crossing_margin``, ``hidden_size``, ``n_layers``,
        ``dropout``; learned weights only).
    loss_curve_ : list of float
        Training pinball loss per epoch, in units of the standardised target.
    validation_scores_ : list of float
        Validation pinball loss per check (per epoch unless
        ``validation_interval`` is set; standardised target).
    n_iter_ : int
        Epochs run (0 for the baselines).
    device_ : torch.device
        The resolved device.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultiQuantileRegressor : Multi-level wrapper for single-level models.
    skensemble.metrics.weighted_interval_score : The score the weights minimise.

    References
    ----------
    .. [1] R. Fakoor, T. Kim, J. Mueller, A. Smola and R. Tibshirani, "Flexible
       model aggregation for quantile regression", JMLR 24(162), 2023.
    .. [2] Y. Romano, E. Patterson and E. Candes, "Conformalized quantile
       regression", NeurIPS 2019.
    .. [3] R. Barber, E. Candes, A. Ramdas and R. Tibshirani, "Predictive
       inference with the jackknife+", Annals of Statistics 49(1), 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from skensemble.quantile import QuantileAggregator
    >>> X, y = make_regression(n_samples=200, n_features=4, noise=10, random_state=0)
    >>> aggregator = QuantileAggregator(
    ...     [("linear", QuantileRegressor(alpha=0.0)),
    ...      ("hgb", HistGradientBoostingRegressor(loss="quantile", max_iter=20))],
    ...     quantiles=[0.1, 0.5, 0.9], weights="global", granularity="medium",
    ...     max_iter=20, random_state=0,
    ... ).fit(X, y)
    >>> aggregator.predict(X[:3]).shape
    (3,)
    >>> aggregator.predict_interval(X[:3], confidence=0.8).shape
    (3, 2)
    >>> aggregator.weights_.shape
    (2, 3)
    """

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
    def fit(self, X, y):
        """Cross-fit the base models, learn the weights and calibrate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Training targets.

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
            )
            self.estimators_ = fitted["full"]
        else:
            self.estimators_ = fit_full(models, X_fit, y_fit, self.n_jobs, self.verbose)
        self.named_estimators_ = dict(zip(names, self.estimators_, strict=True))

        self.loss_curve_, self.validation_scores_, self.n_iter_ = [], [], 0
        self.head_ = None
        if learned:
            check_finite(fitted["oof"], names)
            self.oof_predictions_ = fitted["oof"]
            self.head_ = self._fit_head(X_fit, fitted["oof"], y_fit, random_state, True)
        self.weights_ = self._summary_weights(X_fit)

        if self.conformal is not None:
            self._calibrate(
                (X, y, calibration_rows),
                (X_fit, y_fit),
                fold_of_sample,
                fitted,
                random_state,
            )
        return self

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

    def _fit_head(self, X, base, y, random_state, record):
        head, curves, chosen = fit_head(
            *self._scaled(X, base, y),
            self.quantiles_,
            self.get_params(deep=False),
            random_state,
            self.device_,
        )
        if record:
            self.search_params_ = {
                key: chosen[key] for key in (*SEARCH_SPACE, *LOCAL_SEARCH_SPACE)
            }
            self.loss_curve_, self.validation_scores_ = curves
            self.n_iter_ = len(curves[0])
        return head

    @staticmethod
    def _stack(models, X):
        return np.stack([base_grid(model, X, model.quantiles_) for model in models], 1)

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
