"""Smoother weights of squared-error gradient boosting, computed without n x n.

Round ``p`` fits a tree to the residuals ``y - f_{p-1}(X_train)`` and adds
``eta * t_p(x) @ residuals``, where ``t_p(x)_i = w_i [i in leaf(x)] / (H + lambda)``
and ``H`` is the leaf's training weight. Unrolling the rounds gives
``I - S_P = (I - eta T_P) ... (I - eta T_1) (I - S_0)``. For query rows the
product is evaluated backwards (Horner form)::

    a_P = eta t_P(x),    a_p = eta t_p(x) + a_{p+1} (I - eta T_p),

where ``a @ T_p`` is a leaf sum scattered back to the leaf's rows, so each round
costs O(chunk * n_train) time, memory stays O(chunk * n_train) and no
``n x n`` matrix is formed. Rounds are processed in groups (see
:class:`_RoundGroup`) so the big ``(n_train, chunk)`` block is read and
written once per group rather than several times per round.
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


class _RoundGroup:
    """A run of consecutive rounds whose updates are applied to the block at once.

    Writing every round's update into the ``(n_train, c)`` block costs several
    passes over it per round. Instead the rounds of a group keep their updates
    in leaf space (``coefficients``, a few hundred rows) and the block is read
    once for the group's leaf sums and written once at the end. Within the group
    a round sees the later rounds' pending updates through the leaf
    co-occurrence matrices ``Z_u^T (eta w) Z_v``, which depend only on the
    training rows and are built once.
    """

    def __init__(self, trees, rounds):
        weight = trees.train_weight
        n_train = weight.size
        # Units are trees, newest round first; trees of one round share a step.
        self.steps, offsets, leaf_columns, scales = [], [0], [], []
        for p in reversed(rounds):
            leaves = trees.train_leaves[p]
            n_parallel = leaves.shape[1]
            units = []
            for j in range(n_parallel):
                n_leaves = int(trees.n_leaves[p][j])
                mass = np.bincount(leaves[:, j], weights=weight, minlength=n_leaves)
                factor = 1.0 / np.maximum(
                    mass + trees.l2_regularization, np.finfo(float).tiny
                )
                units.append((p, j, offsets[-1], n_leaves, factor[:, None]))
                leaf_columns.append(offsets[-1] + leaves[:, j])
                scales.append(np.full(n_train, trees.learning_rate / n_parallel))
                offsets.append(offsets[-1] + n_leaves)
            self.steps.append(units)
        n_columns = offsets[-1]
        rows = np.tile(np.arange(n_train), len(leaf_columns))
        columns = np.concatenate(leaf_columns)
        indicator = sparse.csr_matrix(
            (np.ones(rows.size), (rows, columns)), shape=(n_train, n_columns)
        )
        self.leaf_sum = indicator.T.tocsr()
        self.scatter = sparse.csr_matrix(
            (
                np.concatenate(scales) * np.tile(weight, len(leaf_columns)),
                (rows, columns),
            ),
            shape=(n_train, n_columns),
        )
        cross = (self.leaf_sum @ self.scatter).tocsr()
        self.cross_rows = {
            (p, j): cross[start : start + n_leaves]
            for units in self.steps
            for p, j, start, n_leaves, _ in units
        }
        self.n_columns = n_columns

    def apply(self, block, query_leaves):
        """Run the group's rounds backwards on ``block = a^T`` (n_train, c)."""
        n_queries = block.shape[1]
        queries = np.arange(n_queries)
        leaf_sums = self.leaf_sum @ block
        coefficients = np.zeros((self.n_columns, n_queries))
        for units in self.steps:
            step = []
            for p, j, start, n_leaves, factor in units:
                stop = start + n_leaves
                pending = self.cross_rows[p, j] @ coefficients
                coefficient = -(leaf_sums[start:stop] + pending)
                coefficient[query_leaves[p][:, j], queries] += 1.0
                step.append((start, stop, coefficient * factor))
            for start, stop, coefficient in step:
                coefficients[start:stop] = coefficient
        block += self.scatter @ coefficients
        return block


def iter_boosted_weights(
    trees, X, *, n_rounds=None, chunk_size=32, group_size=16, verbose=0
):
    """Yield ``(rows, weights, offsets)`` for consecutive chunks of query rows.

    ``weights`` is dense (chunk, n_train). Only the first ``n_rounds`` rounds are
    used when it is given (the staged model). The working memory is a few
    ``(n_train, chunk_size)`` float64 blocks plus the groups' leaf co-occurrence
    matrices.
    """
    n_train = trees.train_weight.size
    n_rounds = trees.n_rounds if n_rounds is None else n_rounds
    groups = [
        _RoundGroup(trees, list(range(start, min(start + group_size, n_rounds))))
        for start in range(0, n_rounds, group_size)
    ]
    initial = trees.train_weight / trees.train_weight.sum()
    query_leaves = trees.leaf_of(X)[:n_rounds]
    n_queries = X.shape[0]
    for start in range(0, n_queries, chunk_size):
        stop = min(start + chunk_size, n_queries)
        chunk_leaves = [leaves[start:stop] for leaves in query_leaves]
        block = np.zeros((n_train, stop - start))
        for group in reversed(groups):
            block = group.apply(block, chunk_leaves)
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
