"""Numeric-feature embeddings for TabM: piecewise-linear and periodic.

Both map ``(N, n_features)`` to ``(N, n_features, d_embedding)`` and are shared
by all k members. Parameter names mirror ``rtdl_num_embeddings`` so official
weights load directly.

References
----------
Gorishniy, Rubachev, Babenko. "On Embeddings for Numerical Features in Tabular
Deep Learning". NeurIPS 2022.
"""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_array
from torch import nn


def compute_bins(X, n_bins=48):
    """Quantile bin edges of every column of ``X`` for piecewise-linear embeddings.

    Unlike the reference implementation this never raises on constant columns
    or on few rows: a column with a single distinct value gets the two edges
    ``[v, v + 1]`` (one bin, i.e. a shifted linear feature), and ``n_bins`` is
    capped at ``n_samples - 1``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite training features; NaN or infinity raises ``ValueError``.
    n_bins : int, default=48
        Largest number of bins per feature (at least 1); duplicated quantiles
        are merged.

    Returns
    -------
    bins : list of ndarray
        Strictly increasing edges of each feature (at least two per feature).

    Examples
    --------
    >>> import numpy as np
    >>> from skensemble.tabm import compute_bins
    >>> X = np.column_stack([np.arange(10.0), np.ones(10)])
    >>> [len(edges) for edges in compute_bins(X, n_bins=4)]
    [5, 2]
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer of at least 1; got {n_bins!r}.")
    X = check_array(X, dtype=np.float64, ensure_min_features=0, input_name="X")
    n_bins = max(1, min(int(n_bins), len(X) - 1))
    levels = np.linspace(0.0, 1.0, n_bins + 1)
    bins = []
    for column in X.T:
        edges = np.unique(np.quantile(column, levels))
        if len(edges) < 2:
            edges = np.array([edges[0], edges[0] + 1.0])
        bins.append(edges)
    return bins


class LinearEmbeddings(nn.Module):
    """Per-feature affine embedding ``x_i * w_i + b_i``."""

    def __init__(self, n_features, d_embedding):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_features, d_embedding))
        self.bias = nn.Parameter(torch.empty(n_features, d_embedding))
        bound = d_embedding**-0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return torch.addcmul(self.bias, self.weight, x.unsqueeze(-1))


class NLinear(nn.Module):
    """One separate linear layer per feature: (N, n, d_in) -> (N, n, d_out)."""

    def __init__(self, n, in_features, out_features, *, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n, out_features)) if bias else None
        bound = in_features**-0.5
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = torch.bmm(x.transpose(0, 1), self.weight).transpose(0, 1)
        return x if self.bias is None else x + self.bias


class PiecewiseLinearEncoding(nn.Module):
    """Fixed piecewise-linear encoding of each feature on its bins.

    For a feature with bins ``e_0 < ... < e_m`` the encoding is
    ``[1, ..., 1, (x - e_j) / (e_{j+1} - e_j), 0, ..., 0]``; the first component
    is only capped above and the last only below, so values outside the
    training range extrapolate linearly. Features with fewer bins than the
    widest one are padded with zeros *before* their last component, which keeps
    the last component aligned so one clamp handles every feature at once.
    """

    def __init__(self, bins):
        super().__init__()
        n_bins = [len(edges) - 1 for edges in bins]
        width = max(n_bins)
        weight = torch.zeros(len(bins), width)
        bias = torch.zeros(len(bins), width)
        for i, edges in enumerate(bins):
            edges = torch.as_tensor(np.asarray(edges), dtype=torch.float32)
            step = edges.diff()
            w, b = 1.0 / step, -edges[:-1] / step
            weight[i, -1], bias[i, -1] = w[-1], b[-1]
            weight[i, : n_bins[i] - 1] = w[:-1]
            bias[i, : n_bins[i] - 1] = b[:-1]
        single_bin = torch.tensor(n_bins) == 1
        self.register_buffer("weight", weight, persistent=False)
        self.register_buffer("bias", bias, persistent=False)
        self.register_buffer("single_bin", single_bin.unsqueeze(-1), persistent=False)

    @property
    def width(self):
        return self.weight.shape[1]

    def forward(self, x):
        x = torch.addcmul(self.bias, self.weight, x.unsqueeze(-1))
        if x.shape[-1] == 1:
            return x
        last = x[..., -1:]
        last = torch.where(self.single_bin, last, last.clamp_min(0.0))
        return torch.cat(
            [x[..., :1].clamp_max(1.0), x[..., 1:-1].clamp(0.0, 1.0), last], dim=-1
        )


class PiecewiseLinearEmbeddings(nn.Module):
    """TabM's piecewise-linear embeddings ("version B" of rtdl_num_embeddings).

    A linear embedding plus a piecewise-linear term whose weights start at zero,
    so training starts from a plain linear embedding and learns the
    non-linear part. Used by the paper's TabM-dagger variants.

    Parameters
    ----------
    bins : list of array-like
        Bin edges per feature, e.g. from :func:`compute_bins`.
    d_embedding : int, default=16
    activation : bool, default=False
        Apply ReLU to the piecewise-linear term (the TabM setting is False).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skensemble.tabm import PiecewiseLinearEmbeddings, compute_bins
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> embed = PiecewiseLinearEmbeddings(compute_bins(X, n_bins=8), d_embedding=4)
    >>> embed(torch.as_tensor(X[:5], dtype=torch.float32)).shape
    torch.Size([5, 3, 4])
    """

    def __init__(self, bins, d_embedding=16, *, activation=False):
        super().__init__()
        self.linear0 = LinearEmbeddings(len(bins), d_embedding)
        self.impl = PiecewiseLinearEncoding(bins)
        self.linear = NLinear(len(bins), self.impl.width, d_embedding, bias=False)
        nn.init.zeros_(self.linear.weight)
        self.activation = nn.ReLU() if activation else None

    def get_output_shape(self):
        return self.linear0.weight.shape

    def forward(self, x):
        x_ple = self.linear(self.impl(x))
        if self.activation is not None:
            x_ple = self.activation(x_ple)
        return self.linear0(x) + x_ple


class Periodic(nn.Module):
    """``[cos(2 pi w x), sin(2 pi w x)]``, ``w ~ N(0, sigma)`` truncated at 3 sigma."""

    def __init__(self, n_features, n_frequencies, sigma):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_features, n_frequencies))
        nn.init.trunc_normal_(self.weight, 0.0, sigma, a=-3 * sigma, b=3 * sigma)

    def forward(self, x):
        x = 2 * torch.pi * self.weight * x.unsqueeze(-1)
        return torch.cat([torch.cos(x), torch.sin(x)], dim=-1)


class PeriodicEmbeddings(nn.Module):
    """Periodic embeddings (the "PLR" embeddings of MLP-PLR).

    Parameters
    ----------
    n_features : int
    d_embedding : int, default=24
    n_frequencies : int, default=48
    frequency_init_scale : float, default=0.01
        Standard deviation of the initial frequencies; the most important
        hyperparameter of these embeddings.
    activation : bool, default=True
        ReLU after the per-feature linear layer.
    lite : bool, default=False
        Share the linear layer between features ("PLR lite").

    Examples
    --------
    >>> import torch
    >>> from skensemble.tabm import PeriodicEmbeddings
    >>> PeriodicEmbeddings(3, d_embedding=8)(torch.randn(5, 3)).shape
    torch.Size([5, 3, 8])
    """

    def __init__(
        self,
        n_features,
        d_embedding=24,
        *,
        n_frequencies=48,
        frequency_init_scale=0.01,
        activation=True,
        lite=False,
    ):
        super().__init__()
        if lite and not activation:
            raise ValueError("lite=True requires activation=True.")
        self.n_features = n_features
        self.d_embedding = d_embedding
        self.periodic = Periodic(n_features, n_frequencies, frequency_init_scale)
        if lite:
            self.linear = nn.Linear(2 * n_frequencies, d_embedding)
        else:
            self.linear = NLinear(n_features, 2 * n_frequencies, d_embedding)
        self.activation = nn.ReLU() if activation else None

    def get_output_shape(self):
        return torch.Size((self.n_features, self.d_embedding))

    def forward(self, x):
        x = self.linear(self.periodic(x))
        return x if self.activation is None else self.activation(x)
