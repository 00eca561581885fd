"""Scores for quantile predictions and prediction intervals.

Every function takes ``y_pred`` of shape (n_samples, n_quantiles) together with
the levels it predicts, or an interval array of shape (n_samples, 2).
"""

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._validation import check_sample_weight


def _check_targets(y_true):
    y_true = check_array(y_true, ensure_2d=False, dtype=float, input_name="y_true")
    return column_or_1d(y_true)


def _check_weights(sample_weight, y_true):
    if sample_weight is None:
        return None
    return check_sample_weight(sample_weight, y_true)


def _check_quantile_inputs(y_true, y_pred, quantiles, sample_weight=None):
    y_true = _check_targets(y_true)
    y_pred = check_array(y_pred, ensure_2d=False, dtype=float, input_name="y_pred")
    quantiles = np.asarray(quantiles, dtype=float).ravel()
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    if y_pred.ndim != 2:
        raise ValueError(
            f"y_pred must have shape (n_samples, n_quantiles); got {y_pred.shape}."
        )
    if y_pred.shape[1] != quantiles.size:
        raise ValueError(
            f"y_pred has {y_pred.shape[1]} columns but {quantiles.size} quantiles "
            "were given; there must be one column per quantile level."
        )
    if not np.all((quantiles > 0) & (quantiles < 1)):
        raise ValueError(
            f"quantiles must lie strictly between 0 and 1; got {quantiles}."
        )
    check_consistent_length(y_true, y_pred)
    return y_true, y_pred, quantiles, _check_weights(sample_weight, y_true)


def _pinball_matrix(y_true, y_pred, quantiles):
    residual = y_true[:, None] - y_pred
    return np.maximum(quantiles * residual, (quantiles - 1) * residual)


def _mean_pinball(y_true, y_pred, quantiles, sample_weight):
    per_sample = _pinball_matrix(y_true, y_pred, quantiles).mean(axis=1)
    return float(np.average(per_sample, weights=sample_weight))


def pinball_loss(y_true, y_pred, *, quantiles, sample_weight=None):
    """Mean pinball (quantile) loss over samples and levels.

    The pinball loss of level ``tau`` at residual ``u = y - q`` is
    ``max(tau * u, (tau - 1) * u)``. For one level this equals
    :func:`sklearn.metrics.mean_pinball_loss` with ``alpha=tau``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_pred : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, one column per level.
    quantiles : array-like of shape (n_quantiles,)
        The levels of the columns of ``y_pred``, in (0, 1).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.

    Returns
    -------
    loss : float
        The pinball loss averaged over samples and levels.

    See Also
    --------
    weighted_interval_score : Twice this loss on a symmetric grid.
    sklearn.metrics.mean_pinball_loss : The single-level version.

    References
    ----------
    .. [1] R. Koenker and G. Bassett, "Regression quantiles", Econometrica 46(1),
       1978.

    Examples
    --------
    >>> from skensemble.metrics import pinball_loss
    >>> pinball_loss([1.0, 2.0], [[0.0, 1.0], [2.0, 3.0]], quantiles=[0.1, 0.9])
    0.05
    """
    y_true, y_pred, quantiles, sample_weight = _check_quantile_inputs(
        y_true, y_pred, quantiles, sample_weight
    )
    return _mean_pinball(y_true, y_pred, quantiles, sample_weight)


def weighted_interval_score(y_true, y_pred, *, quantiles, sample_weight=None):
    """Weighted interval score (WIS) of Bracher et al. (2021).

    The grid must be symmetric (``tau`` and ``1 - tau`` both present), with or
    without the median. WIS then equals twice the mean pinball loss over the
    levels, so lower is better and the score has the units of ``y``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_pred : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, one column per level.
    quantiles : array-like of shape (n_quantiles,)
        Symmetric levels of the columns of ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.

    Returns
    -------
    score : float
        The WIS averaged over samples.

    See Also
    --------
    pinball_loss : The loss WIS is proportional to.
    crps_from_quantiles : The continuous ranked probability score on a grid.

    References
    ----------
    .. [1] J. Bracher, E. Ray, T. Gneiting and N. Reich, "Evaluating epidemic
       forecasts in an interval format", PLOS Computational Biology 17(2), 2021.

    Examples
    --------
    >>> from skensemble.metrics import weighted_interval_score
    >>> weighted_interval_score([1.0], [[0.0, 1.0, 2.0]], quantiles=[0.1, 0.5, 0.9])
    0.1333...
    """
    y_true, y_pred, quantiles, sample_weight = _check_quantile_inputs(
        y_true, y_pred, quantiles, sample_weight
    )
    ordered = np.sort(quantiles)
    if not np.allclose(ordered, 1 - ordered[::-1]):
        raise ValueError(
            "weighted_interval_score needs a symmetric grid: every level tau must "
            f"come with 1 - tau; got {quantiles}."
        )
    return 2.0 * _mean_pinball(y_true, y_pred, quantiles, sample_weight)


