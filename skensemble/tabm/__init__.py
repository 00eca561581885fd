"""TabM: parameter-efficient deep ensembles for tabular data.

The estimators :class:`TabMRegressor` and :class:`TabMClassifier`, and the torch
building blocks for users who write their own training loop.
"""

from ._classifier import TabMClassifier
from ._embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings, compute_bins
from ._modules import LinearBatchEnsemble, LinearEnsemble, TabMModule
from ._regressor import TabMRegressor

__all__ = [
    "LinearBatchEnsemble",
    "LinearEnsemble",
    "PeriodicEmbeddings",
    "PiecewiseLinearEmbeddings",
    "TabMClassifier",
    "TabMModule",
    "TabMRegressor",
    "compute_bins",
]
