"""Experiment helper (not shipped): MOA's Hoeffding-tree leaf rules patched into river.

``install()`` replaces, in river's Hoeffding-tree leaves only (module
``river.tree.nodes.htc_nodes``), the naive-Bayes prediction and the adaptive
leaf's bookkeeping with MOA's (moa.classifiers.bayes.NaiveBayes
.doNaiveBayesPrediction, GaussianEstimator.probabilityDensity,
NominalAttributeClassObserver.probabilityOfAttributeValueGivenClass,
HoeffdingTree.LearningNodeNBAdaptive), read from Waikato/moa:

* votes = prior x product of per-attribute likelihoods (no log space);
* a class without an estimator for an attribute gets likelihood 0; a Gaussian
  estimator with zero standard deviation gives 1 at its mean, else 0;
* nominal likelihood (count + 1) / (class total + number of value slots);
* ties go to the lowest class index (MOA's ``maxIndex``), not to the first
  class in dict order; an empty leaf never counts as a correct majority vote.

Votes are returned normalised (same argmax), so DriftMoE sees probabilities.
Use with ``DriftMoEClassifier._exact_fast_path = False`` (the fast path has its
own copy of river's rules).
"""

import math

from river.tree.nodes import htc_nodes
from river.tree.splitter import GaussianSplitter

_NORMAL_CONSTANT = math.sqrt(2 * math.pi)


def _gaussian_density(estimator, value):
    var = estimator._var
    weight = var.mean.n
    if weight <= 0:
        return 0.0
    mean = var.mean._mean
    variance = var._S / (weight - 1) if weight > 1 else 0.0
    std = math.sqrt(variance) if variance > 0 else 0.0
    if std > 0:
        diff = value - mean
        return math.exp(-(diff * diff) / (2 * std * std)) / (_NORMAL_CONSTANT * std)
    return 1.0 if value == mean else 0.0


def moa_naive_bayes(x, stats, splitters):
    total = sum(stats.values())
    if not stats or total == 0:
        return {}
    votes = {}
    for label in sorted(stats):
        vote = stats[label] / total
        for feature, splitter in splitters.items():
            if feature not in x:
                continue
            dists = splitter._att_dist_per_class
            estimator = dists.get(label) if hasattr(dists, "get") else None
            if isinstance(splitter, GaussianSplitter):
                density = 0.0
                if estimator is not None:
                    density = _gaussian_density(estimator, x[feature])
                vote *= density
            else:
                if not estimator:
                    vote = 0.0
                    continue
                n_values = int(max(estimator)) + 1
                vote *= (estimator.get(x[feature], 0.0) + 1.0) / (
                    sum(estimator.values()) + n_values
                )
        votes[label] = vote
    norm = sum(votes.values())
    if norm > 0 and math.isfinite(norm):
        votes = {label: vote / norm for label, vote in votes.items()}
    return votes


def _max_index(votes):
    """MOA's maxIndex over class indices: first maximum in index order."""
    best = None
    for label in sorted(votes):
        if best is None or votes[label] > votes[best]:
            best = label
    return best


def _learn_one(self, x, y, *, w=1.0, tree=None):
    if self.is_active():
        if self.stats and _max_index(self.stats) == y:
            self._mc_correct_weight += w
        nb = moa_naive_bayes(x, self.stats, self.splitters)
        if nb and _max_index(nb) == y:
            self._nb_correct_weight += w
    htc_nodes.LeafNaiveBayes.learn_one(self, x, y, w=w, tree=tree)


def install():
    htc_nodes.do_naive_bayes_prediction = moa_naive_bayes
    htc_nodes.LeafNaiveBayesAdaptive.learn_one = _learn_one