def crps_from_quantiles(y_true, y_pred, *, quantiles, sample_weight=None):
    """Continuous ranked probability score approximated from predicted quantiles.

    Uses ``CRPS = 2 * integral_0^1 pinball_tau(y - F^-1(tau)) dtau`` with the
    integral replaced by the mean over the given levels, as
    ``scoringrules.crps_quantile`` does. The approximation is exact in the limit
    of a fine equispaced grid and ignores the tails outside the grid.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_pred : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, one column per level.
    quantiles : array-like of shape (n_quantiles,)
        The levels of the columns of ``y_pred``, ideally ``k / (m + 1)``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.

    Returns
    -------
    crps : float
        The approximate CRPS averaged over samples.

    See Also
    --------
    weighted_interval_score : Equal to this on a symmetric grid.

    References
    ----------
    .. [1] T. Gneiting and A. Raftery, "Strictly proper scoring rules, prediction,
       and estimation", JASA 102(477), 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skensemble.metrics import crps_from_quantiles
    >>> levels = np.arange(1, 100) / 100
    >>> round(crps_from_quantiles([0.0], [np.zeros(99)], quantiles=levels), 6)
    0.0
    """
    y_true, y_pred, quantiles, sample_weight = _check_quantile_inputs(
        y_true, y_pred, quantiles, sample_weight
    )
    return 2.0 * _mean_pinball(y_true, y_pred, quantiles, sample_weight)


def _check_interval_shape(y_interval):
    y_interval = check_array(
        y_interval, ensure_2d=False, allow_nd=True, dtype=float, input_name="y_interval"
    )
    if y_interval.ndim != 2 or y_interval.shape[1] != 2:
        raise ValueError(
            f"y_interval must have shape (n_samples, 2); got {y_interval.shape}."
        )
    return y_interval


def _check_interval(y_true, y_interval):
    y_true = _check_targets(y_true)
    y_interval = _check_interval_shape(y_interval)
    check_consistent_length(y_true, y_interval)
    return y_true, y_interval


def interval_coverage(y_true, y_interval, *, sample_weight=None):
    """Fraction of targets inside their prediction interval (bounds included).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_interval : array-like of shape (n_samples, 2)
        Lower and upper bounds, as returned by ``predict_interval``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.

    Returns
    -------
    coverage : float
        Empirical coverage in [0, 1].

    See Also
    --------
    interval_width : The other half of an interval's quality.

    Examples
    --------
    >>> from skensemble.metrics import interval_coverage
    >>> interval_coverage([0.0, 5.0], [[-1.0, 1.0], [0.0, 2.0]])
    0.5
    """
    y_true, y_interval = _check_interval(y_true, y_interval)
    sample_weight = _check_weights(sample_weight, y_true)
    inside = (y_interval[:, 0] <= y_true) & (y_true <= y_interval[:, 1])
    return float(np.average(inside, weights=sample_weight))


def interval_width(y_interval, *, sample_weight=None):
    """Mean width of prediction intervals.

    Parameters
    ----------
    y_interval : array-like of shape (n_samples, 2)
        Lower and upper bounds, as returned by ``predict_interval``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.

    Returns
    -------
    width : float
        Mean of ``upper - lower``.

    See Also
    --------
    interval_coverage : Width only means something at a known coverage.

    Examples
    --------
    >>> from skensemble.metrics import interval_width
    >>> interval_width([[-1.0, 1.0], [0.0, 3.0]])
    2.5
    """
    y_interval = _check_interval_shape(y_interval)
    sample_weight = _check_weights(sample_weight, y_interval)
    return float(np.average(y_interval[:, 1] - y_interval[:, 0], weights=sample_weight))


def quantile_calibration_error(
    y_true, y_pred, *, quantiles, sample_weight=None, return_levels=False
):
    """Mean absolute calibration error (MACE) of predicted quantiles.

    For each level ``tau`` the empirical level is the fraction of targets at or
    below the predicted quantile; a calibrated model has empirical levels equal
    to the nominal ones. MACE is the mean absolute gap over levels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_pred : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, one column per level.
    quantiles : array-like of shape (n_quantiles,)
        The nominal levels of the columns of ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``None`` weighs every sample equally.
    return_levels : bool, default=False
        Also return the empirical level of every column.

    Returns
    -------
    error : float
        Mean over levels of ``|empirical - nominal|``.
    empirical_levels : ndarray of shape (n_quantiles,)
        Only when ``return_levels=True``.

    See Also
    --------
    skensemble.quantile.QuantileCalibrationDisplay : Plots empirical vs nominal.

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate uncertainties for deep
       learning using calibrated regression", ICML 2018.

    Examples
    --------
    >>> from skensemble.metrics import quantile_calibration_error
    >>> quantile_calibration_error([0.0, 1.0], [[0.5], [0.5]], quantiles=[0.5])
    0.0
    """
    y_true, y_pred, quantiles, sample_weight = _check_quantile_inputs(
        y_true, y_pred, quantiles, sample_weight
    )
    empirical = np.average(y_true[:, None] <= y_pred, axis=0, weights=sample_weight)
    error = float(np.mean(np.abs(empirical - quantiles)))
    if return_levels:
        return error, empirical
    return error
