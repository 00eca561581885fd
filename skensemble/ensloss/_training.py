"""Training pieces of EnsLossClassifier: the lambda schedule, margins to decisions."""

import numpy as np
import torch
from scipy.special import logsumexp
from skorch.callbacks import Callback

from .._validation import check_layer_widths


class BoxCoxLambdaSchedule(Callback):
    """Redraw the generator's Box-Cox lambda as ``2U - 1`` every ``period`` epochs.

    The EnsLoss training script's option (``ensLoss_per_epochs``): at every
    epoch ``e`` with ``e % period == 0`` (counting from 0) lambda becomes a
    uniform draw on [-1, 1) from the criterion's own generator. The lambda used
    in each epoch is recorded in the history as ``boxcox_lambda``.

    Parameters
    ----------
    period : int
        Epochs between redraws.

    See Also
    --------
    EnsLossSurrogate : The criterion whose ``boxcox_lambda`` is redrawn.

    Examples
    --------
    >>> from skensemble.ensloss import BoxCoxLambdaSchedule
    >>> BoxCoxLambdaSchedule(period=10).period
    10
    """

    def __init__(self, period):
        self.period = period

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        criterion = net.criterion_
        if epoch % self.period == 0:
            uniform = torch.rand((), generator=criterion.generator).item()
            criterion.boxcox_lambda = 2.0 * uniform - 1.0
        net.history.record("boxcox_lambda", float(criterion.boxcox_lambda))


def ensemble_decision(margins):
    """Logit of the members' mean sigmoid: ``(n, k, c) -> (n, c)`` float64.

    ``log(mean sigmoid(f)) - log(mean sigmoid(-f))`` computed with log-sum-exp,
    so one member gives back its margin and the sign agrees with the mean
    probability being above 1/2.
    """
    margins = np.asarray(margins, dtype=np.float64)
    log_positive = -np.logaddexp(0.0, -margins)
    log_negative = -np.logaddexp(0.0, margins)
    return logsumexp(log_positive, axis=1) - logsumexp(log_negative, axis=1)


def decision_to_labels(decision):
    """Class indices from ``(n, c)`` decisions: sign for one column, argmax for many."""
    if decision.shape[1] == 1:
        return (decision[:, 0] > 0).astype(np.int64)
    return decision.argmax(axis=1)


def margin_accuracy(y_pred, y_true):
    """Accuracy of the ensemble decision on validation outputs (higher is better)."""
    labels = decision_to_labels(ensemble_decision(y_pred.numpy()))
    return float((labels == y_true.numpy()).mean())


def check_widths(hidden_layer_sizes, backbone):
    """Hidden widths as a list of ints; one common width for the TabM backbone."""
    widths = check_layer_widths(hidden_layer_sizes, "hidden_layer_sizes")
    if backbone == "tabm" and len(set(widths)) > 1:
        raise ValueError(
            "backbone='tabm' needs equal hidden_layer_sizes (one block width); "
            f"got {hidden_layer_sizes!r}."
        )
    return widths
