"""EnsLoss: classifiers trained with a random calibrated loss at every mini-batch.

:class:`EnsLossClassifier` and the torch pieces it is built from, for users who
write their own training loop.
"""

from ._derivatives import (
    EnsLossSurrogate,
    ExponentialLoss,
    HingeLoss,
    LogisticLoss,
    draw_calibrated_derivatives,
    inverse_boxcox,
)
from ._estimator import EnsLossClassifier
from ._modules import MarginMLP
from ._training import BoxCoxLambdaSchedule

__all__ = [
    "BoxCoxLambdaSchedule",
    "EnsLossClassifier",
    "EnsLossSurrogate",
    "ExponentialLoss",
    "HingeLoss",
    "LogisticLoss",
    "MarginMLP",
    "draw_calibrated_derivatives",
    "inverse_boxcox",
]
