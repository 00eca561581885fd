"""
TabM quickstart: one network, k members
=======================================

:class:`~skensemble.tabm.TabMRegressor` and
:class:`~skensemble.tabm.TabMClassifier` train k MLPs that share most of their
weights inside one network. This example fits both on small datasets bundled
with scikit-learn, compares them with scikit-learn's MLP and
HistGradientBoosting, looks at how far the members disagree, and reads the
learning curve that early stopping produced.

The configuration is deliberately small (``k=8``, ``d_block=64``,
``max_iter=40``) so the example runs in seconds on a CPU; the defaults
(``k=32``, three blocks of width 512, up to 1000 epochs with patience 16) are
the paper's and fit real datasets better. See the :ref:`user guide <tabm>`.
"""

# %%
# Data
# ----
# The diabetes data (442 patients, 10 numeric features, a disease-progression
# score) for regression and the breast-cancer data (569 tumours, 30 features,
# malignant or benign) for classification. TabM needs no scaling: it applies
# its own noisy quantile transform to the numeric columns.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import accuracy_score, log_loss, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skensemble.tabm import TabMClassifier, TabMRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

small = dict(k=8, d_block=64, max_iter=40, random_state=0)

# %%
# Regression
# ----------
# ``fit`` holds out ``validation_fraction=0.2`` of the training rows, scores the
# ensemble on them after every epoch and keeps the best epoch's weights.
regressors = {
    "TabM (k=8)": TabMRegressor(**small),
    "MLP": make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(64, 64, 64),
            learning_rate_init=2e-3,
            max_iter=400,
            early_stopping=True,
            random_state=0,
        ),
    ),
    "HistGradientBoosting": HistGradientBoostingRegressor(random_state=0),
}
for name, model in regressors.items():
    model.fit(X_train, y_train)
    rmse = root_mean_squared_error(y_test, model.predict(X_test))
    print(f"{name:>22}: test RMSE {rmse:6.2f}")

# %%
# Members and their mean
# ----------------------
# ``predict_members`` returns every member's prediction, shape
# ``(n_samples, k)``; ``predict`` is their mean. The members start from
# different random signs in their first adapter and see the rows in different
# orders, so they disagree; the spread is a rough, uncalibrated indication of
# how uncertain the ensemble is on each row.
tabm = regressors["TabM (k=8)"]
members = tabm.predict_members(X_test)
mean = tabm.predict(X_test)
print("members:", members.shape, " mean:", mean.shape)
print("mean of members == predict:", np.allclose(members.mean(axis=1), mean))

rows = np.argsort(mean)[::3]
position = np.arange(len(rows))
fig, ax = plt.subplots(figsize=(8, 4))
for j in range(members.shape[1]):
    ax.scatter(
        position,
        members[rows, j],
        s=10,
        color="tab:blue",
        alpha=0.35,
        label="members" if j == 0 else None,
    )
ax.plot(position, mean[rows], color="black", lw=1.5, label="ensemble mean")
ax.scatter(position, y_test[rows], marker="x", color="tab:red", label="true value")
ax.set_xlabel("test rows, sorted by the ensemble prediction")
ax.set_ylabel("disease progression")
ax.set_title("TabMRegressor: 8 member predictions and their mean")
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# Learning curve
# --------------
# ``loss_curve_`` is the mean of the members' training losses per epoch and
# ``validation_scores_`` the validation RMSE of the ensemble mean, both in
# standardised target units (the regressor standardises ``y`` internally).
# ``best_iteration_`` is the epoch whose weights were restored.
fig, ax = plt.subplots(figsize=(8, 4))
epochs = np.arange(1, tabm.n_iter_ + 1)
ax.plot(epochs, tabm.loss_curve_, label="training loss (mean member MSE)")
ax.plot(epochs, tabm.validation_scores_, label="validation RMSE of the mean")
ax.axvline(tabm.best_iteration_, color="grey", ls="--", label="best epoch (kept)")
ax.set_xlabel("epoch")
ax.set_ylabel("standardised target units")
ax.set_title(f"{tabm.n_iter_} epochs, batch size {tabm.batch_size_}")
ax.legend()
fig.tight_layout()

# %%
# Classification
# --------------
# :class:`~skensemble.tabm.TabMClassifier` trains every member on its own
# cross-entropy and averages the members' probabilities (not their logits).
# Early stopping watches validation accuracy.
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
classifiers = {
    "TabM (k=8)": TabMClassifier(**small),
    "MLP": make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(64, 64, 64),
            learning_rate_init=2e-3,
            max_iter=400,
            early_stopping=True,
            random_state=0,
        ),
    ),
    "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
}
for name, model in classifiers.items():
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    print(
        f"{name:>22}: accuracy {accuracy:.3f}, log-loss {log_loss(y_test, proba):.3f}"
    )

# %%
# The classifier's members return probabilities, shape ``(n_samples, k,
# n_classes)``; ``predict_proba`` is their mean.
clf = classifiers["TabM (k=8)"]
member_proba = clf.predict_members(X_test)
print("member probabilities:", member_proba.shape)
print(
    "largest spread of P(benign) across members:",
    np.ptp(member_proba[:, :, 1], axis=1).max().round(3),
)

# %%
# These scores come from one split of small datasets with a small
# configuration; they show the API, not which model is better. The
# benchmarks compare the models on real datasets over several seeds.
