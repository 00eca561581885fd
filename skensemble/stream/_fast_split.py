"""Exact, vectorised split attempts of river's Hoeffding-tree classifier leaves.

At a split attempt river asks every ``GaussianSplitter`` of the leaf for its
best binary split: ``n_splits`` evenly spaced thresholds between the smallest
and largest value seen, the class weights on each side from each class's
normal CDF, and the information gain of each threshold, all in Python, one
feature and one threshold at a time. :func:`attempt_to_split` does the same
arithmetic for all features and thresholds at once from the leaf's
:class:`~skensemble.stream._fast_leaf.LeafArrays`, then runs the rest of
``HoeffdingTreeClassifier._attempt_to_split`` (river 0.26) unchanged.

The result is the same, bit for bit: float sums are taken in river's order
(classes in the splitters' order, left to right), ``erf``, ``log2`` and
``** 0.5`` go through Python's ``math`` module and float power per element
(numpy may use other, vectorised implementations), and only the correctly
rounded ``+ - * /`` run in numpy. Anything else (another split criterion,
splitters whose classes differ in order, non-finite statistics, more than
two classes where ``sum`` is compensated as in Python >= 3.12) goes to
river's own ``_attempt_to_split``.
"""

import math

import numpy as np
from river.tree.nodes.htc_nodes import (
    LeafMajorityClass,
    LeafNaiveBayes,
    LeafNaiveBayesAdaptive,
)
from river.tree.split_criterion import InfoGainSplitCriterion
from river.tree.splitter import GaussianSplitter
from river.tree.utils import BranchFactory

_SQRT2 = math.sqrt(2.0)
# Python's ``sum`` of floats adds left to right before 3.12, compensated after;
# for two terms both give the correctly rounded sum.
_PLAIN_SUM = sum([1.0, 1e100, 1.0, -1e100]) == 0.0
_LEAVES = (LeafMajorityClass, LeafNaiveBayes, LeafNaiveBayesAdaptive)


def _apply(function, values, mask):
    """``function`` (a Python float function) of ``values`` where ``mask``, else 0."""
    out = np.zeros(values.shape)
    chosen = values[mask]
    out[mask] = np.fromiter(map(function, chosen.tolist()), np.float64, chosen.size)
    return out


def _entropy(dists):
    """``InfoGainSplitCriterion._compute_entropy_dict`` of each cell.

    ``dists`` holds one array per class, in the dict's order; a class missing
    from a cell's dict holds 0.0, which river's ``d > 0.0`` test skips too.
    """
    entropy = np.zeros(dists[0].shape)
    sums = np.zeros(dists[0].shape)
    for dist in dists:
        positive = dist > 0.0
        entropy = np.where(
            positive, entropy - dist * _apply(math.log2, dist, positive), entropy
        )
        sums = np.where(positive, sums + dist, sums)
    has_weight = sums > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (entropy + sums * _apply(math.log2, sums, has_weight)) / sums
    return np.where(has_weight, value, 0.0)


def _class_order(arrays):
    """The classes of the leaf's Gaussian splitters, if all share one order."""
    splitters = arrays.gauss_splitters
    if not splitters:
        return None
    order = list(splitters[0]._att_dist_per_class)
    for splitter in splitters:
        if list(splitter._att_dist_per_class) != order:
            return None
    if not all(arrays.complete[arrays.row_of[label]] for label in order):
        return None
    return order


