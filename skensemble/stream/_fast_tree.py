"""Exact, faster leaf predictions for river's Hoeffding-tree experts.

river's Hoeffding tree predicts with its leaf's naive Bayes model by calling,
for every class and every feature, a Python ``log_pdf`` of the leaf's Gaussian
estimator; the adaptive leaf ("nba") runs the same naive Bayes prediction again
inside ``learn_one``. In DriftMoE every expert predicts every instance, so this
dominates the run time on wide or many-class streams.

:class:`HoeffdingFastPath` reads the same river statistics and returns the
same numbers, bit for bit:

* per leaf, the Gaussian parameters (mean, ``-2 variance``, ``0.5 log
  variance``) are cached in arrays, keyed by the leaf object, and refreshed when
  the leaf's class counts change (only the rows of the classes that changed);
* a prediction evaluates ``(x - mean) ** 2 / (-2 variance) - log(tau) / 2 -
  log(variance) / 2`` with numpy over classes x features, using the C
  library's ``pow`` as Python's ``**`` does (``np.float_power``), and adds the
  terms to the log prior left to right (``np.cumsum``), as river's loop does;
* the adaptive leaf's bookkeeping in ``learn_one`` reuses the prediction the
  test step made for the same instance.

Splitters other than river's ``GaussianSplitter`` (e.g. nominal attributes) are
evaluated through their own ``cond_log_proba`` / ``cond_proba`` in the same
left-to-right order. The river objects themselves are never modified beyond
what river's own ``learn_one`` does: the caches live outside the tree.
"""

import math
import weakref

import numpy as np
import river
from river import tree as river_tree
from river.tree.base import Branch
from river.tree.nodes.htc_nodes import (
    LeafMajorityClass,
    LeafNaiveBayes,
    LeafNaiveBayesAdaptive,
)
from river.tree.nodes.leaf import HTLeaf
from river.tree.splitter import GaussianSplitter

_HALF_LOG_TAU = 0.5 * math.log(math.tau)
# The learn path below mirrors HoeffdingTreeClassifier.learn_one of these river
# versions (tests compare both over long streams); others use river's own.
_TESTED_RIVER = ("0.26",)


def _river_tested():
    return ".".join(river.__version__.split(".")[:2]) in _TESTED_RIVER


def _majority_votes(stats):
    """river's majority-class leaf prediction (``normalize_values_in_dict``)."""
    total = sum(stats.values())
    if total == 0 or math.isnan(total):
        return dict(stats)
    multiplier = 1 / total
    return {label: weight * multiplier for label, weight in stats.items()}


def _first_argmax(votes):
    """``max(votes, key=votes.get)``: the first maximal key in dict order."""
    return max(votes, key=votes.get)


