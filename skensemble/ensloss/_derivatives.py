"""Random calibrated loss-derivatives and the margin losses EnsLoss is compared to.

EnsLoss never builds a loss: stochastic gradient descent only needs the loss's
derivative at the margins of the current mini-batch, so every batch draws a
fresh random derivative that satisfies the conditions under which a convex
margin loss is classification-calibrated (non-decreasing, negative at 0) and
bounded below (a decaying tail). The criteria here return ``(b, k)`` per-sample,
per-member losses, as the shared :class:`~skensemble._skorch.EnsembleNet` expects.
"""

import torch
from torch import nn
from torch.nn import functional as F

from .._distributed import gather_batch

TAIL_START = 1.0
NEGATIVE_OFFSET = 1e-6


def inverse_boxcox(x, boxcox_lambda):
    """Inverse Box-Cox: ``exp(x)`` at 0, else ``max(1 + lam x, 0) ** (1 / lam)``.

    Parameters
    ----------
    x : torch.Tensor
        Values to transform.
    boxcox_lambda : float
        The Box-Cox exponent.

    Returns
    -------
    values : torch.Tensor
        Non-negative values (``inf`` where ``lam < 0`` and ``1 + lam x <= 0``).

    See Also
    --------
    draw_calibrated_derivatives : Uses it to turn normal draws into slopes.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import inverse_boxcox
    >>> inverse_boxcox(torch.tensor([0.0, 1.0]), 1.0)
    tensor([1., 2.])
    """
    if boxcox_lambda == 0.0:
        return torch.exp(x)
    return torch.clamp(1.0 + boxcox_lambda * x, min=0.0) ** (1.0 / boxcox_lambda)


def draw_calibrated_derivatives(margins, *, boxcox_lambda=0.0, generator=None):
    """Draw one random calibrated loss-derivative at the margins of a batch.

    Each column of ``margins`` gets its own independent draw, exactly as the
    EnsLoss code does for one batch: ``xi ~ N(0, 1)`` per row,
    ``r = -inverse_boxcox(xi)``, ``r`` sorted ascending and clipped at -1, then
    matched by rank (the smallest margin gets the most negative value), divided
    by the margin where the margin exceeds 1, and shifted by ``-1e-6``.

    Parameters
    ----------
    margins : torch.Tensor of shape (batch,) or (batch, n_columns)
        Margins ``y * f(x)`` with ``y`` in {-1, +1}; only their values are used.
    boxcox_lambda : float, default=0.0
        Box-Cox exponent of the generator (0 gives ``-exp(xi)``, a negative
        log-normal).
    generator : torch.Generator, default=None
        Source of ``xi`` (a CPU generator); None uses torch's global generator.

    Returns
    -------
    derivatives : torch.Tensor of the shape of ``margins``
        Values ``g`` in ``[-1 - 1e-6, 0)``, non-decreasing in the margin within
        every column, strictly negative; no gradient flows through them.

    See Also
    --------
    EnsLossSurrogate : The criterion that trains with these derivatives.

    References
    ----------
    .. [1] B. Dai, "EnsLoss: Stochastic Calibrated Loss Ensembles for Preventing
       Overfitting in Classification", ICML 2025, arXiv:2409.00908.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import draw_calibrated_derivatives
    >>> margins = torch.tensor([-2.0, 0.5, 3.0, 0.0])
    >>> generator = torch.Generator().manual_seed(0)
    >>> g = draw_calibrated_derivatives(margins, generator=generator)
    >>> bool((g < 0).all()), bool((g[margins.argsort()].diff() >= 0).all())
    (True, True)
    """
    margins = margins.detach()
    xi = torch.randn(margins.shape, generator=generator, dtype=torch.float32)
    draws = -inverse_boxcox(xi.to(torch.float64), boxcox_lambda)
    draws = draws.sort(dim=0).values.clamp(min=-1.0)
    draws = draws.to(device=margins.device, dtype=margins.dtype)
    derivatives = torch.empty_like(margins)
    derivatives.scatter_(0, margins.argsort(dim=0), draws)
    in_tail = margins > TAIL_START
    derivatives = torch.where(in_tail, derivatives / margins, derivatives)
    return derivatives - NEGATIVE_OFFSET


def signed_targets(y, n_columns):
    """Targets ``(b, k)`` of class indices -> signs ``(b, k, n_columns)`` in {-1, +1}.

    One column (binary) is +1 for class 1; several columns are one-vs-rest.
    """
    if n_columns == 1:
        return (2.0 * y - 1.0).unsqueeze(-1)
    return 2.0 * F.one_hot(y, n_columns).float() - 1.0


