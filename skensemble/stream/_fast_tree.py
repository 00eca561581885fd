"""Exact, faster predictions and learning for river's Hoeffding-tree experts.

river's Hoeffding tree predicts with its leaf's naive Bayes model by calling,
for every class and every feature, a Python ``log_pdf`` of the leaf's Gaussian
estimator; the adaptive leaf ("nba") runs the same naive Bayes prediction again
inside ``learn_one``; learning updates one Python ``GaussianSplitter`` per
feature, and every ``grace_period`` instances a split attempt evaluates ten
thresholds per feature in Python. In DriftMoE every expert predicts every
instance and ``top_k`` experts learn it, so on wide streams these dominate.

:class:`HoeffdingFastPath` does the same work on arrays and gives the same
numbers and the same trees, bit for bit:

* per leaf, a :class:`~skensemble.stream._fast_leaf.LeafArrays` keyed by the
  leaf object mirrors the Gaussian statistics (as numpy arrays, or for narrow
  leaves as Python lists, :mod:`~skensemble.stream._fast_leaf_lists`, where
  numpy's cost per call outweighs the arithmetic); it predicts the naive Bayes
  votes with numpy and learns an instance with river's Welford update over all
  features at once; :meth:`HoeffdingFastPath.flush` writes the results into
  river's own estimators, and runs before any river code reads them, so river
  and users (after a flush) always see the tree river would have built;
* split attempts evaluate all features and thresholds at once
  (:mod:`~skensemble.stream._fast_split`);
* the adaptive leaf's bookkeeping in ``learn_one`` reuses the prediction the
  test step made for the same instance.

Splitters other than river's ``GaussianSplitter`` (e.g. nominal attributes)
keep river's own code. Instances the arrays do not follow (a class or feature
new to a leaf, a non-finite value, a weight that is not positive) are learnt
by river itself, and the leaf's arrays are rebuilt from river's objects.
"""

import math
import numbers
import weakref

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

from . import _fast_leaf_lists
from ._fast_leaf import LeafArrays
from ._fast_leaf_lists import LeafLists
from ._fast_split import attempt_to_split

# The learn path below mirrors HoeffdingTreeClassifier.learn_one of these river
# versions (tests compare both over long streams); others use river's own.
_TESTED_RIVER = ("0.26",)


_LEAVES = (LeafMajorityClass, LeafNaiveBayes, LeafNaiveBayesAdaptive)


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


class HoeffdingFastPath:
    """Exact fast predictions and learning for ``HoeffdingTreeClassifier`` experts.

    Learning through :meth:`learn_one` leaves part of river's statistics in
    the fast path's arrays; call :meth:`flush` before anything other than this
    object reads the trees (DriftMoE does at the end of every batch).

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
        # Leaf arrays holding learnt statistics not yet written into river's
        # Gaussian estimators (see flush).
        self._dirty = set()

    def __getstate__(self):
        self.flush()
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

    def flush(self):
        """Write every learnt statistic into the river trees.

        Learning updates the Gaussian estimators' weight, mean and sum of
        squares in the leaf arrays only; river's objects catch up here. The
        fast path flushes before any river code reads them (a split attempt
        or an instance river learns itself, a memory estimate); callers flush
        before handing the trees to anyone else, e.g. at the end of a batch.
        """
        for arrays in self._dirty:
            arrays.sync()
        self._dirty.clear()

    def _cache(self, leaf, x):
        cache = self._caches.get(leaf)
        if cache is None:
            if any(key not in self._key_index for key in leaf.splitters):
                return None
            if any(key not in x for key in leaf.splitters):
                return None
            cells = max(len(leaf.stats), 2) * len(leaf.splitters)
            narrow = cells <= _fast_leaf_lists.MAX_LIST_CELLS
            cache = (LeafLists if narrow else LeafArrays)(leaf, self._key_index)
            self._caches[leaf] = cache
        elif not cache.matches(leaf):
            if leaf.splitters is not cache.splitters or len(leaf.splitters) != (
                cache.n_splitters
            ):
                cache.sync()
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
        """``tree.learn_one(x, y, w=w)``, on the leaf's arrays where it can.

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
                self.flush()
                tree.learn_one(x, y, w=w)
                return
        tree.classes.add(y)
        tree._train_weight_seen_by_model += w
        if root is None:
            tree._root = node = tree._new_leaf()
            tree._n_active_leaves = 1
        elif node is None:
            node = root
        kind = type(node)
        if kind in _LEAVES and node.is_active():
            if kind is LeafNaiveBayesAdaptive:
                stats = node.stats
                if len(stats) == 0 or _first_argmax(_majority_votes(stats)) == y:
                    node._mc_correct_weight += w
                votes = self._naive_bayes(node, x, row)
                if len(votes) > 0 and _first_argmax(votes) == y:
                    node._nb_correct_weight += w
            self._learn_leaf(node, x, y, row, w, tree)
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
                    attempt_to_split(tree, node, p_node, p_branch, self._cache(node, x))
                    node.last_split_attempt_at = weight_seen
        if tree._train_weight_seen_by_model % tree.memory_estimate_period == 0:
            self.flush()
            tree._estimate_model_size()

    def _learn_leaf(self, leaf, x, y, row, w, tree):
        """``HTLeaf.learn_one`` of an active leaf: through its arrays, else river."""
        arrays = self._cache(leaf, x)
        if arrays is not None:
            if arrays.learn(leaf, x, y, row, w, len(self.feature_keys)):
                self._dirty.add(arrays)
                return
            arrays.sync()
        _river_leaf_learn(leaf, x, y, w, tree)
        self._caches.pop(leaf, None)


def _river_leaf_learn(leaf, x, y, w, tree):
    """``HTLeaf.learn_one(leaf, x, y, w=w, tree=tree)`` of river 0.26.

    The one difference: a new Gaussian splitter is built directly,
    ``GaussianSplitter(n_splits=...)``, which is what river's generic (and,
    for the hundreds of features of a new leaf, slow) ``clone`` returns.
    """
    leaf.update_stats(y, w)
    if not leaf.is_active():
        return
    nominal = tree.nominal_attributes
    template = leaf.splitter
    gaussian = type(template) is GaussianSplitter
    splitters, disabled = leaf.splitters, leaf._disabled_attrs
    for key, value in leaf._iter_features(x):
        if key in disabled:
            continue
        splitter = splitters.get(key)
        if splitter is None:
            if (nominal is not None and key in nominal) or not isinstance(
                value, numbers.Number
            ):
                splitter = leaf.new_nominal_splitter()
            elif gaussian:
                splitter = GaussianSplitter(n_splits=template.n_splits)
            else:
                splitter = template.clone()
            splitters[key] = splitter
        splitter.update(value, y, w)