def gaussian_suggestions(arrays, criterion, pre_split_dist):
    """Each Gaussian splitter's ``best_evaluated_split_suggestion``, or None.

    Returns ``(merits, split_values, children)``: per column of ``arrays``,
    the best threshold's merit and value (None for river's null suggestion),
    and a function giving a column's ``[lhs, rhs]`` class weights. Returns
    None when the leaf is not one this evaluation covers.
    """
    order = _class_order(arrays)
    if not order or (len(order) > 2 and not _PLAIN_SUM):
        return None
    n_splits = arrays.gauss_splitters[0].n_splits
    if any(splitter.n_splits != n_splits for splitter in arrays.gauss_splitters):
        return None
    rows = [arrays.row_of[label] for label in order]
    count, mean, sum_squares, low, high = arrays.statistics(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(count > 1, sum_squares / (count - 1), 0.0)
    stacked = np.stack([count, mean, low, high, variance])
    if not np.isfinite(stacked).all() or (variance < 0).any():
        return None
    sigma = np.fromiter(
        (value**0.5 for value in variance.ravel().tolist()), np.float64, variance.size
    ).reshape(variance.shape)

    # _split_point_suggestions: thresholds strictly inside the observed range.
    min_value = np.full(count.shape[1], math.inf)
    max_value = np.full(count.shape[1], -math.inf)
    for k in range(len(order)):
        min_value = np.where(low[k] < min_value, low[k], min_value)
        max_value = np.where(high[k] > max_value, high[k], max_value)
    bin_size = max_value - min_value
    bin_size /= n_splits + 1.0
    steps = np.arange(1, n_splits + 1, dtype=np.float64)
    split = min_value[:, None] + bin_size[:, None] * steps
    candidate = (min_value[:, None] < split) & (split < max_value[:, None])

    # _class_dists_from_binary_split, for every feature and threshold.
    lhs, rhs, right_only, left_only = [], [], [], []
    for k in range(len(order)):
        n_k = count[k][:, None]
        only_right = split < low[k][:, None]
        only_left = ~only_right & (split >= high[k][:, None])
        both = candidate & ~only_right & ~only_left
        spread = sigma[k][:, None]
        inside = both & (spread != 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (split - mean[k][:, None]) / spread / _SQRT2
        cdf = 0.5 * (1.0 + _apply(math.erf, scaled, inside))
        cdf[both & ~inside] = 0.0  # river's cdf on a zero sigma
        left = np.where(only_left, n_k, np.where(both, cdf * n_k, 0.0))
        right = np.where(only_right, n_k, np.where(both, n_k - left, 0.0))
        lhs.append(left)
        rhs.append(right)
        right_only.append(only_right)
        left_only.append(only_left)

    # InfoGainSplitCriterion.merit_of_split, in river's operation order.
    left_weight, right_weight = lhs[0], rhs[0]
    for left, right in zip(lhs[1:], rhs[1:]):
        left_weight = left_weight + left
        right_weight = right_weight + right
    total = 0.0 + left_weight + right_weight
    fraction = criterion.min_branch_fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        n_greater = (left_weight / total > fraction).astype(int) + (
            right_weight / total > fraction
        )
        post = 0.0 + left_weight * _entropy(lhs)
        post = post + right_weight * _entropy(rhs)
        merit = criterion.compute_entropy(pre_split_dist) - post / total
    merit = np.where(candidate & (total > 0) & (n_greater >= 2), merit, -math.inf)

    # best_evaluated_split_suggestion: the first threshold of largest merit.
    best_merit = np.full(count.shape[1], -math.inf)
    best_index = np.full(count.shape[1], -1)
    for index in range(n_splits):
        better = candidate[:, index] & (merit[:, index] > best_merit)
        best_merit[better] = merit[better, index]
        best_index[better] = index
    found = best_index >= 0
    columns = np.flatnonzero(found)
    chosen = best_index[found]
    merits = [None] * count.shape[1]
    values = [None] * count.shape[1]
    for column, merit_value, split_value in zip(
        columns.tolist(),
        best_merit[found].tolist(),
        split[columns, chosen].tolist(),
    ):
        merits[column], values[column] = merit_value, split_value

    def children(column):
        """The ``[lhs, rhs]`` class weights of a column's best threshold."""
        cell = (column, best_index[column])
        left = {
            label: lhs[k][cell].item()
            for k, label in enumerate(order)
            if not right_only[k][cell]
        }
        right = {
            label: rhs[k][cell].item()
            for k, label in enumerate(order)
            if not left_only[k][cell]
        }
        return [left, right]

    return merits, values, children


def best_split_suggestions(leaf, criterion, tree, arrays):
    """``leaf.best_split_suggestions(criterion, tree)``, or None if not covered.

    The Gaussian suggestions come without ``children_stats``; returns the
    list and a function that fills them in for one suggestion of the list.
    """
    if type(criterion) is not InfoGainSplitCriterion or type(leaf) not in _LEAVES:
        return None
    # LeafMajorityClass.best_split_suggestions: a dominant class stops the attempt.
    majority = max(leaf.stats.values())
    if majority and majority / leaf.total_weight > tree.max_share_to_split:
        return [BranchFactory()], _complete
    gaussian = gaussian_suggestions(arrays, criterion, leaf.stats)
    if gaussian is None:
        return None
    merits, split_values, children = gaussian
    suggestions = [BranchFactory()] if tree.merit_preprune else []
    pending = {}
    column = 0
    for key, splitter in leaf.splitters.items():
        if type(splitter) is not GaussianSplitter:
            suggestions.append(
                splitter.best_evaluated_split_suggestion(
                    criterion, leaf.stats, key, tree.binary_split
                )
            )
            continue
        merit = merits[column]
        if merit is None:
            suggestions.append(BranchFactory())
        else:
            suggestion = BranchFactory(merit, key, split_values[column])
            pending[id(suggestion)] = column
            suggestions.append(suggestion)
        column += 1

    def complete(suggestion):
        column = pending.get(id(suggestion))
        if column is not None:
            suggestion.children_stats = children(column)

    return suggestions, complete


def _complete(suggestion):
    """Nothing to fill in."""


def _sorted(suggestions):
    """``suggestions.sort()``: a stable sort by merit, without Python's ``__lt__``.

    Any stable sort gives the same order when merits have no NaN.
    """
    merits = np.fromiter(
        (suggestion.merit for suggestion in suggestions), np.float64, len(suggestions)
    )
    if np.isnan(merits).any():
        suggestions.sort()
        return suggestions
    return [suggestions[index] for index in np.argsort(merits, kind="stable").tolist()]


def attempt_to_split(tree, leaf, parent, parent_branch, arrays):
    """``tree._attempt_to_split(leaf, parent, parent_branch)`` of river 0.26.

    ``arrays`` are the leaf's up-to-date :class:`LeafArrays` (or None, and then
    river evaluates the split itself).
    """
    if leaf.observed_class_distribution_is_pure():
        return
    criterion = tree._new_split_criterion()
    found = None
    if arrays is not None:
        found = best_split_suggestions(leaf, criterion, tree, arrays)
    if found is None:
        if arrays is not None:
            arrays.sync()
        tree._attempt_to_split(leaf, parent, parent_branch)
        return
    suggestions, complete = found
    suggestions = _sorted(suggestions)
    should_split = False
    if len(suggestions) < 2:
        should_split = len(suggestions) > 0
    else:
        bound = tree._hoeffding_bound(
            criterion.range_of_merit(leaf.stats), tree.delta, leaf.total_weight
        )
        best, second = suggestions[-1], suggestions[-2]
        if best.merit - second.merit > bound or bound < tree.tau:
            should_split = True
        if tree.remove_poor_attrs:
            poor = set()
            for suggestion in suggestions:
                if suggestion.feature and best.merit - suggestion.merit > bound:
                    poor.add(suggestion.feature)
            for feature in poor:
                leaf.disable_attribute(feature)
    if not should_split:
        return
    decision = suggestions[-1]
    complete(decision)
    if decision.feature is None:  # pre-pruning: the null split wins
        leaf.deactivate()
        tree._n_inactive_leaves += 1
        tree._n_active_leaves -= 1
    else:
        branch = tree._branch_selector(
            decision.numerical_feature, decision.multiway_split
        )
        leaves = tuple(
            tree._new_leaf(stats, parent=leaf) for stats in decision.children_stats
        )
        new_split = decision.assemble(branch, leaf.stats, leaf.depth, *leaves)
        tree._n_active_leaves -= 1
        tree._n_active_leaves += len(leaves)
        if parent is None:
            tree._root = new_split
        else:
            parent.children[parent_branch] = new_split
    tree._enforce_size_limit()
