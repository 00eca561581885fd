"""skensemble: scikit-learn compatible modern ensemble methods.

Public estimators are loaded lazily, so ``import skensemble`` stays cheap and does
not import torch until a torch estimator is used.
"""

import importlib

__version__ = "0.1.0.dev0"

_LAZY = {
    "TabMRegressor": "skensemble.tabm",
    "TabMClassifier": "skensemble.tabm",
    "EnsLossClassifier": "skensemble.ensloss",
    "QuantileAggregator": "skensemble.quantile",
    "MultiQuantileRegressor": "skensemble.quantile",
    "DriftMoEClassifier": "skensemble.stream",
    "smoother_weights": "skensemble.inspection",
    "effective_parameters": "skensemble.inspection",
    "effective_sample_size": "skensemble.inspection",
    "similar_training_examples": "skensemble.inspection",
    "SmootherDisplay": "skensemble.inspection",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skensemble' has no attribute {name!r}")


def __dir__():
    return __all__
