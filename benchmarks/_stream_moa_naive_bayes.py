"""Experiment (not shipped): DriftMoE-Data on Electricity with MOA's naive Bayes.

Measures how much of the gap to the paper's 83.76 % comes from the expert's leaf
model. MOA (NaiveBayes, GaussianEstimator, NominalAttributeClassObserver): votes =
prior times the product of densities; a class with no estimator for an attribute,
or weight 0, gets density 0; zero standard deviation gives 1 if x equals the mean,
else 0; nominal: Laplace (count + 1) / (total + number of values). Usage (root):
``PYTHONPATH=. python benchmarks/_stream_moa_naive_bayes.py moa 45312 1 nominal``.
"""

import math
import sys
import time

sys.path.insert(0, "benchmarks")
import numpy as np
from stream import FAITHFUL_DATA, make_models, nominal_columns, real_stream

from skensemble.stream import _fast_tree, prequential_score

SQRT_TAU = math.sqrt(2 * math.pi)


def moa_votes(self, x, row):
    if not self.stats or sum(self.stats.values()) == 0:
        return {}
    total = sum(self.stats.values())
    xs = row[self.row_index]
    n = self.count
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        var = np.where(n > 1, self.sum_squares / (n - 1), 0.0)
        std = np.sqrt(var)
        diff = xs - self.mean
        dens = np.where(
            std > 0,
            np.exp(-(diff * diff) / (2 * var)) / (SQRT_TAU * std),
            np.where(xs == self.mean, 1.0, 0.0),
        )
    dens = np.where(n > 0, dens, 0.0)
    votes = {}
    for index, label in enumerate(self.labels):
        v = self.stats[label] / total
        v *= float(np.prod(dens[index]))
        for _position, key, splitter in self.others:
            dist = splitter._att_dist_per_class.get(label)
            if not dist:
                v *= 0.0
                continue
            n_values = int(max(dist)) + 1
            v *= (dist.get(x[key], 0.0) + 1.0) / (sum(dist.values()) + n_values)
        votes[label] = v
    s = sum(votes.values())
    if s > 0:
        votes = {k: v / s for k, v in votes.items()}
    return votes


mode = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else None
if mode == "moa":  # swap in MOA's rules; "river" keeps the fast path as is
    _fast_tree._LeafCache.votes = moa_votes
X, y, _ = real_stream("Electricity", n, "/work/shared/data")
y = 1 - y  # the logged runs predate CLASS_ORDER: the CSV's DOWN=0
nominal = (
    nominal_columns("Electricity", "/work/shared/data")
    if "nominal" in sys.argv
    else None
)
if "numeric" in sys.argv:
    X[:, 1] += 1  # back to 1..7 as in the previous run
out = {}
for seed in range(
    int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 1
):
    model = make_models(seed, nominal)[FAITHFUL_DATA]
    t = time.perf_counter()
    r = prequential_score(model, X, y)
    out[seed] = 100 * r.accuracy
    print(
        mode,
        sys.argv[4:],
        "seed",
        seed,
        f"acc {100 * r.accuracy:.2f}",
        f"{r.instances_per_second:.0f} inst/s",
        flush=True,
    )
print(mode, sys.argv, "mean", np.mean(list(out.values())))
