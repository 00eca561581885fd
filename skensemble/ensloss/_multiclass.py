"""One-vs-one EnsLoss: a binary network per pair of classes (the paper's CIFAR way)."""

from itertools import combinations

import numpy as np
from sklearn.base import clone

from .._torch import draw_seed


def fit_one_vs_one(estimator, X, y_index, sample_weight, random_state, previous=None):
    """Fit a binary copy of ``estimator`` on the rows of every pair of classes.

    Returns the fitted binary estimators and the ``(i, j)`` class-index pairs;
    estimator ``p`` predicts class ``j`` of its pair for a positive margin.
    ``previous`` (a warm start) holds the binary estimators of the last fit,
    which then continue training with the estimator's current parameters.
    """
    pairs = list(combinations(range(int(y_index.max()) + 1), 2))
    params = estimator.get_params(deep=False)
    estimators = []
    for p, (i, j) in enumerate(pairs):
        rows = (y_index == i) | (y_index == j)
        seed = draw_seed(random_state)
        if previous is None:
            binary = clone(estimator).set_params(
                multi_class="ovr", warm_start=False, random_state=seed
            )
        else:
            binary = (
                previous[p]
                .set_params(
                    **{**params, "multi_class": "ovr", "warm_start": True},
                )
                .set_params(random_state=seed)
            )
        weight = None if sample_weight is None else sample_weight[rows]
        estimators.append(binary.fit(X[rows], y_index[rows] == j, sample_weight=weight))
    return estimators, pairs


def one_vs_one_scores(estimators, pairs, X):
    """Mean over each class's pairs of the sigmoid in its favour: ``(n, n_classes)``."""
    n_classes = max(j for _, j in pairs) + 1
    scores = np.zeros((len(X), n_classes))
    for estimator, (i, j) in zip(estimators, pairs):
        in_favour_of_j = estimator.predict_proba(X)[:, 1]
        scores[:, j] += in_favour_of_j
        scores[:, i] += 1.0 - in_favour_of_j
    return scores / (n_classes - 1)
