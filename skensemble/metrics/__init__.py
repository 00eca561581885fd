"""Metrics for probabilistic regression (quantiles, intervals) and for streams."""

from skensemble.metrics._quantile import (
    crps_from_quantiles,
    interval_coverage,
    interval_width,
    pinball_loss,
    quantile_calibration_error,
    weighted_interval_score,
)
from skensemble.metrics._scorer import make_quantile_scorer
from skensemble.metrics._stream import kappa_m_score, kappa_t_score

__all__ = [
    "crps_from_quantiles",
    "interval_coverage",
    "interval_width",
    "kappa_m_score",
    "kappa_t_score",
    "make_quantile_scorer",
    "pinball_loss",
    "quantile_calibration_error",
    "weighted_interval_score",
]
