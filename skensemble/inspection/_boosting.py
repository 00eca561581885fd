"""Smoother weights of squared-error gradient boosting, computed without n x n.

Round ``p`` fits a tree to the residuals ``y - f_{p-1}(X_train)`` and adds
``eta * t_p(x) @ residuals``, where ``t_p(x)_i = w_i [i in leaf(x)] / (H + lambda)``
and ``H`` is the leaf's training weight. Unrolling the rounds gives
``I - S_P = (I - eta T_P) ... (I - eta T_1) (I - S_0)``. For query rows the
product is evaluated backwards (Horner form)::

    a_P = eta t_P(x),    a_p = eta t_p(x) + a_{p+1} (I - eta T_p),

where ``a @ T_p`` is a leaf sum scattered back to the leaf's rows, so each round
costs O(chunk * n_train) time and memory and no ``n x n`` matrix is formed.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass
class BoostedTrees:
    """What the backward recursion needs from a fitted boosted model.

    Attributes
    ----------
    train_leaves : list of ndarray of shape (n_train, n_trees_in_round)
        Compact leaf number of every training row in every tree of each round.
    leaf_of : callable
        ``leaf_of(X)`` returns the same per-round leaf numbers for query rows.
    n_leaves : list of ndarray
        Number of leaves of each tree of each round.
    train_weight : ndarray of shape (n_train,)
        Weight of each row in the trees (0 for rows held out by early stopping).
    learning_rate, l2_regularization : float
    init : {"mean", "constant"}
        "mean": the initial prediction is the weighted training mean, so it is
        part of the weights. "constant": it is ``base_score`` and goes to the
        offset.
    base_score : float
    """

    train_leaves: list
    leaf_of: object
    n_leaves: list
    train_weight: np.ndarray
    learning_rate: float
    l2_regularization: float
    init: str
    base_score: float = 0.0

    @property
    def n_rounds(self):
        return len(self.train_leaves)


class _RoundOperator:
    """Leaf sums and scatter-back of one boosting round on an (n_train, c) block."""

    def __init__(self, trees, p):
        leaves = trees.train_leaves[p]
        n_train, n_parallel = leaves.shape
        weight = trees.train_weight
        scale = trees.learning_rate / n_parallel
        uniform = bool(np.all(weight == weight[0]))
        # With equal row weights the per-row factor folds into the small
        # (n_leaves, c) coefficient block, saving one pass over the big block.
        self.row_scale = None if uniform else scale * weight[:, None]
        self.trees = []
        for j in range(n_parallel):
            leaf = leaves[:, j]
            n_leaves = trees.n_leaves[p][j]
            summer = sparse.csr_matrix(
                (np.ones(n_train), (leaf, np.arange(n_train))),
                shape=(n_leaves, n_train),
            )
            mass = np.bincount(leaf, weights=weight, minlength=n_leaves)
            factor = 1.0 / np.maximum(
                mass + trees.l2_regularization, np.finfo(float).tiny
            )
            if uniform:
                factor *= scale * weight[0]
            self.trees.append((leaf, summer, factor[:, None]))

    def step(self, block, query_leaves):
        """Update ``block = a^T`` in place to ``block + eta t_p(x) - eta T_p^T block``.

        ``block`` has shape (n_train, c); ``query_leaves`` has shape
        (c, n_parallel).
        """
        columns = np.arange(block.shape[1])
        coefficients = []
        for j, (_, summer, factor) in enumerate(self.trees):
            coefficient = -(summer @ block)
            coefficient[query_leaves[:, j], columns] += 1.0
            coefficient *= factor
            coefficients.append(coefficient)
        for (leaf, _, _), coefficient in zip(self.trees, coefficients):
            update = coefficient[leaf]
            if self.row_scale is not None:
                update *= self.row_scale
            block += update
        return block


def iter_boosted_weights(trees, X, *, n_rounds=None, chunk_size=32, verbose=0):
    """Yield ``(rows, weights, offsets)`` for consecutive chunks of query rows.

    ``weights`` is dense (chunk, n_train). Only the first ``n_rounds`` rounds are
    used when it is given (the staged model). Small chunks keep the
    ``(n_train, chunk_size)`` working block in the CPU cache, which is faster
    than large blocks even though it means more Python-level calls.
    """
    n_train = trees.train_weight.size
    n_rounds = trees.n_rounds if n_rounds is None else n_rounds
    operators = [_RoundOperator(trees, p) for p in range(n_rounds)]
    initial = trees.train_weight / trees.train_weight.sum()
    query_leaves = trees.leaf_of(X)[:n_rounds]
    n_queries = X.shape[0]
    for start in range(0, n_queries, chunk_size):
        stop = min(start + chunk_size, n_queries)
        block = np.zeros((n_train, stop - start))
        for p in reversed(range(n_rounds)):
            block = operators[p].step(block, query_leaves[p][start:stop])
        total = block.sum(axis=0)
        if trees.init == "mean":
            weights = block.T + np.outer(1.0 - total, initial)
            offsets = np.zeros(stop - start)
        else:
            weights = np.ascontiguousarray(block.T)
            offsets = trees.base_score * (1.0 - total)
        if verbose > 0:
            print(f"smoother weights: {stop}/{n_queries} query rows done")
        yield slice(start, stop), weights, offsets
