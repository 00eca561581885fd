"""Experiment: river's max_share_to_split (0.99) against 1.0 (MOA has no such rule).

DriftMoE-Data (paper) on Electricity with ``day`` nominal. A river leaf more than
99 % pure at a split attempt is deactivated and reactivated with empty observers.
Usage (repository root): ``PYTHONPATH=. python benchmarks/_stream_max_share.py 1.0 1``.
"""

import sys

sys.path.insert(0, "benchmarks")
from river import tree
from stream import nominal_columns, real_stream

from skensemble.stream import DriftMoEClassifier, prequential_score

share = float(sys.argv[1])
seeds = int(sys.argv[2])
X, y, _ = real_stream("Electricity", None, "/work/shared/data")
y = 1 - y  # the logged runs predate CLASS_ORDER: the CSV's DOWN=0
nominal = nominal_columns("Electricity", "/work/shared/data")
for seed in range(seeds):
    template = tree.HoeffdingTreeClassifier(
        grace_period=50,
        delta=1e-7,
        tau=0.05,
        leaf_prediction="nba",
        split_criterion="info_gain",
        merit_preprune=False,
        max_size=32.0,
        nominal_attributes=nominal,
        max_share_to_split=share,
    )
    m = DriftMoEClassifier(router_dropout=0.0, expert=template, random_state=seed)
    r = prequential_score(m, X, y)
    print(
        "max_share_to_split",
        share,
        "seed",
        seed,
        f"acc {100 * r.accuracy:.2f}",
        f"{r.instances_per_second:.0f} inst/s",
        flush=True,
    )
