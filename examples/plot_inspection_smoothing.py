"""
=====================================================
Forests smooth more on new inputs than on their own
=====================================================

A random forest or a squared-error boosted model predicts a weighted average of
its training targets, ``f(x) = s(x) @ y_train``.
:func:`~skensemble.inspection.smoother_weights` reads the weights ``s(x)`` out
of the fitted model, and
:func:`~skensemble.inspection.effective_parameters` turns them into the
effective number of parameters ``p = n * mean ||s(x)||^2`` of Curth, Jeffares and
van der Schaar (2023, 2024).

This example reproduces the central findings of "Why do Random Forests Work?" on
its simulated setting (MARS additive function, n = 500, 50 trees, a
``max_features`` sweep) and then looks at a real data set:

* forests of fully grown trees interpolate, so on the training inputs they use
  all ``n`` parameters, but on new inputs they smooth far more, and more so the
  more random the trees are (smaller ``max_features``);
* the further test inputs are from the training data, the more they smooth.
"""

# %%
# The simulated setting
# ---------------------
# Inputs are uniform on the unit cube; the target is Friedman's additive MARS
# function with unit Gaussian noise. 500 training and 500 test rows.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.model_selection import train_test_split

from skensemble.inspection import (
    SmootherDisplay,
    effective_parameters,
    make_mars_additive,
    similar_training_examples,
    smoother_weights,
)

X_train, y_train = make_mars_additive(500, random_state=0)
X_test, y_test = make_mars_additive(500, random_state=1)

# %%
# The weights reproduce the forest's predictions exactly.
forest = RandomForestRegressor(
    n_estimators=50, bootstrap=False, max_features=0.6, random_state=0
).fit(X_train, y_train)
weights = smoother_weights(forest, X_train, X_test).weights
print("max |S y - predict|:", np.abs(weights @ y_train - forest.predict(X_test)).max())
print("non-zero weights per test row:", weights.nnz / X_test.shape[0])

# %%
# Effective parameters against the number of trees
# ------------------------------------------------
# Without bootstrap every fully grown tree puts all the weight of a training
# input on itself, so ``p_train`` stays at n = 500. On test inputs the trees
# disagree, and the average of their weights is spread over many training rows.
figure, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for ax, max_features in zip(axes, [1.0, 0.6, 0.2]):
    forest = RandomForestRegressor(
        n_estimators=50, bootstrap=False, max_features=max_features, random_state=0
    ).fit(X_train, y_train)
    SmootherDisplay.from_estimator(forest, X_train, X_test, n_points=8, ax=ax)
    mse = np.mean((forest.predict(X_test) - y_test) ** 2)
    ax.set_title(f"max_features={max_features}, test MSE {mse:.2f}")
figure.tight_layout()

# %%
# Bootstrap lowers ``p_train`` too: each training row is left out of about a
# third of the trees, so its own weight is shared out (about 0.4 n).
bagged = RandomForestRegressor(n_estimators=50, max_features=1.0, random_state=0).fit(
    X_train, y_train
)
print(f"bootstrap forest: p_train = {effective_parameters(bagged, X_train):.0f}")
print(
    f"                  p_test  = {effective_parameters(bagged, X_train, X_test):.0f}"
)

# %%
# Smoothing grows with the distance to the training data
# ------------------------------------------------------
# Test inputs are the training inputs plus uniform noise of half-width delta.
# At delta = 0 they are the training inputs (p = n); ``p_test`` then falls as
# they move away.
forest = RandomForestRegressor(
    n_estimators=50, bootstrap=False, max_features=0.2, random_state=0
).fit(X_train, y_train)
display = SmootherDisplay.from_estimator(
    forest,
    X_train,
    sweep="dissimilarity",
    offsets=(0.0, 0.02, 0.05, 0.1, 0.2, 0.3),
    random_state=0,
)
print(np.round(display.test_parameters))

# %%
# Boosting: the effective parameters grow with the rounds
# --------------------------------------------------------
# Boosting weights can be negative and boosting fits its training rows more
# with every round, so ``p_train`` grows; ``p_test`` grows far more slowly.
boosting = GradientBoostingRegressor(
    n_estimators=150, learning_rate=0.1, random_state=0
).fit(X_train, y_train)
SmootherDisplay.from_estimator(boosting, X_train, X_test[:200], n_points=6)

# %%
# A real data set: which patients made a prediction
# -------------------------------------------------
# On scikit-learn's diabetes data (442 patients) the same gap appears, and the
# weights name the training patients behind each prediction.
X, y = load_diabetes(return_X_y=True)
X_fit, X_new, y_fit, y_new = train_test_split(X, y, test_size=0.3, random_state=0)
forest = RandomForestRegressor(
    n_estimators=100, max_features=0.33, min_samples_leaf=3, random_state=0
).fit(X_fit, y_fit)
print(f"p_train = {effective_parameters(forest, X_fit):.0f} of n = {len(y_fit)}")
print(f"p_test  = {effective_parameters(forest, X_fit, X_new):.0f}")
examples = similar_training_examples(forest, X_fit, X_new[:3], n=5)
for row, (rows, share) in enumerate(zip(examples.indices, examples.coverage)):
    print(
        f"test patient {row}: prediction {forest.predict(X_new[row : row + 1])[0]:.0f}"
        f", top-5 training patients {rows.tolist()} (targets "
        f"{y_fit[rows].astype(int).tolist()}) carry {share:.0%} of the weight"
    )