class MarginLoss(nn.Module):
    """Sum over one-vs-rest columns of a margin loss ``phi(y f)``: ``(b, k)``.

    Parameters
    ----------
    n_columns : int
        Output columns of the network (1 for binary, the number of classes for
        one-vs-rest).
    """

    def __init__(self, n_columns):
        super().__init__()
        self.n_columns = n_columns

    def forward(self, y_pred, y_true):
        margins = signed_targets(y_true, self.n_columns) * y_pred
        return self.margin_loss(margins).sum(dim=-1)


class LogisticLoss(MarginLoss):
    """Logistic loss ``log(1 + exp(-z))`` per sample and member: ``(b, k)``.

    Parameters
    ----------
    n_columns : int
        Output columns of the network (1 for binary, the number of classes for
        one-vs-rest); the per-sample loss sums the columns' margin losses.

    See Also
    --------
    EnsLossSurrogate : The random-loss criterion these are baselines for.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import LogisticLoss
    >>> LogisticLoss(1)(torch.zeros(2, 1, 1), torch.tensor([[0], [1]])).shape
    torch.Size([2, 1])
    """

    def margin_loss(self, margins):
        return F.softplus(-margins)


class HingeLoss(MarginLoss):
    """Hinge loss ``max(0, 1 - z)`` per sample and member: ``(b, k)``.

    Parameters
    ----------
    n_columns : int
        Output columns of the network (1 for binary, the number of classes for
        one-vs-rest); the per-sample loss sums the columns' margin losses.

    See Also
    --------
    EnsLossSurrogate : The random-loss criterion these are baselines for.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import HingeLoss
    >>> HingeLoss(1)(torch.zeros(2, 1, 1), torch.tensor([[0], [1]])).shape
    torch.Size([2, 1])
    """

    def margin_loss(self, margins):
        return F.relu(1.0 - margins)


class ExponentialLoss(MarginLoss):
    """Exponential loss ``exp(-z)`` per sample and member: ``(b, k)``.

    Parameters
    ----------
    n_columns : int
        Output columns of the network (1 for binary, the number of classes for
        one-vs-rest); the per-sample loss sums the columns' margin losses.

    See Also
    --------
    EnsLossSurrogate : The random-loss criterion these are baselines for.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import ExponentialLoss
    >>> ExponentialLoss(1)(torch.zeros(2, 1, 1), torch.tensor([[0], [1]])).shape
    torch.Size([2, 1])
    """

    def margin_loss(self, margins):
        return torch.exp(-margins)


class EnsLossSurrogate(MarginLoss):
    """EnsLoss criterion: a surrogate whose gradient is a random calibrated derivative.

    For every call the criterion draws ``g`` with
    :func:`draw_calibrated_derivatives`, independently for every member and
    every one-vs-rest column, and returns ``g.detach() * z``. Its value has no
    meaning as a loss (it is negative); its gradient with respect to the margin
    ``z_i`` is ``g_i``, so the mean over a batch of size ``B`` gives an SGD step
    with ``phi'(z_i) = g_i`` and gradient ``g_i / B``.

    Parameters
    ----------
    n_columns : int
        Output columns (1 for binary).
    boxcox_lambda : float, default=0.0
        Box-Cox exponent of the generator; a :class:`BoxCoxLambdaSchedule`
        callback may redraw it during training.
    generator : torch.Generator, default=None
        CPU generator the draws come from; None uses torch's global generator.

    See Also
    --------
    draw_calibrated_derivatives : The generator.

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import EnsLossSurrogate
    >>> criterion = EnsLossSurrogate(1, generator=torch.Generator().manual_seed(0))
    >>> logits = torch.zeros(4, 1, 1, requires_grad=True)
    >>> criterion(logits, torch.tensor([[0], [1], [1], [0]])).shape
    torch.Size([4, 1])
    """

    def __init__(self, n_columns, *, boxcox_lambda=0.0, generator=None):
        super().__init__(n_columns)
        self.boxcox_lambda = boxcox_lambda
        self.generator = generator

    def margin_loss(self, margins):
        columns = margins.flatten(1)
        # Data-parallel: draw for the whole global batch (ranks are matched
        # across it), keep this rank's rows; otherwise the batch itself.
        batch, rows = gather_batch(columns)
        derivatives = draw_calibrated_derivatives(
            batch, boxcox_lambda=self.boxcox_lambda, generator=self.generator
        )[rows]
        return (derivatives * columns).view_as(margins)


CRITERIA = {
    "ensloss": EnsLossSurrogate,
    "logistic": LogisticLoss,
    "hinge": HingeLoss,
    "exponential": ExponentialLoss,
}
