"""QuantileAggregator's docstring, kept apart so the estimator reads top to bottom."""

DOCSTRING = """Combine quantile regressors into one non-crossing, calibrated model.

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
    Number of base-model fits, and on a CPU of random-search candidates
    (``n_search``), run in parallel through joblib. The result does not
    depend on it.
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
