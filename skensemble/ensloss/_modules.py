"""The tabular MLP of the EnsLoss paper, shaped as an ensemble of one member."""

from torch import nn
from torch.nn import functional as F


class MarginMLP(nn.Module):
    """``depth x [Linear -> ReLU -> BatchNorm1d] -> Linear``: ``(B, 1, n_outputs)``.

    The EnsLoss paper's tabular network (``TabMLP{1,3,5}`` with width 1024).
    The member axis of size 1 lets the shared ensemble training core drive it
    like any ensemble.

    Parameters
    ----------
    n_features : int
        Input columns.
    hidden_layer_sizes : sequence of int
        Width of every hidden block.
    n_outputs : int, default=1
        Output margins (1 for binary classification).

    Examples
    --------
    >>> import torch
    >>> from skensemble.ensloss import MarginMLP
    >>> MarginMLP(4, (16, 16))(torch.randn(8, 4)).shape
    torch.Size([8, 1, 1])
    """

    def __init__(self, n_features, hidden_layer_sizes, n_outputs=1):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        self.linears = nn.ModuleList(
            nn.Linear(d_in, d_out) for d_in, d_out in zip(widths[:-1], widths[1:])
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(width) for width in widths[1:])
        self.output = nn.Linear(widths[-1], n_outputs)

    def forward(self, x_num):
        x = x_num
        for linear, norm in zip(self.linears, self.norms):
            x = _batch_norm(norm, F.relu(linear(x)))
        return self.output(x).unsqueeze(1)


def _batch_norm(norm, x):
    """BatchNorm that uses the running statistics for a one-row training batch.

    A batch of one row has no variance to normalise by; the last, partial batch
    of an epoch can be that small, so it is normalised like an evaluation batch
    (as is an empty shard of a data-parallel rank).
    """
    if norm.training and len(x) <= 1:
        return F.batch_norm(
            x,
            norm.running_mean,
            norm.running_var,
            norm.weight,
            norm.bias,
            training=False,
            eps=norm.eps,
        )
    return norm(x)
