"""
=====================================================
DriftMoE on a stream with abrupt concept drift
=====================================================

A stream classifier learns while it predicts: every instance is first
predicted, then its label arrives and the model learns it (test-then-train, or
*prequential* evaluation). When the concept changes, accuracy drops and the
question is how fast the model recovers.

This example builds a SEA stream (three features, the label is
``x0 + x1 <= threshold``, 10 % label noise) whose threshold changes abruptly
twice, and compares :class:`~skensemble.stream.DriftMoEClassifier` as in the
paper, DriftMoE with its adaptive options, and a single Hoeffding tree.
"""

# %%
# A drifting stream from river's generators
# ------------------------------------------
# ``ConceptDriftStream`` switches from one concept to the next around
# ``position``; nesting two of them gives two drifts.
import numpy as np
from river import drift, tree
from river.datasets import synth

from skensemble.stream import DriftMoEClassifier, PrequentialDisplay

n_instances = 9000
drifts = [3000, 6000]
stream = synth.ConceptDriftStream(
    synth.ConceptDriftStream(
        synth.SEA(variant=0, noise=0.1, seed=1),
        synth.SEA(variant=2, noise=0.1, seed=1),
        position=drifts[0],
        width=50,
        seed=1,
    ),
    synth.SEA(variant=3, noise=0.1, seed=1),
    position=drifts[1],
    width=50,
    seed=1,
)
X, y = [], []
for x, label in stream.take(n_instances):
    X.append([x[0], x[1], x[2]])
    y.append(int(label))
X, y = np.array(X), np.array(y)
print(X.shape, np.bincount(y))

# %%
# Three models, one prequential run each
# --------------------------------------
# ``router_dropout=0.0`` reproduces the paper's MoE-Data step, whose router
# never applied dropout. The second DriftMoE standardises the router input,
# mixes the top three experts softly and resets an expert when an ADWIN
# detector watching its errors fires.
models = {
    "DriftMoE (paper)": DriftMoEClassifier(router_dropout=0.0, random_state=0),
    "DriftMoE (options)": DriftMoEClassifier(
        router_dropout=0.0,
        standardize=True,
        mixing="soft",
        drift_detector=drift.ADWIN(),
        random_state=0,
    ),
    "Hoeffding tree": tree.HoeffdingTreeClassifier(grace_period=50),
}
display = PrequentialDisplay.from_estimator(
    models, X, y, window=300, drift_positions=drifts
)
for name, result in display.results.items():
    print(
        f"{name:20s} accuracy {result.accuracy:.3f}  kappa-M {result.kappa_m:.3f}  "
        f"{result.instances_per_second:,.0f} instances/s"
    )

# %%
# What the mixture did
# --------------------
# Only the router's top three experts learn each instance, so the experts
# specialise; ``expert_learn_counts_`` shows how the router spread the work and
# ``n_expert_resets_`` how often a drift detector replaced an expert.
options = models["DriftMoE (options)"]
print("instances learnt per expert:", options.expert_learn_counts_)
print("expert resets:", options.n_expert_resets_)
print("router steps:", options.n_router_steps_)
