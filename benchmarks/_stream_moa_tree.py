"""Experiment helper (not shipped): MOA's naive-Bayes leaf rules patched into river.

``install()`` gives river's own Hoeffding-tree leaves (module
``river.tree.nodes.htc_nodes``) the rules of ``skensemble.stream._moa_tree``
(MOA's products of likelihoods, zero likelihoods, Laplace nominal counts and
lowest-class ties, also in the adaptive leaf's bookkeeping), so experiments can
use a plain river tree or DriftMoE's default experts. The package itself gives
its experts these rules without patching: ``DriftMoEClassifier(naive_bayes="moa")``.
Use with ``DriftMoEClassifier._exact_fast_path = False`` (the fast path has its
own copy of river's rules).
"""

from river.tree.nodes import htc_nodes

from skensemble.stream._moa_tree import _MOALeafNaiveBayesAdaptive, moa_naive_bayes


def install():
    htc_nodes.do_naive_bayes_prediction = moa_naive_bayes
    htc_nodes.LeafNaiveBayesAdaptive.learn_one = _MOALeafNaiveBayesAdaptive.learn_one