class _LeafCache:
    """The naive-Bayes parameters of one leaf, as arrays over classes x features."""

    __slots__ = (
        "splitters",
        "n_splitters",
        "stats",
        "labels",
        "log_prior",
        "prior_column",
        "dead",
        "any_dead",
        "gauss_keys",
        "gauss_splitters",
        "row_index",
        "in_order",
        "positions",
        "others",
        "count",
        "mean",
        "sum_squares",
        "neg_two_var",
        "half_log_var",
        "valid",
        "twos",
        "last_row",
        "last_votes",
    )

    def __init__(self, leaf, key_index):
        splitters = leaf.splitters
        self.splitters = splitters
        self.n_splitters = len(splitters)
        self.gauss_keys, self.gauss_splitters, self.others = [], [], []
        gauss_positions = []
        for position, (key, splitter) in enumerate(splitters.items()):
            if type(splitter) is GaussianSplitter:
                gauss_positions.append(position)
                self.gauss_keys.append(key)
                self.gauss_splitters.append(splitter)
            else:
                self.others.append((position, key, splitter))
        self.row_index = np.fromiter(
            (key_index[key] for key in self.gauss_keys), np.intp, len(self.gauss_keys)
        )
        self.positions = np.asarray(gauss_positions, dtype=np.intp) + 1
        self.in_order = not self.others
        self.labels = None
        self.last_row = None
        self.last_votes = None
        self._refresh(leaf.stats)

    def matches(self, leaf):
        return (
            leaf.splitters is self.splitters
            and len(self.splitters) == self.n_splitters
            and leaf.stats == self.stats
        )

    def refresh(self, leaf):
        """Bring the cache up to date with a leaf whose class counts changed."""
        self.last_row = self.last_votes = None
        self._refresh(leaf.stats)

    def _refresh(self, stats):
        labels = list(stats)
        old_stats = self.stats if self.labels == labels else None
        if old_stats is None:
            shape = (len(labels), len(self.gauss_keys))
            self.labels = labels
            self.count = np.zeros(shape)
            self.mean = np.zeros(shape)
            self.sum_squares = np.zeros(shape)
            self.neg_two_var = np.full(shape, -2.0)
            self.half_log_var = np.zeros(shape)
            self.valid = np.zeros(shape, dtype=bool)
            self.twos = np.full(shape, 2.0)
        self._set_stats(stats)
        for row, label in enumerate(labels):
            if old_stats is not None and old_stats[label] == stats[label]:
                continue
            self._read_class(row, label)

    def _set_stats(self, stats):
        self.stats = dict(stats)
        total = sum(stats.values())
        self.log_prior = [
            math.log(weight / total) if weight > 0 and total != 0 else None
            for weight in stats.values()
        ]
        self.dead = np.array([value is None for value in self.log_prior])
        self.any_dead = bool(self.dead.any())
        self.prior_column = np.array(
            [0.0 if value is None else value for value in self.log_prior]
        )

    def _read_class(self, row, label):
        """Copy river's Gaussian estimators of one class into the arrays."""
        count, mean, sum_squares = (
            self.count[row],
            self.mean[row],
            self.sum_squares[row],
        )
        for column, splitter in enumerate(self.gauss_splitters):
            estimator = splitter._att_dist_per_class.get(label)
            if estimator is None:
                count[column] = mean[column] = sum_squares[column] = 0.0
            else:
                var = estimator._var
                count[column] = var.mean.n
                mean[column] = var.mean._mean
                sum_squares[column] = var._S
        self._derive(row)

    def _derive(self, row):
        """river's ``Gaussian.log_pdf`` constants for one class (``ddof=1``)."""
        count = self.count[row]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = self.sum_squares[row] / (count - 1)
        valid = (count > 1) & (variance > 0.0)
        self.valid[row] = valid
        self.neg_two_var[row] = np.where(valid, -2.0 * variance, -2.0)
        self.half_log_var[row] = 0.0
        self.half_log_var[row, valid] = [
            0.5 * math.log(value) for value in variance[valid].tolist()
        ]

    def learned(self, leaf, label, row, w):
        """Mirror river's update of the leaf that just learnt ``(row, label)``.

        Called only when the cache matched the leaf before it learnt. Returns
        False when the leaf changed in a way the mirror does not follow (new
        class, new feature, deactivation); the cache must then be rebuilt.
        """
        if (
            leaf.splitters is not self.splitters
            or len(self.splitters) != self.n_splitters
            or label not in self.stats
            or len(leaf.stats) != len(self.labels)
        ):
            return False
        index = self.labels.index(label)
        values = row[self.row_index]
        count = self.count[index] + w
        mean_old = self.mean[index]
        mean_new = mean_old + (w / count) * (values - mean_old)
        self.sum_squares[index] += w * (values - mean_old) * (values - mean_new)
        self.count[index], self.mean[index] = count, mean_new
        self._derive(index)
        self._set_stats(leaf.stats)
        self.last_row = self.last_votes = None
        return True

    def votes(self, x, row):
        """river's ``do_naive_bayes_prediction(x, stats, splitters)``."""
        if row is self.last_row:
            return self.last_votes
        if not self.stats or sum(self.stats.values()) == 0:
            return {}
        n_classes = len(self.labels)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            terms = np.float_power(row[self.row_index] - self.mean, self.twos)
            terms /= self.neg_two_var
            terms -= _HALF_LOG_TAU
            terms -= self.half_log_var
        terms = np.where(self.valid & (terms > -np.inf), terms, 0.0)
        table = np.empty((n_classes, 1 + self.n_splitters))
        table[:, 0] = self.prior_column
        if self.in_order:
            table[:, 1:] = terms
        else:
            table[:, self.positions] = terms
            self._fill_others(table, x)
        if self.any_dead:
            table[self.dead] = 0.0
        totals = np.cumsum(table, axis=1)[:, -1].tolist()
        max_ll = max(totals)
        lse = max_ll + math.log(sum(math.exp(value - max_ll) for value in totals))
        votes = {
            label: math.exp(value - lse) for label, value in zip(self.labels, totals)
        }
        self.last_row, self.last_votes = row, votes
        return votes

    def _fill_others(self, table, x):
        """Columns of non-Gaussian splitters, computed as river computes them."""
        for index, label in enumerate(self.labels):
            if self.log_prior[index] is None:
                continue
            for position, key, splitter in self.others:
                log_proba = getattr(splitter, "cond_log_proba", None)
                if log_proba is not None:
                    value = log_proba(x[key], label)
                    table[index, position + 1] = value if value > -math.inf else 0.0
                else:
                    value = splitter.cond_proba(x[key], label)
                    table[index, position + 1] = math.log(value) if value > 0 else 0.0


