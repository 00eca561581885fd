"""Hoeffding-tree experts whose leaves predict with MOA's naive Bayes rules.

The paper's experts are MOA Hoeffding trees (through CapyMOA). river's tree
follows MOA's growth rules but its naive-Bayes leaf model differs. MOA
(``NaiveBayes.doNaiveBayesPrediction``, ``GaussianEstimator``,
``NominalAttributeClassObserver``, ``HoeffdingTree.LearningNodeNBAdaptive``):

* a class's vote is its prior times the product of the per-feature likelihoods,
  in plain floating point (river sums logarithms);
* a class without an estimator for a feature, or whose Gaussian estimator has
  seen no weight, gets likelihood 0 (river skips the feature); a Gaussian with
  zero standard deviation gives 1 at its mean and 0 elsewhere (river skips it);
* a nominal value has likelihood ``(count + 1) / (class total + value slots)``
  (Laplace; river uses the unsmoothed frequency and skips a zero);
* ties go to the lowest class index (MOA's ``maxIndex``), also in the adaptive
  leaf's bookkeeping, where an empty leaf never counts as a correct majority
  vote.

Only the leaf model changes; splits, split evaluation and memory management
are river's, which match MOA's for these settings.
"""

import math

from river import tree
from river.tree.nodes.htc_nodes import (
    LeafMajorityClass,
    LeafNaiveBayes,
    LeafNaiveBayesAdaptive,
)
from river.tree.splitter import GaussianSplitter

_SQRT_TAU = math.sqrt(math.tau)


def _gaussian_likelihood(estimator, value):
    """MOA's ``GaussianEstimator.probabilityDensity`` of river's estimator."""
    variance_tracker = estimator._var
    weight = variance_tracker.mean.n
    if weight <= 0:
        return 0.0
    mean = variance_tracker.mean._mean
    variance = variance_tracker._S / (weight - 1) if weight > 1 else 0.0
    if variance > 0:
        deviation = math.sqrt(variance)
        diff = value - mean
        return math.exp(-(diff * diff) / (2 * variance)) / (_SQRT_TAU * deviation)
    return 1.0 if value == mean else 0.0


def _nominal_likelihood(counts, value):
    """MOA's Laplace-smoothed nominal likelihood.

    MOA counts value slots up to the largest value index seen for the class;
    with non-numeric values the number of distinct values seen stands in.
    """
    try:
        slots = int(max(counts)) + 1
    except (TypeError, ValueError):
        slots = len(counts)
    return (counts.get(value, 0.0) + 1.0) / (sum(counts.values()) + slots)


def moa_naive_bayes(x, stats, splitters):
    """Class votes of a leaf, as MOA computes them, normalised to sum to one.

    Classes are taken in sorted order (MOA's class indices). When every vote
    underflows to zero the zero votes are returned, so the prediction falls on
    the lowest class, as MOA's ``maxIndex`` does.
    """
    total = sum(stats.values())
    if not stats or total == 0:
        return {}
    votes = {}
    for label in sorted(stats):
        vote = stats[label] / total
        for feature, splitter in splitters.items():
            if feature not in x or x[feature] is None:
                continue
            estimator = splitter._att_dist_per_class.get(label)
            if isinstance(splitter, GaussianSplitter):
                if estimator is None:
                    vote = 0.0
                else:
                    vote *= _gaussian_likelihood(estimator, x[feature])
            elif not estimator:
                vote = 0.0
            else:
                vote *= _nominal_likelihood(estimator, x[feature])
        votes[label] = vote
    norm = sum(votes.values())
    if math.isinf(norm):  # overflow: MOA's maxIndex takes the first infinite vote
        return {label: float(math.isinf(vote)) for label, vote in votes.items()}
    if norm > 0:
        return {label: vote / norm for label, vote in votes.items()}
    return votes


def _max_index(votes):
    """The lowest class among the maximal votes (MOA's ``Utils.maxIndex``)."""
    best = None
    for label in sorted(votes):
        if best is None or votes[label] > votes[best]:
            best = label
    return best


class _MOALeafNaiveBayes(LeafNaiveBayes):
    def prediction(self, x, *, tree=None):
        if self.is_active() and self.total_weight >= tree.nb_threshold:
            return moa_naive_bayes(x, self.stats, self.splitters)
        return LeafMajorityClass.prediction(self, x)


class _MOALeafNaiveBayesAdaptive(LeafNaiveBayesAdaptive):
    def learn_one(self, x, y, *, w=1.0, tree=None):
        if self.is_active():
            if self.stats and _max_index(self.stats) == y:
                self._mc_correct_weight += w
            votes = moa_naive_bayes(x, self.stats, self.splitters)
            if votes and _max_index(votes) == y:
                self._nb_correct_weight += w
        LeafMajorityClass.learn_one(self, x, y, w=w, tree=tree)

    def prediction(self, x, *, tree=None):
        if self.is_active() and self._nb_correct_weight >= self._mc_correct_weight:
            return moa_naive_bayes(x, self.stats, self.splitters)
        return LeafMajorityClass.prediction(self, x)


class MOAHoeffdingTreeClassifier(tree.HoeffdingTreeClassifier):
    """river's Hoeffding tree with MOA's naive-Bayes leaf rules (see module doc).

    Takes river's ``HoeffdingTreeClassifier`` parameters. Majority-class leaves
    are unchanged.
    """

    def _new_leaf(self, initial_stats=None, parent=None):
        if self._leaf_prediction == self._MAJORITY_CLASS:
            return super()._new_leaf(initial_stats, parent)
        stats = {} if initial_stats is None else initial_stats
        depth = 0 if parent is None else parent.depth + 1
        if self._leaf_prediction == self._NAIVE_BAYES:
            return _MOALeafNaiveBayes(stats, depth, self.splitter)
        return _MOALeafNaiveBayesAdaptive(stats, depth, self.splitter)
