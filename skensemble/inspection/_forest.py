"""Smoother weights of random forests and extra-trees as sparse matrices.

A tree predicts the weighted mean of the training targets in the query's leaf,
so a forest of ``B`` trees predicts ``S @ y`` with
``S = (1 / B) * Q @ P``: ``Q`` (queries x leaves) marks the leaf each query
reaches in each tree and ``P`` (leaves x training rows) holds each training row's
share of its leaf. Both factors have one entry per (row, tree), so ``S`` is
formed by one sparse product and never as a dense ``n x n`` matrix.
"""

import numpy as np
from scipy import sparse

_LINEAR_REGRESSION_CRITERIA = ("squared_error", "friedman_mse", "poisson")


def check_forest_is_linear_smoother(forest):
    """Raise a ValueError when the forest's predictions are not linear in y."""
    criterion = getattr(forest, "criterion", None)
    if not hasattr(forest, "classes_") and criterion not in _LINEAR_REGRESSION_CRITERIA:
        raise ValueError(
            f"criterion={criterion!r} makes leaf values that are not weighted means "
            f"of the targets, so the forest is not a linear smoother. Supported "
            f"regression criteria: {', '.join(_LINEAR_REGRESSION_CRITERIA)}."
        )
    if getattr(forest, "monotonic_cst", None) is not None:
        raise ValueError(
            "monotonic_cst clips leaf values, so the forest is not a linear "
            "smoother; refit with monotonic_cst=None."
        )
    class_weight = getattr(forest, "class_weight", None)
    if class_weight is not None and (
        not forest.bootstrap or class_weight == "balanced_subsample"
    ):
        raise ValueError(
            f"class_weight={class_weight!r} with bootstrap={forest.bootstrap} weights "
            "each tree's rows by their labels, which smoother_weights does not "
            "receive; pass the class weights folded into sample_weight instead, or "
            "use bootstrap=True with class_weight=None, 'balanced' or a dict."
        )


def _leaf_masses(leaves, weights, n_nodes):
    return np.bincount(leaves, weights=weights, minlength=n_nodes)


def _matches_tree(tree, leaves, weights):
    """True when ``weights`` give the leaf masses the fitted tree recorded."""
    is_leaf = tree.tree_.children_left == -1
    recorded = tree.tree_.weighted_n_node_samples[is_leaf]
    masses = _leaf_masses(leaves, weights, recorded.size)
    return np.allclose(masses, recorded, rtol=1e-9, atol=1e-12)


def tree_training_weights(forest, train_leaves, sample_weight):
    """Return ``weights_of(b)``: the weights of the training rows in tree ``b``.

    Bootstrap forests of scikit-learn >= 1.9 draw rows with probability
    proportional to ``sample_weight`` and fit each tree on the in-bag counts
    alone; earlier versions drew uniformly and fit on ``counts * sample_weight``.
    The convention is chosen per forest by matching the leaf masses each fitted
    tree stored, so a wrong ``sample_weight`` is caught here instead of giving
    silently wrong weights.
    """
    n_train = train_leaves.shape[0]
    base = np.ones(n_train) if sample_weight is None else sample_weight
    n_trees = train_leaves.shape[1]
    if forest.bootstrap:
        weights = np.empty((n_trees, n_train), dtype=np.float32)
        for b, rows in enumerate(forest.estimators_samples_[:n_trees]):
            counts = np.bincount(rows, minlength=n_train)
            if counts.size != n_train:
                raise ValueError(
                    f"X_train has {n_train} rows but the forest's bootstrap samples "
                    f"index row {counts.size - 1}. Pass exactly the X_train (and "
                    "sample_weight) the forest was fit on."
                )
            weights[b] = counts
        conventions = [lambda b: weights[b], lambda b: weights[b] * base]
    else:
        conventions = [lambda b: base]
    for convention in conventions:
        if all(
            _matches_tree(tree, train_leaves[:, b], convention(b))
            for b, tree in enumerate(forest.estimators_[:n_trees])
        ):
            return convention
    raise ValueError(
        "The training rows do not reproduce the leaf masses stored in the fitted "
        "trees. Pass exactly the X_train (and sample_weight) the forest was fit on."
    )


