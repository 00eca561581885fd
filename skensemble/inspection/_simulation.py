"""The papers' simulated regression data (Friedman's MARS additive function)."""

import numbers

import numpy as np
from sklearn.utils import check_random_state


def make_mars_additive(n_samples=500, *, noise=1.0, random_state=None):
    """Inputs uniform on the unit cube and an additive target with Gaussian noise.

    ``y = 0.1 exp(4 x1) + 4 / (1 + exp(-20 (x2 - 0.5))) + 3 x3 + 2 x4 + x5 + e``
    with ``X ~ U[0, 1]^5`` and ``e ~ N(0, noise^2)``: the "MARS additive" setting
    the smoother-analysis papers simulate (500 training and 500 test rows,
    ``noise=1``).

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise.
    random_state : int, RandomState instance or None, default=None
        Seeds the inputs and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 5)
        The inputs.
    y : ndarray of shape (n_samples,)
        The noisy targets.

    See Also
    --------
    sklearn.datasets.make_friedman1 : Friedman's multiplicative benchmark.

    References
    ----------
    .. [1] J. H. Friedman, "Multivariate Adaptive Regression Splines", The
       Annals of Statistics 19(1), 1991.
    .. [2] A. Curth, A. Jeffares and M. van der Schaar, "Why do Random Forests
       Work? Understanding Tree Ensembles as Self-Regularizing Adaptive
       Smoothers", arXiv:2402.01502, 2024.

    Examples
    --------
    >>> from skensemble.inspection import make_mars_additive
    >>> X, y = make_mars_additive(n_samples=4, noise=0.0, random_state=0)
    >>> X.shape, y.shape
    ((4, 5), (4,))
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}.")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise}.")
    rng = check_random_state(random_state)
    X = rng.uniform(size=(n_samples, 5))
    signal = (
        0.1 * np.exp(4 * X[:, 0])
        + 4 / (1 + np.exp(-20 * (X[:, 1] - 0.5)))
        + 3 * X[:, 2]
        + 2 * X[:, 3]
        + X[:, 4]
    )
    return X, signal + noise * rng.standard_normal(n_samples)
