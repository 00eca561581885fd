"""Quantile aggregation: combine quantile regressors, never cross, calibrate.

The methods of Fakoor et al., "Flexible Model Aggregation for Quantile
Regression" (JMLR 2023), with leak-free cross-fitting and conformal calibration.
"""

from skensemble.quantile._aggregator import QuantileAggregator
from skensemble.quantile._display import (
    QuantileCalibrationDisplay,
    QuantileIntervalDisplay,
)
from skensemble.quantile._multi import MultiQuantileRegressor
from skensemble.quantile._noncrossing import (
    count_crossings,
    isotonic_quantiles,
    sort_quantiles,
)

__all__ = [
    "MultiQuantileRegressor",
    "QuantileAggregator",
    "QuantileCalibrationDisplay",
    "QuantileIntervalDisplay",
    "count_crossings",
    "isotonic_quantiles",
    "sort_quantiles",
]
