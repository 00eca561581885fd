"""The prediction API shared by the multi-quantile estimators."""

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from skensemble._quantile_levels import (
    check_quantile_grid,
    interpolate_levels,
    interval_levels,
)

_CHUNK = 2048


class QuantilePredictionMixin:
    """``predict(X, quantiles=None)`` and ``predict_interval(X, confidence)``.

    Subclasses set ``quantiles_`` in fit and implement ``_predict_grid(X)``
    returning (n_samples, n_quantiles) predictions at the fitted levels.
    """

    def _finite_inputs(self):
        """``ensure_all_finite`` for X (a subclass may let NaN through)."""
        return True

    def predict(self, X, quantiles=None):
        """Predict the median, or the requested quantile levels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        quantiles : array-like of shape (n_levels,), default=None
            Levels inside the fitted grid; levels between grid points are
            linearly interpolated. ``None`` predicts the median.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_levels)
            The median when ``quantiles`` is None, otherwise one column per level.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite=self._finite_inputs())
        levels = [0.5] if quantiles is None else check_quantile_grid(quantiles)
        chunks = [
            interpolate_levels(
                self._predict_grid(X[start : start + _CHUNK]), self.quantiles_, levels
            )
            for start in range(0, X.shape[0], _CHUNK)
        ]
        predictions = np.concatenate(chunks, axis=0)
        return predictions[:, 0] if quantiles is None else predictions

    def predict_interval(self, X, confidence=0.9):
        """Predict the central interval ``[q_(1-c)/2, q_(1+c)/2]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        confidence : float, default=0.9
            Nominal coverage; both bounds must lie inside the fitted grid. With
            conformal calibration and ``confidence`` equal to a calibrated pair,
            the interval carries the conformal coverage guarantee.

        Returns
        -------
        y_interval : ndarray of shape (n_samples, 2)
            Lower and upper bounds.
        """
        check_is_fitted(self)
        return self.predict(X, quantiles=interval_levels(confidence))