class HoeffdingFastPath:
    """Exact fast predictions and learning for ``HoeffdingTreeClassifier`` experts.

    Parameters
    ----------
    feature_keys : list
        The feature names, in the order of the float rows passed along with
        each feature dict.
    """

    def __init__(self, feature_keys):
        self.feature_keys = list(feature_keys)
        self._key_index = {key: index for index, key in enumerate(self.feature_keys)}
        self._caches = weakref.WeakKeyDictionary()

    def __getstate__(self):
        return {"feature_keys": self.feature_keys}

    def __setstate__(self, state):
        self.__init__(state["feature_keys"])

    @staticmethod
    def supports(template):
        """Whether the experts cloned from ``template`` can take the fast path."""
        return (
            type(template) is river_tree.HoeffdingTreeClassifier
            and _river_tested()
            and type(template.splitter) is GaussianSplitter
        )

    def _cache(self, leaf, x):
        cache = self._caches.get(leaf)
        if cache is None:
            if any(key not in self._key_index for key in leaf.splitters):
                return None
            if any(key not in x for key in leaf.splitters):
                return None
            cache = _LeafCache(leaf, self._key_index)
            self._caches[leaf] = cache
        elif not cache.matches(leaf):
            if leaf.splitters is not cache.splitters or len(leaf.splitters) != (
                cache.n_splitters
            ):
                del self._caches[leaf]
                return self._cache(leaf, x)
            cache.refresh(leaf)
        return cache

    def _naive_bayes(self, leaf, x, row):
        cache = self._cache(leaf, x)
        if cache is None:
            from river.tree.utils import do_naive_bayes_prediction

            return do_naive_bayes_prediction(x, leaf.stats, leaf.splitters)
        return cache.votes(x, row)

    def _leaf_prediction(self, leaf, x, row, tree):
        kind = type(leaf)
        if kind is LeafNaiveBayesAdaptive:
            if leaf.is_active() and leaf._nb_correct_weight >= leaf._mc_correct_weight:
                return self._naive_bayes(leaf, x, row)
            return _majority_votes(leaf.stats)
        if kind is LeafNaiveBayes:
            if leaf.is_active() and leaf.total_weight >= tree.nb_threshold:
                return self._naive_bayes(leaf, x, row)
            return _majority_votes(leaf.stats)
        if kind is LeafMajorityClass:
            return _majority_votes(leaf.stats)
        return leaf.prediction(x, tree=tree)

    def predict_proba_one(self, tree, x, row):
        """``tree.predict_proba_one(x)``, from the cached leaf parameters.

        ``row`` holds the values of ``x`` in ``feature_keys`` order, as floats.
        """
        if not tree.classes:
            return {}
        proba = dict.fromkeys(sorted(tree.classes), 0.0)
        root = tree._root
        leaf = root.traverse(x, until_leaf=True) if isinstance(root, Branch) else root
        proba.update(self._leaf_prediction(leaf, x, row, tree))
        return proba

    def learn_one(self, tree, x, y, row, w=1.0):
        """``tree.learn_one(x, y, w=w)``, reusing the naive-Bayes prediction.

        This is river's ``HoeffdingTreeClassifier.learn_one`` for an instance
        that reaches a leaf; any other case (an unseen nominal value or a
        missing split feature) is handed to river.
        """
        root = tree._root
        p_node = node = None
        if isinstance(root, Branch):
            for node_on_path in root.walk(x, until_leaf=False):
                p_node, node = node, node_on_path
            if not isinstance(node, HTLeaf):
                tree.learn_one(x, y, w=w)
                return
        tree.classes.add(y)
        tree._train_weight_seen_by_model += w
        if root is None:
            tree._root = node = tree._new_leaf()
            tree._n_active_leaves = 1
        elif node is None:
            node = root
        if type(node) is LeafNaiveBayesAdaptive and node.is_active():
            stats = node.stats
            if len(stats) == 0 or _first_argmax(_majority_votes(stats)) == y:
                node._mc_correct_weight += w
            votes = self._naive_bayes(node, x, row)
            if len(votes) > 0 and _first_argmax(votes) == y:
                node._nb_correct_weight += w
            HTLeaf.learn_one(node, x, y, w=w, tree=tree)
            cache = self._caches.get(node)
            if cache is not None and not cache.learned(node, y, row, w):
                del self._caches[node]
        else:
            node.learn_one(x, y, w=w, tree=tree)
        if tree._growth_allowed and node.is_active():
            if node.depth >= tree.max_depth:
                node.deactivate()
                tree._n_active_leaves -= 1
                tree._n_inactive_leaves += 1
            else:
                weight_seen = node.total_weight
                if weight_seen - node.last_split_attempt_at >= tree.grace_period:
                    p_branch = (
                        p_node.branch_no(x) if isinstance(p_node, Branch) else None
                    )
                    tree._attempt_to_split(node, p_node, p_branch)
                    node.last_split_attempt_at = weight_seen
        if tree._train_weight_seen_by_model % tree.memory_estimate_period == 0:
            tree._estimate_model_size()
