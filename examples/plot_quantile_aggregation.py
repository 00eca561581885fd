"""
Combining quantile regressors: aggregation, non-crossing and conformal intervals
================================================================================

Two quantile models that are each good somewhere: a linear quantile regression
and gradient boosting with the quantile loss. :class:`~skensemble.quantile.
QuantileAggregator` learns how much to trust each of them, per level and per
input (the local-fine "DQA" aggregator of Fakoor et al. 2023), from their
out-of-fold predictions. Sorting guarantees non-crossing quantiles, and split
conformal calibration guarantees the coverage of every central interval.
"""

# %%
# Heteroscedastic data
# --------------------
# The noise grows with ``|x|``: the true quantiles fan out, which a linear model
# cannot follow but whose centre it gets right.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor

from skensemble.metrics import (
    interval_coverage,
    interval_width,
    weighted_interval_score,
)
from skensemble.quantile import (
    MultiQuantileRegressor,
    QuantileAggregator,
    QuantileCalibrationDisplay,
)

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(1400, 1))
y = 2 * X[:, 0] + (0.3 + 0.6 * np.abs(X[:, 0])) * rng.standard_normal(1400)
X_train, y_train, X_test, y_test = X[:600], y[:600], X[600:], y[600:]
levels = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])

# %%
# Base models and aggregators
# ---------------------------
base = [
    ("linear", QuantileRegressor(alpha=0.0)),
    ("boosting", HistGradientBoostingRegressor(loss="quantile", max_iter=40)),
]
models = {
    name: MultiQuantileRegressor(estimator, quantiles=levels).fit(X_train, y_train)
    for name, estimator in base
}
models["mean"] = QuantileAggregator(base, quantiles=levels, weights="mean")
models["local-fine + CQR"] = QuantileAggregator(
    base, quantiles=levels, conformal="split", max_iter=100, random_state=0
)
for name in ("mean", "local-fine + CQR"):
    models[name].fit(X_train, y_train)

for name, model in models.items():
    predictions = model.predict(X_test, quantiles=levels)
    interval = model.predict_interval(X_test, confidence=0.9)
    score = weighted_interval_score(y_test, predictions, quantiles=levels)
    print(
        f"{name:>18}: WIS {score:.3f}"
        f"  90% coverage {interval_coverage(y_test, interval):.3f}"
        f"  width {interval_width(interval):.2f}"
    )

# %%
# Where the aggregator trusts which model
# ---------------------------------------
# Local weights depend on ``x``; here the weight of each model at the 0.95
# level (summed over its input levels) along the input axis.
grid = np.linspace(-3, 3, 200)[:, None]
weights = models["local-fine + CQR"].predict_weights(grid)  # (n, model, in, out)
upper = weights[:, :, :, -1].sum(axis=2)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for index, (name, _) in enumerate(base):
    left.plot(grid[:, 0], upper[:, index], label=name)
left.set(xlabel="x", ylabel="weight at the 0.95 level", title="Local weights")
left.legend()

interval = models["local-fine + CQR"].predict_interval(grid, confidence=0.9)
right.scatter(X_test[:, 0], y_test, s=3, color="grey", alpha=0.5)
right.fill_between(grid[:, 0], interval[:, 0], interval[:, 1], alpha=0.3)
right.set(xlabel="x", ylabel="y", title="Conformal 90% interval")

# %%
# Calibration of every level
# --------------------------
fig, ax = plt.subplots()
for name in ("linear", "boosting", "local-fine + CQR"):
    QuantileCalibrationDisplay.from_estimator(
        models[name], X_test, y_test, name=name, ax=ax
    )
plt.show()