def _leaf_share_matrix(train_leaves, tree_weights, n_leaves):
    """Sparse (n_leaves_total, n_train) matrix of each row's share of its leaf.

    ``train_leaves`` holds compact per-tree leaf numbers. The CSR arrays are
    preallocated and filled tree by tree (rows sorted by leaf), so no
    coordinate-format copy of all entries is ever held.
    """
    n_train, n_trees = train_leaves.shape
    in_bag_counts = [np.count_nonzero(tree_weights(b)) for b in range(n_trees)]
    values = np.empty(sum(in_bag_counts))
    indices = np.empty(sum(in_bag_counts), dtype=np.int32)
    indptr = np.empty(int(np.sum(n_leaves)) + 1, dtype=np.int64)
    indptr[0] = 0
    entry, leaf_offset = 0, 0
    for b in range(n_trees):
        weights = np.asarray(tree_weights(b), dtype=float)
        in_bag = np.flatnonzero(weights)
        leaves = train_leaves[in_bag, b]
        order = np.argsort(leaves, kind="stable")
        in_bag, leaves = in_bag[order], leaves[order]
        masses = _leaf_masses(leaves, weights[in_bag], n_leaves[b])
        stop = entry + in_bag.size
        indices[entry:stop] = in_bag
        values[entry:stop] = weights[in_bag] / masses[leaves]
        per_leaf = np.bincount(leaves, minlength=n_leaves[b])
        indptr[leaf_offset + 1 : leaf_offset + n_leaves[b] + 1] = entry + np.cumsum(
            per_leaf
        )
        entry, leaf_offset = stop, leaf_offset + n_leaves[b]
    return sparse.csr_matrix((values, indices, indptr), shape=(leaf_offset, n_train))


def _query_matrix(query_leaves, query_tree_weights, n_leaves):
    """Sparse (n_queries, n_leaves_total) matrix of each query's leaf per tree."""
    offsets = np.concatenate([[0], np.cumsum(n_leaves)[:-1]]).astype(np.int32)
    columns = query_leaves + offsets[None, :]
    keep = query_tree_weights != 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    return sparse.csr_matrix(
        (query_tree_weights[keep], columns[keep], indptr),
        shape=(query_leaves.shape[0], int(np.sum(n_leaves))),
    )


def _compact_leaf_numbers(tree):
    """Map node ids to 0..n_leaves-1 so leaf columns skip internal nodes."""
    is_leaf = tree.tree_.children_left == -1
    return (np.cumsum(is_leaf) - 1).astype(np.int32), int(is_leaf.sum())


def _apply(forest, X, n_trees):
    """Compact leaf numbers (n_rows, n_trees) as int32, filled tree by tree."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    leaves = np.empty((X.shape[0], n_trees), dtype=np.int32)
    for b, tree in enumerate(forest.estimators_[:n_trees]):
        leaves[:, b] = _compact_leaf_numbers(tree)[0][tree.apply(X, check_input=False)]
    return leaves


def forest_smoother_weights(
    forest, X_train, X, *, oob, sample_weight, n_trees=None, chunk_size=4096
):
    """Sparse CSR smoother weights (n_queries, n_train) of a fitted forest.

    ``n_trees`` restricts the forest to its first trees (prefix ensembles).
    With ``oob=True`` each training row is averaged over the trees that did not
    draw it, which reproduces ``oob_prediction_`` / ``oob_decision_function_``.
    """
    trees = forest.estimators_[: n_trees or len(forest.estimators_)]
    train_leaves = _apply(forest, X_train, len(trees))
    tree_weights = tree_training_weights(forest, train_leaves, sample_weight)
    n_leaves = np.array([_compact_leaf_numbers(tree)[1] for tree in trees])
    shares = _leaf_share_matrix(train_leaves, tree_weights, n_leaves)
    if oob:
        out_of_bag = np.stack([tree_weights(b) == 0 for b in range(len(trees))], 1)
        n_oob = out_of_bag.sum(axis=1, keepdims=True)
        query_tree_weights = np.divide(
            out_of_bag, n_oob, out=np.zeros(out_of_bag.shape), where=n_oob > 0
        )
        queries = _query_matrix(train_leaves, query_tree_weights, n_leaves)
        return (queries @ shares).tocsr()
    del train_leaves
    blocks = []
    for start in range(0, X.shape[0], chunk_size):
        query_leaves = _apply(forest, X[start : start + chunk_size], len(trees))
        query_tree_weights = np.full(query_leaves.shape, 1.0 / len(trees))
        queries = _query_matrix(query_leaves, query_tree_weights, n_leaves)
        blocks.append(queries @ shares)
    return sparse.vstack(blocks, format="csr")
