"""Experiment (not shipped): one river Hoeffding tree against CapyMOA's on Electricity.

CapyMOA's getting-started notebook (adaptive-machine-learning/CapyMOA,
notebooks/00_getting_started.ipynb) prints, for
``HoeffdingTree(schema=Electricity().get_schema(), grace_period=50)`` (MOA
defaults otherwise: confidence 1e-3, tie 0.05, info gain, NB adaptive,
disable_prepruning) evaluated prequentially with windows of 4,500:
cumulative accuracy 81.6605 % and the window accuracies in ``MOA_WINDOWS``.
A river tree with the same settings on the same stream tells how much the
tree internals alone differ. Variants (argv):

* ``moa_labels``: class indices as in MOA's elecNormNew (UP=0, DOWN=1); ties and
  untrained predictions then go to UP, as in MOA. Default: our file's 0=DOWN.
* ``moa_unseen``: an instance reaching a nominal branch that has no child for
  its value is predicted with the branch's class counts at split time (MOA's
  ``getVotesForInstance`` uses the split node); river follows the most common
  path.
* ``moa_nb``: MOA's naive Bayes and adaptive-leaf rules (``_stream_moa_tree``).
* ``share099``: river's default max_share_to_split=0.99 (else 1.0).

Usage (repository root):
``PYTHONPATH=. python benchmarks/_stream_ht_calibration.py [variants]``.
"""

import sys

sys.path.insert(0, "benchmarks")
import numpy as np
from river import tree
from river.tree.base import Branch
from stream import nominal_columns, real_stream

MOA_WINDOWS = [
    87.777778,
    83.666667,
    85.644444,
    81.977778,
    86.177778,
    78.088889,
    79.066667,
    74.955556,
    74.555556,
    84.377778,
    84.266667,
]
MOA_CUMULATIVE = 81.6604872881356

args = set(sys.argv[1:])
if "moa_nb" in args:  # MOA's naive Bayes and tie rules in the leaves
    import _stream_moa_tree

    _stream_moa_tree.install()
X, y, _ = real_stream("Electricity", None, "/work/shared/data")
if "moa_labels" not in args:  # real_stream gives MOA's indices (UP=0) now
    y = 1 - y
nominal = nominal_columns("Electricity", "/work/shared/data")
model = tree.HoeffdingTreeClassifier(
    grace_period=50,
    delta=1e-3,
    tau=0.05,
    leaf_prediction="nba",
    split_criterion="info_gain",
    merit_preprune=False,
    max_size=32.0,
    nominal_attributes=nominal,
    max_share_to_split=0.99 if "share099" in args else 1.0,
)
unseen_hits = 0


def predict_moa_unseen(x):
    global unseen_hits
    node = model._root
    while isinstance(node, Branch):
        try:
            node = node.next(x)
        except KeyError:
            unseen_hits += 1
            stats = node.stats
            total = sum(stats.values())
            proba = dict.fromkeys(sorted(model.classes), 0.0)
            proba.update({k: v / total for k, v in stats.items()})
            return max(proba, key=proba.get)
    return model.predict_one(x)


correct = np.zeros(len(y), dtype=bool)
keys = range(X.shape[1])
for i, (row, label) in enumerate(zip(X.tolist(), y.tolist())):
    x = dict(zip(keys, row))
    if "moa_unseen" in args and model._root is not None:
        pred = predict_moa_unseen(x)
    else:
        pred = model.predict_one(x)
        if pred is None:  # untrained: MOA's zero votes -> index 0
            pred = 0
    correct[i] = pred == label
    model.learn_one(x, label)
ends = list(range(4500, len(y), 4500)) + [len(y)]
windows = [100 * correct[max(0, e - 4500) : e].mean() for e in ends]
print("variants", sorted(args), "unseen-branch predictions", unseen_hits)
print(f"cumulative {100 * correct.mean():.4f}  (MOA {MOA_CUMULATIVE:.4f})")
print("window  river   MOA    diff")
for e, a, b in zip(ends, windows, MOA_WINDOWS):
    print(f"{e:6d} {a:6.2f} {b:6.2f} {a - b:+6.2f}")
print("leaves", model.n_leaves, "depth", model.height)
