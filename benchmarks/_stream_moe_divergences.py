"""Experiment (not shipped): DriftMoE-Data (paper) on Electricity under the paper code's
semantics that our implementation does not share, one switch at a time.

Switches (argv, any combination; numbers are the seeds to run, default 0):

* ``moa_labels``: class indices of MOA's elecNormNew (``class {UP,DOWN}``: UP=0).
  Our CSV has DOWN=0, UP=1. In the paper's code every tie and every untrained
  expert predicts class index 0, i.e. UP. (``stream.real_stream`` now returns
  MOA's indices; without this switch the script recodes to the CSV's.)
* ``zero_untrained`` (now the package's behaviour; without the switch the
  script restores the former uniform vector): an expert that has learnt
  nothing gives the zero vector
  (MOA's ``HoeffdingTree.getVotesForInstance`` with no root returns
  ``new double[numClasses]``; CapyMOA passes it through, so the paper's
  ``p_list is None -> uniform`` branch never runs). Prediction unchanged
  (argmax 0), but such an expert never wins the mask fallback
  ``argmax_i P[i, y]``; with our uniform vector it always wins it.
* ``moa_nb``: MOA's naive Bayes and adaptive-leaf rules in the experts
  (``_stream_moa_tree``), normalised votes.
* ``raw_votes`` (implies moa_nb): the experts' votes are MOA's raw ones (naive
  Bayes: prior x product of densities; majority class: counts), cast to float32
  as the paper's ``torch.tensor(exp_probs_list, dtype=torch.float32)``; so the
  fallback compares unnormalised votes across experts.

Usage (repository root):
``PYTHONPATH=. python benchmarks/_stream_moe_divergences.py moa_labels 0 1 2``.
"""

import sys
import time

sys.path.insert(0, "benchmarks")
import numpy as np
from stream import nominal_columns, real_stream

from skensemble.stream import DriftMoEClassifier, _experts, _step, prequential_score

args = [a for a in sys.argv[1:] if not a.isdigit()]
seeds = [int(a) for a in sys.argv[1:] if a.isdigit()] or [0]
X, y, _ = real_stream("Electricity", None, "/work/shared/data")
nominal = nominal_columns("Electricity", "/work/shared/data")
if "moa_labels" not in args:  # real_stream gives MOA's indices (UP=0) now
    y = 1 - y
if "moa_nb" in args or "raw_votes" in args:
    import _stream_moa_tree

    _stream_moa_tree.install()
    DriftMoEClassifier._exact_fast_path = False
if "raw_votes" in args:
    from river.tree.nodes import htc_nodes
    from river.tree.splitter import GaussianSplitter

    from skensemble.stream._moa_tree import _gaussian_likelihood, _nominal_likelihood

    def _raw(x, stats, splitters):
        """MOA's votes before normalisation: prior x product of likelihoods."""
        total = sum(stats.values())
        if not stats or total == 0:
            return {}
        votes = {}
        for label in sorted(stats):
            vote = stats[label] / total
            for feature, splitter in splitters.items():
                if feature not in x:
                    continue
                estimator = splitter._att_dist_per_class.get(label)
                gaussian = isinstance(splitter, GaussianSplitter)
                if estimator is None or (not gaussian and not estimator):
                    vote = 0.0
                elif gaussian:
                    vote *= _gaussian_likelihood(estimator, x[feature])
                else:
                    vote *= _nominal_likelihood(estimator, x[feature])
            votes[label] = vote
        return votes

    htc_nodes.do_naive_bayes_prediction = _raw
    # majority class: MOA returns the raw class counts
    htc_nodes.LeafMajorityClass.prediction = lambda self, x, *, tree=None: dict(
        self.stats
    )

zero_untrained = "zero_untrained" in args
float32 = "raw_votes" in args
original_fill = _experts.fill_class_probabilities


def fill(experts, x, out, row=None, fast_path=None):
    original_fill(experts, x, out, row, fast_path)
    for target, expert in zip(out, experts):
        if not expert.classes:  # without the switch: the former uniform vector
            target.fill(0.0 if zero_untrained else 1.0 / out.shape[1])
    if float32:
        out[:] = out.astype(np.float32)


_step.fill_class_probabilities = fill

for seed in seeds:
    model = DriftMoEClassifier(
        router_dropout=0.0, nominal_features=nominal, random_state=seed
    )
    start = time.perf_counter()
    result = prequential_score(model, X, y)
    print(
        "switches",
        sorted(args),
        "seed",
        seed,
        f"acc {100 * result.accuracy:.2f}",
        f"fallbacks {model.n_mask_fallbacks_}",
        "learn counts",
        model.expert_learn_counts_.tolist(),
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
