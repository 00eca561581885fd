"""Conformalized quantile regression (CQR) for every symmetric pair of levels.

For the pair (tau, 1 - tau) the nominal interval has miscoverage
``alpha = 2 * tau``. Split CQR (Romano et al. 2019) shifts both bounds by one
quantile of the calibration scores; CV+ (Barber et al. 2021) uses the K
cross-fitted models instead of a held-out set.
"""

import math

import numpy as np


def conformity_scores(predictions, y, pairs):
    """CQR scores ``max(q_lo - y, y - q_hi)``, shape (n_samples, n_pairs)."""
    lower = predictions[:, [i for i, _ in pairs]]
    upper = predictions[:, [j for _, j in pairs]]
    return np.maximum(lower - y[:, None], y[:, None] - upper)


def pair_miscoverage(grid, pairs):
    """``alpha`` of each pair: one minus the nominal coverage of its interval."""
    return np.array([1 - (grid[j] - grid[i]) for i, j in pairs])


def _weighted_order_statistic(values, weights, rank):
    """Per row of ``values`` (m, n), the ``rank``-th smallest value when column
    ``i`` counts ``weights[i]`` times: the first value, in increasing order,
    whose cumulative weight reaches ``rank`` (ranks are clipped to exist)."""
    kept = weights > 0
    values, weights = values[:, kept], weights[kept]
    rank = min(max(rank, 1e-12), weights.sum())
    order = np.argsort(values, axis=1, kind="stable")
    cumulative = np.cumsum(weights[order], axis=1)
    first = np.minimum((cumulative < rank - 1e-9).sum(axis=1), values.shape[1] - 1)
    rows = np.arange(values.shape[0])
    return values[rows, order[rows, first]]


def split_offsets(scores, alphas, sample_weight=None):
    """The ceil((1 - alpha)(n + 1))-th smallest score of every pair.

    Returns the offsets and a boolean per pair telling whether the rank exists
    (``n`` large enough for the finite-sample guarantee). When it does not, the
    largest score is used, which keeps the interval finite but loses the
    guarantee for that pair. With ``sample_weight`` a row counts as many times
    as its weight and ``n`` is the total weight (repeating a row and giving it
    weight 2 give the same offset).
    """
    if sample_weight is None:
        sample_weight = np.ones(scores.shape[0])
    total = float(sample_weight.sum())
    if not total > 0:
        raise ValueError(
            "The calibration rows all have sample_weight 0: conformal "
            "calibration needs calibration rows of positive weight."
        )
    ranks = [math.ceil((1 - alpha) * (total + 1) - 1e-9) for alpha in alphas]
    offsets = np.array(
        [
            _weighted_order_statistic(scores[:, [pair]].T, sample_weight, rank)[0]
            for pair, rank in enumerate(ranks)
        ]
    )
    return offsets, np.array([rank <= total + 1e-9 for rank in ranks])


def apply_split_offsets(predictions, pairs, offsets):
    """Move each pair's lower bound down and upper bound up by its offset."""
    adjusted = np.array(predictions, dtype=float)
    for (lower, upper), offset in zip(pairs, offsets, strict=True):
        adjusted[:, lower] -= offset
        adjusted[:, upper] += offset
    return adjusted


def _cv_plus_ranks(n_train, alpha):
    low_rank = math.floor(alpha * (n_train + 1) + 1e-9)
    high_rank = math.ceil((1 - alpha) * (n_train + 1) - 1e-9)
    return low_rank, high_rank


def cv_plus_guaranteed(n_train, alphas):
    """Whether both CV+ ranks exist for each pair (else bounds are clipped)."""
    ranks = [_cv_plus_ranks(n_train, alpha) for alpha in alphas]
    return np.array([low >= 1 and high <= n_train for low, high in ranks])


def cv_plus_bounds(
    fold_predictions, fold_of_sample, scores, pairs, alphas, sample_weight=None
):
    """CV+ bounds for every test row and pair.

    Parameters
    ----------
    fold_predictions : ndarray of shape (n_folds, n_test, n_levels)
        Predictions at the test rows of the model fitted without each fold.
    fold_of_sample : ndarray of shape (n_train,)
        The fold each training row was held out in.
    scores : ndarray of shape (n_train, n_pairs)
        Out-of-fold conformity scores.
    sample_weight : ndarray of shape (n_train,), default=None
        Row weights: a row counts as many times as its weight, and ``n`` is
        the total weight.

    Returns
    -------
    lower, upper : ndarrays of shape (n_test, n_pairs)
        Lower bound = the floor(alpha (n+1))-th smallest of q_lo^{-k(i)}(x) - E_i,
        upper bound = the ceil((1-alpha)(n+1))-th smallest of q_hi^{-k(i)}(x) + E_i,
        both clipped to existing ranks so bounds stay finite.
    """
    n_train = fold_of_sample.shape[0]
    if sample_weight is not None:
        n_train = float(sample_weight.sum())
    n_test = fold_predictions.shape[1]
    lower = np.empty((n_test, len(pairs)))
    upper = np.empty((n_test, len(pairs)))
    for pair, ((low_level, high_level), alpha) in enumerate(
        zip(pairs, alphas, strict=True)
    ):
        low_rank, high_rank = _cv_plus_ranks(n_train, alpha)
        low_candidates = fold_predictions[fold_of_sample, :, low_level].T
        low_candidates = low_candidates - scores[None, :, pair]
        high_candidates = fold_predictions[fold_of_sample, :, high_level].T
        high_candidates = high_candidates + scores[None, :, pair]
        if sample_weight is not None:
            lower[:, pair] = _weighted_order_statistic(
                low_candidates, sample_weight, low_rank
            )
            upper[:, pair] = _weighted_order_statistic(
                high_candidates, sample_weight, high_rank
            )
            continue
        low_rank = min(max(low_rank, 1), n_train)
        high_rank = min(max(high_rank, 1), n_train)
        lower[:, pair] = np.partition(low_candidates, low_rank - 1, axis=1)[
            :, low_rank - 1
        ]
        upper[:, pair] = np.partition(high_candidates, high_rank - 1, axis=1)[
            :, high_rank - 1
        ]
    return lower, upper
