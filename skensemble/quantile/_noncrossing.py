"""Make predicted quantiles non-crossing along the level axis.

Sorting and isotonic (PAVA) projection can only lower the summed pinball loss at
every sample (Fakoor et al. 2023, Proposition 2), so they are safe to apply
after any aggregation. The median sweep only widens intervals around the median,
which keeps the coverage guarantee of conformal calibration.
"""

import numpy as np
from sklearn.isotonic import isotonic_regression
from sklearn.utils import check_array


def _check_predictions(predictions):
    """The public functions' input check; the estimators call the private ones."""
    return check_array(predictions, dtype=float, input_name="predictions")


def _sort(predictions):
    return np.sort(np.asarray(predictions, dtype=float), axis=1)


def _isotonic(predictions):
    projected = np.array(predictions, dtype=float)
    crossing_rows = np.flatnonzero(np.any(np.diff(projected, axis=1) < 0, axis=1))
    for row in crossing_rows:
        projected[row] = isotonic_regression(projected[row], increasing=True)
    return projected


def sort_quantiles(predictions):
    """Sort each row of ``predictions`` (n_samples, n_quantiles) increasingly.

    Parameters
    ----------
    predictions : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, columns ordered by level.

    Returns
    -------
    sorted_predictions : ndarray of shape (n_samples, n_quantiles)
        The monotone rearrangement of each row (Chernozhukov et al. 2010).

    See Also
    --------
    isotonic_quantiles : The L2 projection onto non-crossing rows.

    References
    ----------
    .. [1] V. Chernozhukov, I. Fernandez-Val and A. Galichon, "Quantile and
       probability curves without crossing", Econometrica 78(3), 2010.

    Examples
    --------
    >>> from skensemble.quantile import sort_quantiles
    >>> sort_quantiles([[1.0, 0.0, 2.0]])
    array([[0., 1., 2.]])
    """
    return _sort(_check_predictions(predictions))


def isotonic_quantiles(predictions):
    """Project each row of ``predictions`` onto non-decreasing vectors (PAVA).

    Rows that already do not cross are returned unchanged.

    Parameters
    ----------
    predictions : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, columns ordered by level.

    Returns
    -------
    projected : ndarray of shape (n_samples, n_quantiles)
        The closest non-decreasing row in Euclidean distance.

    See Also
    --------
    sort_quantiles : The monotone rearrangement.

    References
    ----------
    .. [1] R. Fakoor, T. Kim, J. Mueller, A. Smola and R. Tibshirani, "Flexible
       model aggregation for quantile regression", JMLR 24(162), 2023.

    Examples
    --------
    >>> from skensemble.quantile import isotonic_quantiles
    >>> isotonic_quantiles([[1.0, 0.0, 2.0]])
    array([[0.5, 0.5, 2. ]])
    """
    return _isotonic(_check_predictions(predictions))


def widen_from_median(predictions, median_index):
    """Remove crossings by only moving levels away from the median.

    Levels above the median take the running maximum upwards and levels below
    it the running minimum downwards. Every central interval can only grow, so
    a coverage guarantee that held before still holds after.
    """
    widened = np.array(predictions, dtype=float)
    upper = widened[:, median_index:]
    widened[:, median_index:] = np.maximum.accumulate(upper, axis=1)
    lower = widened[:, : median_index + 1][:, ::-1]
    widened[:, : median_index + 1] = np.minimum.accumulate(lower, axis=1)[:, ::-1]
    return widened


def count_crossings(predictions):
    """Number of rows in ``predictions`` whose levels are not non-decreasing.

    Parameters
    ----------
    predictions : array-like of shape (n_samples, n_quantiles)
        Predicted quantiles, columns ordered by level.

    Returns
    -------
    n_crossing_rows : int
        Rows with at least one pair of adjacent levels in decreasing order.

    See Also
    --------
    sort_quantiles : Removes every crossing.

    Examples
    --------
    >>> from skensemble.quantile import count_crossings
    >>> count_crossings([[0.0, 1.0], [1.0, 0.0]])
    1
    """
    predictions = _check_predictions(predictions)
    return int(np.sum(np.any(np.diff(predictions, axis=1) < 0, axis=1)))


def apply_noncrossing(predictions, method):
    """Dispatch on the ``noncrossing`` parameter of the estimators."""
    if method == "sort":
        return _sort(predictions)
    if method == "isotonic":
        return _isotonic(predictions)
    return np.asarray(predictions, dtype=float)
