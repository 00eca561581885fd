"""Plots of quantile predictions: calibration curve and prediction intervals."""

import inspect

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skensemble._quantile_levels import check_quantile_grid, interval_levels
from skensemble.metrics import quantile_calibration_error


def _check_quantile_estimator(estimator, needs_grid):
    """A fitted estimator whose ``predict`` takes ``quantiles=`` (clear errors)."""
    check_is_fitted(estimator)
    name = type(estimator).__name__
    parameters = inspect.signature(estimator.predict).parameters
    takes_keywords = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if "quantiles" not in parameters and not takes_keywords:
        raise TypeError(
            f"{name}.predict does not take quantiles=; the display needs a "
            f"quantile model such as MultiQuantileRegressor, QuantileAggregator "
            f"or TabMRegressor(loss='quantile')."
        )
    if needs_grid and not hasattr(estimator, "quantiles_"):
        raise TypeError(
            f"{name} has no fitted quantiles_ grid; pass the levels to check "
            f"as quantiles=."
        )


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


class QuantileCalibrationDisplay:
    """Nominal vs empirical level of predicted quantiles.

    The empirical level of ``tau`` is the fraction of targets at or below the
    predicted ``tau``-quantile. A calibrated model lies on the diagonal.

    Parameters
    ----------
    quantiles : ndarray of shape (n_quantiles,)
        Nominal levels.
    empirical_levels : ndarray of shape (n_quantiles,)
        Observed fraction of targets at or below each predicted quantile.
    calibration_error : float
        Mean absolute gap between the two (MACE).
    estimator_name : str, default=None
        Legend label.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The calibration curve.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    QuantileIntervalDisplay : Prediction intervals against targets.
    skensemble.metrics.quantile_calibration_error : The number in the legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from skensemble.quantile import (
    ...     MultiQuantileRegressor,
    ...     QuantileCalibrationDisplay,
    ... )
    >>> X, y = make_regression(n_samples=80, n_features=2, noise=5, random_state=0)
    >>> model = MultiQuantileRegressor(
    ...     QuantileRegressor(alpha=0.0), quantiles=[0.2, 0.8]
    ... )
    >>> display = QuantileCalibrationDisplay.from_estimator(model.fit(X, y), X, y)
    >>> display.empirical_levels.shape
    (2,)
    """

    def __init__(
        self, quantiles, empirical_levels, calibration_error, estimator_name=None
    ):
        self.quantiles = quantiles
        self.empirical_levels = empirical_levels
        self.calibration_error = calibration_error
        self.estimator_name = estimator_name

    @classmethod
    def from_predictions(cls, y_true, y_pred, *, quantiles, name=None, ax=None):
        """Plot the calibration curve of predicted quantiles.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            Observed targets.
        y_pred : array-like of shape (n_samples, n_quantiles)
            Predicted quantiles.
        quantiles : array-like of shape (n_quantiles,)
            Their nominal levels.
        name : str, default=None
            Legend label.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : QuantileCalibrationDisplay
            The plotted display.
        """
        quantiles = check_quantile_grid(quantiles)
        error, empirical = quantile_calibration_error(
            y_true, y_pred, quantiles=quantiles, return_levels=True
        )
        return cls(quantiles, empirical, error, name).plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, quantiles=None, name=None, ax=None):
        """Plot the calibration curve of a fitted multi-quantile estimator.

        Parameters
        ----------
        estimator : fitted estimator
            Has ``predict(X, quantiles=...)`` and ``quantiles_``.
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Observed targets.
        quantiles : array-like, default=None
            Levels to check; the fitted grid when None.
        name : str, default=None
            Legend label; the class name when None.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : QuantileCalibrationDisplay
            The plotted display.
        """
        _check_quantile_estimator(estimator, needs_grid=quantiles is None)
        quantiles = estimator.quantiles_ if quantiles is None else quantiles
        y_pred = estimator.predict(X, quantiles=quantiles)
        name = type(estimator).__name__ if name is None else name
        return cls.from_predictions(y, y_pred, quantiles=quantiles, name=name, ax=ax)

    def plot(self, ax=None):
        """Draw the curve and the diagonal.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : QuantileCalibrationDisplay
            This object, with ``line_``, ``ax_`` and ``figure_`` set.
        """
        ax = _axes(ax)
        if "calibrated" not in [line.get_label() for line in ax.get_lines()]:
            ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
        label = f"MACE {self.calibration_error:.3f}"
        if self.estimator_name:
            label = f"{self.estimator_name} ({label})"
        (self.line_,) = ax.plot(
            self.quantiles, self.empirical_levels, "o-", label=label
        )
        ax.set(
            xlabel="nominal level", ylabel="empirical level", xlim=(0, 1), ylim=(0, 1)
        )
        ax.legend(loc="upper left")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class QuantileIntervalDisplay:
    """Prediction intervals and observed targets, rows ordered by the median.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Observed targets.
    y_median : ndarray of shape (n_samples,)
        Predicted medians.
    y_interval : ndarray of shape (n_samples, 2)
        Interval bounds.
    confidence : float
        Nominal coverage of the intervals.
    estimator_name : str, default=None
        Title.

    Attributes
    ----------
    band_ : matplotlib PolyCollection
        The interval band.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    QuantileCalibrationDisplay : Calibration of every level.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from skensemble.quantile import MultiQuantileRegressor, QuantileIntervalDisplay
    >>> X, y = make_regression(n_samples=80, n_features=2, noise=5, random_state=0)
    >>> model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0)).fit(X, y)
    >>> display = QuantileIntervalDisplay.from_estimator(model, X, y, confidence=0.9)
    >>> round(display.coverage, 2) >= 0.8
    True
    """

    def __init__(self, y_true, y_median, y_interval, confidence, estimator_name=None):
        self.y_true = y_true
        self.y_median = y_median
        self.y_interval = y_interval
        self.confidence = confidence
        self.estimator_name = estimator_name

    @property
    def coverage(self):
        """Fraction of targets inside their interval."""
        lower, upper = self.y_interval[:, 0], self.y_interval[:, 1]
        return float(np.mean((lower <= self.y_true) & (self.y_true <= upper)))

    @classmethod
    def from_estimator(cls, estimator, X, y, *, confidence=0.9, name=None, ax=None):
        """Plot the intervals of a fitted multi-quantile estimator.

        Parameters
        ----------
        estimator : fitted estimator
            Has ``predict(X, quantiles=...)``.
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Observed targets.
        confidence : float, default=0.9
            Nominal coverage of the plotted interval.
        name : str, default=None
            Title; the class name when None.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : QuantileIntervalDisplay
            The plotted display.
        """
        _check_quantile_estimator(estimator, needs_grid=False)
        low, high = interval_levels(confidence)
        predictions = estimator.predict(X, quantiles=[low, 0.5, high])
        name = type(estimator).__name__ if name is None else name
        display = cls(
            np.asarray(y, dtype=float),
            predictions[:, 1],
            predictions[:, [0, 2]],
            confidence,
            name,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the band, the median and the targets.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : QuantileIntervalDisplay
            This object, with ``band_``, ``ax_`` and ``figure_`` set.
        """
        ax = _axes(ax)
        order = np.argsort(self.y_median)
        position = np.arange(order.size)
        self.band_ = ax.fill_between(
            position,
            self.y_interval[order, 0],
            self.y_interval[order, 1],
            alpha=0.3,
            label=f"{self.confidence:.0%} interval (coverage {self.coverage:.2f})",
        )
        ax.plot(position, self.y_median[order], color="C0", label="median")
        ax.scatter(position, self.y_true[order], s=6, color="black", label="target")
        ax.set(xlabel="rows ordered by predicted median", ylabel="target")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        ax.legend(loc="upper left")
        self.ax_, self.figure_ = ax, ax.figure
        return self
