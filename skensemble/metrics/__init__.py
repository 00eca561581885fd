"""Metrics for probabilistic regression: quantiles and prediction intervals."""

from skensemble.metrics._quantile import (
    crps_from_quantiles,
    interval_coverage,
    interval_width,
    pinball_loss,
    quantile_calibration_error,
    weighted_interval_score,
)

__all__ = [
    "crps_from_quantiles",
    "interval_coverage",
    "interval_width",
    "pinball_loss",
    "quantile_calibration_error",
    "weighted_interval_score",
]
